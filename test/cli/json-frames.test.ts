import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENTD, removeDir } from '../daemon/daemon-process.js';
import { StreamFrameLine } from '../../src/protocol/stream-frame.js';
import { runAgentd } from '../support/run-agentd.js';

describe('run --json writes the documented frames', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'aaos-'));
  afterAll(() => removeDir(dir));

  it('versioned event frames, then an end frame with exit_code and final_text per goal', async () => {
    const res = await runAgentd(['run', '--stdin', '--json', '--data-dir', join(dir, 'a')], {
      env: { AAOS_SOCKET: '' },
      input: 'one goal\n',
    });
    expect(res.code).toBe(0);
    const frames = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // the one frame shape of every --json stream (test/cli/ndjson-shape.test.ts has the others)
    for (const f of frames) expect(StreamFrameLine.safeParse(f).success, JSON.stringify(f).slice(0, 200)).toBe(true);
    expect(
      frames.every((f) => f['v'] === 1 && f['stream'] === null && (f['kind'] === 'event' || f['kind'] === 'end')),
    ).toBe(true);
    const end = frames.filter((f) => f['kind'] === 'end');
    expect(end).toHaveLength(1);
    expect(end[0]).toMatchObject({ status: 'completed', exit_code: 0 });
    expect(end[0]!['final_text']).toMatch(/The report is at/);
  });

  it('a reader that goes away (| head) ends the command quietly', () => {
    const cmd = `set -o pipefail; echo goal | AAOS_SOCKET= ${JSON.stringify(process.execPath)} ${JSON.stringify(AGENTD)} run --stdin --json --data-dir ${JSON.stringify(join(dir, 'b'))} | head -1 >/dev/null`;
    const res = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
    expect(res.stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
    expect(res.status).toBe(0);
  });
});
