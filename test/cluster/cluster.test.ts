import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTD, removeDir, tempDataDir, type RawClient } from '../daemon/daemon-process.js';
import { TestCluster, until } from './cluster-nodes.js';

const execFileP = promisify(execFile);

// Three real agentd processes (built dist/) on one real nats-server -js, loopback only.
// Each goal's one model turn takes 1.5 s, so a goal is reliably mid-run when a node is killed.

interface Run {
  run_id: string;
  state: string;
  node_id?: string;
  submitted_on?: string;
  deliveries?: number;
  result?: string;
}
interface Status {
  node_id: string;
  nodes: Array<{ node_id: string; free_goal_slots: number; goals_running: string[] }>;
  goals_waiting: number;
  goals_in_flight: number;
}

const TERMINAL = ['completed', 'failed', 'cancelled', 'interrupted'];
const ACK_WAIT_MS = 2000;

let cluster: TestCluster;
let scriptDir: string;

function node(id: string): RawClient {
  return cluster.node(id);
}

async function submit(on: string, goal: string): Promise<string> {
  const res = await node(on).call<{ run_id: string; state: string }>('agent.submit_streaming', { goal });
  expect(res.state).toBe('queued');
  return res.run_id;
}

async function finished(on: string, runId: string): Promise<Run> {
  return until(`run ${runId} to end`, async () => {
    const r = await node(on).call<Run>('run.status', { run_id: runId });
    return TERMINAL.includes(r.state) ? r : undefined;
  });
}

