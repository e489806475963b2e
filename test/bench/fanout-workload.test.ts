import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The benchmark's fan-out workload, run once at a small N against dist/ so that it cannot rot
// unnoticed. Only the work done is checked (counts from the gateway and the audit log); timing
// belongs to `npm run bench`.
const root = fileURLToPath(new URL('../..', import.meta.url));
const N = 10;

interface FanoutRow {
  children: number;
  model_latency_ms: number;
  audit_events_per_run: number;
  audit_events_by_type: Record<string, number>;
  supervisor_cpu_ms_per_child: number | null;
  checks: {
    aaos: { root_model_calls: number; child_model_calls: number; tool_calls: number; children_finished: number };
  };
}

describe('bench fan-out workload (N = 10, L = 0)', () => {
  it('does the whole workload through the built runtime', { timeout: 120_000 }, () => {
    const args = [
      '--expose-gc',
      'bench/suites/fanout.mjs',
      '--children',
      String(N),
      '--latencies',
      '0',
      '--reps',
      '1',
      '--warmup',
      '0',
      '--no-cold',
    ];
    const out = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 110_000 });
    expect(out.status, out.stderr).toBe(0);
    const last = out.stdout.trim().split('\n').at(-1) ?? '';
    const report = JSON.parse(last) as {
      ok: boolean;
      skipped?: string;
      error?: string;
      results: { fanout: FanoutRow[] };
    };
    expect(report.skipped, 'the suite must not skip (is dist/ built?)').toBeUndefined();
    expect(report.ok, report.error).toBe(true);
    const [row] = report.results.fanout;
    expect(row).toBeDefined();
    if (!row) return;
    expect(row.children).toBe(N);
    expect(row.checks.aaos).toMatchObject({
      root_model_calls: 2,
      child_model_calls: N * 4,
      tool_calls: N * 3,
      children_finished: N,
    });
    // every child's grant, spawn, delivery, model calls, tool calls, revocation and stop is
    // audited, each fact once: 16 events per child (its stop's running → stopping → stopped is
    // the one AgentStopped, which names the state it stopped from), and the root's delivery
    // with its 2 model calls and its spawn_agents call
    const perChild: Record<string, number> = {
      CapabilityGranted: 1, // its one narrowed token (tool: echo)
      AgentSpawned: 1,
      AgentExecutionStarted: 1,
      UsageReported: 4,
      ToolInvoked: 3,
      ToolResult: 3,
      AgentExecutionCompleted: 1,
      CapabilityRevoked: 1,
      AgentStopped: 1,
    };
    const rootAgent: Record<string, number> = {
      AgentExecutionStarted: 1,
      UsageReported: 2,
      ToolInvoked: 1,
      ToolResult: 1,
      AgentExecutionCompleted: 1,
    };
    const expected: Record<string, number> = {};
    for (const [type, n] of Object.entries(perChild)) expected[type] = N * n;
    for (const [type, n] of Object.entries(rootAgent)) expected[type] = (expected[type] ?? 0) + n;
    expect(row.audit_events_by_type).toEqual(expected);
    expect(row.audit_events_per_run).toBe(16 * N + 6);
    expect(row.supervisor_cpu_ms_per_child).toBeGreaterThan(0);
  });
});
