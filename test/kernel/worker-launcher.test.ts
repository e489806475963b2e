import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_AGENT_MODULE, type LaunchedWorker, WorkerLauncher } from '../../src/kernel/worker-launcher.js';
import { waitFor } from '../support/kernel.js';

let launchers: WorkerLauncher[] = [];
afterEach(async () => {
  for (const l of launchers) await l.close();
  launchers = [];
});

function pool(count: number, refillMaxDeferMs: number): WorkerLauncher {
  const launcher = new WorkerLauncher(2, 0, refillMaxDeferMs);
  launchers.push(launcher);
  launcher.prewarm(DEFAULT_AGENT_MODULE(), 64, count);
  return launcher;
}

const take = (launcher: WorkerLauncher, name: string): Promise<LaunchedWorker> =>
  launcher.acquire({ module: DEFAULT_AGENT_MODULE(), maxHeapMb: 64, name });

// generous: a loaded box boots a worker in seconds, not milliseconds
const BOOT_WAIT_MS = 60_000;

describe('warm pool refill', () => {
  it('waits for the agents that drained the pool, then boots fresh workers (never the lent ones)', async () => {
    const launcher = pool(2, 10 * 60_000);
    await waitFor(() => launcher.warmCount === 2, BOOT_WAIT_MS, 'the pool to fill');
    const a = await take(launcher, 'a');
    const b = await take(launcher, 'b');
    expect(launcher.warmCount).toBe(0);
    // both lent workers still run their agents: a burst is under way, nothing boots beside it
    // (several refill checks pass meanwhile; the deferral limit is far away)
    await new Promise((r) => setTimeout(r, 600));
    expect(launcher.refillsUnderWay).toBe(0);
    expect(launcher.warmCount).toBe(0);
    // one of the two ended: at most half of what the pool lent still runs, so it refills
    await launcher.terminate(a.worker);
    await waitFor(() => launcher.warmCount === 2, BOOT_WAIT_MS, 'the pool to refill');
    const c = await take(launcher, 'c');
    expect([a.worker.threadId, b.worker.threadId]).not.toContain(c.worker.threadId);
    await launcher.terminate(b.worker);
    await launcher.terminate(c.worker);
  });

  it('waits until lent workers stop ending (a burst winding down) before it boots', async () => {
    const launcher = pool(2, 10 * 60_000);
    await waitFor(() => launcher.warmCount === 2, BOOT_WAIT_MS, 'the pool to fill');
    const a = await take(launcher, 'a');
    const b = await take(launcher, 'b');
    await new Promise((r) => setTimeout(r, 300));
    // half of what it lent has ended: the refill is due, but only once returns pause for 100 ms
    const returned = performance.now();
    const ended = launcher.terminate(a.worker);
    // checked on every turn while < 100 ms have passed since the return (a slow box checks fewer times)
    while (performance.now() - returned < 90) {
      expect(launcher.refillsUnderWay).toBe(0);
      await new Promise((r) => setImmediate(r));
    }
    await ended;
    await waitFor(() => launcher.warmCount === 2, BOOT_WAIT_MS, 'the pool to refill once returns paused');
    await launcher.terminate(b.worker);
  });

  it('refills anyway once acquisitions have been quiet for the deferral limit (long-lived agents)', async () => {
    const launcher = pool(2, 300);
    await waitFor(() => launcher.warmCount === 2, BOOT_WAIT_MS, 'the pool to fill');
    const a = await take(launcher, 'a');
    const b = await take(launcher, 'b');
    // both lent workers stay alive throughout
    await waitFor(() => launcher.warmCount === 2, BOOT_WAIT_MS, 'the pool to refill after the quiet period');
    expect(a.worker.threadId).not.toBe(b.worker.threadId);
    await launcher.terminate(a.worker);
    await launcher.terminate(b.worker);
  });
});
