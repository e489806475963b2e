import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  closeSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENTD,
  BOOTSTRAP,
  RawClient,
  removeDir,
  startDaemon,
  tempDataDir,
  type DaemonProcess,
} from './daemon-process.js';

type Health = { status: string; problems: string[]; store: { write_failures: number; audit_events_unstored: number } };

function agentd(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [AGENTD, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the store is checked before it is mapped', () => {
  let source: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    // a data dir with history: a daemon ran on it (bootstrap agent recorded), then stopped
    source = tempDataDir();
    dirs.push(source);
    const d = await startDaemon({ dataDir: source });
    expect(await d.stop()).toBe(0);
  }, 120_000);
  afterAll(() => {
    for (const d of dirs) removeDir(d);
  });

  function copyOf(): string {
    const dir = mkdtempSync(join(tmpdir(), 'aaos-'));
    dirs.push(dir);
    cpSync(join(source, 'store'), join(dir, 'store'), { recursive: true });
    return dir;
  }

  const cases: Array<{ name: string; damage: (file: string) => void; problem: RegExp }> = [
    { name: 'truncated', damage: (f) => truncateSync(f, Math.floor(statSync(f).size / 2)), problem: /is truncated/ },
    { name: 'truncated inside its meta pages', damage: (f) => truncateSync(f, 5000), problem: /is truncated/ },
    { name: 'garbage', damage: (f) => writeFileSync(f, randomBytes(64 * 1024)), problem: /is not an LMDB data file/ },
    {
      name: 'empty although the data dir has history',
      damage: (f) => truncateSync(f, 0),
      problem: /is empty \(0 bytes\) although the data dir has history/,
    },
  ];

  it.each(cases)(
    '$name: agentd run and agentd store check refuse with the path and the problem',
    ({ damage, problem }) => {
      const dir = copyOf();
      const file = join(dir, 'store', 'data.mdb');
      damage(file);
      const run = agentd(['run', '--bootstrap', BOOTSTRAP, '--data-dir', dir]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain('AAOS_ERR_STORE_CORRUPT');
      expect(run.stderr).toContain(file);
      expect(run.stderr).toMatch(problem);
      expect(run.stderr).not.toContain('listening on');
      const check = agentd(['store', 'check', '--data-dir', dir]);
      expect(check.code).toBe(1);
      expect(check.stderr).toContain(file);
      expect(check.stderr).toMatch(problem);
    },
    120_000,
  );

  it('store check passes a sound store; store backup makes a copy a daemon starts on with the same state', async () => {
    const check = agentd(['store', 'check', '--data-dir', source]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/agents: 1 record/);
    expect(check.stdout).toMatch(/\nok\n$/);

    const dest = join(mkdtempSync(join(tmpdir(), 'aaos-')), 'backup');
    dirs.push(dest);
    const backup = agentd(['store', 'backup', dest, '--data-dir', source]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(existsSync(join(dest, 'data.mdb'))).toBe(true);
    expect(agentd(['store', 'backup', dest, '--data-dir', source]).code).toBe(1); // never over an existing backup

    const restored = mkdtempSync(join(tmpdir(), 'aaos-'));
    dirs.push(restored);
    mkdirSync(join(restored, 'store'));
    cpSync(join(dest, 'data.mdb'), join(restored, 'store', 'data.mdb'));
    const d = await startDaemon({ dataDir: restored });
    try {
      const c = await RawClient.open(d.socket);
      const agents = await c.call<{ agents: Array<{ name: string }> }>('agent.list');
      expect(agents.agents.map((a) => a.name)).toContain('bootstrap');
      c.close();
    } finally {
      expect(await d.stop()).toBe(0);
    }
  }, 120_000);
});

/** Mounts a small tmpfs (we run as root in CI); undefined when mounting is not permitted here. */
function mountTmpfs(sizeMb: number): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'aaos-fs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return dir;
}

