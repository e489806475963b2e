import type { MessagePort, Worker } from 'node:worker_threads';
import { AaosError, ErrorCode, fromPlainError, toPlainError, type PlainError } from '../errors/index.js';
import type {
  AgentInit,
  Delivery,
  SupervisorToWorker,
  WorkerRequest,
  WorkerResponse,
  WorkerToSupervisor,
} from '../protocol/index.js';
import { isPortBatch, PortOutbox, type PortBatch } from '../protocol/port-batch.js';
import { AgentState, assertTransition, isTerminal } from './lifecycle.js';
import type { WorkerStats } from '../agent/control.js';
import type { LaunchedWorker } from './worker-launcher.js';
import { LivenessWatch } from './watchdog.js';

/** An error a worker reported: untrusted data, rebuilt without trusting its shape. */
function reportedError(raw: unknown, agent: string): AaosError {
  if (raw !== null && typeof raw === 'object' && typeof (raw as PlainError).message === 'string')
    return fromPlainError(raw as PlainError);
  return new AaosError(ErrorCode.PROTOCOL, `agent ${agent} reported an error that is not an error object`);
}

export interface ActorHooks {
  /** a request from the worker (model, tool, send, request); the answer goes back on the port */
  onRequest(actor: AgentActor, msg: WorkerRequest): Promise<WorkerResponse>;
  onStateChange(actor: AgentActor, from: AgentState, to: AgentState, reason: string): void;
  terminate(worker: Worker): Promise<void>;
}

interface Queued {
  delivery: Delivery;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface InFlight {
  runId: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  /** the run passed its wall-clock limit: its caller has the error; the worker has this long to let go */
  expired?: NodeJS.Timeout;
}

export interface ActorOptions {
  /** see WatchdogLimits.livenessMs; 0 = no pings */
  livenessMs?: number;
  /** a persistent agent re-created after its worker died: no worker until its next message */
  parked?: boolean;
}

/**
 * One agent = one worker thread. The actor owns the port and the mailbox: deliveries
 * queue here and go to the worker `concurrency` at a time (1 by default: one message
 * at a time); pause holds the queue; a dying worker rejects everything pending.
 */
export class AgentActor {
  state: AgentState = AgentState.Starting;
  failure: AaosError | undefined;
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private control: LaunchedWorker['control'] | undefined;
  private controlPort: MessagePort | undefined;
  private nextId = 1;
  private readonly mailbox: Queued[] = [];
  private readonly inflight = new Map<number, InFlight>();
  /** the agent the worker is to host: sent with the first delivery (init folded in) */
  private pendingInit: AgentInit | undefined;
  private readonly livenessMs: number;
  private watch: LivenessWatch | undefined;
  /** what this actor posts in one turn goes to the worker as one message */
  private readonly outbox = new PortOutbox<SupervisorToWorker>(
    () => this.port,
    (msg, err) => this.unsent(msg, err),
  );

  constructor(
    readonly id: string,
    readonly name: string,
    private readonly hooks: ActorHooks,
    private concurrency = 1,
    options: ActorOptions = {},
  ) {
    this.livenessMs = options.livenessMs ?? 0;
    if (options.parked) this.state = AgentState.Parked;
  }

  get queued(): number {
    return this.mailbox.length;
  }

  get busy(): number {
    return this.inflight.size;
  }

  /** deliveries handled at once (kept when a persistent agent's actor is re-created) */
  get concurrencyLimit(): number {
    return this.concurrency;
  }

  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  setConcurrency(n: number): void {
    this.concurrency = Math.max(1, n);
    this.pump();
  }

  /**
   * Bind a launched worker and become running. The module's `init` travels with the first
   * delivery (no round trip of its own); if it throws, that delivery fails and so does the agent.
   */
  attach(launched: LaunchedWorker, init: AgentInit): void {
    this.worker = launched.worker;
    this.port = launched.port;
    this.control = launched.control;
    this.controlPort = launched.controlPort;
    this.worker.on('error', (err) => this.onWorkerError(err));
    this.worker.on('exit', (code) => this.onWorkerExit(code));
    this.port.on('message', (msg: WorkerToSupervisor | PortBatch<WorkerToSupervisor>) =>
      isPortBatch(msg) ? this.onBatch(msg) : this.onMessage(msg),
    );
    this.watch = new LivenessWatch(
      this.livenessMs,
      (seq) => this.post({ t: 'ping', seq }),
      (silentMs) =>
        this.fail(
          new AaosError(
            ErrorCode.AGENT_UNRESPONSIVE,
            `agent ${this.name} (${this.id}) failed: its worker did not answer a liveness ping for ${silentMs} ms while it had work (limit AAOS_WORKER_LIVENESS_MS=${this.livenessMs}); the worker was terminated`,
            { agent_id: this.id, silent_ms: silentMs, liveness_ms: this.livenessMs },
          ),
        ),
    );
    this.pendingInit = init;
    this.transition(AgentState.Running, 'initialised');
    this.pump();
  }

