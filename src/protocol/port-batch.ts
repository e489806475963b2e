import type { MessagePort } from 'node:worker_threads';

/** Several protocol messages posted as one: what one side queued on a port in one turn of its event loop. */
export interface PortBatch<M> {
  t: 'batch';
  msgs: M[];
}

/**
 * The messages one side of an agent's port posts in one turn of its event loop: the first
 * goes at once, those after it in the same turn as one `postMessage` when the turn ends
 * (`setImmediate`). Every post wakes the other thread and takes the port's lock: under load
 * (many requests in flight between the supervisor and its agents) those wake-ups, not the
 * messages, were most of the supervisor's CPU per routed request. The first is not held:
 * when the supervisor answers a hundred agents in one turn (a fan-out's model turns end
 * together), each agent's one answer must reach it while the supervisor is still busy with
 * the others, not after all of them. A lone message goes as it is; order is kept (a message
 * with a transfer list first sends what is queued, then goes alone). `refused` hears of a
 * message that could not be cloned, so its sender can answer for it instead of losing it.
 */
export class PortOutbox<M> {
  private queue: M[] = [];
  private scheduled = false;

  constructor(
    private readonly port: () => MessagePort | undefined,
    private readonly refused: (msg: M, err: unknown) => void,
  ) {}

  post(msg: M, transfer?: ArrayBuffer[]): void {
    if (transfer?.length) {
      this.flush();
      this.send(msg, transfer);
      return;
    }
    if (!this.scheduled) {
      // the first of this turn: sent now; what follows in the turn waits for its end
      this.scheduled = true;
      setImmediate(this.flushScheduled);
      this.send(msg);
      return;
    }
    this.queue.push(msg);
  }

  /** Sends what is queued now (before the port closes, or before a message that must follow it). */
  flush(): void {
    const queued = this.queue;
    if (queued.length === 0) return;
    this.queue = [];
    if (queued.length === 1) {
      this.send(queued[0] as M);
      return;
    }
    try {
      this.port()?.postMessage({ t: 'batch', msgs: queued } satisfies PortBatch<M>);
    } catch {
      // one of them cannot be cloned: each on its own, so only that one is refused
      for (const msg of queued) this.send(msg);
    }
  }

  private readonly flushScheduled = (): void => {
    this.scheduled = false;
    this.flush();
  };

  private send(msg: M, transfer?: ArrayBuffer[]): void {
    try {
      this.port()?.postMessage(msg, transfer);
    } catch (err) {
      this.refused(msg, err);
    }
  }
}

/** True for a batch (the receiver handles its messages in order). */
export function isPortBatch<M>(msg: unknown): msg is PortBatch<M> {
  return typeof msg === 'object' && msg !== null && (msg as { t?: unknown }).t === 'batch';
}
