import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/cli/since.js';
import { useDaemon } from '../daemon/daemon-process.js';
import { runAgentd } from '../support/run-agentd.js';

type Frame = Record<string, unknown> & { kind: string };
const frames = (stdout: string): Frame[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Frame);

describe('--since values', () => {
  it('durations count back from now; ISO times are taken as given; anything else is refused', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(parseSince('90s', now)).toBe(now - 90_000);
    expect(parseSince('1h30m', now)).toBe(now - 5_400_000);
    expect(parseSince('2d', now)).toBe(now - 2 * 86_400_000);
    expect(parseSince('250ms', now)).toBe(now - 250);
    expect(parseSince('2026-11-30T01:00:00Z', now)).toBe(Date.parse('2026-11-30T01:00:00Z'));
    expect(parseSince('2026-11-30', now)).toBe(Date.parse('2026-11-30'));
    for (const bad of ['', 'yesterday', '10', '10x', '-5m', 'm', '2026-13-45T99:00:00Z', 'May 1'])
      expect(parseSince(bad, now), bad).toBeUndefined();
  });
});

describe('agentd logs: times, --timestamps, --tail, --since', { timeout: 180_000 }, () => {
  const held = useDaemon();
  const sock = (): string[] => ['--socket', held.current.socket];
  let runId = '';
  const submitted = async (): Promise<string> => {
    if (runId) return runId;
    const res = await runAgentd(['submit', 'logs check', '--json', ...sock()]);
    expect(res.code).toBe(0);
    runId = frames(res.stdout).find((f) => f.kind === 'end')!['run_id'] as string;
    return runId;
  };

  it("times count from the run's submission and are never negative, however long ago it ran", async () => {
    const id = await submitted();
    await new Promise((r) => setTimeout(r, 1500)); // "now" is well past the run
    const res = await runAgentd(['logs', id, ...sock()], { env: { NO_COLOR: '1' } });
    expect(res.code).toBe(0);
    const times = [...res.stdout.matchAll(/^\s*(-?\d+\.\d\d)s /gm)].map((m) => Number(m[1]));
    expect(times.length).toBeGreaterThan(3);
    expect(times[0]).toBeLessThan(1); // its first event (RunSubmitted) is the submission
    expect(times.every((t) => t >= 0)).toBe(true);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.at(-1)!).toBeLessThan(1.5 + 60); // relative to the run, not to now
  });

  it('--timestamps prints absolute ISO times', async () => {
    const id = await submitted();
    const res = await runAgentd(['logs', id, '--timestamps', ...sock()], { env: { NO_COLOR: '1' } });
    expect(res.code).toBe(0);
    const iso = res.stdout.split('\n').filter((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /.test(l));
    expect(iso.length).toBeGreaterThan(3);
    expect(res.stdout).not.toMatch(/^\s*\d+\.\d\ds /m);
  });

  it('--tail N replays the last N events, --since only the events from then on', async () => {
    const id = await submitted();
    const all = frames((await runAgentd(['logs', id, '--json', ...sock()])).stdout).filter((f) => f.kind === 'event');
    expect(all.length).toBeGreaterThan(5);
    const tail = await runAgentd(['logs', id, '--json', '--tail', '3', ...sock()]);
    expect(tail.code).toBe(0);
    const last = frames(tail.stdout);
    expect(last.filter((f) => f.kind === 'event')).toEqual(all.slice(-3));
    expect(last.at(-1)).toMatchObject({ kind: 'end', run_id: id, status: 'completed' });
    expect(
      frames((await runAgentd(['logs', id, '--json', '--tail', '0', ...sock()])).stdout).map((f) => f.kind),
    ).toEqual(['end']);
    const hour = frames((await runAgentd(['logs', id, '--json', '--since', '1h', ...sock()])).stdout).filter(
      (f) => f.kind === 'event',
    );
    expect(hour).toEqual(all);
    const pivot = (all[Math.floor(all.length / 2)]!['event'] as { ts: string }).ts;
    const later = frames((await runAgentd(['logs', id, '--json', '--since', pivot, ...sock()])).stdout).filter(
      (f) => f.kind === 'event',
    );
    expect(later).toEqual(all.filter((f) => (f['event'] as { ts: string }).ts >= pivot));
    expect(later.length).toBeLessThan(all.length);
    const future = await runAgentd(['logs', id, '--json', '--since', '2999-01-01T00:00:00Z', ...sock()]);
    expect(frames(future.stdout).map((f) => f.kind)).toEqual(['end']);
  });

  it('bad --tail and --since values exit 2 naming the flag and the accepted forms', async () => {
    const id = await submitted();
    for (const [flag, value] of [
      ['--tail', 'ten'],
      ['--tail', '-1'],
      ['--tail', '1.5'],
      ['--since', 'yesterday'],
      ['--since', '10'],
    ] as const) {
      const res = await runAgentd(['logs', id, flag, value, ...sock()]);
      expect(res.code, `${flag} ${value}`).toBe(2);
      expect(res.stderr).toContain(`agentd logs: ${flag} must be`);
      expect(res.stderr).toContain(value);
      if (flag === '--since') expect(res.stderr).toMatch(/90s, 10m.*ISO time/);
      expect(res.stdout).toBe('');
    }
  });

  it('status shows the whole result and goal, however long', async () => {
    const id = await submitted();
    const res = await runAgentd(['status', id, ...sock()]);
    expect(res.code).toBe(0);
    const rec = JSON.parse((await runAgentd(['status', id, '--json', ...sock()])).stdout) as { result: string };
    expect(rec.result.length).toBeGreaterThan(0);
    const firstLine = rec.result.split('\n')[0]!;
    expect(res.stdout).toContain(`  result     ${firstLine}`);
    for (const line of rec.result.split('\n').slice(1)) expect(res.stdout).toContain(line.trimEnd());
    expect(res.stdout).not.toContain('…');
  });
});
