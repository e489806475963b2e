import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { StreamFrameLine } from '../../src/protocol/stream-frame.js';
import { AGENTD, RawClient, useDaemon, writerManifest } from '../daemon/daemon-process.js';
import { runAgentd } from '../support/run-agentd.js';

/** Every stdout line of a `--json` stream, checked against the one frame schema. */
function framesOf(stdout: string, what: string): StreamFrameLine[] {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines.length, `${what} printed frames`).toBeGreaterThan(0);
  return lines.map((line, i) => {
    const parsed = StreamFrameLine.safeParse(JSON.parse(line));
    expect(parsed.success, `${what} line ${i + 1} ${line.slice(0, 200)}: ${parsed.error?.message ?? ''}`).toBe(true);
    return parsed.data!;
  });
}

describe('one NDJSON frame shape for every --json stream', { timeout: 240_000 }, () => {
  const held = useDaemon();
  const sock = (): string[] => ['--socket', held.current.socket];

  // run --json is held to the same schema in test/cli/json-frames.test.ts
  it('submit --json and logs --json (run and agent) write StreamFrameLine lines', async () => {
    const submit = await runAgentd(['submit', 'a goal', '--json', ...sock()]);
    expect(submit.code, submit.stderr).toBe(0);
    const submitted = framesOf(submit.stdout, 'submit --json');
    const end = submitted.at(-1)!;
    expect(end).toMatchObject({ kind: 'end', status: 'completed' });
    const runId = (end as { run_id: string }).run_id;

    const logs = await runAgentd(['logs', runId, '--json', ...sock()]);
    expect(logs.code).toBe(0);
    expect(framesOf(logs.stdout, 'logs --json (run)').at(-1)).toMatchObject({ kind: 'end', run_id: runId });
    const agentLogs = await runAgentd(['logs', 'bootstrap', '--json', '--tail', '5', ...sock()]);
    expect(agentLogs.code).toBe(0);
    expect(framesOf(agentLogs.stdout, 'logs --json (agent)').at(-1)).toMatchObject({
      kind: 'end',
      agent_id: expect.any(String),
    });
  });

  it('approvals --watch --json: the snapshot, then approval frames, all of the same shape', async () => {
    const dir = held.current.dataDir;
    mkdirSync(join(dir, 'out'), { recursive: true });
    const client = await RawClient.open(held.current.socket);
    const { agent_id: agentId } = await client.call<{ agent_id: string }>('agent.spawn', {
      manifest: writerManifest(dir),
    });

    const watcher = spawn(process.execPath, [AGENTD, 'approvals', '--watch', '--json', ...sock()], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let wake: () => void = () => {};
    createInterface({ input: watcher.stdout }).on('line', (l) => {
      lines.push(l);
      wake();
    });
    const waitLines = async (n: number): Promise<void> => {
      while (lines.length < n) await new Promise<void>((r) => (wake = r));
    };
    const exited = new Promise<number | null>((r) => watcher.on('exit', (code) => r(code)));
    await waitLines(1); // the snapshot: the watch is live from here on

    const run = client.call<{ response: string }>('agent.run', {
      agent_id: agentId,
      message: join(dir, 'out', 'approved.txt'),
    });
    await waitLines(2);
    const requested = JSON.parse(lines[1]!) as { event: { approval: { id: string } } };
    await client.call('approval.respond', { id: requested.event.approval.id, decision: 'approve' });
    await waitLines(3);
    expect((await run).response).toContain('tool said');
    watcher.kill('SIGINT');
    expect(await exited).toBe(0);
    client.close();

    const frames = framesOf(lines.join('\n'), 'approvals --watch --json');
    expect(frames.map((f) => f.kind)).toEqual(['snapshot', 'approval', 'approval']);
    const stream = frames[0]!.stream;
    expect(typeof stream).toBe('number');
    expect(frames.every((f) => f.stream === stream)).toBe(true);
  });
});
