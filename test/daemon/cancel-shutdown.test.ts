import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/lmdb-env.js';
import { RunStore } from '../../src/store/run-store.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { RawClient, removeDir, startDaemon, streamToEnd, tempDataDir, type DaemonProcess } from './daemon-process.js';

type Line = {
  kind?: string;
  stream?: unknown;
  id?: unknown;
  event?: { type: string; agent_name?: string; run_id?: string };
};

/** A bootstrap agent whose one turn spawns `n` children at once; each child answers after a short model delay. */
function fanOutBootstrap(dir: string, n: number): string {
  writeFileSync(join(dir, 'child.yaml'), ['latency_ms: 300', 'turns:', '  - text: "child answer"'].join('\n'));
  const child = ['name: worker', 'model: scripted:child.yaml', 'capabilities:', '  - "tool: echo"'].join('\n');
  const children = Array.from({ length: n }, (_, i) => ({ manifest: child, message: `part ${i}` }));
  writeFileSync(
    join(dir, 'fan.yaml'),
    [
      'cursor: per_run',
      'turns:',
      `  - tool_calls: [{ name: spawn_agents, input: ${JSON.stringify({ children })} }]`,
      '  - text: "all done"',
    ].join('\n'),
  );
  const manifest = join(dir, 'fan-bootstrap.yaml');
  writeFileSync(
    manifest,
    [
      'name: bootstrap',
      'model: scripted:fan.yaml',
      'lifecycle: persistent',
      'capabilities:',
      '  - "tool: spawn_agents"',
      '  - "tool: echo"',
      '  - "spawn_child: [worker]"',
      `  - "file_read: ${dir}/*"`,
    ].join('\n'),
  );
  return manifest;
}

/** A bootstrap agent whose goals each fetch one URL (so a tool call is in flight as long as the server waits). */
function fetchingBootstrap(dir: string, url: string): string {
  writeFileSync(
    join(dir, 'fetch.yaml'),
    [
      'cursor: per_run',
      'latency_ms: 200',
      'turns:',
      `  - tool_calls: [{ name: web_fetch, input: { url: "${url}" } }]`,
      '  - text: "fetched"',
    ].join('\n'),
  );
  const manifest = join(dir, 'fetch-bootstrap.yaml');
  writeFileSync(
    manifest,
    [
      'name: bootstrap',
      'model: scripted:fetch.yaml',
      'lifecycle: persistent',
      'capabilities:',
      '  - "tool: web_fetch"',
      '  - "network: *"',
    ].join('\n'),
  );
  return manifest;
}

