import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from '../daemon/daemon-process.js';
import { TestCluster, until } from './cluster-nodes.js';

// kill -9 of the node running a multi-step goal: the goal resumes on another node from the
// journal copy in JetStream. Each step writes a file named after the bootstrap agent that
// ran it (each node has its own) into a directory every node can write, so a step done
// twice shows as two files.

const KEY = 'test-cluster-key-resume-0123456789';
const STEPS = 3;

interface Run {
  run_id: string;
  state: string;
  node_id?: string;
  deliveries?: number;
  result?: string;
}

let cluster: TestCluster;
let dir: string;
let shared: string;
let nc: NatsConnection;

beforeAll(async () => {
  dir = tempDataDir();
  shared = join(dir, 'shared');
  mkdirSync(shared);
  const turns = [];
  for (let i = 1; i <= STEPS; i++)
    turns.push(
      `  - tool_calls: [{ name: file_write, input: { path: "${shared}/step${i}-{agent_id}.txt", content: "step ${i} of {run_id}" } }]`,
    );
  writeFileSync(
    join(dir, 'steps.yaml'),
    ['cursor: per_run', 'latency_ms: 2500', 'turns:', ...turns, '  - text: "all steps done"'].join('\n'),
  );
  const bootstrap = join(dir, 'bootstrap.yaml');
  writeFileSync(
    bootstrap,
    [
      'name: bootstrap',
      'model: scripted:steps.yaml',
      'lifecycle: persistent',
      'capabilities:',
      '  - "tool: file_write"',
      `  - "file_write: ${shared}/*"`,
    ].join('\n'),
  );
  cluster = await TestCluster.start(
    ['n1', 'n2', 'n3'],
    {
      AAOS_CLUSTER_KEY: KEY,
      AAOS_CLUSTER_ACK_WAIT_MS: '2000',
      AAOS_CLUSTER_HEARTBEAT_MS: '1000',
      AAOS_MAX_CONCURRENT_GOALS: '1',
      AAOS_RESUME_RUNS: '0',
    },
    { bootstrap },
  );
  nc = await cluster.natsClient();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) removeDir(dir);
}, 60_000);

const stepFiles = (step: number): string[] => readdirSync(shared).filter((f) => f.startsWith(`step${step}-`));

describe('a goal whose node dies resumes on another node from its journal copy', () => {
  it('kill -9 after the first step: the goal completes elsewhere, once, and no step is done twice', async () => {
    const { run_id: runId } = await cluster
      .node('n1')
      .call<{ run_id: string }>('agent.submit_streaming', { goal: 'three steps' });
    const running = await until('the goal to start', async () => {
      const r = await cluster.node('n1').call<Run>('run.status', { run_id: runId });
      return r.state === 'running' && r.node_id ? r : undefined;
    });
    const victim = running.node_id!;
    const journals = await new Kvm(jetstream(nc)).open('aaos_journals');
    // step 1 done and its result copied (model turn, call started, result: entries 0..2)
    await until('step 1 to be journaled in the cluster', async () =>
      (await journals.get(`${runId}.e.2.0`))?.operation === 'PUT' ? true : undefined,
    );
    expect(stepFiles(1)).toHaveLength(1);
    expect(stepFiles(2)).toHaveLength(0); // the next model turn takes 2.5 s
    await cluster.kill(victim);

    const survivor = [...cluster.nodes.keys()][0]!;
    const final = await until(
      'the goal to end on another node',
      async () => {
        const r = await cluster.node(survivor).call<Run>('run.status', { run_id: runId });
        return ['completed', 'failed', 'cancelled', 'interrupted'].includes(r.state) ? r : undefined;
      },
      120_000,
    );
    expect(final).toMatchObject({ state: 'completed', result: 'all steps done' });
    expect(final.node_id).not.toBe(victim);
    expect(final.deliveries).toBeGreaterThanOrEqual(2);
    // each step's side effect happened once: step 1 by the dead node's agent, the rest by the new one
    for (let i = 1; i <= STEPS; i++) expect(stepFiles(i), `step ${i}`).toHaveLength(1);
    const step1 = stepFiles(1)[0]!;
    const step2 = stepFiles(2)[0]!;
    expect(step1.slice('step1-'.length)).not.toBe(step2.slice('step2-'.length));
    expect(readFileSync(join(shared, step2), 'utf8')).toBe(`step 2 of ${runId}`);

    // one completion record; the copy is purged once the run is recorded
    const done = await new Kvm(jetstream(nc)).open('aaos_done');
    expect((await done.get(runId))?.json<Run>().node_id).toBe(final.node_id);
    await until('the journal copy to be purged', async () => {
      const left: string[] = [];
      for await (const k of await journals.keys(`${runId}.>`)) left.push(k);
      return left.length === 0 ? true : undefined;
    });
  }, 240_000);
});
