import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from '../daemon/daemon-process.js';
import { TestCluster, until } from './cluster-nodes.js';

// Revocations and agent stops reach every node: three agentd processes on one nats-server -js.

interface Status {
  nodes: Array<{ node_id: string }>;
  agents: Array<{ id: string; name: string; node_id: string; alive: boolean; bootstrap?: boolean }>;
}
interface Token {
  id: string;
  capability: { kind: string; name?: string };
  revoked_at?: number;
}

let cluster: TestCluster;
let scriptDir: string;

const manifest = (name: string, lifecycle: 'on-demand' | 'persistent' = 'on-demand'): string =>
  [
    `name: ${name}`,
    'model: scripted:unused.yaml',
    `lifecycle: ${lifecycle}`,
    'capabilities:',
    '  - "tool: echo"',
    '  - "tool: file_read"',
  ].join('\n');

async function spawnOn(
  node: string,
  name: string,
  lifecycle: 'on-demand' | 'persistent' = 'on-demand',
): Promise<string> {
  const res = await cluster
    .node(node)
    .call<{ agent_id: string }>('agent.spawn', { manifest: manifest(name, lifecycle) });
  return res.agent_id;
}

/** The node every other node sees the agent on (heartbeats carry where agents live). */
async function seenOn(from: string, agentId: string, alive = true): Promise<string> {
  return until(`node ${from} to see agent ${agentId}`, async () => {
    const s = await cluster.node(from).call<Status>('cluster.status');
    return s.agents.find((a) => a.id === agentId && a.alive === alive)?.node_id;
  });
}

async function tokens(node: string, agentId: string): Promise<Token[]> {
  return (await cluster.node(node).call<{ tokens: Token[] }>('capability.list', { agent_id: agentId })).tokens;
}

