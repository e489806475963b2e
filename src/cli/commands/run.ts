import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { readSetting, type EnvRecord } from '../../config/config.js';
import { loadStartConfig } from '../../config/config-file.js';
import { ClusterNode } from '../../cluster/cluster-node.js';
import { localNodeOf, remoteAgentsOf } from '../../cluster/local-node.js';
import { SETTINGS } from '../../config/settings.js';
import { Daemon, FORCED_STOP_DEADLINE_MS } from '../../daemon/daemon.js';
import { lockDataDir, type DataDirLock } from '../../daemon/data-dir-lock.js';
import { onStopSignals } from '../../daemon/stop-signals.js';
import { guardStoreFaults } from '../../daemon/store-fault-guard.js';
import { endFrameForRun, versioned, type StreamFrame } from '../../daemon/streams.js';
import { prepareSocketPath } from '../../daemon/socket-file.js';
import { AaosError, ErrorCode, toPlainError } from '../../errors/index.js';
import { startDaemonHttp } from '../../http/daemon-http.js';
import { createMcpHttpRoute } from '../../mcp/http-route.js';
import { parseHttpAddress, type HttpListener } from '../../http/listener.js';
import { PROJECT_ROOT } from '../../config/built-path.js';
import { Runtime } from '../../runtime/runtime.js';
import type { RunRecord } from '../../store/run-store.js';
import { useColor } from '../color.js';
import { ExitCode } from '../exit-codes.js';
import { LiveView } from '../live-view.js';
import { defaultSocketPath } from '../paths.js';
import { VERSION } from '../version.js';

/** The bootstrap manifest shipped with the package (found from the installed files, not the working directory). */
const BUNDLED_BOOTSTRAP = join(PROJECT_ROOT, 'manifests', 'bootstrap.yaml');

interface RunFlags {
  dataDir?: string;
  /** a settings file (default: <data dir>/agentd.yaml when it exists) */
  config?: string;
  socket?: string;
  /** a manifest path; false with --no-bootstrap; unset: the bundled one */
  bootstrap?: string | false;
  stdin?: boolean;
  json?: boolean;
  verbose?: boolean;
  /** HOST:PORT of the loopback HTTP listener (console, /metrics); env AAOS_HTTP */
  http?: string;
  /** nats://HOST:PORT of the cluster to join (else AAOS_CLUSTER_URL) */
  cluster?: string;
}

/**
 * Where the daemon listens. Without --stdin: always (--socket, AAOS_SOCKET or the
 * default under the data dir). With --stdin: only when a socket was asked for
 * (--socket or AAOS_SOCKET), so a plain pipe run never touches a shared socket.
 */
