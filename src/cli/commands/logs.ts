import type { Command } from 'commander';
import { RemoteError, type DaemonClient } from '../client.js';
import { addDaemonOptions, withDaemon, type DaemonFlags } from '../daemon-options.js';
import { ExitCode } from '../exit-codes.js';
import { FramePrinter } from '../frame-printer.js';

export interface LogsFlags extends DaemonFlags {
  follow?: boolean;
  verbose?: boolean;
}

/** A run id or an agent id (or unique agent name): which one it is decides the stream. */
async function target(client: DaemonClient, id: string): Promise<{ run_id: string } | { agent_id: string }> {
  try {
    await client.call('run.status', { run_id: id });
    return { run_id: id };
  } catch (err) {
    if (err instanceof RemoteError && err.code === 'AAOS_ERR_RUN_NOT_FOUND') return { agent_id: id };
    throw err;
  }
}

/** `agentd logs <id> [--follow]`: the events still in the daemon's memory for a run or an agent. */
export function logsCommand(id: string, flags: LogsFlags): Promise<number> {
  return withDaemon(flags, async (client) => {
    const printer = new FramePrinter(process.stdout, { json: flags.json === true, verbose: flags.verbose ?? true });
    const which = await target(client, id);
    const { ended } = await client.stream('agent.logs_streaming', { ...which, follow: flags.follow === true }, (f) => printer.print(f));
    let detach!: () => void;
    const detached = new Promise<'detached'>((r) => (detach = () => r('detached')));
    process.once('SIGINT', detach);
    const end = await Promise.race([ended, detached]);
    if (end === 'detached') return ExitCode.OK;
    if (!end) return ExitCode.UNREACHABLE;
    const status = end['status'];
    return status === 'failed' ? ExitCode.FAILED : ExitCode.OK;
  });
}

export function registerLogs(program: Command): void {
  const cmd = program
    .command('logs')
    .description('print the events of a run or an agent (--follow: keep streaming until it ends)')
    .argument('<id>', 'run id, agent id or agent name')
    .option('-f, --follow', 'keep streaming live events until the run or agent ends (Ctrl-C detaches)')
    .option('-v, --verbose', 'show every event (default for logs)');
  addDaemonOptions(cmd, { json: false });
  cmd.option('--json', 'print the stream frames as NDJSON');
  cmd.action(async (id: string, opts: LogsFlags) => {
    process.exitCode = await logsCommand(id, opts);
  });
}
