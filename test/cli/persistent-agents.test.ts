import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RawClient, removeDir, useDaemon } from '../daemon/daemon-process.js';
import { runAgentd, type AgentdResult } from '../support/run-agentd.js';

/** A persistent agent on a scripted model that answers every message with what it heard. */
function echoAgent(dir: string, name: string): string {
  writeFileSync(
    join(dir, `${name}-script.yaml`),
    ['cursor: per_run', 'turns:', '  - text: "heard: {message}"'].join('\n'),
  );
  writeFileSync(
    join(dir, `${name}.yaml`),
    [`name: ${name}`, `model: scripted:${name}-script.yaml`, 'lifecycle: persistent', 'capabilities: []'].join('\n'),
  );
  return `${name}.yaml`;
}

const until = async (what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('agentd spawn, send, ask, pause, resume', { timeout: 300_000 }, () => {
  const MAILBOX = 3;
  const held = useDaemon({ env: { AAOS_MAILBOX_MAX: String(MAILBOX) } });
  const dir = mkdtempSync(join(tmpdir(), 'aaos-pa-'));
  const cli = (...args: string[]): Promise<AgentdResult> =>
    runAgentd([...args, '--socket', held.current.socket], { cwd: dir, env: { NO_COLOR: '1' } });
  const json = async <T>(...args: string[]): Promise<T> => {
    const res = await cli(...args, '--json');
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout) as T;
  };
  // polling goes over one raw connection: a CLI process per poll is slow on a loaded machine
  let raw: RawClient | undefined;
  afterAll(() => {
    raw?.close();
    removeDir(dir);
  });
  const rpc = async <T>(method: string, params: unknown): Promise<T> =>
    (raw ??= await RawClient.open(held.current.socket)).call<T>(method, params);
  const agentState = (agent: string): Promise<{ state: string; queued: number }> =>
    rpc('agent.status', { agent_id: agent });
  /** run id → stop reason of each handled message, in the order they finished */
  const completedRuns = async (agent: string): Promise<Map<string, string>> => {
    const res = await cli('logs', agent, '--json');
    const done = new Map<string, string>();
    for (const line of res.stdout.trim().split('\n')) {
      const f = JSON.parse(line) as { kind: string; event?: { type: string; run_id?: string; stop_reason?: string } };
      if (f.event?.type === 'AgentExecutionCompleted' && f.event.run_id)
        done.set(f.event.run_id, f.event.stop_reason ?? '');
    }
    return done;
  };

  it('spawn takes a manifest relative to where the command runs; ask prints the answer; send returns at once', async () => {
    const spawned = await cli('spawn', echoAgent(dir, 'echo'));
    expect(spawned.code, spawned.stderr).toBe(0);
    expect(spawned.stdout).toMatch(/^spawned agent echo [0-9a-f-]{36} \(persistent, scripted:/);
    const asked = await cli('ask', 'echo', 'hello there');
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toBe('heard: hello there\n');
    const sent = await cli('send', 'echo', 'fire and forget');
    expect(sent.code, sent.stderr).toBe(0);
    const runId = /as run ([0-9a-f-]{36})/.exec(sent.stdout)![1]!;
    await until(
      'the sent message to be handled',
      async () => (await completedRuns('echo')).get(runId) === 'complete',
      120_000,
    );
    const missing = await cli('spawn', 'no-such.yaml');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('AAOS_ERR_MANIFEST_NOT_FOUND');
    expect(missing.stderr).toContain(join(dir, 'no-such.yaml'));
  });

  it('a paused agent queues its messages up to the mailbox cap and loses none; resume runs them in order', async () => {
    const paused = await cli('pause', 'echo');
    expect(paused.code, paused.stderr).toBe(0);
    expect((await json<{ state: string }>('status', 'echo')).state).toBe('paused');
    expect((await agentState('echo')).state).toBe('paused');
    const again = await cli('pause', 'echo');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('AAOS_ERR_INVALID_STATE_TRANSITION');
    expect(again.stderr).toContain('already paused');

    const runIds: string[] = [];
    for (let i = 0; i < MAILBOX; i++)
      runIds.push((await json<{ run_id: string }>('send', 'echo', `queued ${i}`)).run_id);
    const full = await cli('send', 'echo', 'one too many');
    expect(full.code).toBe(1);
    expect(full.stderr).toContain('AAOS_ERR_MAILBOX_FULL');
    expect(full.stderr).toContain(`AAOS_MAILBOX_MAX=${MAILBOX}`);
    await new Promise((r) => setTimeout(r, 1000));
    const before = await completedRuns('echo');
    for (const id of runIds) expect(before.has(id)).toBe(false); // held, not handled
    await until('the messages to reach the mailbox', async () => (await agentState('echo')).queued === MAILBOX);

    const resumed = await cli('resume', 'echo');
    expect(resumed.code, resumed.stderr).toBe(0);
    await until('every queued message to be handled', async () => (await agentState('echo')).queued === 0);
    const done = await completedRuns('echo');
    expect(runIds.map((id) => done.get(id))).toEqual(runIds.map(() => 'complete'));
    expect([...done.keys()].filter((id) => runIds.includes(id))).toEqual(runIds); // in the order sent
    const notPaused = await cli('resume', 'echo');
    expect(notPaused.code).toBe(1);
    expect(notPaused.stderr).toMatch(
      /AAOS_ERR_INVALID_STATE_TRANSITION: agent echo \([0-9a-f-]+\) is running, not paused: nothing to resume/,
    );
  });

  it('pausing the bootstrap needs --force; goals then wait, health says why, resume lets them finish', async () => {
    const refused = await cli('pause', 'bootstrap');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('AAOS_ERR_BOOTSTRAP_PROTECTED');
    expect((await cli('health')).code).toBe(0);
    expect((await cli('pause', 'bootstrap', '--force')).code).toBe(0);
    const health = await cli('health');
    expect(health.code).toBe(1);
    expect(health.stdout + health.stderr).toMatch(/bootstrap agent .* is paused: goals wait/);
    const goal = cli('submit', 'a goal while the lead is paused', '--json');
    await new Promise((r) => setTimeout(r, 1500));
    const runs = await json<Array<{ goal: string; state: string }>>('runs');
    expect(runs.find((r) => r.goal === 'a goal while the lead is paused')?.state).not.toBe('completed');
    expect((await cli('resume', 'bootstrap')).code).toBe(0);
    const finished = await goal;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).toContain('"status":"completed"');
    expect((await cli('health')).code).toBe(0);
  });

  it('unknown and stopped agents cannot be paused or resumed; a waiting ask ends when its paused agent is stopped', async () => {
    for (const verb of ['pause', 'resume', 'send', 'ask']) {
      const res = await cli(verb, 'nobody-by-this-name', ...(verb === 'send' || verb === 'ask' ? ['hi'] : []));
      expect(res.code, verb).toBe(1);
      expect(res.stderr).toContain(
        "AAOS_ERR_AGENT_NOT_FOUND: no live agent with id, name or id prefix 'nobody-by-this-name'",
      );
    }
    await cli('spawn', echoAgent(dir, 'doomed'));
    const id = (await json<{ id: string }>('status', 'doomed')).id;
    expect((await cli('pause', id.slice(0, 8))).code).toBe(0); // a unique id prefix works too
    const waiting = cli('ask', 'doomed', 'anyone there?');
    await until('the question to be queued', async () => (await agentState('doomed')).queued === 1);
    expect((await cli('stop', 'doomed')).code).toBe(0);
    const answer = await waiting;
    expect(answer.code).toBe(1);
    expect(answer.stderr).toContain('AAOS_ERR_AGENT_STOPPED');
    for (const verb of ['pause', 'resume']) {
      const res = await cli(verb, id);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('AAOS_ERR_AGENT_NOT_FOUND');
    }
  });

  it('the agent of agentd init answers agentd ask, writing into the workspace of that message', async () => {
    expect((await runAgentd(['init', 'starter'], { cwd: dir })).code).toBe(0);
    expect((await cli('spawn', 'starter.yaml')).code).toBe(0);
    const asked = await cli('ask', 'starter', 'what came in?');
    expect(asked.code, asked.stderr).toBe(0);
    const answer = /^Done: the answer is in (\S+)$/m.exec(asked.stdout)?.[1];
    expect(answer).toMatch(new RegExp(`^${held.current.dataDir}/workspace/[0-9a-f-]{36}/answer\\.md$`));
    expect(readFileSync(answer!, 'utf8')).toContain('what came in?');
  });

  it('a daemon stops in order with a paused agent holding queued messages', async () => {
    await cli('spawn', echoAgent(dir, 'sleeper'));
    expect((await cli('pause', 'sleeper')).code).toBe(0);
    expect((await cli('send', 'sleeper', 'never handled before shutdown')).code).toBe(0);
    // useDaemon's afterAll stops the daemon and expects exit 0
  });
});
