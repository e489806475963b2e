/**
 * Tool calls running right now, tracked where they run (tool dispatch), so shutdown can let
 * them finish before stopping workers.
 */
export class InflightCalls {
  private count = 0;
  private waiters = new Set<(settled: boolean) => void>();

  get size(): number {
    return this.count;
  }

  /** Counts `work` as running until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.count += 1;
    return work.finally(() => {
      this.count -= 1;
      if (this.count === 0) this.wake(true);
    });
  }

  /** Resolves true once no call is running, false when `timeoutMs` passes first or `release()` is called. */
  settle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (settled: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(settled);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Stop waiting (a forced stop): every pending `settle` resolves now. */
  release(): void {
    this.wake(this.count === 0);
  }

  private wake(settled: boolean): void {
    for (const w of [...this.waiters]) w(settled);
  }
}
