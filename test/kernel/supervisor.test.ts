import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode } from '../../src/errors/index.js';
import { defineTool } from '../../src/tools/tool.js';
import { COMMAND_AGENT, commandManifest, testSupervisor, waitFor } from '../support/kernel.js';

const INIT_THROWS_AGENT = fileURLToPath(new URL('../fixtures/agents/init-throws-agent.mjs', import.meta.url));

const readProbe = defineTool({
  name: 'read_probe',
  description: 'asks for file_read on a path (level-2 check only)',
  input: z.object({ path: z.string() }),
  run: async (input, ctx) => {
    ctx.authorize({ kind: 'file_read', path: input.path });
    return { allowed: input.path };
  },
});

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

function setup(opts: Parameters<typeof testSupervisor>[0] = {}) {
  const t = testSupervisor({ tools: [readProbe], ...opts });
  closers.push(t.close);
  return t;
}

describe('supervisor with real workers', () => {
  it('spawns an agent in its own worker with an empty environment', async () => {
    const { sup } = setup();
    const info = await sup.spawn(commandManifest('alpha'), { module: COMMAND_AGENT });
    expect(info.state).toBe('running');
    const out = await sup.run(info.id, 'whoami');
    expect(JSON.parse(out.response)).toEqual({ id: info.id, name: 'alpha', env: 0 });
    expect(sup.record(info.id)!.actor.threadId).toBeGreaterThan(0);
    // the control channel (comlink) answers too
    const inspected = await sup.inspect(info.id);
    expect(inspected.worker).toMatchObject({ env_vars: 0, active_deliveries: 0, nice: 0 });
    expect(inspected.worker!.heap_used_mb).toBeGreaterThan(0);
    const types = sup.audit.recent().map((e) => e.type);
    expect(types).toContain('AgentSpawned');
    expect(types).toContain('AgentExecutionCompleted');
  });

  it('runs agent threads at a lower scheduling priority than the supervisor when asked (Linux)', async () => {
    const { sup } = setup({ workerNice: 7 });
    const info = await sup.spawn(commandManifest('polite'), { module: COMMAND_AGENT });
    const inspected = await sup.inspect(info.id);
    expect(inspected.worker?.nice).toBe(process.platform === 'linux' ? 7 : 0);
    const { getPriority } = await import('node:os');
    expect(getPriority(0)).toBe(0); // the supervisor's own thread is untouched
  });

  it('a crashing worker fails only its own agent and rejects its pending run', async () => {
    const { sup } = setup();
    const bad = await sup.spawn(commandManifest('crasher'), { module: COMMAND_AGENT });
    const good = await sup.spawn(commandManifest('steady'), { module: COMMAND_AGENT });
    const crashed = await sup.run(bad.id, 'crash');
    expect(crashed.stop_reason).toBe('error');
    expect(crashed.error?.code).toBe(ErrorCode.AGENT_FAILED);
    expect(crashed.error?.message).toMatch(/deliberate crash/);
    expect(sup.status(bad.id).state).toBe('failed');
    expect((await sup.run(good.id, 'echo still here')).response).toBe('still here');
    const failed = sup.audit.recent((e) => e.type === 'AgentFailed');
    expect(failed).toHaveLength(1);
    // its tokens are gone with it
    expect(sup.tokens(bad.id)).toEqual([]);
  });

  it('a module whose init throws fails its agent on the first delivery (init travels with it), not its siblings', async () => {
    const { sup } = setup();
    const broken = await sup.spawn(commandManifest('no-init'), { module: INIT_THROWS_AGENT });
    const good = await sup.spawn(commandManifest('steady'), { module: COMMAND_AGENT });
    const out = await sup.run(broken.id, 'echo never');
    expect(out.stop_reason).toBe('error');
    expect(out.response).toBe('');
    expect(out.error?.code).toBe(ErrorCode.AGENT_FAILED);
    expect(out.error?.message).toMatch(/init threw: deliberate init failure for no-init/);
    expect(sup.status(broken.id).state).toBe('failed');
    expect(sup.tokens(broken.id)).toEqual([]);
    await expect(sup.run(broken.id, 'echo again')).rejects.toMatchObject({ code: ErrorCode.AGENT_NOT_FOUND });
    expect((await sup.run(good.id, 'echo still here')).response).toBe('still here');
    expect(sup.audit.recent((e) => e.type === 'AgentFailed' && e.agent_id === broken.id)).toHaveLength(1);
  });

  it('an out-of-heap worker fails only its own agent', async () => {
    const { sup } = setup();
    const hog = await sup.spawn(commandManifest('hog', [], 'limits:\n  max_heap_mb: 16\n'), { module: COMMAND_AGENT });
    const good = await sup.spawn(commandManifest('steady'), { module: COMMAND_AGENT });
    const out = await sup.run(hog.id, 'oom');
    expect(out.stop_reason).toBe('error');
    expect(out.error?.code).toBe(ErrorCode.AGENT_FAILED);
    expect(out.error?.message).toMatch(/heap|memory|exited/i);
    expect(sup.status(hog.id).state).toBe('failed');
    expect((await sup.run(good.id, 'echo alive')).response).toBe('alive');
  });

  it('a worker that exits fails its agent with the exit code', async () => {
    const { sup } = setup();
    const a = await sup.spawn(commandManifest('quitter'), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, 'exit');
    expect(out.error?.code).toBe(ErrorCode.AGENT_FAILED);
    expect(out.error?.message).toMatch(/code 7/);
  });

  it('a request to a dead or unknown agent is rejected', async () => {
    const { sup } = setup();
    const a = await sup.spawn(commandManifest('shortlived'), { module: COMMAND_AGENT });
    await sup.stop(a.id);
    await expect(sup.run(a.id, 'echo hi')).rejects.toMatchObject({ code: ErrorCode.AGENT_NOT_FOUND });
    expect(sup.status(a.id).state).toBe('stopped');
    await expect(sup.run('no-such-agent', 'echo hi')).rejects.toMatchObject({ code: ErrorCode.AGENT_NOT_FOUND });
  });

  it('stopping an agent rejects its queued and running work', async () => {
    const { sup } = setup();
    const a = await sup.spawn(commandManifest('busy'), { module: COMMAND_AGENT });
    const running = sup.run(a.id, 'hang');
    const queued = sup.run(a.id, 'echo later');
    await new Promise((r) => setTimeout(r, 20));
    await sup.stop(a.id, 'test');
    const [r1, r2] = await Promise.all([running, queued]);
    expect(r1.error?.code).toBe(ErrorCode.AGENT_STOPPED);
    expect(r2.error?.code).toBe(ErrorCode.AGENT_STOPPED);
    const revoked = sup.audit.recent((e) => e.type === 'AgentStopped');
    expect(revoked).toHaveLength(1);
  });

  it('holds the live-agent limit under concurrent spawns', async () => {
    const { sup } = setup({ maxAgents: 4 });
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => sup.spawn(commandManifest(`a${i}`), { module: COMMAND_AGENT })),
    );
    const ok = attempts.filter((a) => a.status === 'fulfilled');
    const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(ok).toHaveLength(4);
    expect(refused).toHaveLength(6);
    for (const r of refused) expect(r.reason).toMatchObject({ code: ErrorCode.AGENT_LIMIT });
    expect(sup.list()).toHaveLength(4);
  });

  it('holds the spawn depth limit', async () => {
    const { sup } = setup({ maxDepth: 2 });
    const root = await sup.spawn(commandManifest('root', ['spawn_child: [*]', 'tool: *']), { module: COMMAND_AGENT });
    const d1 = await sup.spawn(commandManifest('d1', ['spawn_child: [*]']), {
      module: COMMAND_AGENT,
      parentId: root.id,
    });
    const d2 = await sup.spawn(commandManifest('d2', ['spawn_child: [*]']), { module: COMMAND_AGENT, parentId: d1.id });
    expect(d2.depth).toBe(2);
    await expect(sup.spawn(commandManifest('d3'), { module: COMMAND_AGENT, parentId: d2.id })).rejects.toMatchObject({
      code: ErrorCode.SPAWN_DEPTH,
    });
  });

  it('narrows capabilities across workers: a child never gets more than its parent', async () => {
    const { sup } = setup();
    const parent = await sup.spawn(commandManifest('parent', ['file_read: /data/*', 'tool: read_probe']), {
      module: COMMAND_AGENT,
    });
    await expect(
      sup.spawn(commandManifest('greedy', ['file_read: /etc/*', 'tool: read_probe']), {
        module: COMMAND_AGENT,
        parentId: parent.id,
      }),
    ).rejects.toMatchObject({ code: ErrorCode.CAPABILITY_NOT_DELEGABLE });
    const child = await sup.spawn(commandManifest('child', ['file_read: /data/reports/*', 'tool: read_probe']), {
      module: COMMAND_AGENT,
      parentId: parent.id,
    });
    const inside = await sup.run(child.id, 'tool read_probe {"path":"/data/reports/q3.txt"}');
    expect(JSON.parse(inside.response)).toEqual({ allowed: '/data/reports/q3.txt' });
    const outside = await sup.run(child.id, 'tool read_probe {"path":"/data/secrets.txt"}');
    expect(outside.response).toMatch(/^AAOS_ERR_CAPABILITY_DENIED/);
    const parentWide = await sup.run(parent.id, 'tool read_probe {"path":"/data/secrets.txt"}');
    expect(JSON.parse(parentWide.response)).toEqual({ allowed: '/data/secrets.txt' });
  });

  it('stopping a parent stops its children', async () => {
    const { sup } = setup();
    const parent = await sup.spawn(commandManifest('p', ['spawn_child: [*]']), { module: COMMAND_AGENT });
    const child = await sup.spawn(commandManifest('c'), { module: COMMAND_AGENT, parentId: parent.id });
    await sup.stop(parent.id);
    expect(sup.status(child.id).state).toBe('stopped');
    expect(sup.list()).toEqual([]);
  });

  it('pause holds the mailbox and resume drains it in order', async () => {
    const { sup } = setup();
    const a = await sup.spawn(commandManifest('pausable'), { module: COMMAND_AGENT });
    sup.pause(a.id);
    const order: string[] = [];
    const p1 = sup.run(a.id, 'echo one').then((r) => order.push(r.response));
    const p2 = sup.run(a.id, 'echo two').then((r) => order.push(r.response));
    await new Promise((r) => setTimeout(r, 30));
    expect(order).toEqual([]);
    expect(sup.status(a.id).queued).toBe(2);
    sup.resume(a.id);
    await Promise.all([p1, p2]);
    expect(order).toEqual(['one', 'two']);
  });

  it('parks an idle persistent agent and re-activates it on its next message', async () => {
    const { sup } = setup({ parkIdleMs: 30 });
    const a = await sup.spawn(commandManifest('sleeper', [], 'lifecycle: persistent\n'), { module: COMMAND_AGENT });
    const first = await sup.run(a.id, 'whoami');
    await waitFor(() => sup.status(a.id).state === 'parked', 5000, 'parking');
    expect(sup.record(a.id)!.actor.threadId).toBeUndefined();
    const second = await sup.run(a.id, 'whoami');
    expect(JSON.parse(second.response).id).toBe(a.id);
    expect(JSON.parse(first.response).id).toBe(a.id);
    const types = sup.audit.recent((e) => e.agent_id === a.id).map((e) => e.type);
    expect(types).toContain('AgentParked');
    expect(types).toContain('AgentReactivated');
  });

  it('registers a persistent agent parked: no worker until its first message; a stopped one never starts one; an on-demand one is refused', async () => {
    const { sup } = setup();
    const yaml = commandManifest('dormant', ['tool: read_probe'], 'lifecycle: persistent\n');
    const a = await sup.spawn(yaml, { module: COMMAND_AGENT, parked: true });
    const b = await sup.spawn(yaml, { module: COMMAND_AGENT, parked: true });
    expect([sup.status(a.id).state, sup.status(b.id).state]).toEqual(['parked', 'parked']);
    expect(sup.record(a.id)!.actor.threadId).toBeUndefined();
    // its tokens exist while it is parked, and the first message starts its worker
    expect(sup.tokens(a.id).map((t) => t.capability)).toHaveLength(1);
    const out = await sup.run(a.id, 'whoami');
    expect(JSON.parse(out.response).id).toBe(a.id);
    expect(sup.record(a.id)!.actor.threadId).toBeDefined();
    expect(sup.audit.recent((e) => e.agent_id === a.id).map((e) => e.type)).toContain('AgentReactivated');
    // stopped while parked: gone, tokens revoked, never a worker
    await sup.stop(b.id, 'not needed');
    expect(sup.status(b.id).state).toBe('stopped');
    expect(sup.audit.recent((e) => e.agent_id === b.id && e.type === 'AgentReactivated')).toEqual([]);
    expect(sup.audit.recent((e) => e.agent_id === b.id && e.type === 'CapabilityRevoked')).toHaveLength(1);
    await expect(
      sup.spawn(commandManifest('transient'), { module: COMMAND_AGENT, parked: true }),
    ).rejects.toMatchObject({
      code: ErrorCode.MANIFEST_INVALID,
      message: expect.stringContaining('only a persistent agent can be registered parked (its lifecycle is on-demand)'),
    });
    expect(sup.list().map((i) => i.name)).not.toContain('transient');
  });

  it('an unknown tool and an unheld tool are denied', async () => {
    const { sup } = setup();
    const a = await sup.spawn(commandManifest('tooler', ['tool: *']), { module: COMMAND_AGENT });
    const unknown = await sup.run(a.id, 'tool no_such_tool {}');
    expect(unknown.response).toMatch(/^AAOS_ERR_TOOL_NOT_FOUND/);
    const b = await sup.spawn(commandManifest('toolless'), { module: COMMAND_AGENT });
    const denied = await sup.run(b.id, 'tool read_probe {"path":"/x"}');
    expect(denied.response).toMatch(/^AAOS_ERR_CAPABILITY_DENIED/);
  });
});