beforeAll(async () => {
  scriptDir = tempDataDir();
  const script = join(scriptDir, 'slow.yaml');
  writeFileSync(script, 'turns: [{text: "goal done"}]\nlatency_ms: 1500\nwhen_exhausted: restart\n');
  cluster = await TestCluster.start(['n1', 'n2', 'n3'], {
    AAOS_MODEL_OVERRIDE: `scripted:${script}`,
    AAOS_CLUSTER_ACK_WAIT_MS: String(ACK_WAIT_MS),
    AAOS_CLUSTER_HEARTBEAT_MS: '1000',
    AAOS_MAX_CONCURRENT_GOALS: '1',
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  if (scriptDir) removeDir(scriptDir);
}, 60_000);

describe('agentd cluster on NATS JetStream', () => {
  it('every node announces itself; goals submitted on one node run on the others too, each recorded once', async () => {
    const status = await until('three heartbeats', async () => {
      const s = await node('n1').call<Status>('cluster.status');
      return s.nodes.length === 3 ? s : undefined;
    });
    expect(status.nodes.map((n) => n.node_id)).toEqual(['n1', 'n2', 'n3']);
    // the operator's view, through the CLI
    // (retried: a heartbeat delayed past its TTL on a loaded machine drops a node for a moment)
    const cli = await until('the CLI to list three nodes', async () => {
      const out = await execFileP(process.execPath, [
        AGENTD,
        'cluster',
        'status',
        '--socket',
        cluster.nodes.get('n2')!.proc.socket,
      ]);
      return /^this node n2; 3 node\(s\) alive/.test(out.stdout) ? out : undefined;
    });
    for (const id of ['n1', 'n2', 'n3']) expect(cli.stdout).toContain(`  ${id}  pid `);

    // one goal slot per node: while n1 runs one goal, the others take the rest
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await submit('n1', `goal ${i}`));
    const runs = await Promise.all(ids.map((id) => finished('n1', id)));
    for (const r of runs) {
      expect(r.state).toBe('completed');
      expect(r.result).toBe('goal done');
      expect(r.submitted_on).toBe('n1');
    }
    expect(runs.some((r) => r.node_id !== 'n1')).toBe(true);
    // any node shows the cluster's runs
    const listed = await node('n3').call<{ runs: Run[] }>('run.list', {});
    for (const id of ids) expect(listed.runs.find((r) => r.run_id === id)?.state).toBe('completed');
  }, 120_000);

  it('a redelivered goal whose completion is recorded is acked and skipped, never run again', async () => {
    const runId = await submit('n2', 'once only');
    const first = await finished('n2', runId);
    expect(first.state).toBe('completed');
    const nc = await connect({ servers: cluster.nats.url });
    try {
      const js = jetstream(nc);
      const kvm = new Kvm(js);
      const done = await kvm.open('aaos_done');
      const runs = await kvm.open('aaos_runs');
      const before = await done.get(runId);
      // the final state is written just after the completion record: wait for it
      const stateBefore = await until('the final run state', async () => {
        const e = await runs.get(runId);
        return e && e.json<Run>().state === 'completed' ? e : undefined;
      });
      // the same goal again in the work queue, as a redelivery after a lost ack would be
      await js.publish('aaos.goals', JSON.stringify({ run_id: runId, goal: 'once only', submitted_on: 'n2' }), {
        msgID: `${runId}-again`,
      });
      await until('the duplicate to be consumed', async () => {
        const s = await node('n1').call<Status>('cluster.status');
        return s.goals_waiting === 0 && s.goals_in_flight === 0 ? true : undefined;
      });
      const after = await done.get(runId);
      expect(after?.revision).toBe(before?.revision);
      // no node took it up again (taking a goal writes its `running` state first)
      expect((await runs.get(runId))?.revision).toBe(stateBefore?.revision);
      expect((await node('n3').call<Run>('run.status', { run_id: runId })).deliveries).toBe(first.deliveries);
    } finally {
      await nc.close();
    }
  }, 120_000);

  it('kill -9 of the node running a goal: it completes on another node exactly once, and the cluster keeps taking goals', async () => {
    const runId = await submit('n1', 'survive a crash');
    const running = await until('the goal to start', async () => {
      const r = await node('n1').call<Run>('run.status', { run_id: runId });
      return r.state === 'running' && r.node_id ? r : undefined;
    });
    const victim = running.node_id!;
    const survivor = ['n1', 'n2', 'n3'].find((id) => id !== victim)!;
    await cluster.kill(victim);

    const final = await finished(survivor, runId);
    expect(final.state).toBe('completed');
    expect(final.node_id).not.toBe(victim);
    expect(final.deliveries).toBeGreaterThanOrEqual(2);

    // the dead node's heartbeat expires; the rest keep taking goals
    await until('the dead node to drop out', async () => {
      const s = await node(survivor).call<Status>('cluster.status');
      return s.nodes.length === 2 && !s.nodes.some((n) => n.node_id === victim) ? true : undefined;
    });
    const more = [await submit(survivor, 'after the crash 1'), await submit(survivor, 'after the crash 2')];
    for (const id of more) expect((await finished(survivor, id)).state).toBe('completed');

    // exactly once at the record level: one completion record, untouched since
    const nc = await connect({ servers: cluster.nats.url });
    try {
      const done = await new Kvm(jetstream(nc)).open('aaos_done');
      const entry = await done.get(runId);
      expect(entry?.json<Run>().node_id).toBe(final.node_id);
      const s = await node(survivor).call<Status>('cluster.status');
      expect(s.goals_waiting + s.goals_in_flight).toBe(0);
    } finally {
      await nc.close();
    }
  }, 180_000);

  it('a node stopped with SIGTERM mid-goal hands the goal back; another node completes it', async () => {
    const alive = [...cluster.nodes.keys()];
    expect(alive).toHaveLength(2);
    const runId = await submit(alive[0]!, 'outlive a shutdown');
    const running = await until('the goal to start', async () => {
      const r = await node(alive[0]!).call<Run>('run.status', { run_id: runId });
      return r.state === 'running' && r.node_id ? r : undefined;
    });
    const leaving = running.node_id!;
    const staying = alive.find((id) => id !== leaving)!;
    const gone = cluster.nodes.get(leaving)!;
    gone.client.close();
    expect(await gone.proc.stop()).toBe(0);
    cluster.nodes.delete(leaving);
    removeDir(gone.dir);
    const final = await finished(staying, runId);
    expect(final).toMatchObject({ state: 'completed', node_id: staying });
    expect(final.deliveries).toBeGreaterThanOrEqual(2);
    await until('the stopped node to leave the node list', async () => {
      const s = await node(staying).call<Status>('cluster.status');
      return s.nodes.map((n) => n.node_id).join() === staying ? true : undefined;
    });
  }, 120_000);
});
