/**
 * A counting semaphore. Bounds how many workers boot at once (booting threads starve
 * the supervisor of CPU; a pool of about the core count gives full spawn throughput)
 * and serialises terminations (Node 20 can abort when many heap-limited workers are
 * terminated at once).
 */
export class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`gate limit must be a positive integer, got ${limit}`);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  get pending(): number {
    return this.waiting.length;
  }
}
