import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { toPlainError } from '../../errors/index.js';
import { Runtime } from '../../runtime/runtime.js';
import type { RunRecord } from '../../store/run-store.js';
import { LiveView } from '../live-view.js';
import { defaultDataDir } from '../paths.js';

export interface RunFlags {
  dataDir?: string;
  socket?: string;
  bootstrap?: string;
  stdin?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/**
 * `agentd run`: start the supervisor, spawn the bootstrap agent, take goals.
 * With --stdin each input line is a goal and the process exits once stdin has
 * closed and the last goal has ended (exit 0 only if every goal completed).
 */
export async function runCommand(flags: RunFlags): Promise<number> {
  const dataDir = flags.dataDir ?? defaultDataDir();
  const runtime = await Runtime.open({ dataDir, ...(flags.json ? { auditStream: process.stdout } : {}) });
  const err = (line: string): void => void process.stderr.write(`${line}\n`);
  if (!flags.json) {
    const view = new LiveView({ color: process.stdout.isTTY === true, verbose: flags.verbose === true });
    runtime.audit.subscribe((e) => {
      const line = view.format(e);
      if (line) process.stdout.write(`${line}\n`);
    });
  }
  err(`agentd: data dir ${dataDir}`);
  err(`agentd: ${runtime.gateway.describeDefault()}`);
  for (const p of runtime.skillProblems) err(`agentd: skill skipped: ${p.path}: ${p.reason}`);

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    err(`agentd: ${signal} received, shutting down`);
    await runtime.close(signal);
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    if (flags.bootstrap) await runtime.startBootstrap(flags.bootstrap);
    if (!flags.stdin) {
      err('agentd: nothing to do without --stdin (the socket API is not enabled in this build)');
      await runtime.close('no input');
      return 2;
    }
    if (!flags.bootstrap) {
      err('agentd: --stdin needs --bootstrap <manifest.yaml>: goals are given to the bootstrap agent');
      await runtime.close('no bootstrap');
      return 2;
    }
    const pending: Array<Promise<RunRecord>> = [];
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line.trim()) continue;
      try {
        pending.push(runtime.goals.submit(line).done);
      } catch (e) {
        err(`agentd: goal refused: ${toPlainError(e).message}`);
        pending.push(Promise.resolve({ state: 'failed' } as RunRecord));
      }
    }
    const results = await Promise.all(pending);
    for (const r of results.filter((r) => r.run_id)) {
      err(`agentd: run ${r.run_id} ${r.state}${r.error ? `: ${r.error.message}` : ''} (workspace ${r.workspace})`);
    }
    await runtime.close('input closed');
    return results.length > 0 && results.every((r) => r.state === 'completed') ? 0 : 1;
  } catch (e) {
    const plain = toPlainError(e);
    err(`agentd: ${plain.code}: ${plain.message}`);
    await runtime.close('fatal error');
    return 1;
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('start the supervisor (with --stdin: take goals line by line from standard input)')
    .option('--data-dir <dir>', 'state directory (env AAOS_DATA_DIR)')
    .option('--socket <path>', 'Unix socket for the JSON-RPC API (env AAOS_SOCKET)')
    .option('--bootstrap <manifest>', 'manifest of the persistent agent that takes goals')
    .option('--stdin', 'read goals from standard input, one per line; exit when done')
    .option('--json', 'write audit events to stdout as NDJSON instead of the live view')
    .option('-v, --verbose', 'show every event in the live view')
    .action(async (opts: RunFlags) => {
      process.exitCode = await runCommand(opts);
    });
}