function socketFor(flags: RunFlags, dataDir: string, env: EnvRecord = process.env): string | undefined {
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
async function runCommand(flags: RunFlags): Promise<number> {
  const err = (line: string): void => void process.stderr.write(`${line}\n`);
  if (flags.stdin && flags.bootstrap === false) {
    err(
      'agentd: --stdin needs a bootstrap agent (goals are given to it): drop --no-bootstrap, or give --bootstrap <manifest.yaml>',
    );
    return ExitCode.USAGE;
  }
  const bootstrap = flags.bootstrap === false ? undefined : resolve(flags.bootstrap ?? BUNDLED_BOOTSTRAP);
  let config: Config;
  let dataDir: string;
  let configFile: string | undefined;
  try {
    // every setting parsed once, before anything starts: a bad value stops here, named
    ({ config, dataDir, file: configFile } = loadStartConfig(flags, process.env));
  } catch (e) {
    const plain = toPlainError(e);
    err(`agentd: ${plain.code}: ${plain.message}`);
    return ExitCode.FAILED;
  }
  const socketPath = socketFor(flags, dataDir, config.env);
  // held until this process ends (the kernel releases it on any death); never handed to another
  let lock: DataDirLock;
  try {
    // refuse before opening the store: a second daemon must not touch the first one's state
    lock = lockDataDir(dataDir);
  } catch (e) {
    const plain = toPlainError(e);
    err(`agentd: ${plain.code}: ${plain.message}`);
    return ExitCode.FAILED;
  }
  try {
    if (socketPath) await prepareSocketPath(socketPath);
  } catch (e) {
    lock.release();
    const plain = toPlainError(e);
    err(`agentd: ${plain.code}: ${plain.message}`);
    return ExitCode.FAILED;
  }

  const firstStart = !existsSync(join(dataDir, 'store'));
  let runtime: Runtime;
  try {
    guardStoreFaults(err);
    runtime = await Runtime.open({ dataDir, config, log: err });
  } catch (e) {
    const plain = toPlainError(e);
    err(`agentd: ${plain.code}: ${plain.message}`);
    return ExitCode.FAILED;
  }
  // --json: the same versioned NDJSON frames as `submit --json` (stream null: no request opened them)
  const writeFrame = (frame: StreamFrame): void => void process.stdout.write(`${JSON.stringify(versioned(frame))}\n`);
  if (flags.json) runtime.events.subscribe((event) => writeFrame({ kind: 'event', stream: null, event }));
  else {
    const view = new LiveView({ color: useColor(process.stdout), verbose: flags.verbose === true });
    runtime.events.subscribe((e) => {
      const line = view.format(e);
      if (line) process.stdout.write(`${line}\n`);
    });
  }
  err(`agentd: data dir ${dataDir}`);
  if (configFile)
    err(
      `agentd: settings from ${configFile} (the environment overrides it; \`agentd config\` shows each value's origin)`,
    );
  if (firstStart && bootstrap === BUNDLED_BOOTSTRAP) {
    const copied = seedDemoInbox(dataDir);
    if (copied > 0)
      err(
        `agentd: new data dir: copied the demo inbox (${copied} files) to ${join(dataDir, 'inbox')}; the bundled scripted agents report on whatever is there`,
      );
  }
  err(`agentd: ${runtime.describeProvider()}`);
  for (const p of runtime.skillProblems) err(`agentd: skill skipped: ${p.path}: ${p.reason}`);
  for (const s of runtime.mcpStatus()) {
    if (s.state === 'ready') err(`agentd: MCP server '${s.server}' connected (${s.tools.length} tools)`);
    else
      err(
        `agentd: MCP server '${s.server}' is not available (${s.state}): ${s.error ?? 'no error recorded'}; retrying in the background`,
      );
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

  // the HTTP listener (console, /metrics, MCP's /mcp) only when asked for
  let http: HttpListener | undefined;
  let mcpHttp: ReturnType<typeof createMcpHttpRoute> | undefined;
  const httpAddress = flags.http ?? config.get('AAOS_HTTP');
  if (httpAddress) {
    try {
      // /mcp sessions talk to this daemon through its socket, exactly as `agentd mcp` does
      mcpHttp = createMcpHttpRoute({ socketPath });
      http = await startDaemonHttp({
        context: daemon.context,
        routes: [mcpHttp.route],
        ...parseHttpAddress(httpAddress, flags.http ? '--http' : 'AAOS_HTTP'),
      });
      err(`agentd: console, /metrics and /mcp on ${http.url} (agentd console prints a sign-in URL)`);
    } catch (e) {
      const plain = toPlainError(e);
      err(`agentd: ${plain.code}: ${plain.message}`);
      await mcpHttp?.close();
      await daemon.shutdown('start failed');
      return ExitCode.FAILED;
    }
  }

  // first SIGTERM/SIGINT/SIGHUP drains; a second one forces a fast stop that is still clean
  const stopped = new Promise<string>((resolveSignal) => {
    onStopSignals(
      (signal) => resolveSignal(signal),
      (signal) => {
        err(`agentd: ${signal} received again: forcing a fast stop (running tool calls and runs are cancelled now)`);
        void daemon.force(`${signal} (forced)`);
        setTimeout(() => {
          err(
            `agentd: the forced stop did not finish within ${FORCED_STOP_DEADLINE_MS} ms; closing connections, removing the socket and exiting`,
          );
          daemon.abandon();
          process.exit(ExitCode.FAILED);
        }, FORCED_STOP_DEADLINE_MS).unref();
      },
    );
  });
  const shutdown = async (reason: string, code: number): Promise<number> => {
    await mcpHttp?.close();
    await http?.close();
    // hand unfinished cluster goals back first, so another node starts them at once
    await daemon.cluster?.leave();
    await daemon.shutdown(reason);
    return code;
  };

  try {
    // the bootstrap agent, then what a previous process left behind: persistent agents, unfinished goals
    const started = await runtime.start({ bootstrap });
    if (started.bootstrap) {
      for (const old of started.bootstrap.retired)
        err(
          `agentd: ${bootstrap} changed: the previous bootstrap agent ${old} is stopped (its history and memory stay under its id)`,
        );
      err(`agentd: bootstrap agent from ${bootstrap} (${started.bootstrap.id})`);
    } else err('agentd: --no-bootstrap: goals are refused (agents can still be spawned over the socket)');
    if (started.restored.length > 0) err(`agentd: restored ${started.restored.length} persistent agent(s)`);
    for (const f of started.failed) err(`agentd: could not restore agent ${f.name} (${f.id}): ${f.reason}`);
    for (const r of started.resumed)
      err(`agentd: resuming run ${r.run_id} (was ${r.state} when the previous process stopped)`);
    for (const r of started.interrupted) err(`agentd: run ${r.run_id} marked interrupted: ${r.error?.message ?? ''}`);
    const clusterUrl = flags.cluster ?? config.get('AAOS_CLUSTER_URL');
    if (clusterUrl) {
      const node = await joinCluster(runtime, clusterUrl, err);
      daemon.joinedCluster(node);
      err(`agentd: node ${node.nodeId} joined the cluster at ${clusterUrl}`);
    }
    if (socketPath) err(`agentd: listening on ${socketPath}`);
  } catch (e) {
    const plain = toPlainError(e);
    err(`agentd: ${plain.code}: ${plain.message}`);
    if (plain.code === ErrorCode.MANIFEST_NOT_FOUND)
      err(`agentd: hint: --bootstrap takes a manifest file; without it agentd uses the bundled ${BUNDLED_BOOTSTRAP}`);
    return shutdown('fatal error', ExitCode.FAILED);
  }

  if (!flags.stdin) {
    const signal = await stopped;
    err(`agentd: ${signal} received, shutting down (grace ${daemon.graceMs} ms for running tool calls)`);
    return shutdown(signal, ExitCode.OK);
  }

  // stdin mode: a signal still wins over waiting for input or goals
  const reader = new StdinGoals(runtime, err, flags.json ? (rec) => writeFrame(endFrameForRun(null, rec)) : () => {});
  const fromStdin = reader.run();
  const first = await Promise.race([fromStdin.then((code) => ({ code })), stopped.then((signal) => ({ signal }))]);
  if ('signal' in first) {
    // an interrupted pipe run cancels its goals (recorded `cancelled`), unlike a daemon
    // shutdown, which leaves them to resume on the next start
    err(
      `agentd: ${first.signal} received: cancelling ${reader.unfinished().length} unfinished goal(s), then shutting down`,
    );
    await reader.cancelAll(`${first.signal} received by agentd run --stdin`);
    return shutdown(first.signal, first.signal === 'SIGINT' ? ExitCode.SIGINT : ExitCode.SIGTERM);
  }
  return shutdown('input closed', first.code);
}

function joinCluster(runtime: Runtime, url: string, log: (line: string) => void): Promise<ClusterNode> {
  const parsed = SETTINGS.AAOS_CLUSTER_URL.schema.safeParse(url);
  if (!parsed.success)
    throw new AaosError(ErrorCode.CONFIG_INVALID, `--cluster ${url}: expected nats://HOST:PORT`, { field: 'cluster' });
  const nodeId = runtime.setting('AAOS_NODE_ID');
  return ClusterNode.join({
    url,
    ...(nodeId ? { nodeId } : {}),
    ackWaitMs: runtime.setting('AAOS_CLUSTER_ACK_WAIT_MS'),
    heartbeatMs: runtime.setting('AAOS_CLUSTER_HEARTBEAT_MS'),
    maxConcurrentGoals: runtime.setting('AAOS_MAX_CONCURRENT_GOALS'),
    goals: runtime.clusterHooks().goals,
    localRun: (runId) => runtime.run(runId),
    liveAgents: () => runtime.listAgents().length,
    local: localNodeOf(runtime),
    log,
    ...remoteAgentsOf(runtime),
  });
}

/** Goals read from stdin, one per non-empty line; knows its runs so a signal can cancel them. */
class StdinGoals {
  private readonly handles: Array<{ run_id: string; done: Promise<RunRecord> }> = [];
  private readonly results = new Map<string, RunRecord>();
  private refused = 0;

  constructor(
    private readonly runtime: Runtime,
    private readonly err: (line: string) => void,
    /** each goal's final record, as it ends */
    private readonly onEnd: (rec: RunRecord) => void,
  ) {}

  /** Resolves once input ended and all goals (socket ones too) ended: exit 0 only if every goal completed. */
  async run(): Promise<number> {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line.trim()) continue;
      try {
        const handle = this.runtime.submitGoal(line);
        this.handles.push(handle);
        void handle.done.then((r) => {
          this.results.set(r.run_id, this.runtime.run(r.run_id) ?? r);
          this.onEnd(this.results.get(r.run_id)!);
        });
      } catch (e) {
        this.err(`agentd: goal refused: ${toPlainError(e).message}`);
        this.refused++;
      }
    }
    if (this.handles.length === 0 && this.refused === 0) {
      this.err('agentd: no goals read from standard input (each non-empty line is one goal)');
      await this.runtime.goalsIdle();
      return ExitCode.OK;
    }
    const results = await Promise.all(this.handles.map((h) => h.done));
    await this.runtime.goalsIdle();
    for (const r of results)
      this.err(`agentd: run ${r.run_id} ${r.state}${r.error ? `: ${r.error.message}` : ''} (workspace ${r.workspace})`);
    return this.refused === 0 && results.every((r) => r.state === 'completed') ? ExitCode.OK : ExitCode.FAILED;
  }

  unfinished(): string[] {
    return this.handles.map((h) => h.run_id).filter((id) => !this.results.has(id));
  }

  /** Cancels every unfinished goal and waits until each is recorded. */
  async cancelAll(reason: string): Promise<void> {
    const waits: Array<Promise<unknown>> = [];
    for (const runId of this.unfinished()) {
      try {
        this.runtime.cancelRun(runId, reason);
      } catch (e) {
        this.err(`agentd: could not cancel run ${runId}: ${toPlainError(e).message}`);
      }
      const handle = this.handles.find((h) => h.run_id === runId);
      if (handle) waits.push(handle.done);
    }
    await Promise.all(waits);
    for (const runId of this.handles.map((h) => h.run_id)) {
      const r = this.runtime.run(runId);
      if (r && r.state === 'cancelled') this.err(`agentd: run ${r.run_id} cancelled (workspace ${r.workspace})`);
    }
  }
}

