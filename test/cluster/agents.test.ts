import { readFileSync, writeFileSync } from 'node:fs';
import { createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from '../daemon/daemon-process.js';
import { TestCluster, until } from './cluster-nodes.js';

// Agents across nodes: three agentd processes with one cluster key on one nats-server -js.
// Each node's bootstrap agent fans out to six `worker` children; every worker calls echo,
// then asks the `collector` agent (a persistent agent on n3) over a routed envelope.

const KEY = 'test-cluster-key-0123456789abcdef';
const CHILDREN = 6;
const IDS = ['n1', 'n2', 'n3'];

interface AuditLine {
  type: string;
  agent_id: string;
  agent_name: string;
  run_id?: string;
  trace_id?: string;
  manifest_name?: string;
  parent_id?: string;
  code?: string;
  token_id?: string;
}

let cluster: TestCluster;
let dir: string;
let workerYaml: string;
let slowYaml: string;
let nc: NatsConnection;
const captured: Array<{ subject: string; data: Uint8Array }> = [];

const auditOf = (node: string): AuditLine[] =>
  readFileSync(join(dir, `audit-${node}.ndjson`), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AuditLine);

beforeAll(async () => {
  dir = tempDataDir();
  const w = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const child = w(
    'child.yaml',
    [
      'turns:',
      '  - tool_calls: [{name: echo, input: {message: "{message} step 1"}}]',
      '  - tool_calls: [{name: ask_agent, input: {to: collector, message: "from {message}"}}]',
      '  - text: "done {message}"',
      'latency_ms: 100',
      'cursor: per_agent',
    ].join('\n'),
  );
  workerYaml = [
    'name: worker',
    `model: scripted:${child}`,
    'capabilities:',
    '  - "tool: echo"',
    '  - "tool: ask_agent"',
    '  - "message_send: [collector]"',
  ].join('\n');
  const slow = w(
    'slow.yaml',
    [
      'turns:',
      '  - tool_calls: [{name: echo, input: {message: "late"}}]',
      '  - text: "slow done: {last_tool_result}"',
      'latency_ms: 4000',
      'cursor: per_agent',
    ].join('\n'),
  );
  slowYaml = [
    'name: slowpoke',
    `model: scripted:${slow}`,
    'metadata: {placement: n2}',
    'capabilities:',
    '  - "tool: echo"',
  ].join('\n');
  const children = Array.from({ length: CHILDREN }, (_, i) => ({ manifest: workerYaml, message: `task ${i}` }));
  const root = w(
    'root.yaml',
    JSON.stringify({
      turns: [
        { tool_calls: [{ name: 'spawn_agents', input: { children } }] },
        { text: 'collected {last_tool_result:count} child answers, {last_tool_result:failed} failed' },
      ],
      cursor: 'per_run',
    }),
  );
  w('collector.yaml', 'turns: [{text: "noted"}]\nwhen_exhausted: restart\n');
  const bootstrap = w(
    'bootstrap.yaml',
    [
      'name: bootstrap',
      `model: scripted:${root}`,
      'lifecycle: persistent',
      'capabilities:',
      '  - "tool: spawn_agents"',
      '  - "tool: spawn_agent"',
      '  - "tool: echo"',
      '  - "tool: ask_agent"',
      '  - "message_send: [collector]"',
      '  - "spawn_child: [worker, slowpoke]"',
      `  - "file_read: ${dir}/*"`,
    ].join('\n'),
  );
  cluster = await TestCluster.start(
    [],
    {
      AAOS_CLUSTER_KEY: KEY,
      AAOS_CLUSTER_HEARTBEAT_MS: '500',
      AAOS_MAX_CONCURRENT_GOALS: '1',
      AAOS_SPAWN_RETRIES: '0',
    },
    { bootstrap },
  );
  await Promise.all(
    IDS.map((id) => cluster.startNode(id, undefined, { AAOS_AUDIT_FILE: join(dir, `audit-${id}.ndjson`) })),
  );
  nc = await connect({ servers: cluster.nats.url });
  nc.subscribe('aaos.node.*.spawn', {
    callback: (_err, msg: Msg) => {
      captured.push({ subject: msg.subject, data: msg.data });
    },
  });
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await cluster?.stop();
  if (dir) removeDir(dir);
}, 60_000);

describe('agents across cluster nodes', () => {
  it('a fan-out places its children on more than one node; their messages cross nodes; one trace and run id throughout', async () => {
    const collector = await cluster.node('n3').call<{ agent_id: string }>('agent.spawn', {
      manifest: ['name: collector', `model: scripted:${join(dir, 'collector.yaml')}`, 'lifecycle: persistent'].join(
        '\n',
      ),
    });
    // every node sees all three nodes (taking remote agents) and the collector
    for (const id of IDS) {
      await until(`${id} to see the cluster`, async () => {
        const s = await cluster
          .node(id)
          .call<{ nodes: Array<{ remote_agents: boolean }>; agents: Array<{ id: string }> }>('cluster.status');
        return s.nodes.filter((n) => n.remote_agents).length === 3 && s.agents.some((a) => a.id === collector.agent_id)
          ? true
          : undefined;
      });
    }
    const { run_id } = await cluster.node('n1').call<{ run_id: string }>('agent.submit_streaming', { goal: 'fan out' });
    const final = await until(
      'the goal to end',
      async () => {
        const r = await cluster
          .node('n1')
          .call<{ state: string; result?: string; node_id?: string }>('run.status', { run_id });
        return ['completed', 'failed', 'cancelled', 'interrupted'].includes(r.state) ? r : undefined;
      },
      90_000,
    );
    expect(final.state).toBe('completed');
    expect(final.result).toBe(`collected ${CHILDREN} child answers, 0 failed`);

    const events = new Map(IDS.map((id) => [id, auditOf(id)]));
    const rootNode = final.node_id!;
    const rootStart = events
      .get(rootNode)!
      .find((e) => e.type === 'AgentExecutionStarted' && e.run_id === run_id && e.agent_name === 'bootstrap')!;
    const trace = rootStart.trace_id!;
    expect(trace).toBeTruthy();
    const spawnedOn = new Map<string, number>();
    for (const [id, evs] of events) {
      const workers = evs.filter(
        (e) => e.type === 'AgentSpawned' && e.manifest_name === 'worker' && e.run_id === run_id,
      );
      for (const wkr of workers) {
        // the child's spawn continues the goal's trace and carries its run id and parent, on whichever node
        expect(wkr.trace_id).toBe(trace);
        expect(wkr.parent_id).toBe(rootStart.agent_id);
      }
      if (workers.length > 0) spawnedOn.set(id, workers.length);
    }
    expect([...spawnedOn.values()].reduce((a, b) => a + b, 0)).toBe(CHILDREN);
    expect(spawnedOn.size).toBeGreaterThan(1);
    // every worker asked the collector on n3; workers elsewhere did so across nodes
    const asked = events
      .get('n3')!
      .filter((e) => e.type === 'AgentExecutionStarted' && e.agent_id === collector.agent_id && e.run_id === run_id);
    expect(asked).toHaveLength(CHILDREN);
    for (const e of asked) expect(e.trace_id).toBe(trace);
    expect([...spawnedOn.keys()].some((id) => id !== 'n3')).toBe(true);
    // workers ran their echo with the narrowed token on their own node: no denials anywhere
    for (const evs of events.values())
      expect(evs.filter((e) => e.type === 'CapabilityDenied' && e.run_id === run_id)).toEqual([]);
    expect(captured.length).toBeGreaterThan(0);
  }, 120_000);

  it('a spawn message that is replayed, altered (widened grant) or signed with another key is refused; nothing is spawned', async () => {
    const genuine = captured[0]!;
    const node = genuine.subject.split('.')[2]!;
    const before = auditOf(node).filter((e) => e.type === 'AgentSpawned').length;
    const ask = async (
      subject: string,
      data: string | Uint8Array,
    ): Promise<{ ok: boolean; error?: { code: string; message: string } }> => {
      const reply = await nc.request(subject, data, { timeout: 10_000 });
      return JSON.parse((reply.json() as { body: string }).body) as {
        ok: boolean;
        error?: { code: string; message: string };
      };
    };
    // replayed as it was
    const replay = await ask(genuine.subject, genuine.data);
    expect(replay.ok).toBe(false);
    expect(replay.error).toMatchObject({ code: 'AAOS_ERR_CLUSTER_MESSAGE_REFUSED' });
    expect(replay.error!.message).toMatch(/replay|ago/);
    // widened: a grant the parent never had, with a fresh id and time, the old signature kept
    const wire = JSON.parse(new TextDecoder().decode(genuine.data)) as { body: string; mac: string };
    const body = JSON.parse(wire.body) as {
      id: string;
      at: number;
      spawn: { child: { id: string }; tokens: Array<Record<string, unknown>> };
    };
    body.id = randomUUID();
    body.at = Date.now();
    body.spawn.child.id = randomUUID();
    body.spawn.tokens = [
      {
        id: 'cap_forged',
        owner: body.spawn.child.id,
        capability: { kind: 'file_write', glob: '/**' },
        constraints: {},
        issued_at: Date.now(),
        invocation_count: 0,
      },
    ];
    const widened = await ask(genuine.subject, JSON.stringify({ body: JSON.stringify(body), mac: wire.mac }));
    expect(widened.error).toMatchObject({ code: 'AAOS_ERR_CLUSTER_MESSAGE_REFUSED' });
    expect(widened.error!.message).toMatch(/signature/);
    // the same, signed with a key that is not the cluster's
    const text = JSON.stringify(body);
    const mac = createHmac('sha256', 'not-the-cluster-key')
      .update(genuine.subject)
      .update('\n')
      .update(text)
      .digest('hex');
    const forged = await ask(genuine.subject, JSON.stringify({ body: text, mac }));
    expect(forged.error!.message).toMatch(/signature/);
    // unsigned garbage
    expect((await ask(genuine.subject, 'not json')).error).toMatchObject({ code: 'AAOS_ERR_CLUSTER_MESSAGE_REFUSED' });
    await new Promise((r) => setTimeout(r, 500));
    expect(auditOf(node).filter((e) => e.type === 'AgentSpawned').length).toBe(before);
    const live = await cluster.node(node).call<{ agents: Array<{ id: string }> }>('agent.list');
    expect(live.agents.some((a) => a.id === body.spawn.child.id)).toBe(false);
  }, 60_000);

  it("revoking the parent's token on its node reaches the child's narrowed copy on another node at once", async () => {
    // a parent on n1 whose child is pinned to n2 and makes its echo call 4 s after it starts
    const parent = await cluster.node('n1').call<{ agent_id: string }>('agent.spawn', {
      manifest: [
        'name: parent',
        `model: scripted:${join(dir, 'collector.yaml')}`,
        'capabilities:',
        '  - "tool: echo"',
        '  - "tool: spawn_agent"',
        '  - "spawn_child: [slowpoke]"',
        `  - "file_read: ${dir}/*"`,
      ].join('\n'),
    });
    const running = cluster.node('n1').call<{ result: { response: string; error: string | null } }>('tool.invoke', {
      agent_id: parent.agent_id,
      tool: 'spawn_agent',
      input: { manifest: slowYaml, message: 'go' },
    });
    const child = await until('the child to start on n2', async () =>
      auditOf('n2').find((e) => e.type === 'AgentSpawned' && e.manifest_name === 'slowpoke'),
    );
    const echo = (
      await cluster
        .node('n1')
        .call<{ tokens: Array<{ id: string; capability: { kind: string; name?: string } }> }>('capability.list', {
          agent_id: parent.agent_id,
        })
    ).tokens.find((t) => t.capability.kind === 'tool' && t.capability.name === 'echo')!;
    await cluster.node('n1').call('capability.revoke', { agent_id: parent.agent_id, token_id: echo.id });
    const out = await running;
    expect(out.result.response).toMatch(/slow done: .*AAOS_ERR_CAPABILITY_REVOKED/);
    const denied = auditOf('n2').filter((e) => e.type === 'CapabilityDenied' && e.agent_id === child.agent_id);
    expect(denied.map((e) => e.code)).toEqual(['AAOS_ERR_CAPABILITY_REVOKED']);
  }, 60_000);

  it('a child that would share a max_invocations pool stays on its parent node, even when pinned elsewhere', async () => {
    // the pool is charged in the parent node's table only: across nodes it could be overdrawn
    const parent = await cluster.node('n1').call<{ agent_id: string }>('agent.spawn', {
      manifest: [
        'name: counted',
        `model: scripted:${join(dir, 'collector.yaml')}`,
        'capabilities:',
        '  - capability: "tool: echo"',
        '    max_invocations: 5',
        '  - "tool: spawn_agent"',
        '  - "spawn_child: [slowpoke]"',
        `  - "file_read: ${dir}/*"`,
      ].join('\n'),
    });
    const slowBefore = IDS.map(
      (id) => auditOf(id).filter((e) => e.type === 'AgentSpawned' && e.manifest_name === 'slowpoke').length,
    );
    const out = await cluster.node('n1').call<{ result: { response: string; error: string | null } }>('tool.invoke', {
      agent_id: parent.agent_id,
      tool: 'spawn_agent',
      input: { manifest: slowYaml, message: 'go' },
    });
    expect(out.result.response).toMatch(/slow done: .*late/);
    const slowAfter = IDS.map(
      (id) => auditOf(id).filter((e) => e.type === 'AgentSpawned' && e.manifest_name === 'slowpoke').length,
    );
    // spawned on n1 (the parent's node) and nowhere else, although the manifest pins n2
    expect(slowAfter.map((n, i) => n - slowBefore[i]!)).toEqual([1, 0, 0]);
    // its echo was charged to the parent's pool: 1 of 5 used
    const echo = (
      await cluster
        .node('n1')
        .call<{ tokens: Array<{ capability: { kind: string; name?: string }; invocation_count: number }> }>(
          'capability.list',
          { agent_id: parent.agent_id },
        )
    ).tokens.find((t) => t.capability.kind === 'tool' && t.capability.name === 'echo')!;
    expect(echo.invocation_count).toBe(1);
  }, 60_000);
});