describe('router between workers', () => {
  it('routes a request when the sender holds message_send for the recipient', async () => {
    const { sup } = setup();
    const b = await sup.spawn(commandManifest('bob'), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('alice', ['message_send: [bob]']), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, `ask ${b.id} echo hello bob`);
    expect(out.response).toBe('hello bob');
    const types = sup.audit.recent().map((e) => e.type);
    expect(types).toContain('MessageSent');
    expect(types).toContain('MessageDelivered');
    expect(sup.pendingRequests).toBe(0);
  });

  it('moves binary attachments with an envelope by transfer (the sender loses them, nothing is copied)', async () => {
    const { sup } = setup();
    const b = await sup.spawn(commandManifest('counter'), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('sender', ['message_send: [counter]']), { module: COMMAND_AGENT });
    const size = 4 * 1024 * 1024;
    const out = await sup.run(a.id, `askbin ${b.id} ${size}`);
    let expected = 0;
    for (let i = 0; i < size; i++) expected += i % 251;
    expect(JSON.parse(out.response)).toEqual({ detached: true, reply: { count: 1, bytes: size, sum: expected } });
  });

  it('denies messaging without message_send and names the recipient', async () => {
    const { sup } = setup();
    const b = await sup.spawn(commandManifest('bob'), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('mallory'), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, `ask ${b.id} echo hi`);
    expect(out.response).toMatch(/^AAOS_ERR_CAPABILITY_DENIED/);
    expect(out.response).toMatch(/bob/);
  });

  it('a request to an agent that hangs times out and leaves no pending entry', async () => {
    const { sup } = setup();
    const b = await sup.spawn(commandManifest('slow'), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('asker', ['message_send: *']), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, `ask ${b.id} hang`);
    expect(out.response).toMatch(/^AAOS_ERR_MESSAGE_TIMEOUT/);
    expect(sup.pendingRequests).toBe(0);
  });

  it('a request to an agent that fails is rejected with the failure', async () => {
    const { sup } = setup();
    const b = await sup.spawn(commandManifest('fragile'), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('asker', ['message_send: *']), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, `ask ${b.id} crash`);
    expect(out.response).toMatch(/^AAOS_ERR_AGENT_FAILED/);
    expect(sup.pendingRequests).toBe(0);
  });

  it('refuses an envelope whose sender is not the sending agent', async () => {
    const { sup } = setup();
    const victim = await sup.spawn(commandManifest('victim'), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('forger', ['message_send: *']), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, `forge ${victim.id}`);
    expect(out.response).toMatch(/^AAOS_ERR_MESSAGE_INVALID/);
  });
});