  deliver(delivery: Delivery): Promise<unknown> {
    if (isTerminal(this.state) || this.state === AgentState.Stopping) {
      return Promise.reject(this.deadError());
    }
    return new Promise((resolve, reject) => {
      this.mailbox.push({ delivery, resolve, reject });
      this.pump();
    });
  }

  cancelRun(runId: string, reason: string, envelope?: string): void {
    const idx = this.mailbox.findIndex((q) => q.delivery.run.run_id === runId);
    if (idx >= 0) {
      const [q] = this.mailbox.splice(idx, 1);
      q?.reject(new AaosError(ErrorCode.CANCELLED, `run ${runId} cancelled before it started: ${reason}`));
    }
    this.post({ t: 'cancel', run_id: runId, reason, ...(envelope ? { envelope } : {}) });
  }

  /**
   * A run passed its wall-clock limit: its caller gets `err` now, the worker is told to
   * cancel it, and a worker that still holds the run after `graceMs` is terminated (the
   * agent fails with the reason), since only a stuck module ignores a cancel that long.
   */
  expireRun(runId: string, err: AaosError, graceMs: number): void {
    for (let i = this.mailbox.length - 1; i >= 0; i--) {
      const queued = this.mailbox[i] as Queued;
      if (queued.delivery.run.run_id !== runId) continue;
      this.mailbox.splice(i, 1);
      queued.reject(err);
    }
    for (const [id, entry] of this.inflight) {
      if (entry.runId !== runId || entry.expired) continue;
      entry.reject(err);
      entry.expired = setTimeout(() => {
        if (this.inflight.get(id) !== entry) return;
        this.fail(
          new AaosError(
            ErrorCode.RUN_TIMEOUT,
            `agent ${this.name} (${this.id}) failed: ${err.message}, and its worker still held the run ${graceMs} ms after being told to cancel it; the worker was terminated`,
            { ...err.details, agent_id: this.id, grace_ms: graceMs },
          ),
        );
      }, graceMs);
      entry.expired.unref();
    }
    this.post({ t: 'cancel', run_id: runId, reason: err.message });
  }

  pause(): void {
    this.transition(AgentState.Paused, 'paused');
  }

  resume(): void {
    this.transition(AgentState.Running, 'resumed');
    this.pump();
  }

  /** Stop: reject queued work, end the worker. Idempotent. */
  async stop(reason: string): Promise<void> {
    if (isTerminal(this.state) || this.state === AgentState.Stopping) return;
    this.transition(AgentState.Stopping, reason);
    // most stops find nothing waiting: no error (and stack) made for nobody
    if (this.mailbox.length > 0 || this.inflight.size > 0) {
      this.rejectAll(
        new AaosError(ErrorCode.AGENT_STOPPED, `agent ${this.name} (${this.id}) was stopped: ${reason}`, {
          agent_id: this.id,
        }),
      );
    }
    await this.endWorker();
    this.transition(AgentState.Stopped, reason);
  }

  /** Park: end the worker but keep the agent (persistent agents re-activate on their next message). */
  async park(): Promise<void> {
    this.transition(AgentState.Parked, 'idle');
    await this.endWorker();
  }

  /** After park: a new worker is being started. */
  unpark(): void {
    this.transition(AgentState.Starting, 're-activating');
  }

