import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AGENTD, RawClient, useDaemon } from '../daemon/daemon-process.js';
import { runAgentd } from '../support/run-agentd.js';

describe('the live view shows a goal waiting for a slot as queued, then running', { timeout: 240_000 }, () => {
  const held = useDaemon({ env: { AAOS_MAX_CONCURRENT_GOALS: '1' } });

  it('queued before running, in submit and in logs', async () => {
    const client = await RawClient.open(held.current.socket);
    // the one slot is taken by a goal that cannot move: the bootstrap agent is paused
    await client.call('agent.pause', { agent_id: 'bootstrap', force: true });
    const first = client.send('agent.submit_streaming', { goal: 'first goal, holds the slot' });
    const firstAnswer = await client.response<{ result: { state: string } }>(first);
    expect(firstAnswer.result.state).toBe('running');

    const submit = spawn(process.execPath, [AGENTD, 'submit', 'second goal, waits', '--socket', held.current.socket], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    submit.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => submit.on('exit', (code) => r(code)));
    // the second goal is in the store as queued, and its live view has said so
    for (let i = 0; !out.includes('⧗ queued'); i++) {
      if (i > 600) throw new Error(`no queued line; got: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const runs = await client.call<{ runs: Array<{ goal: string; state: string; run_id: string }> }>('run.list', {});
    const second = runs.runs.find((r) => r.goal === 'second goal, waits')!;
    expect(second.state).toBe('queued');

    await client.call('agent.resume', { agent_id: 'bootstrap' });
    expect(await exited).toBe(0);
    await client.waitFor((m) => m['kind'] === 'end' && m['stream'] === first, 'the first goal to end');
    client.close();

    const queuedAt = out.indexOf('⧗ queued');
    const runningAt = out.indexOf('▶ running');
    expect(out).toMatch(/⧗ queued waiting for a goal slot \(1 running; AAOS_MAX_CONCURRENT_GOALS\)/);
    expect(runningAt).toBeGreaterThan(queuedAt);
    expect(out).toMatch(/▶ running after \d+\.\d\ds queued/);
    expect(out.indexOf('■ run completed')).toBeGreaterThan(runningAt);

    const logs = await runAgentd(['logs', second.run_id, '--socket', held.current.socket], { env: { NO_COLOR: '1' } });
    expect(logs.code).toBe(0);
    expect(logs.stdout.indexOf('⧗ queued')).toBeGreaterThan(-1);
    expect(logs.stdout.indexOf('▶ running')).toBeGreaterThan(logs.stdout.indexOf('⧗ queued'));
  });
});
