import type { ClusterNode } from '../cluster/cluster-node.js';
import type { Runtime } from '../runtime/runtime.js';
import type { DaemonContext } from './methods.js';
import { RpcServer } from './server.js';

/** after a forced stop began, how long the orderly part may take before the process gives up on it */
export const FORCED_STOP_DEADLINE_MS = 5_000;

export interface DaemonOptions {
  runtime: Runtime;
  /** serve the JSON-RPC API here; without it the daemon has no socket (stdin-only mode) */
  socketPath?: string;
  version: string;
  log: (line: string) => void;
  /** how long running tool calls may take to finish on shutdown; default AAOS_SHUTDOWN_GRACE_MS or 10 s */
  graceMs?: number;
}

/**
 * The long-lived supervisor process around a Runtime: the socket server plus an
 * orderly shutdown — stop accepting, let running tool calls finish (bounded by the
 * grace period), stop workers, flush the audit log, remove the socket.
 */
export class Daemon {
  private draining = false;
  private forced = false;
  private closing: Promise<void> | undefined;
  private clusterNode: ClusterNode | undefined;
  readonly server: RpcServer | undefined;
  readonly graceMs: number;
  /** what method handlers reach; the HTTP console calls the same methods */
  readonly context: DaemonContext;

  private constructor(private readonly opts: DaemonOptions) {
    this.graceMs = opts.graceMs ?? opts.runtime.setting('AAOS_SHUTDOWN_GRACE_MS');
    const context: DaemonContext = (this.context = {
      runtime: opts.runtime,
      cluster: () => this.clusterNode,
      startedAt: Date.now(),
      version: opts.version,
      draining: () => this.draining,
      connections: () => this.server?.connectionCount ?? 0,
      connectionsRefused: () => this.server?.refusedCount ?? 0,
    });
    const { runtime } = opts;
    this.server = opts.socketPath
      ? new RpcServer({
          socketPath: opts.socketPath,
          context,
          log: opts.log,
          maxConnections: runtime.setting('AAOS_MAX_CONNECTIONS'),
          idleMs: runtime.setting('AAOS_CONNECTION_IDLE_MS'),
        })
      : undefined;
  }

  /** Starts serving; DAEMON_ALREADY_RUNNING if a live daemon owns the socket. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const daemon = new Daemon(opts);
    if (daemon.server) await daemon.server.listen();
    return daemon;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** The cluster this daemon joined, if it did. */
  get cluster(): ClusterNode | undefined {
    return this.clusterNode;
  }

  /** From now on goals, stops and revocations go through the cluster (joined after the runtime started). */
  joinedCluster(node: ClusterNode): void {
    this.clusterNode = node;
  }

  /** Idempotent; resolves when everything is closed and the socket file is gone. */
  shutdown(reason: string): Promise<void> {
    this.closing ??= this.doShutdown(reason);
    return this.closing;
  }

  /**
   * A second stop signal: skip what is left of the grace period, cancel running tool
   * calls and runs now, and go on with the same orderly close (end frames, audit and
   * store flushed, socket removed). Starts the shutdown if it had not begun.
   */
  force(reason: string): Promise<void> {
    this.forced = true;
    const closing = this.shutdown(reason);
    // running goals are aborted now (they stay resumable), not after the grace period
    this.opts.runtime.cancelRunsForStop();
    this.opts.runtime.stopWaitingForToolCalls();
    return closing;
  }

  /** Last resort when even a forced stop hangs: drop every connection and remove the socket file. */
  abandon(): void {
    this.server?.destroyConnections();
    this.server?.removeSocketFile();
  }

  private async doShutdown(reason: string): Promise<void> {
    const { runtime, log } = this.opts;
    this.draining = true;
    // no queued goal starts from here on; running ones finish or are cancelled below
    runtime.holdGoals();
    await this.server?.stopAccepting();
    // tool calls are tracked where they run (tool dispatch), not counted from audit events
    if (runtime.toolCallsInFlight > 0 && !this.forced) {
      log(`agentd: waiting up to ${this.graceMs} ms for ${runtime.toolCallsInFlight} running tool call(s)`);
      const settled = await runtime.settleToolCalls(this.graceMs);
      if (!settled) log(`agentd: grace period over; cancelling ${runtime.toolCallsInFlight} tool call(s)`);
    }
    try {
      // cancels runs, stops every worker, flushes the audit log and the store
      await runtime.close(reason);
    } finally {
      this.server?.closeConnections();
      this.server?.removeSocketFile();
    }
  }
}
