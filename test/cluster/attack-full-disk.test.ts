import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from '../daemon/daemon-process.js';
import { TestCluster, until } from './cluster-nodes.js';

// A cluster node whose disk is full takes a goal from the work queue: it cannot store the run,
// so the goal must go back to the queue for a node that can (not be recorded failed for the
// whole cluster, nor acknowledged and lost). n1's data dir is on a real 24 MiB tmpfs filled
// past the store's reserve; n2 joins afterwards with room. Mounting needs root (CI has it); else skipped.

interface Run {
  run_id: string;
  state: string;
  node_id?: string;
  result?: string;
  error?: { code: string };
}

let cluster: TestCluster | undefined;
let mountPoint: string | undefined;
let dir: string;

beforeAll(async () => {
  dir = tempDataDir();
  if (process.getuid?.() !== 0) return;
  const mp = mkdtempSync(join(tmpdir(), 'aaos-fs-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mp]).status !== 0) {
    rmSync(mp, { recursive: true, force: true });
    return;
  }
  mountPoint = mp;
  writeFileSync(join(dir, 'quick.yaml'), 'cursor: per_run\nturns:\n  - text: "done {run_id}"\n');
  const bootstrap = join(dir, 'bootstrap.yaml');
  writeFileSync(
    bootstrap,
    ['name: bootstrap', `model: scripted:${join(dir, 'quick.yaml')}`, 'lifecycle: persistent'].join('\n'),
  );
  cluster = await TestCluster.start(
    [],
    {
      AAOS_CLUSTER_HEARTBEAT_MS: '500',
      AAOS_CLUSTER_ACK_WAIT_MS: '2000',
      AAOS_MAX_CONCURRENT_GOALS: '1',
      AAOS_RESUME_RUNS: '0',
      // the tmpfs is small: a reserve of 4 MiB leaves room to start before it is filled on purpose
      AAOS_STORE_MIN_FREE_MB: '4',
      AAOS_STORE_PROBE_MS: '200',
    },
    { bootstrap },
  );
  const data = join(mountPoint, 'data');
  mkdirSync(data);
  await cluster.startNode('n1', data);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  if (mountPoint) {
    spawnSync('umount', ['-l', mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  }
  removeDir(dir);
}, 60_000);

/**
 * Fills the filesystem of `at`, then gives 2 MiB back: below the 4 MiB reserve, so the store
 * refuses every write, while a write already under way when it filled still finds room (no
 * wait for quiet needed).
 */
function fill(at: string): void {
  const path = join(at, 'filler');
  const fd = openSync(path, 'w');
  for (const size of [64 * 1024, 512]) {
    const chunk = Buffer.alloc(size, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch {
      // ENOSPC: full
    }
  }
  closeSync(fd);
  truncateSync(path, Math.max(0, statSync(path).size - 2 * 1024 * 1024));
}

describe('a cluster node whose disk is full', () => {
  it('gives a goal it cannot store back to the queue; a node with room runs it', async (ctx) => {
    if (!cluster || !mountPoint) {
      ctx.skip('mounting a tmpfs is not permitted here (needs root): no real full filesystem to test on');
      return;
    }
    fill(mountPoint);
    const n1 = cluster.nodes.get('n1')!;
    const { run_id: runId } = await cluster
      .node('n1')
      .call<{ run_id: string }>('agent.submit_streaming', { goal: 'while n1 is full' });
    // (or, the attack succeeding, to record it failed for the whole cluster)
    await until(
      'n1 to give the goal back',
      async () =>
        /run .* goes back to the queue: this node cannot store it/.test(n1.proc.stderr()) ||
        (await cluster!.node('n1').call<Run>('run.status', { run_id: runId })).state === 'failed'
          ? true
          : undefined,
      120_000,
    );
    expect((await cluster.node('n1').call<Run>('run.status', { run_id: runId })).state).not.toBe('failed');

    await cluster.startNode('n2');
    const final = await until(
      'the goal to end',
      async () => {
        const r = await cluster!.node('n2').call<Run>('run.status', { run_id: runId });
        return ['completed', 'failed', 'cancelled', 'interrupted'].includes(r.state) ? r : undefined;
      },
      120_000,
    );
    expect(final).toMatchObject({ state: 'completed', node_id: 'n2', result: `done ${runId}` });
    expect(n1.proc.child.exitCode).toBeNull();
  }, 300_000);
});
