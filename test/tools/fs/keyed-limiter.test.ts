import { describe, expect, it } from 'vitest';
import { KeyedLimiter } from '../../../src/tools/fs/keyed-limiter.js';

describe('KeyedLimiter', () => {
  it('holds a key to its limit, serves waiters in order, and leaves other keys alone', async () => {
    const lanes = new KeyedLimiter(1);
    const signal = new AbortController().signal;
    const releaseA1 = await lanes.acquire('a', signal);
    const order: string[] = [];
    const a2 = lanes.acquire('a', signal).then((r) => {
      order.push('a2');
      return r;
    });
    const a3 = lanes.acquire('a', signal).then((r) => {
      order.push('a3');
      return r;
    });
    const releaseB = await lanes.acquire('b', signal); // not blocked by a's queue
    expect(lanes.load('a')).toEqual({ running: 1, waiting: 2 });
    releaseA1();
    releaseA1(); // a second release is harmless
    (await a2)();
    (await a3)();
    releaseB();
    expect(order).toEqual(['a2', 'a3']);
    expect(lanes.load('a')).toEqual({ running: 0, waiting: 0 });
  });

  it('an aborted waiter leaves the queue with the abort reason and takes no slot', async () => {
    const lanes = new KeyedLimiter(1);
    const release = await lanes.acquire('a', new AbortController().signal);
    const abort = new AbortController();
    const waiting = lanes.acquire('a', abort.signal);
    abort.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(lanes.load('a')).toEqual({ running: 1, waiting: 0 });
    release();
    expect(lanes.load('a')).toEqual({ running: 0, waiting: 0 });
  });

  it('never runs more than the limit per key, whatever the order of acquires and releases', async () => {
    // seeded pseudo-random schedules (fast-check is not a dependency of main yet)
    let seed = 12345;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let run = 0; run < 200; run += 1) {
      const limit = 1 + next(3);
      const ops = Array.from({ length: next(30) }, () => [['a', 'b', 'c'][next(3)]!, next(6)] as const);
      const lanes = new KeyedLimiter(limit);
      const live = new Map<string, number>();
      let peak = 0;
      await Promise.all(
        ops.map(async ([key, ticks]) => {
          const release = await lanes.acquire(key, new AbortController().signal);
          live.set(key, (live.get(key) ?? 0) + 1);
          peak = Math.max(peak, live.get(key)!);
          for (let i = 0; i < ticks; i += 1) await Promise.resolve();
          live.set(key, live.get(key)! - 1);
          release();
        }),
      );
      expect(peak).toBeLessThanOrEqual(limit);
      for (const key of ['a', 'b', 'c']) expect(lanes.load(key)).toEqual({ running: 0, waiting: 0 });
    }
  });
});
