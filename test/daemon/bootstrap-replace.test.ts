import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import {
  AGENTD,
  RawClient,
  removeDir,
  startDaemon,
  streamToEnd,
  tempDataDir,
  type DaemonProcess,
} from './daemon-process.js';

/**
 * A changed --bootstrap replaces the stored bootstrap agent on restart (the old one stopped,
 * its state kept under its id); an unchanged one, however respelled, keeps its id; a kill -9
 * in the middle of a replacement converges to exactly one bootstrap. Against the built daemon.
 */

interface Listed {
  id: string;
  name: string;
  state: string;
  model: string;
  failure?: string;
}

let dataDir: string;
let manifests: string;

/** A bootstrap manifest named `lead` whose scripted model says which version answered. */
function manifest(file: string, version: string, opts: { tools?: string[]; comment?: string } = {}): string {
  const script = join(manifests, `script-${version}.yaml`);
  writeFileSync(
    script,
    [
      'cursor: per_run',
      'turns:',
      `  - tool_calls: [{ name: memory_store, input: { content: "goal handled by version ${version}", category: fact } }]`,
      `  - text: "answered by version ${version}"`,
    ].join('\n'),
  );
  const tools = opts.tools ?? ['memory_store', 'memory_query'];
  const lines = [
    ...(opts.comment ? [`# ${opts.comment}`, ''] : []),
    'name: lead',
    `model: scripted:${script}`,
    'lifecycle: persistent',
    'system_prompt: You take every goal.',
    'capabilities:',
    ...tools.map((t) => `  - "tool: ${t}"`),
    'memory:',
    '  episodic_enabled: true',
  ];
  const path = join(manifests, file);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function withClient<T>(d: DaemonProcess, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.open(d.socket);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

const health = (d: DaemonProcess) =>
  withClient(d, (c) => c.call<{ status: string; bootstrap_agent_id: string | null }>('system.health'));
const agents = (d: DaemonProcess) =>
  withClient(d, async (c) => (await c.call<{ agents: Listed[] }>('agent.list')).agents);
async function submit(d: DaemonProcess, goal: string): Promise<Record<string, unknown>> {
  return withClient(d, async (c) => (await streamToEnd(c, c.send('agent.submit_streaming', { goal }))).end);
}
const started: DaemonProcess[] = [];
async function start(bootstrap: string): Promise<DaemonProcess> {
  const d = await startDaemon({ dataDir, bootstrap, env: { AAOS_PARK_IDLE_MS: '0' } });
  started.push(d);
  return d;
}

/** What the store says once no daemon runs: bootstrap records that are not stopped, and one agent's kept state. */
async function stored(
  agentId?: string,
): Promise<{ liveBootstraps: string[]; stopped: string[]; memories: number; history: number }> {
  const runtime = await Runtime.open({ dataDir, env: {} });
  try {
    const all = runtime.storedAgents();
    return {
      liveBootstraps: all.filter((r) => r.role === 'bootstrap' && r.state !== 'stopped').map((r) => r.id),
      stopped: all.filter((r) => r.state === 'stopped').map((r) => r.id),
      // memory counts are no daemon business: read through the test-only accessor
      memories: agentId ? runtime.internalsForTests().memory.count(agentId) : 0,
      history: agentId ? runtime.agentState(agentId).history.length : 0,
    };
  } finally {
    await runtime.close();
  }
}

describe('a changed bootstrap manifest on restart', { timeout: 240_000 }, () => {
  beforeAll(() => {
    dataDir = tempDataDir();
    manifests = join(dataDir, 'manifests');
    mkdirSync(manifests);
  });
  afterAll(async () => {
    // a failed assertion must not leave a daemon holding the data dir
    for (const d of started) await d.stop();
    removeDir(dataDir);
  });

  let idA = '';
  let idB = '';

  it('replaces the stored bootstrap: one live `lead`, the new one, the old one listed stopped with its state kept', async () => {
    const a = manifest('a.yaml', 'A', { tools: ['memory_store', 'memory_query', 'echo'] });
    let d = await start(a);
    idA = (await health(d)).bootstrap_agent_id!;
    expect(idA).toMatch(/^[0-9a-f-]{36}$/);
    const endA = await submit(d, 'first goal');
    expect(endA).toMatchObject({ status: 'completed', final_text: 'answered by version A' });
    expect(await d.stop()).toBe(0);

    // B: another file, another model script, fewer tools
    const b = manifest('b.yaml', 'B');
    d = await start(b);
    expect(d.stderr()).toContain(`the previous bootstrap agent ${idA} is stopped`);
    idB = (await health(d)).bootstrap_agent_id!;
    expect(idB).not.toBe(idA);
    const listed = await agents(d);
    const leads = listed.filter((x) => x.name === 'lead');
    expect(leads.filter((x) => x.state !== 'stopped').map((x) => x.id)).toEqual([idB]);
    expect(leads.find((x) => x.id === idA)).toMatchObject({
      state: 'stopped',
      model: expect.stringContaining('script-A.yaml'),
    });
    expect(leads.find((x) => x.id === idA)?.failure).toContain(`replaced by bootstrap agent ${idB}`);
    // the old one is shown by id, and a name names the live one only
    const status = await withClient(d, (c) => c.call<Listed>('agent.status', { agent_id: idA }));
    expect(status.state).toBe('stopped');
    expect((await withClient(d, (c) => c.call<Listed>('agent.status', { agent_id: 'lead' }))).id).toBe(idB);

    const endB = await submit(d, 'second goal');
    expect(endB).toMatchObject({ status: 'completed', final_text: 'answered by version B' });
    expect(await d.stop()).toBe(0);

    // the old agent's history and episodic memory are still there, under its id
    const kept = await stored(idA);
    expect(kept.liveBootstraps).toEqual([idB]);
    expect(kept.stopped).toEqual([idA]);
    expect(kept.memories).toBe(1);
    expect(kept.history).toBeGreaterThan(0);
  });

  it('keeps the same bootstrap id when the manifest is only respelled (comments, blank lines)', async () => {
    const b = manifest('b.yaml', 'B', { comment: 'edited by an operator: nothing but this comment' });
    const d = await start(b);
    expect(d.stderr()).not.toContain('is stopped');
    expect((await health(d)).bootstrap_agent_id).toBe(idB);
    expect((await agents(d)).filter((x) => x.name === 'lead' && x.state !== 'stopped').map((x) => x.id)).toEqual([idB]);
    expect(await d.stop()).toBe(0);
    expect((await stored(idB)).memories).toBe(1);
  });

  it('converges to exactly one bootstrap after a kill -9 in the middle of a replacement', async () => {
    const c = manifest('c.yaml', 'C', { tools: ['memory_store'] });
    const runs = [c, manifest('b.yaml', 'B'), c];
    for (const [i, path] of runs.entries()) {
      const victim = await killedMidReplacement(path);
      expect(victim.signal, `start ${i}: ${victim.stderr}`).toBe('SIGKILL');
      const after = await stored();
      // the replacement was one transaction: exactly one bootstrap recorded, the new one
      expect(after.liveBootstraps, `after kill ${i}: ${JSON.stringify(after)}`).toHaveLength(1);
      const again = await start(path);
      const id = (await health(again)).bootstrap_agent_id;
      expect(id).toBe(after.liveBootstraps[0]);
      const live = (await agents(again)).filter((x) => x.name === 'lead' && x.state !== 'stopped');
      expect(live.map((x) => x.id)).toEqual([id]);
      expect(await submit(again, `goal after kill ${i}`)).toMatchObject({
        status: 'completed',
        final_text: `answered by version ${i === 1 ? 'B' : 'C'}`,
      });
      expect(await again.stop()).toBe(0);
      expect((await stored()).liveBootstraps).toEqual([id]);
    }
  });
});

/**
 * Starts agentd (--json: audit events on stdout) and SIGKILLs it at the AgentStopped event of
 * the retired bootstrap: after the replacement is recorded, while the new agent is starting.
 */
function killedMidReplacement(bootstrap: string): Promise<{ signal: string | null; stderr: string }> {
  const child = spawn(process.execPath, [AGENTD, 'run', '--json', '--data-dir', dataDir, '--bootstrap', bootstrap], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AAOS_PARK_IDLE_MS: '0' },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('"type":"AgentStopped"')) child.kill('SIGKILL');
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolveExit) => child.on('exit', (_code, signal) => resolveExit({ signal, stderr: err })));
}
