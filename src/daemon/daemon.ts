import type { Runtime } from '../runtime/runtime.js';
import { InflightTools } from './inflight-tools.js';
import type { DaemonContext } from './methods.js';
import { RpcServer } from './server.js';

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
  private closing: Promise<void> | undefined;
  private readonly inflight: InflightTools;
  readonly server: RpcServer | undefined;
  readonly graceMs: number;

  private constructor(private readonly opts: DaemonOptions) {
    this.graceMs = opts.graceMs ?? opts.runtime.config.get('AAOS_SHUTDOWN_GRACE_MS');
    this.inflight = new InflightTools(opts.runtime.audit);
    const context: DaemonContext = {
      runtime: opts.runtime,
      startedAt: Date.now(),
      version: opts.version,
      draining: () => this.draining,
      connections: () => this.server?.connectionCount ?? 0,
    };
    this.server = opts.socketPath ? new RpcServer({ socketPath: opts.socketPath, context, log: opts.log }) : undefined;
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

  /** Idempotent; resolves when everything is closed and the socket file is gone. */
  shutdown(reason: string): Promise<void> {
    this.closing ??= this.doShutdown(reason);
    return this.closing;
  }

  private async doShutdown(reason: string): Promise<void> {
    const { runtime, log } = this.opts;
    this.draining = true;
    await this.server?.stopAccepting();
    if (this.inflight.inFlight > 0) {
      log(`agentd: waiting up to ${this.graceMs} ms for ${this.inflight.inFlight} running tool call(s)`);
      const settled = await this.inflight.settle(this.graceMs);
      if (!settled) log(`agentd: grace period over; cancelling ${this.inflight.inFlight} tool call(s)`);
    }
    this.inflight.close();
    try {
      // cancels runs, stops every worker, flushes the audit log and the store
      await runtime.close(reason);
    } finally {
      this.server?.closeConnections();
      this.server?.removeSocketFile();
    }
  }
}
