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
  ['name: ' + name, 'model: scripted:unused.yaml', `lifecycle: ${lifecycle}`, 'capabilities:', '  - "tool: echo"', '  - "tool: file_read"'].join('\n');

async function spawnOn(node: string, name: string, lifecycle: 'on-demand' | 'persistent' = 'on-demand'): Promise<string> {
  const res = await cluster.node(node).call<{ agent_id: string }>('agent.spawn', { manifest: manifest(name, lifecycle) });
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
    const echo = (await tokens('n2', holder)).find((t) => t.capability.kind === 'tool' && t.capability.name === 'echo')!;
    // it works before
    await expect(cluster.node('n2').call('tool.invoke', { agent_id: holder, tool: 'echo', input: { message: 'before' } })).resolves.toBeDefined();

    const res = await cluster.node('n1').call<{ revoked: number; node_id: string; applied: boolean }>('capability.revoke', { agent_id: holder, token_id: echo.id });
    expect(res).toMatchObject({ revoked: 1, node_id: 'n2', applied: true });
    // refused where the agent lives, at once (applied before n1 answered)
    await expect(cluster.node('n2').call('tool.invoke', { agent_id: holder, tool: 'echo', input: { message: 'after' } })).rejects.toThrow(/AAOS_ERR_CAPABILITY_REVOKED/);
    // its other token is untouched
    await expect(cluster.node('n2').call('tool.invoke', { agent_id: holder, tool: 'file_read', input: { path: join(scriptDir, 'idle.yaml') } })).rejects.toThrow(/AAOS_ERR_CAPABILITY_DENIED/);
    expect((await tokens('n2', holder)).filter((t) => t.revoked_at !== undefined).map((t) => t.id)).toEqual([echo.id]);

    // revoke all, by name, through the third node
    const all = await cluster.node('n3').call<{ revoked: number; node_id: string }>('capability.revoke', { agent_id: 'holder', all: true });
    expect(all).toMatchObject({ revoked: 1, node_id: 'n2' });
    expect((await tokens('n2', holder)).every((t) => t.revoked_at !== undefined)).toBe(true);

    // a token id the agent does not hold revokes nothing anywhere
    const other = await spawnOn('n3', 'other');
    await seenOn('n1', other);
    const otherEcho = (await tokens('n3', other))[0]!;
    const wrong = await cluster.node('n1').call<{ revoked: number }>('capability.revoke', { agent_id: holder, token_id: otherEcho.id });
    expect(wrong.revoked).toBe(0);
    await new Promise((r) => setTimeout(r, 1000)); // one heartbeat and more: every node has seen the record
    expect((await tokens('n3', other)).every((t) => t.revoked_at === undefined)).toBe(true);

    // a stop through n1 of an agent on n3
    const stopped = await cluster.node('n1').call<{ node_id: string; applied: boolean }>('agent.stop', { agent_id: other });
    expect(stopped).toMatchObject({ node_id: 'n3', applied: true });
    const left = await cluster.node('n3').call<{ agents: Array<{ id: string }> }>('agent.list');
    expect(left.agents.some((a) => a.id === other)).toBe(false);
    await expect(cluster.node('n3').call('tool.invoke', { agent_id: other, tool: 'echo', input: { message: 'x' } })).rejects.toThrow(/AAOS_ERR_AGENT_NOT_FOUND/);
  }, 120_000);

  it('another node\'s bootstrap agent is protected; an unknown agent is named as unknown in the whole cluster', async () => {
    const s = await until('n2 bootstrap announced', async () => {
      const st = await cluster.node('n1').call<Status & { agents: Array<{ bootstrap?: boolean }> }>('cluster.status');
      return st.agents.find((a) => a.node_id === 'n2' && a.bootstrap) ? st : undefined;
    });
    const boot = s.agents.find((a) => a.node_id === 'n2' && a.bootstrap)!;
    await expect(cluster.node('n1').call('agent.stop', { agent_id: boot.id })).rejects.toThrow(/AAOS_ERR_BOOTSTRAP_PROTECTED/);
    await expect(cluster.node('n1').call('agent.stop', { agent_id: 'no-such-agent' })).rejects.toThrow(/any node of the cluster.*AAOS_ERR_AGENT_NOT_FOUND/);
    await expect(cluster.node('n1').call('capability.revoke', { agent_id: 'no-such-agent', all: true })).rejects.toThrow(/AAOS_ERR_AGENT_NOT_FOUND/);
  }, 60_000);

  it('a node that was down (kill -9) applies the stops and revocations recorded meanwhile when it joins again', async () => {
    const sleeper = await spawnOn('n3', 'sleeper', 'persistent');
    const revokedWhileDown = await spawnOn('n3', 'revoked-while-down', 'persistent');
    // recorded in the cluster's bucket of persistent agents (written at n3's next heartbeat)
    const nc = await connect({ servers: cluster.nats.url });
    try {
      const registry = await new Kvm(jetstream(nc)).open('aaos_agents');
      await until('both persistent agents to be recorded', async () => ((await registry.get(sleeper)) && (await registry.get(revokedWhileDown)) ? true : undefined));
    } finally {
      await nc.close();
    }
    const dir = await cluster.kill('n3');
    // the persistent agents stay known, on a node that is down
    expect(await seenOn('n1', sleeper, false)).toBe('n3');
    const stop = await cluster.node('n1').call<{ node_id: string; applied: boolean }>('agent.stop', { agent_id: sleeper });
    expect(stop).toMatchObject({ node_id: 'n3', applied: false });
    const rev = await cluster.node('n2').call<{ applied: boolean }>('capability.revoke', { agent_id: revokedWhileDown, all: true });
    expect(rev.applied).toBe(false);
    // one token can't be named while its node is down (ids are issued anew at restart)
    await expect(cluster.node('n2').call('capability.revoke', { agent_id: revokedWhileDown, token_id: 'cap_x' })).rejects.toThrow(/which is down.*AAOS_ERR_CLUSTER_UNAVAILABLE/);

    await cluster.startNode('n3', dir);
    // restored from its own store, then stopped by the record: not live, not restored again
    await until('the stop to be applied on n3', async () => {
      const list = await cluster.node('n3').call<{ agents: Array<{ id: string }> }>('agent.list');
      return list.agents.some((a) => a.id === revokedWhileDown) && !list.agents.some((a) => a.id === sleeper) ? true : undefined;
    });
    await until('the revocation to be applied on n3', async () => ((await tokens('n3', revokedWhileDown)).every((t) => t.revoked_at !== undefined) ? true : undefined));
    await expect(cluster.node('n3').call('tool.invoke', { agent_id: revokedWhileDown, tool: 'echo', input: { message: 'x' } })).rejects.toThrow(/AAOS_ERR_CAPABILITY_REVOKED/);
    await until('the stopped agent to leave the cluster\'s list', async () => {
      const s = await cluster.node('n1').call<Status>('cluster.status');
      return s.agents.some((a) => a.id === sleeper) ? undefined : true;
    });
  }, 120_000);
});
