import type { MessagePort } from 'node:worker_threads';
import { AaosError, ErrorCode, fromPlainError, toPlainError } from '../errors/index.js';
import type {
  SupervisorToWorker,
  WorkerRequestBody,
  WorkerRequestKind,
  WorkerRequestOf,
  WorkerResponse,
  WorkerResponseOf,
  WorkerToSupervisor,
} from '../protocol/index.js';
import { isPortBatch, PortOutbox, type PortBatch } from '../protocol/port-batch.js';
import type { AgentApi, AgentModule } from './agent-module.js';

interface Pending {
  resolve(value: WorkerResponse): void;
  reject(err: Error): void;
}

/**
 * Worker side of the port protocol: correlates our requests with the supervisor's
 * answers and hands deliveries to the hosted module. Kept free of zod/yaml imports
 * so an idle agent stays small.
 */
export class WorkerHost {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private deliveries = 0;
  /** the module's `init`, run with the first delivery; every delivery waits for it */
  private init: Promise<void> | undefined;
  readonly api: AgentApi;
  /** what this worker posts in one turn goes to the supervisor as one message */
  private readonly outbox = new PortOutbox<WorkerToSupervisor>(
    () => (this.closed ? undefined : this.port),
    (msg, err) => this.unsent(msg, err),
  );

  constructor(
    private readonly port: MessagePort,
    private readonly module: AgentModule,
  ) {
    this.api = {
      complete: (runId, append) => this.call('model', { run_id: runId, append }),
      callTool: (runId, name, input, handle, callId) =>
        this.call('tool', {
          run_id: runId,
          name,
          input,
          ...(handle ? { handle } : {}),
          ...(callId ? { call_id: callId } : {}),
        }),
      send: async (envelope, runId, attachments) => {
        await this.call(
          'send',
          { envelope, ...(runId ? { run_id: runId } : {}), ...(attachments?.length ? { attachments } : {}) },
          attachments,
        );
      },
      request: (envelope, timeoutMs, runId, attachments) =>
        this.call(
          'request',
          {
            envelope,
            timeout_ms: timeoutMs,
            ...(runId ? { run_id: runId } : {}),
            ...(attachments?.length ? { attachments } : {}),
          },
          attachments,
        ),
    };
  }

  start(): void {
    this.port.on('message', (msg: SupervisorToWorker | PortBatch<SupervisorToWorker>) => {
      if (!isPortBatch(msg)) this.onMessage(msg);
      else for (const one of msg.msgs) this.onMessage(one);
    });
    this.port.on('close', () => this.onClose());
    this.port.postMessage({ t: 'ready' } satisfies WorkerToSupervisor);
  }

  /** One request to the supervisor, answered with its kind's response type (protocol/messages.ts `WorkerRequestMap`). */
  private call<K extends WorkerRequestKind>(
    kind: K,
    body: WorkerRequestBody<K>,
    transfer?: ArrayBuffer[],
  ): Promise<WorkerResponseOf<K>> {
    if (this.closed) return Promise.reject(new AaosError(ErrorCode.AGENT_STOPPED, 'supervisor port is closed'));
    const id = this.nextId++;
    const msg = { ...body, t: kind, id } as WorkerRequestOf<K>;
    return new Promise<WorkerResponseOf<K>>((resolve, reject) => {
      // the supervisor answers request `id` with this kind's response (its handler's type)
      this.pending.set(id, { resolve: resolve as (v: WorkerResponse) => void, reject });
      this.outbox.post(msg as WorkerToSupervisor, transfer);
    });
  }

  private onMessage(msg: SupervisorToWorker): void {
    switch (msg.t) {
      case 'res': {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(fromPlainError(msg.error));
        return;
      }
      case 'deliver': {
        if (msg.init) {
          const agent = msg.init;
          this.init = Promise.resolve().then(() => this.module.init(agent, this.api));
        }
        this.deliveries++;
        const handle = (): void =>
          this.answer(
            msg.id,
            () => this.module.handle(msg.delivery, this.api),
            () => this.deliveries--,
          );
        if (!this.init) {
          handle();
          return;
        }
        this.init.then(handle, (err: unknown) => {
          this.deliveries--;
          this.post({ t: 'init_failed', id: msg.id, error: toPlainError(err) });
        });
        return;
      }
      case 'cancel':
        this.module.cancel?.(msg.run_id, msg.reason, msg.envelope);
        return;
      case 'ping':
        // answered by the host itself: a thread whose event loop turns is alive, whatever the module does
        this.post({ t: 'pong', seq: msg.seq });
        return;
    }
  }

  /** deliveries being handled right now (for the control channel) */
  get activeDeliveries(): number {
    return this.deliveries;
  }

  private answer(id: number, fn: () => unknown, done?: () => void): void {
    Promise.resolve()
      .then(fn)
      .then(
        (value) => this.post({ t: 'res', id, ok: true, value }),
        (err: unknown) => this.post({ t: 'res', id, ok: false, error: toPlainError(err) }),
      )
      .finally(done);
  }

  private post(msg: WorkerToSupervisor): void {
    this.outbox.post(msg);
  }

  /** A message that could not be cloned: its caller hears why (a request), or the supervisor does (an answer). */
  private unsent(msg: WorkerToSupervisor, err: unknown): void {
    if (msg.t === 'res' && msg.ok) {
      this.outbox.post({ t: 'res', id: msg.id, ok: false, error: toPlainError(err) });
      return;
    }
    if (msg.t === 'model' || msg.t === 'tool' || msg.t === 'send' || msg.t === 'request') {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      p?.reject(err instanceof Error ? err : new AaosError(ErrorCode.PROTOCOL, String(err)));
    }
  }

  private onClose(): void {
    this.closed = true;
    const err = new AaosError(ErrorCode.AGENT_STOPPED, 'supervisor port closed');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
