import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENTD, RawClient, removeDir, startDaemon, tempDataDir, type DaemonProcess } from './daemon-process.js';

/** Open file descriptors of a process (sockets included). */
function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function health(socket: string): Promise<Record<string, unknown>> {
  const c = await RawClient.open(socket);
  try {
    return await c.call('system.health');
  } finally {
    c.close();
  }
}

/** Runs `agentd <args>` to its end. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [AGENTD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `jobs` with at most `width` at a time. */
async function bounded<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  const lanes = Array.from({ length: width }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  });
  await Promise.all(lanes);
  return out;
}

/** A raw socket; resolves when the daemon has closed its side (or the socket closed). */
function rawSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ path, allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function closedByPeer(s: Socket): Promise<string> {
  let data = '';
  s.on('data', (d: Buffer) => (data += d.toString()));
  s.on('error', () => {});
  return new Promise((resolve) => {
    if (s.readableEnded || s.destroyed) resolve(data);
    s.once('end', () => resolve(data));
    s.once('close', () => resolve(data));
  });
}

const HEALTH = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system.health' })}\n`;

/** Polls until `probe` returns true (the daemon releases sockets asynchronously). */
async function eventually(probe: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('daemon connections', () => {
  let daemon: DaemonProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    if (dir) removeDir(dir);
    dir = undefined;
  });

  it('1,000 short-lived clients (CLI processes, half-closing, abrupt and silent sockets) leave the connection and fd counts where they started', async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir });
    const pid = daemon.child.pid!;
    const socket = daemon.socket;
    // warm up whatever the first requests initialise, then take the baseline with no client connected
    expect((await cli(['health', '--socket', socket])).code).toBe(0);
    await health(socket);
    await eventually(async () => (await health(socket))['connections'] === 1, 'the warm-up connections to close');
    const baselineFds = fdCount(pid);

    const jobs: Array<() => Promise<unknown>> = [];
    // real CLI processes (slow to start on a shared machine: a bounded number, a few at a time)
    const cliRuns: Array<() => Promise<unknown>> = [];
    for (let i = 0; i < 20; i++) {
      cliRuns.push(async () => {
        const r = await cli(['health', '--socket', socket, '--json']);
        expect(r.code, r.stderr).toBe(0);
      });
    }
    for (let i = 0; i < 245; i++) {
      // sends a request, then shuts down writing: gets its answer, then the daemon ends the connection
      jobs.push(async () => {
        const s = await rawSocket(socket);
        const answer = closedByPeer(s);
        s.end(HEALTH);
        expect(await answer).toContain('"status"');
        s.destroy();
      });
      // half-closes with nothing sent: the daemon closes at once (nothing in flight)
      jobs.push(async () => {
        const s = await rawSocket(socket);
        const answer = closedByPeer(s);
        s.end();
        expect(await answer).toBe('');
        s.destroy();
      });
      // reads its answer, then resets
      jobs.push(async () => {
        const c = await RawClient.open(socket);
        await c.call('system.health');
        c.close();
      });
      // leaves half a request and goes away abruptly
      jobs.push(async () => {
        const s = await rawSocket(socket);
        s.on('error', () => {});
        s.write('{"jsonrpc":"2.0","id":1,"meth');
        s.destroy();
      });
    }
    expect(jobs.length + cliRuns.length).toBe(1000);
    await Promise.all([bounded(jobs, 16), bounded(cliRuns, 3)]);

    await eventually(
      async () => (await health(socket))['connections'] === 1,
      'the connection count to return to 1 (the probe itself)',
    );
    await eventually(() => fdCount(pid) <= baselineFds, `the daemon's fd count to return to ${baselineFds}`);
    expect(fdCount(pid)).toBeLessThanOrEqual(baselineFds);
  }, 600_000);

  it('an idle connection is closed after AAOS_CONNECTION_IDLE_MS; one with an open stream is not', async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir, env: { AAOS_CONNECTION_IDLE_MS: '300' } });
    const idle = await rawSocket(daemon.socket);
    const idleEnded = closedByPeer(idle);
    const watcher = await RawClient.open(daemon.socket);
    await watcher.response(watcher.send('approval.watch_streaming'));
    // the idle one is ended by the daemon without the client doing anything
    expect(await idleEnded).toBe('');
    idle.destroy();
    // the watcher (a stream in flight) outlives several idle periods and still answers
    await new Promise((r) => setTimeout(r, 1200));
    expect(watcher.closed).toBe(false);
    expect(await watcher.call('system.health')).toMatchObject({ status: 'ok' });
    watcher.close();
  });

  it('over AAOS_MAX_CONNECTIONS a client gets a clear refusal; health counts it; a slot frees when a client leaves', async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir, env: { AAOS_MAX_CONNECTIONS: '3' } });
    const held = await Promise.all([0, 1, 2].map(() => RawClient.open(daemon!.socket)));
    for (const c of held) await c.call('system.health');

    const extra = await RawClient.open(daemon.socket);
    const refusal = await extra.waitFor<{ id: unknown; error: { message: string; data: { code: string } } }>(
      (m) => 'error' in m,
      'the refusal',
    );
    expect(refusal.id).toBeNull();
    expect(refusal.error.data.code).toBe('AAOS_ERR_TOO_MANY_CONNECTIONS');
    expect(refusal.error.message).toContain('3 connections');
    await extra.waitClosed();

    const r = await cli(['health', '--socket', daemon.socket]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('AAOS_ERR_TOO_MANY_CONNECTIONS');
    expect(r.stderr).not.toMatch(/\n\s+at /);

    held[0]!.close();
    await eventually(async () => {
      try {
        const h = await health(daemon!.socket);
        return (h['connections_refused'] as number) >= 2;
      } catch {
        return false; // refused while the slot is still being released
      }
    }, 'a free slot');
    for (const c of held.slice(1)) c.close();
  });

  it('the CLI ends with exit 3 and one line, no stack trace, when the daemon resets the connection', async () => {
    dir = tempDataDir();
    const path = join(dir, 'reset.sock');
    // a "daemon" that accepts and slams the door, as one out of file descriptors does
    const server = createServer((s) => {
      s.on('error', () => {});
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(path, () => r()));
    try {
      const results = await bounded(
        Array.from({ length: 4 }, () => () => cli(['health', '--socket', path])),
        2,
      );
      for (const r of results) {
        expect(r.code, r.stderr).toBe(3);
        expect(r.stderr).toContain('was closed');
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