beforeAll(async () => {
  scriptDir = tempDataDir();
  const script = join(scriptDir, 'idle.yaml');
  writeFileSync(script, 'turns: [{text: "ok"}]\nwhen_exhausted: restart\n');
  cluster = await TestCluster.start(['n1', 'n2', 'n3'], {
    AAOS_MODEL_OVERRIDE: `scripted:${script}`,
    AAOS_CLUSTER_HEARTBEAT_MS: '500',
    AAOS_RESUME_RUNS: '0',
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  if (scriptDir) removeDir(scriptDir);
}, 60_000);

describe('revocations and agent stops across cluster nodes', () => {
  it('a token revoked through node A is refused on node B, where its agent lives; a stop through A stops an agent on C', async () => {
    const holder = await spawnOn('n2', 'holder');
    expect(await seenOn('n1', holder)).toBe('n2');
    // without the cluster key, an operator request for an agent on another node is not forwarded: the error names its node
    await expect(cluster.node('n1').call('capability.list', { agent_id: holder })).rejects.toThrow(
      /lives on node n2, and this node has no AAOS_CLUSTER_KEY to forward capability.list there/,
    );
    const echo = (await tokens('n2', holder)).find(
      (t) => t.capability.kind === 'tool' && t.capability.name === 'echo',
    )!;
    // it works before
    await expect(
      cluster.node('n2').call('tool.invoke', { agent_id: holder, tool: 'echo', input: { message: 'before' } }),
    ).resolves.toBeDefined();

    const res = await cluster
      .node('n1')
      .call<{ revoked: number; node_id: string; applied: boolean }>('capability.revoke', {
        agent_id: holder,
        token_id: echo.id,
      });
    expect(res).toMatchObject({ revoked: 1, node_id: 'n2', applied: true });
    // refused where the agent lives, at once (applied before n1 answered)
    await expect(
      cluster.node('n2').call('tool.invoke', { agent_id: holder, tool: 'echo', input: { message: 'after' } }),
    ).rejects.toThrow(/AAOS_ERR_CAPABILITY_REVOKED/);
    // its other token is untouched
    await expect(
      cluster
        .node('n2')
        .call('tool.invoke', { agent_id: holder, tool: 'file_read', input: { path: join(scriptDir, 'idle.yaml') } }),
    ).rejects.toThrow(/AAOS_ERR_CAPABILITY_DENIED/);
    expect((await tokens('n2', holder)).filter((t) => t.revoked_at !== undefined).map((t) => t.id)).toEqual([echo.id]);

    // revoke all, by name, through the third node
    const all = await cluster
      .node('n3')
      .call<{ revoked: number; node_id: string }>('capability.revoke', { agent_id: 'holder', all: true });
    expect(all).toMatchObject({ revoked: 1, node_id: 'n2' });
    expect((await tokens('n2', holder)).every((t) => t.revoked_at !== undefined)).toBe(true);

    // a token id the agent does not hold revokes nothing anywhere
    const other = await spawnOn('n3', 'other');
    await seenOn('n1', other);
    const otherEcho = (await tokens('n3', other))[0]!;
    const wrong = await cluster
      .node('n1')
      .call<{ revoked: number }>('capability.revoke', { agent_id: holder, token_id: otherEcho.id });
    expect(wrong.revoked).toBe(0);
    await new Promise((r) => setTimeout(r, 1000)); // one heartbeat and more: every node has seen the record
    expect((await tokens('n3', other)).every((t) => t.revoked_at === undefined)).toBe(true);

    // a stop through n1 of an agent on n3
    const stopped = await cluster
      .node('n1')
      .call<{ node_id: string; applied: boolean }>('agent.stop', { agent_id: other });
    expect(stopped).toMatchObject({ node_id: 'n3', applied: true });
    const left = await cluster.node('n3').call<{ agents: Array<{ id: string }> }>('agent.list');
    expect(left.agents.some((a) => a.id === other)).toBe(false);
    await expect(
      cluster.node('n3').call('tool.invoke', { agent_id: other, tool: 'echo', input: { message: 'x' } }),
    ).rejects.toThrow(/AAOS_ERR_AGENT_NOT_FOUND/);
  }, 120_000);

  it("another node's bootstrap agent is protected; an unknown agent is named as unknown in the whole cluster", async () => {
    const s = await until('n2 bootstrap announced', async () => {
      const st = await cluster.node('n1').call<Status & { agents: Array<{ bootstrap?: boolean }> }>('cluster.status');
      return st.agents.find((a) => a.node_id === 'n2' && a.bootstrap) ? st : undefined;
    });
    const boot = s.agents.find((a) => a.node_id === 'n2' && a.bootstrap)!;
    await expect(cluster.node('n1').call('agent.stop', { agent_id: boot.id })).rejects.toThrow(
      /AAOS_ERR_BOOTSTRAP_PROTECTED/,
    );
    await expect(cluster.node('n1').call('agent.stop', { agent_id: 'no-such-agent' })).rejects.toThrow(
      /any node of the cluster.*AAOS_ERR_AGENT_NOT_FOUND/,
    );
    await expect(
      cluster.node('n1').call('capability.revoke', { agent_id: 'no-such-agent', all: true }),
    ).rejects.toThrow(/AAOS_ERR_AGENT_NOT_FOUND/);
  }, 60_000);

  it('a node that was down (kill -9) applies the stops and revocations recorded meanwhile when it joins again', async () => {
    const sleeper = await spawnOn('n3', 'sleeper', 'persistent');
    const revokedWhileDown = await spawnOn('n3', 'revoked-while-down', 'persistent');
    // recorded in the cluster's bucket of persistent agents (written at n3's next heartbeat)
    const nc = await connect({ servers: cluster.nats.url });
    try {
      const registry = await new Kvm(jetstream(nc)).open('aaos_agents');
      await until('both persistent agents to be recorded', async () =>
        (await registry.get(sleeper)) && (await registry.get(revokedWhileDown)) ? true : undefined,
      );
    } finally {
      await nc.close();
    }
    const dir = await cluster.kill('n3');
    // the persistent agents stay known, on a node that is down
    expect(await seenOn('n1', sleeper, false)).toBe('n3');
    const stop = await cluster
      .node('n1')
      .call<{ node_id: string; applied: boolean }>('agent.stop', { agent_id: sleeper });
    expect(stop).toMatchObject({ node_id: 'n3', applied: false });
    const rev = await cluster
      .node('n2')
      .call<{ applied: boolean }>('capability.revoke', { agent_id: revokedWhileDown, all: true });
    expect(rev.applied).toBe(false);
    // one token can't be named while its node is down (ids are issued anew at restart)
    await expect(
      cluster.node('n2').call('capability.revoke', { agent_id: revokedWhileDown, token_id: 'cap_x' }),
    ).rejects.toThrow(/which is down.*AAOS_ERR_CLUSTER_UNAVAILABLE/);

    await cluster.startNode('n3', dir);
    // restored from its own store, then stopped by the record: not live, not restored again
    await until('the stop to be applied on n3', async () => {
      const list = await cluster.node('n3').call<{ agents: Array<{ id: string }> }>('agent.list');
      return list.agents.some((a) => a.id === revokedWhileDown) && !list.agents.some((a) => a.id === sleeper)
        ? true
        : undefined;
    });
    await until('the revocation to be applied on n3', async () =>
      (await tokens('n3', revokedWhileDown)).every((t) => t.revoked_at !== undefined) ? true : undefined,
    );
    await expect(
      cluster.node('n3').call('tool.invoke', { agent_id: revokedWhileDown, tool: 'echo', input: { message: 'x' } }),
    ).rejects.toThrow(/AAOS_ERR_CAPABILITY_REVOKED/);
    await until("the stopped agent to leave the cluster's list", async () => {
      const s = await cluster.node('n1').call<Status>('cluster.status');
      return s.agents.some((a) => a.id === sleeper) ? undefined : true;
    });
  }, 120_000);

  it('a persistent agent whose node was killed (kill -9) is taken over on its next use, with its history and revocations', async () => {
    const keeper = await spawnOn('n2', 'keeper', 'persistent');
    const first = await cluster.node('n2').call<{ response: string; usage: { input_tokens: number } }>('agent.run', {
      agent_id: keeper,
      message: 'remember the apple, the pear and the plum',
    });
    expect(first.response).toBe('ok');
    const echo = (await tokens('n2', keeper)).find((t) => t.capability.name === 'echo')!;
    await seenOn('n1', keeper);
    await cluster.node('n1').call('capability.revoke', { agent_id: keeper, token_id: echo.id });
    // its state is copied to the cluster (history and token states) at n2's next heartbeats
    const nc = await connect({ servers: cluster.nats.url });
    try {
      const states = await new Kvm(jetstream(nc)).open('aaos_agent_state');
      await until('the state to be copied', async () => {
        const e = await states.get(keeper);
        const st =
          e?.operation === 'PUT' ? e.json<{ history: unknown[]; tokens: Array<{ revoked_at?: number }> }>() : undefined;
        return st && st.history.length >= 2 && st.tokens.some((t) => t.revoked_at !== undefined) ? true : undefined;
      });
    } finally {
      await nc.close();
    }
    const n2dir = await cluster.kill('n2');
    expect(await seenOn('n1', keeper, false)).toBe('n2');

    // a fresh agent answers the same message with no history: the baseline (its echo revoked too, so it is shown the same tools)
    const fresh = await spawnOn('n1', 'fresh', 'persistent');
    const freshEcho = (await tokens('n1', fresh)).find((t) => t.capability.name === 'echo')!;
    await cluster.node('n1').call('capability.revoke', { agent_id: fresh, token_id: freshEcho.id });
    const baseline = await cluster
      .node('n1')
      .call<{ usage: { input_tokens: number } }>('agent.run', { agent_id: fresh, message: 'hello again' });
    const again = await cluster.node('n1').call<{ response: string; usage: { input_tokens: number } }>('agent.run', {
      agent_id: keeper,
      message: 'hello again',
    });
    expect(again.response).toBe('ok');
    // the earlier conversation came along: the model was sent more than the new message
    // (at least the first message, 41 characters ≈ 10 tokens, beyond the baseline's)
    expect(again.usage.input_tokens - baseline.usage.input_tokens).toBeGreaterThanOrEqual(10);
    // the revocation came along too
    const moved = await tokens('n1', keeper);
    expect(moved.find((t) => t.capability.name === 'echo')?.revoked_at).toBeDefined();
    await expect(
      cluster.node('n1').call('tool.invoke', { agent_id: keeper, tool: 'echo', input: { message: 'x' } }),
    ).rejects.toThrow(/AAOS_ERR_CAPABILITY_REVOKED/);
    expect(await seenOn('n3', keeper)).toBe('n1');

    // the old node comes back on its store: it restores the agent, sees it lives on n1 now and drops its copy
    await cluster.startNode('n2', n2dir);
    const list = await cluster.node('n2').call<{ agents: Array<{ id: string }> }>('agent.list');
    expect(list.agents.some((a) => a.id === keeper)).toBe(false);
    await until('n2 to announce itself again', async () =>
      (await cluster.node('n1').call<Status>('cluster.status')).nodes.some((n) => n.node_id === 'n2')
        ? true
        : undefined,
    );
    const everywhere = (await cluster.node('n1').call<Status>('cluster.status')).agents.filter((a) => a.id === keeper);
    expect(everywhere.map((a) => a.node_id)).toEqual(['n1']);
  }, 120_000);

  it('two nodes racing to take over the same agent: one wins, the other is told so, and the agent lives once', async () => {
    const racer = await spawnOn('n2', 'racer', 'persistent');
    await seenOn('n1', racer);
    await cluster.kill('n2');
    expect(await seenOn('n1', racer, false)).toBe('n2');
    expect(await seenOn('n3', racer, false)).toBe('n2');
    const outcomes = await Promise.allSettled([
      cluster.node('n1').call('agent.run', { agent_id: racer, message: 'mine' }),
      cluster.node('n3').call('agent.run', { agent_id: racer, message: 'no, mine' }),
    ]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(String(lost[0]!.reason)).toMatch(/taken over by node n[13]: use it there/);
    const lists = await Promise.all(
      ['n1', 'n3'].map((n) => cluster.node(n).call<{ agents: Array<{ id: string }> }>('agent.list')),
    );
    expect(lists.filter((l) => l.agents.some((a) => a.id === racer))).toHaveLength(1);
  }, 120_000);
});
