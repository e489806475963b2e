import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, removeDir, startDaemon, streamToEnd, tempDataDir, type DaemonProcess } from './daemon-process.js';

describe('agentd run (daemon) end to end', () => {
  let daemon: DaemonProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await daemon?.stop();
    if (dir) removeDir(dir);
  });

  it('streams two concurrent goals to their end, then stops on SIGTERM leaving no socket', async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir });
    const client = await RawClient.open(daemon.socket);

    const a = client.send('agent.submit_streaming', { goal: 'Report on the bike-share pilot (first copy).' });
    const b = client.send('agent.submit_streaming', { goal: 'Report on the bike-share pilot (second copy).' });
    const [resA, resB] = await Promise.all([
      client.response<{ result: { run_id: string; workspace: string } }>(a),
      client.response<{ result: { run_id: string; workspace: string } }>(b),
    ]);
    expect(resA.result.run_id).not.toBe(resB.result.run_id);

    const [streamA, streamB] = await Promise.all([streamToEnd(client, a), streamToEnd(client, b)]);
    for (const [res, s] of [
      [resA, streamA],
      [resB, streamB],
    ] as const) {
      expect(s.end).toMatchObject({ kind: 'end', run_id: res.result.run_id, status: 'completed' });
      expect(typeof s.end['result']).toBe('string');
      expect(s.end['usage']).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) });
      expect(typeof s.end['elapsed_ms']).toBe('number');
      // every event of the stream belongs to its run, from submission to completion
      expect(s.events.every((e) => e['run_id'] === res.result.run_id)).toBe(true);
      expect(s.events[0]?.['type']).toBe('RunSubmitted');
      expect(s.events.at(-1)?.['type']).toBe('RunCompleted');
      expect(s.events.some((e) => e['type'] === 'ToolInvoked')).toBe(true);
      expect(existsSync(join(res.result.workspace, 'report.md'))).toBe(true);
    }
    // the initial response always precedes the stream's frames
    const idxResponse = client.lines.findIndex((l) => (l as { id?: unknown }).id === a);
    const idxFirstFrame = client.lines.findIndex((l) => (l as { stream?: unknown }).stream === a);
    expect(idxResponse).toBeLessThan(idxFirstFrame);

    const status = await client.call<{ state: string; goal: string; workspace: string; result: string }>('run.status', {
      run_id: resA.result.run_id,
    });
    expect(status).toMatchObject({ state: 'completed', workspace: resA.result.workspace });
    const runs = await client.call<{ runs: unknown[] }>('run.list');
    expect(runs.runs).toHaveLength(2);

    const code = await daemon.stop();
    expect(code).toBe(0);
    expect(existsSync(daemon.socket)).toBe(false);
    expect(daemon.stderr()).toContain('SIGTERM received');
    daemon = undefined;
  });
});
