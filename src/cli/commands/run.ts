import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Config, readSetting, type EnvRecord } from '../../config/config.js';
import { Daemon } from '../../daemon/daemon.js';
import { prepareSocketPath } from '../../daemon/socket-file.js';
import { toPlainError } from '../../errors/index.js';
import { Runtime } from '../../runtime/runtime.js';
import type { RunRecord } from '../../store/run-store.js';
import { ExitCode } from '../exit-codes.js';
import { LiveView } from '../live-view.js';
import { defaultDataDir, defaultSocketPath } from '../paths.js';
import { VERSION } from '../version.js';

export interface RunFlags {
  dataDir?: string;
  socket?: string;
  bootstrap?: string;
  stdin?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/**
 * Where the daemon listens. Without --stdin: always (--socket, AAOS_SOCKET or the
 * default under the data dir). With --stdin: only when a socket was asked for
 * (--socket or AAOS_SOCKET), so a plain pipe run never touches a shared socket.
 */
export function socketFor(flags: RunFlags, dataDir: string, env: EnvRecord = process.env): string | undefined {
  if (flags.socket) return resolve(flags.socket);
  if (flags.stdin && !readSetting(env, 'AAOS_SOCKET')) return undefined;
  return defaultSocketPath(dataDir, env);
}

/**
 * `agentd run`: start the supervisor, spawn the bootstrap agent, serve the socket
 * API until SIGTERM/SIGINT. With --stdin each input line is also a goal, and the
 * process exits once stdin has closed and every goal has ended (exit 0 only if
 * every goal completed).
 */
export async function runCommand(flags: RunFlags): Promise<number> {
  const err = (line: string): void => void process.stderr.write(`${line}\n`);
  if (flags.stdin && !flags.bootstrap) {
    err('agentd: --stdin needs --bootstrap <manifest.yaml>: goals are given to the bootstrap agent');
    return ExitCode.USAGE;
  }
  let config: Config;
  try {
    // every setting parsed once, before anything starts: a bad value stops here, named
    config = Config.load({ env: process.env });
  } catch (e) {
    const plain = toPlainError(e);
    err(`agentd: ${plain.code}: ${plain.message}`);
    return ExitCode.FAILED;
  }
  const dataDir = resolve(flags.dataDir ?? defaultDataDir(config.env));
  const socketPath = socketFor(flags, dataDir, config.env);
  try {
    // refuse before opening the store: a second daemon must not touch the first one's state
    if (socketPath) await prepareSocketPath(socketPath);
  } catch (e) {
    const plain = toPlainError(e);
    err(`agentd: ${plain.code}: ${plain.message}`);
    return ExitCode.FAILED;
  }

  let runtime: Runtime;
  try {
    runtime = await Runtime.open({ dataDir, config, ...(flags.json ? { auditStream: process.stdout } : {}) });
  } catch (e) {
    const plain = toPlainError(e);
    err(`agentd: ${plain.code}: ${plain.message}`);
    return ExitCode.FAILED;
  }
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
  for (const s of runtime.mcp.status()) {
    if (s.state === 'ready') err(`agentd: MCP server '${s.server}' connected (${s.tools.length} tools)`);
    else err(`agentd: MCP server '${s.server}' is not available (${s.state}): ${s.error ?? 'no error recorded'}; retrying in the background`);
  }

  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ runtime, version: VERSION, log: err, ...(socketPath ? { socketPath } : {}) });
  } catch (e) {
    const plain = toPlainError(e);
    err(`agentd: ${plain.code}: ${plain.message}`);
    await runtime.close('start failed');
    return ExitCode.FAILED;
  }

  const stopped = new Promise<string>((resolveSignal) => {
    process.once('SIGINT', () => resolveSignal('SIGINT'));
    process.once('SIGTERM', () => resolveSignal('SIGTERM'));
  });
  const shutdown = async (reason: string, code: number): Promise<number> => {
    await daemon.shutdown(reason);
    return code;
  };

  try {
    if (flags.bootstrap) await runtime.startBootstrap(flags.bootstrap);
    else err('agentd: no --bootstrap manifest: goals are refused until one is given (agents can still be spawned over the socket)');
    // what a previous process left behind: persistent agents, then unfinished goals
    const agents = await runtime.restoreAgents();
    if (agents.restored.length > 0) err(`agentd: restored ${agents.restored.length} persistent agent(s)`);
    for (const f of agents.failed) err(`agentd: could not restore agent ${f.name} (${f.id}): ${f.reason}`);
    const runs = runtime.recoverRuns();
    for (const r of runs.resumed) err(`agentd: resuming run ${r.run_id} (was ${r.state} when the previous process stopped)`);
    for (const r of runs.interrupted) err(`agentd: run ${r.run_id} marked interrupted: ${r.error?.message ?? ''}`);
    if (socketPath) err(`agentd: listening on ${socketPath}`);
  } catch (e) {
    const plain = toPlainError(e);
    err(`agentd: ${plain.code}: ${plain.message}`);
    return shutdown('fatal error', ExitCode.FAILED);
  }

  if (!flags.stdin) {
    const signal = await stopped;
    err(`agentd: ${signal} received, shutting down (grace ${daemon.graceMs} ms for running tool calls)`);
    return shutdown(signal, ExitCode.OK);
  }

  // stdin mode: a signal still wins over waiting for input or goals
  const fromStdin = readGoals(runtime, err);
  const first = await Promise.race([fromStdin.then((code) => ({ code })), stopped.then((signal) => ({ signal }))]);
  if ('signal' in first) {
    err(`agentd: ${first.signal} received, shutting down`);
    return shutdown(first.signal, ExitCode.OK);
  }
  return shutdown('input closed', first.code);
}

/** Submits each non-empty stdin line as a goal; resolves once input ended and all goals (socket ones too) ended. */
async function readGoals(runtime: Runtime, err: (line: string) => void): Promise<number> {
  const pending: Array<Promise<RunRecord | undefined>> = [];
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    try {
      pending.push(runtime.goals.submit(line).done);
    } catch (e) {
      err(`agentd: goal refused: ${toPlainError(e).message}`);
      pending.push(Promise.resolve(undefined));
    }
  }
  const results = await Promise.all(pending);
  await runtime.goals.idle();
  for (const r of results) {
    if (r) err(`agentd: run ${r.run_id} ${r.state}${r.error ? `: ${r.error.message}` : ''} (workspace ${r.workspace})`);
  }
  return results.length > 0 && results.every((r) => r?.state === 'completed') ? ExitCode.OK : ExitCode.FAILED;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('start the supervisor and serve the socket API until SIGTERM/SIGINT (with --stdin: take goals line by line from standard input and exit when done)')
    .option('--data-dir <dir>', 'state directory (env AAOS_DATA_DIR; default $XDG_DATA_HOME/aaos or ~/.local/share/aaos)')
    .option('--socket <path>', 'Unix socket for the JSON-RPC API (env AAOS_SOCKET; default <data dir>/run/agentd.sock)')
    .option('--bootstrap <manifest>', 'manifest of the persistent agent that takes goals')
    .option('--stdin', 'read goals from standard input, one per line; exit when done (serves the socket too when --socket or AAOS_SOCKET is set)')
    .option('--json', 'write audit events to stdout as NDJSON instead of the live view')
    .option('-v, --verbose', 'show every event in the live view')
    .action(async (opts: RunFlags) => {
      process.exitCode = await runCommand(opts);
      // workers and the store's threads may keep the loop alive after an orderly close
      process.exit(process.exitCode);
    });
}