  /** Ask the worker about itself over the control channel (comlink); undefined when it has none. */
  async stats(timeoutMs = 2000): Promise<WorkerStats | undefined> {
    const control = this.control;
    if (!control || this.state === AgentState.Parked) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      return await Promise.race([control.stats(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async endWorker(): Promise<void> {
    this.watch?.stop();
    this.watch = undefined;
    const worker = this.worker;
    this.worker = undefined;
    this.outbox.flush();
    this.port?.close();
    this.port = undefined;
    this.controlPort?.close();
    this.controlPort = undefined;
    this.control = undefined;
    if (worker) {
      worker.removeAllListeners('exit');
      worker.removeAllListeners('error');
      worker.on('error', () => {});
      // the agent is already gone for everyone; the thread ends in the background
      // (terminations are serialised, and the launcher waits for them on shutdown)
      void this.hooks.terminate(worker);
    }
  }

  private pump(): void {
    if (this.state !== AgentState.Running) return;
    while (this.inflight.size < this.concurrency && this.mailbox.length > 0) {
      const next = this.mailbox.shift()!;
      const id = this.nextId++;
      const init = this.pendingInit;
      this.pendingInit = undefined;
      this.inflight.set(id, { runId: next.delivery.run.run_id, resolve: next.resolve, reject: next.reject });
      this.post({ t: 'deliver', id, delivery: next.delivery, ...(init ? { init } : {}) }, next.delivery.attachments);
    }
    if (this.inflight.size > 0) this.watch?.start();
  }

  private onMessage(msg: WorkerToSupervisor): void {
    // the worker is untrusted: a module can post on its host's port (null, a number, …)
    if (msg === null || typeof msg !== 'object') {
      this.fail(
        new AaosError(
          ErrorCode.PROTOCOL,
          `agent ${this.name} sent a message that is not an object (${msg === null ? 'null' : typeof msg})`,
          { agent_id: this.id },
        ),
      );
      return;
    }
    switch (msg.t) {
      case 'res': {
        const entry = this.inflight.get(msg.id);
        if (!entry) return;
        this.inflight.delete(msg.id);
        if (this.inflight.size === 0) this.watch?.stop();
        // an expired run's caller already has its error; the worker let go in time
        if (entry.expired) clearTimeout(entry.expired);
        else if (msg.ok) entry.resolve(msg.value);
        else entry.reject(reportedError(msg.error, this.name));
        this.pump();
        return;
      }
      case 'ready':
        return;
      case 'init_failed': {
        // nothing the module hosts can run: the delivery that carried init, and the agent, fail
        const cause = reportedError(msg.error, this.name);
        this.fail(
          new AaosError(
            ErrorCode.AGENT_FAILED,
            `agent ${this.name} (${this.id}) failed: its module's init threw: ${cause.message}`,
            { agent_id: this.id, cause_code: cause.code },
          ),
        );
        return;
      }
      case 'pong':
        this.watch?.pong(msg.seq);
        return;
      case 'model':
      case 'tool':
      case 'send':
      case 'request': {
        const id = msg.id;
        this.hooks.onRequest(this, msg).then(
          (value) => this.post({ t: 'res', id, ok: true, value }),
          (err: unknown) => this.post({ t: 'res', id, ok: false, error: toPlainError(err) }),
        );
        return;
      }
      default: {
        const unknown = msg as { t?: unknown };
        this.fail(
          new AaosError(
            ErrorCode.PROTOCOL,
            `agent ${this.name} sent an unknown message type ${JSON.stringify(unknown?.t)}`,
          ),
        );
      }
    }
  }

  /** A batch from the worker: untrusted like any message, each of its messages checked as if it came alone. */
  private onBatch(batch: PortBatch<WorkerToSupervisor>): void {
    if (!Array.isArray(batch.msgs)) {
      this.fail(
        new AaosError(ErrorCode.PROTOCOL, `agent ${this.name} sent a batch that is not a list of messages`, {
          agent_id: this.id,
        }),
      );
      return;
    }
    // a batch inside a batch is an unknown message type to onMessage, and fails the agent
    for (const msg of batch.msgs) {
      if (isTerminal(this.state)) return;
      this.onMessage(msg);
    }
  }

  private post(msg: SupervisorToWorker, transfer?: ArrayBuffer[]): void {
    this.outbox.post(msg, transfer);
  }

  /** A message that could not be cloned: its answer or its delivery fails instead of being lost silently. */
  private unsent(msg: SupervisorToWorker, err: unknown): void {
    if (msg.t === 'res' && msg.ok) {
      this.outbox.post({ t: 'res', id: msg.id, ok: false, error: toPlainError(err) });
    } else if (msg.t === 'deliver') {
      const entry = this.inflight.get(msg.id);
      if (!entry) return;
      this.inflight.delete(msg.id);
      entry.reject(
        new AaosError(
          ErrorCode.PROTOCOL,
          `delivery of run ${entry.runId} to agent ${this.name} could not be sent: ${toPlainError(err).message}`,
          { agent_id: this.id, run_id: entry.runId },
        ),
      );
      this.pump();
    }
  }

  private onWorkerError(err: Error): void {
    const code = (err as { code?: string }).code;
    const reason =
      code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `worker ran out of heap (limit reached): ${err.message}`
        : `worker threw an uncaught error: ${err.message}`;
    this.fail(
      new AaosError(ErrorCode.AGENT_FAILED, `agent ${this.name} (${this.id}) failed: ${reason}`, {
        agent_id: this.id,
        cause_code: code ?? null,
      }),
    );
  }

  private onWorkerExit(code: number): void {
    this.fail(
      new AaosError(ErrorCode.AGENT_FAILED, `agent ${this.name} (${this.id}) failed: worker exited with code ${code}`, {
        agent_id: this.id,
        exit_code: code,
      }),
    );
  }

  /** Worker died or broke protocol: fail the agent, reject everything pending. */
  fail(err: AaosError): void {
    if (isTerminal(this.state)) return;
    this.failure = err;
    const from = this.state;
    this.state = AgentState.Failed;
    this.rejectAll(err);
    void this.endWorker();
    this.hooks.onStateChange(this, from, AgentState.Failed, err.message);
  }

  private rejectAll(err: Error): void {
    for (const q of this.mailbox.splice(0)) q.reject(err);
    for (const entry of this.inflight.values()) {
      if (entry.expired) clearTimeout(entry.expired);
      else entry.reject(err);
    }
    this.inflight.clear();
  }

  private deadError(): AaosError {
    if (this.failure) return this.failure;
    return new AaosError(ErrorCode.AGENT_NOT_RUNNING, `agent ${this.name} (${this.id}) is ${this.state}`, {
      agent_id: this.id,
      state: this.state,
    });
  }

  private transition(to: AgentState, reason: string): void {
    const from = this.state;
    assertTransition(this.id, from, to);
    this.state = to;
    this.hooks.onStateChange(this, from, to, reason);
  }
}