/** An HTTP server on loopback that answers request i after delays[i] ms (the last delay for the rest). */
async function slowServer(delays: number[]): Promise<{ url: string; server: Server }> {
  let n = 0;
  const server = createServer((_req, res) => {
    const delay = delays[Math.min(n++, delays.length - 1)]!;
    const timer = setTimeout(() => res.end('slow answer'), delay);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

function events(client: { lines: unknown[] }, from = 0): NonNullable<Line['event']>[] {
  return client.lines
    .slice(from)
    .map((l) => l as Line)
    .filter((m) => m.kind === 'event' && m.event)
    .map((m) => m.event!);
}

async function waitUntil(probe: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('cancel and shutdown', () => {
  let daemon: DaemonProcess | undefined;
  let dir: string | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
    if (dir) removeDir(dir);
    dir = undefined;
  });

  it('cancelling a 50-child fan-out starts no child after the cancel', async () => {
    dir = tempDataDir();
    const bootstrap = fanOutBootstrap(dir, 50);
    daemon = await startDaemon({
      dataDir: dir,
      bootstrap,
      env: { AAOS_SPAWN_AGENTS_BATCH_CAP: '50', AAOS_MAX_AGENTS: '100', AAOS_PARK_IDLE_MS: '0' },
    });
    const client = await RawClient.open(daemon.socket);
    const submit = client.send('agent.submit_streaming', { goal: 'fan out' });
    const runId = (await client.response<{ result: { run_id: string } }>(submit)).result.run_id;
    const childStarted = (e: NonNullable<Line['event']>): boolean =>
      e.type === 'AgentExecutionStarted' && e.agent_name === 'worker';
    await waitUntil(() => events(client).some(childStarted), 'the first child to start').catch((e) => {
      throw new Error(`${e}: ${JSON.stringify(client.lines).slice(0, 3000)}`);
    });

    const cancel = client.send('run.cancel', { run_id: runId });
    const cancelAt = client.lines.length;
    // every line before the cancel's response was written before the cancel was processed
    await client.response(cancel);
    const responseAt = client.lines.findIndex((l) => (l as Line).id === cancel);
    expect(responseAt).toBeGreaterThanOrEqual(cancelAt);
    const startedBefore = events({ lines: client.lines.slice(0, responseAt) }).filter(childStarted).length;
    const { end } = await streamToEnd(client, submit);
    expect(end['status']).toBe('cancelled');
    const startedAfter = events(client, responseAt).filter(childStarted);
    expect(startedAfter).toEqual([]);
    // the window was real: most children had not started when the cancel came
    expect(startedBefore).toBeGreaterThan(0);
    expect(startedBefore).toBeLessThan(50);

    // and none starts later either (the durable audit log holds every event of the run)
    await new Promise((r) => setTimeout(r, 1500));
    const logs = client.send('agent.logs_streaming', { run_id: runId });
    const all = (await streamToEnd(client, logs)).events as Array<NonNullable<Line['event']>>;
    expect(all.filter(childStarted)).toHaveLength(startedBefore);
    // no child agent is left behind
    const agents = await client.call<{ agents: Array<{ name: string }> }>('agent.list');
    expect(agents.agents.filter((a) => a.name === 'worker')).toEqual([]);
    client.close();
  }, 180_000);

  it('SIGTERM starts no queued goal, even when a running goal ends during the grace period', async () => {
    dir = tempDataDir();
    // goal 1's fetch holds the grace period open; goal 2's fetch returns in it and goal 2 ends
    const slow = await slowServer([8000, 1500]);
    server = slow.server;
    const bootstrap = fetchingBootstrap(dir, slow.url);
    daemon = await startDaemon({
      dataDir: dir,
      bootstrap,
      env: { AAOS_MAX_CONCURRENT_GOALS: '2', AAOS_SHUTDOWN_GRACE_MS: '60000', AAOS_PARK_IDLE_MS: '0' },
    });
    const client = await RawClient.open(daemon.socket);
    const runIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = client.send('agent.submit_streaming', { goal: `goal ${i}` });
      runIds.push((await client.response<{ result: { run_id: string } }>(id)).result.run_id);
    }
    await waitUntil(
      () => events(client).filter((e) => e.type === 'ToolInvoked').length >= 2,
      'both running goals to be fetching',
    );
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(daemon.stderr()).toContain('SIGTERM received');
    client.close();
    daemon = undefined;

    const store = openStore(dir);
    try {
      const runs = new RunStore(store);
      const audit = new AuditStore(store, { maxCount: 1_000_000, maxAgeMs: 86_400_000 });
      // goal 2 completed inside the grace period; goals 3 and 4 never started
      expect(runs.get(runIds[1]!)?.state).toBe('completed');
      for (const runId of runIds.slice(2)) {
        const rec = runs.get(runId)!;
        expect(rec.state, runId).toBe('queued');
        expect(rec.started_at, runId).toBeUndefined();
        const types = audit.query({ runId, limit: 100 }).map((s) => (s.event as { type: string }).type);
        expect(types, runId).toEqual(['RunSubmitted']);
      }
    } finally {
      await store.close();
    }
  }, 180_000);

  it('SIGHUP drains and stops like SIGTERM: exit 0, socket removed, never death by signal', async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir });
    const socket = daemon.socket;
    daemon.child.kill('SIGHUP');
    expect(await daemon.exited).toBe(0);
    expect(daemon.child.signalCode).toBeNull();
    expect(daemon.stderr()).toContain('SIGHUP received');
    expect(existsSync(socket)).toBe(false);
    daemon = undefined;
  });

  it('a second SIGTERM forces a fast, clean stop: the stalled tool call is cancelled, streams get their end frames, the socket is removed', async () => {
    dir = tempDataDir();
    const slow = await slowServer([600_000]);
    server = slow.server;
    const bootstrap = fetchingBootstrap(dir, slow.url);
    daemon = await startDaemon({
      dataDir: dir,
      bootstrap,
      env: { AAOS_SHUTDOWN_GRACE_MS: '600000', AAOS_PARK_IDLE_MS: '0' },
    });
    const socket = daemon.socket;
    const client = await RawClient.open(daemon.socket);
    const submit = client.send('agent.submit_streaming', { goal: 'fetch forever' });
    const runId = (await client.response<{ result: { run_id: string } }>(submit)).result.run_id;
    await waitUntil(() => events(client).some((e) => e.type === 'ToolInvoked'), 'the fetch to be in flight');

    daemon.child.kill('SIGTERM');
    await waitUntil(() => daemon!.stderr().includes('waiting up to 600000 ms'), 'the drain to wait for the tool call');
    // still draining: the grace period is long, the first signal alone would wait
    expect(daemon.child.exitCode).toBeNull();
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(daemon.child.signalCode).toBeNull();
    expect(daemon.stderr()).toContain('forcing a fast stop');
    expect(existsSync(socket)).toBe(false);
    const { end } = await streamToEnd(client, submit);
    expect(end['run_id']).toBe(runId);
    client.close();
    daemon = undefined;

    // the run is left to resume on the next start, not lost
    const store = openStore(dir);
    try {
      expect(['running', 'queued']).toContain(new RunStore(store).get(runId)?.state);
    } finally {
      await store.close();
    }
  }, 180_000);
});
