import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from '../daemon/daemon-process.js';
import { agentHomes, agentSeenOn, TestCluster, until } from './cluster-nodes.js';

// The attacker's side of re-homing and forwarded operator requests: a process on the NATS
// server without the cluster key (it can subscribe, publish and write key-value records)
// replays a captured forwarded tool.invoke after the agent's node restarted, and forges the
// records a node takes a persistent agent over from. Two agentd processes, one nats-server -js.

const KEY = 'test-cluster-key-attack-rehome-0123';

let cluster: TestCluster;
let dir: string;
let nc: NatsConnection;
let registry: KV;
let states: KV;

interface Reply {
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string };
}
const replyBody = (text: string): Reply => JSON.parse(JSON.parse(text).body) as Reply;

const seenOn = (from: string, agentId: string, alive: boolean): Promise<string> =>
  agentSeenOn(cluster, from, agentId, alive);
const livesOn = (agentId: string): Promise<string[]> => agentHomes(cluster, agentId);

beforeAll(async () => {
  dir = tempDataDir();
  writeFileSync(join(dir, 'idle.yaml'), 'turns: [{text: "idle"}]\nwhen_exhausted: restart\n');
  cluster = await TestCluster.start(['n1', 'n2'], {
    AAOS_CLUSTER_KEY: KEY,
    AAOS_CLUSTER_HEARTBEAT_MS: '500',
    AAOS_RESUME_RUNS: '0',
  });
  nc = await connect({ servers: cluster.nats.url });
  const kvm = new Kvm(jetstream(nc));
  registry = await kvm.open('aaos_agents');
  states = await kvm.open('aaos_agent_state');
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await cluster?.stop();
  if (dir) removeDir(dir);
}, 60_000);