/** Copies the bundled demo inbox into a new data dir (never over existing files); returns how many files. */
function seedDemoInbox(dataDir: string): number {
  const target = join(dataDir, 'inbox');
  if (existsSync(target)) return 0;
  const source = join(PROJECT_ROOT, 'manifests', 'demo', 'inbox');
  cpSync(source, target, { recursive: true, errorOnExist: false, force: false });
  return readdirSync(target).length;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'start the supervisor and serve the socket API until SIGTERM/SIGINT (with --stdin: take goals line by line from standard input and exit when done)',
    )
    .option(
      '--data-dir <dir>',
      'state directory (env AAOS_DATA_DIR; default $XDG_DATA_HOME/aaos or ~/.local/share/aaos)',
    )
    .option(
      '--config <file>',
      'settings file (default: <data dir>/agentd.yaml if present; the environment overrides it)',
    )
    .option('--socket <path>', 'Unix socket for the JSON-RPC API (env AAOS_SOCKET; default <data dir>/run/agentd.sock)')
    .option(
      '--bootstrap <manifest>',
      `manifest of the persistent agent that takes goals (default: the bundled ${BUNDLED_BOOTSTRAP})`,
    )
    .option(
      '--no-bootstrap',
      'start without a bootstrap agent: goals are refused, agents can be spawned over the socket',
    )
    .option(
      '--stdin',
      'read goals from standard input, one per line; exit when done (serves the socket too when --socket or AAOS_SOCKET is set)',
    )
    .option(
      '--cluster <url>',
      'join the cluster on this NATS JetStream server, nats://HOST:PORT (env AAOS_CLUSTER_URL; see docs/cluster.md)',
    )
    .option('--json', 'write audit events to stdout as NDJSON instead of the live view')
    .option('-v, --verbose', 'show every event in the live view')
    .option(
      '--http <host:port>',
      'serve the web console and /metrics on this loopback address, e.g. 127.0.0.1:8787 (env AAOS_HTTP; token in <data dir>/http-token)',
    )
    .action(async (opts: RunFlags) => {
      process.exitCode = await runCommand(opts);
      // workers and the store's threads may keep the loop alive after an orderly close
      process.exit(process.exitCode);
    });
}
