import { setMaxListeners } from 'node:events';

/**
 * An abort controller made only when someone needs its signal. Most deliveries (a routed
 * request to an agent that answers without model or tool calls) never do, and creating an
 * AbortController costs more than the rest of the delivery's bookkeeping.
 */
export class LazyAbort {
  private controller: AbortController | undefined;
  private reason: unknown;
  private aborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      // every child a run spawns listens on it (spawn_agents: many at once); not a leak
      setMaxListeners(0, this.controller.signal);
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  get isAborted(): boolean {
    return this.aborted;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