describe('attacks on re-homing and forwarded operator requests (no cluster key)', () => {
  it('a captured forwarded tool.invoke replayed (at once, and after its node restarted) and forged records of a persistent agent change nothing', async () => {
    const vault = (
      await cluster.node('n2').call<{ agent_id: string }>('agent.spawn', {
        manifest: [
          'name: vault',
          `model: scripted:${join(dir, 'idle.yaml')}`,
          'lifecycle: persistent',
          'capabilities:',
          '  - capability: "tool: echo"',
          '    max_invocations: 2',
        ].join('\n'),
      })
    ).agent_id;
    expect(await seenOn('n1', vault, true)).toBe('n2');

    // the operator's tool.invoke through n1 is forwarded to n2; the attacker listens on n2's subject
    const captured: string[] = [];
    const tap = nc.subscribe('aaos.node.n2.operator', {
      callback: (_e, m) => {
        captured.push(m.string());
      },
    });
    await nc.flush();
    const first = await cluster.node('n1').call<{ node_id: string; result: { message: string } }>('tool.invoke', {
      agent_id: vault,
      tool: 'echo',
      input: { message: 'one' },
    });
    expect(first).toMatchObject({ node_id: 'n2', result: { message: 'one' } });
    await until('the forwarded request to be captured', async () => (captured.length > 0 ? true : undefined));
    tap.unsubscribe();

    // replayed at once: refused as a replay
    const replay = replyBody((await nc.request('aaos.node.n2.operator', captured[0]!, { timeout: 10_000 })).string());
    expect(replay).toMatchObject({ ok: false, error: { code: 'AAOS_ERR_CLUSTER_MESSAGE_REFUSED' } });
    expect(replay.error?.message).toMatch(/replay/);

    // n2 killed and restarted on its data dir (its persistent agent restored there): the ids it
    // had seen are gone with the process, the message is still inside its 5-minute window
    const n2dir = await cluster.kill('n2');
    await cluster.startNode('n2', n2dir);
    expect(await seenOn('n1', vault, true)).toBe('n2');
    const afterRestart = replyBody(
      (await nc.request('aaos.node.n2.operator', captured[0]!, { timeout: 10_000 })).string(),
    );
    expect(afterRestart).toMatchObject({ ok: false, error: { code: 'AAOS_ERR_CLUSTER_MESSAGE_REFUSED' } });
    expect(cluster.nodes.get('n2')!.proc.stderr()).toMatch(/aaos\.node\.n2\.operator was refused: .*before this node/);

    // the records a taking node trusts, as n2 (re)wrote them: one echo used of two
    const honest = await until('n2 to record the vault and copy its state (one echo used)', async () => {
      const rec = await registry.get(vault);
      const st = await states.get(vault);
      if (rec?.operation !== 'PUT' || st?.operation !== 'PUT') return undefined;
      // with the key the state record is {body, mac}
      const wire = st.json<{ body?: string }>();
      const state = (typeof wire.body === 'string' ? JSON.parse(wire.body) : wire) as {
        tokens: Array<{ invocation_count: number }>;
      };
      const tokens = state.tokens;
      return tokens.some((t) => t.invocation_count === 1) ? { rec: rec.string(), st: st.string() } : undefined;
    });

    // forged, one at a time: the manifest widened (file_read), the echo count reset
    const forge = (text: string, edit: (o: Record<string, unknown>) => void): string => {
      const o = JSON.parse(text) as Record<string, unknown>;
      const inner = typeof o['body'] === 'string' ? (JSON.parse(o['body']) as Record<string, unknown>) : o;
      edit(inner);
      return typeof o['body'] === 'string'
        ? JSON.stringify({ ...o, body: JSON.stringify(inner) })
        : JSON.stringify(inner);
    };
    const widened = forge(honest.rec, (o) => {
      o['manifest_yaml'] = `${String(o['manifest_yaml'])}\n  - "file_read: /*"\n  - "tool: file_read"`;
    });
    const reset = forge(honest.st, (o) => {
      o['tokens'] = (o['tokens'] as Array<Record<string, unknown>>).map((t) => ({ ...t, invocation_count: 0 }));
    });
    await cluster.kill('n2');
    expect(await seenOn('n1', vault, false)).toBe('n2');

    // a use through n1 would move it to n1 with what the records say: refused, it starts nowhere
    await registry.put(vault, widened);
    await expect(
      cluster.node('n1').call('tool.invoke', { agent_id: vault, tool: 'file_read', input: { path: '/etc/hostname' } }),
    ).rejects.toThrow(/AAOS_ERR_CLUSTER_MESSAGE_REFUSED/);
    expect(await livesOn(vault)).toEqual([]);
    expect(cluster.nodes.get('n1')!.proc.stderr()).toMatch(
      /record of persistent agent vault .* is refused: its signature does not match/,
    );
    await registry.put(vault, honest.rec);
    await states.put(vault, reset);
    await expect(
      cluster.node('n1').call('tool.invoke', { agent_id: vault, tool: 'echo', input: { message: 'free again?' } }),
    ).rejects.toThrow(/AAOS_ERR_CLUSTER_MESSAGE_REFUSED/);
    expect(await livesOn(vault)).toEqual([]);

    // the honest records back (the refused take-over gave the record back as it was): it moves to n1 with its count (one echo left of two), no file_read
    await states.put(vault, honest.st);
    const moved = await cluster.node('n1').call<{ result: { message: string } }>('tool.invoke', {
      agent_id: vault,
      tool: 'echo',
      input: { message: 'two' },
    });
    expect(moved.result.message).toBe('two');
    expect(await livesOn(vault)).toEqual(['n1']);
    await expect(
      cluster.node('n1').call('tool.invoke', { agent_id: vault, tool: 'echo', input: { message: 'three' } }),
    ).rejects.toThrow(/max_invocations|invocation/i);
    await expect(
      cluster.node('n1').call('tool.invoke', { agent_id: vault, tool: 'file_read', input: { path: '/etc/hostname' } }),
    ).rejects.toThrow(/file_read/);
  }, 240_000);
});
