import type { Command } from 'commander';
import type { RunRecord } from '../../store/run-store.js';
import { ErrorCode, isAaosError } from '../../errors/index.js';
import type { DaemonClient } from '../client.js';
import { addDaemonOptions, withDaemon, type DaemonFlags } from '../daemon-options.js';
import { ExitCode } from '../exit-codes.js';
import { FramePrinter } from '../frame-printer.js';
import { parseSince, SINCE_FORMS } from '../since.js';
import { resolveTarget } from '../target.js';
import { usageError } from '../usage.js';

interface LogsFlags extends DaemonFlags {
  follow?: boolean;
  verbose?: boolean;
  timestamps?: boolean;
  tail?: string;
  since?: string;
}

/**
 * A run (its record: times count from its submission) or an agent: which one it is decides
 * the stream. An agent the daemon no longer knows may still have events in the durable
 * log, so an id that is neither is asked for as an agent's.
 */
async function target(client: DaemonClient, id: string): Promise<{ run: RunRecord } | { agent_id: string }> {
  try {
    const found = await resolveTarget(client, id);
    return 'run' in found ? found : { agent_id: found.agent.id };
  } catch (err) {
    if (isAaosError(err, ErrorCode.RUN_NOT_FOUND)) return { agent_id: id };
    throw err;
  }
}

/** `agentd logs <id> [--follow] [--tail N] [--since T] [--timestamps]`: the stored events of a run or an agent. */
function logsCommand(id: string, flags: LogsFlags, window: { tail?: number; since?: number } = {}): Promise<number> {
  return withDaemon(flags, async (client) => {
    const which = await target(client, id);
    const origin = 'run' in which ? Date.parse(which.run.created_at) : undefined;
    const printer = new FramePrinter(process.stdout, {
      json: flags.json === true,
      verbose: flags.verbose ?? true,
      ...(origin !== undefined && Number.isFinite(origin) ? { origin } : {}),
      ...(flags.timestamps ? { timestamps: true } : {}),
    });
    const params = {
      ...('run' in which ? { run_id: which.run.run_id } : which),
      follow: flags.follow === true,
      ...(window.tail !== undefined ? { tail: window.tail } : {}),
      ...(window.since !== undefined ? { since: new Date(window.since).toISOString() } : {}),
    };
    const { ended } = await client.stream('agent.logs_streaming', params, (f) => printer.print(f));
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
    .argument('<id>', 'run id, agent id or agent name (or a unique id prefix)')
    .option('-f, --follow', 'keep streaming live events until the run or agent ends (Ctrl-C detaches)')
    .option('-v, --verbose', 'show every event (default for logs)')
    .option('--timestamps', "absolute ISO times instead of seconds since the run's submission")
    .option('--tail <n>', 'only the last N stored events (then live ones with --follow)')
    .option('--since <when>', 'only events from then on: a duration back from now (90s, 10m, 2h, 1d) or an ISO time');
  addDaemonOptions(cmd, { json: false });
  cmd.option('--json', 'print the stream frames as NDJSON');
  cmd.action(async (id: string, opts: LogsFlags) => {
    const tail = opts.tail === undefined ? undefined : /^\d+$/.test(opts.tail.trim()) ? Number(opts.tail) : NaN;
    if (Number.isNaN(tail))
      return usageError('logs', `--tail must be a whole number of events (0 or more), got '${opts.tail}'`);
    const since = opts.since === undefined ? undefined : parseSince(opts.since);
    if (opts.since !== undefined && since === undefined)
      return usageError('logs', `--since must be ${SINCE_FORMS}; got '${opts.since}'`);
    process.exitCode = await logsCommand(id, opts, {
      ...(tail !== undefined ? { tail } : {}),
      ...(since !== undefined ? { since } : {}),
    });
  });
}