/** Fills the filesystem of `dir` to the last byte; returns the filler's path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full
  }
  try {
    for (;;) writeSync(fd, chunk.subarray(0, 512));
  } catch {
    // full to the block
  }
  closeSync(fd);
  return path;
}

// A real full filesystem: a 24 MiB tmpfs holding the data dir. (Mounting needs root, which the
// CI and dev machines have; where it is not permitted the test says so and is skipped.)
describe('a full filesystem (a real tmpfs)', () => {
  let daemon: DaemonProcess | undefined;
  let mountPoint: string | undefined;
  beforeAll(() => {
    mountPoint = process.getuid?.() === 0 ? mountTmpfs(24) : undefined;
  });
  afterEach(async (ctx) => {
    if (daemon && ctx.task.result?.state === 'fail') process.stderr.write(`agentd stderr:\n${daemon.stderr()}\n`);
    await daemon?.stop();
    daemon = undefined;
    // space back and a fresh data dir for the next test, whatever this one left behind
    if (mountPoint)
      for (const name of ['filler', 'data']) rmSync(join(mountPoint, name), { recursive: true, force: true });
  });
  afterAll(() => {
    if (mountPoint) {
      spawnSync('umount', ['-l', mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  /** A data dir on the tmpfs with a persistent scripted bootstrap that makes one tool call per goal. */
  const prepare = (): { dir: string; bootstrap: string } => {
    const dir = join(mountPoint!, 'data');
    mkdirSync(join(dir, 'inbox'), { recursive: true });
    writeFileSync(
      join(dir, 'quick.yaml'),
      [
        'cursor: per_run',
        'turns:',
        '  - tool_calls: [{ name: echo, input: { message: "x" } }]',
        '  - text: "done {run_id}"',
      ].join('\n'),
    );
    const bootstrap = join(dir, 'quick-bootstrap.yaml');
    writeFileSync(
      bootstrap,
      [
        'name: bootstrap',
        'model: scripted:quick.yaml',
        'lifecycle: persistent',
        'capabilities:',
        '  - "tool: echo"',
      ].join('\n'),
    );
    return { dir, bootstrap };
  };
  // the tmpfs is small: a reserve of 4 MiB leaves room to work before it is filled on purpose
  const env = { AAOS_STORE_PROBE_MS: '200', AAOS_PARK_IDLE_MS: '0', AAOS_STORE_MIN_FREE_MB: '4' };

  it('degrades the daemon instead of crashing it, refuses goals, counts unstored audit events, and recovers by itself when space returns', {
    timeout: 300_000,
  }, async (ctx) => {
    if (mountPoint === undefined) {
      ctx.skip('mounting a tmpfs is not permitted here (needs root): no real full filesystem to test on');
      return;
    }
    const { dir, bootstrap } = prepare();
    daemon = await startDaemon({ dataDir: dir, bootstrap, env });
    const client = await RawClient.open(daemon.socket);
    const dead = (): string =>
      `the daemon died (exit ${daemon!.child.exitCode}, signal ${daemon!.child.signalCode}):\n${daemon!.stderr()}`;
    const health = async (): Promise<Health> => {
      try {
        return await client.call<Health>('system.health');
      } catch (e) {
        throw client.closed ? new Error(dead()) : e;
      }
    };
    expect((await health()).status).toBe('ok');
    const done = await client.call<{ run_id: string }>('agent.submit_streaming', { goal: 'before the disk fills' });
    await waitUntil(
      async () => (await client.call<{ state: string }>('run.status', { run_id: done.run_id })).state === 'completed',
      'the first goal to complete',
    );
    // its audit batches are written behind: let them land before the disk is filled under them
    await new Promise((r) => setTimeout(r, 500));

    const filler = fill(mountPoint!);
    // writes are refused now (the store's free-space reserve): goals are refused, audit batches
    // are not stored but counted; the daemon stays up and LMDB never meets the full disk
    const refusals: Array<{ code: string; message: string }> = [];
    const seen: Health[] = [];
    const agents = await client.call<{ agents: Array<{ id: string; name: string }> }>('agent.list');
    const bootstrapId = agents.agents.find((a) => a.name === 'bootstrap')!.id;
    for (let i = 0; i < 300; i++) {
      if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) throw new Error(dead());
      // every tool call appends audit events
      // (the call itself may fail to be journaled while the disk is full: its answer is not the point)
      await client.response(
        client.send('tool.invoke', { agent_id: bootstrapId, tool: 'echo', input: { message: `call ${i}` } }),
      );
      const res = await client.response<{ error?: { message: string; data: { code: string } } }>(
        client.send('agent.submit_streaming', { goal: `goal ${i} while full` }),
      );
      if (res.error) refusals.push({ code: res.error.data.code, message: res.error.message });
      seen.push(await health());
      const last = seen.at(-1)!;
      if (
        refusals.some((r) => r.code === 'AAOS_ERR_STORE_DEGRADED') &&
        last.store.audit_events_unstored > 0 &&
        seen.some((h) => h.status === 'degraded')
      )
        break;
    }
    const refusal = refusals.find((r) => r.code === 'AAOS_ERR_STORE_DEGRADED');
    expect(refusal?.message).toMatch(/goals are refused while the store cannot write/);
    const degraded = seen.find((h) => h.status === 'degraded');
    expect(degraded?.problems.join('\n')).toMatch(
      /store writes to .* fail .*below the reserve of 4\.0 MiB \(AAOS_STORE_MIN_FREE_MB\).* since .*; goals are refused until a write succeeds/,
    );
    expect(seen.at(-1)!.store.audit_events_unstored).toBeGreaterThan(0);
    expect(seen.at(-1)!.store.write_failures).toBeGreaterThan(0);
    // the reserve kept every write away from the full disk: lmdb never reported ENOSPC
    expect(daemon.stderr()).not.toMatch(/No space left on device/);
    expect(daemon.child.exitCode).toBeNull();

    // space returns: the daemon notices on its own and takes goals again
    rmSync(filler);
    await waitUntil(async () => (await health()).status === 'ok', 'the daemon to recover');
    const after = await client.response<{ result?: { run_id: string }; error?: unknown }>(
      client.send('agent.submit_streaming', { goal: 'after space returned' }),
    );
    expect(after.error).toBeUndefined();
    const runId = after.result!.run_id;
    await waitUntil(
      async () => (await client.call<{ state: string }>('run.status', { run_id: runId })).state === 'completed',
      'the goal to complete',
    );
    const final = await health();
    expect(final.store.audit_events_unstored).toBeGreaterThan(0); // reported, never silently forgotten
    client.close();
    expect(await daemon.stop()).toBe(0);
    daemon = undefined;
  });

  it('a start on a disk already below the reserve stops with exit 1 and the reason, and touches nothing', {
    timeout: 120_000,
  }, async (ctx) => {
    if (mountPoint === undefined) {
      ctx.skip('mounting a tmpfs is not permitted here (needs root): no real full filesystem to test on');
      return;
    }
    const { dir, bootstrap } = prepare();
    // a store with history first, then the disk fills while no daemon runs
    const first = await startDaemon({ dataDir: dir, bootstrap, env });
    expect(await first.stop()).toBe(0);
    const storeFile = join(dir, 'store', 'data.mdb');
    const before = readFileSync(storeFile);
    fill(mountPoint);
    const res = spawnSync(
      process.execPath,
      [AGENTD, 'run', '--data-dir', dir, '--socket', join(dir, 'run', 'agentd.sock'), '--bootstrap', bootstrap],
      { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 },
    );
    expect(res.signal, res.stderr).toBeNull();
    expect(res.status, res.stderr).toBe(1);
    expect(res.stderr).toMatch(
      /AAOS_ERR_STORE: store write refused: only .* MiB free on the filesystem of .*store, below the reserve of 4\.0 MiB \(AAOS_STORE_MIN_FREE_MB\)/,
    );
    expect(res.stderr).not.toMatch(/No space left on device/);
    expect(readFileSync(storeFile).equals(before)).toBe(true);
  });
});
