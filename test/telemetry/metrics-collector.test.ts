import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { MetricsCollector, type MetricsSources } from '../../src/telemetry/metrics.js';
import { sample } from '../support/prometheus.js';

const sources: MetricsSources = {
  agents: () => [{ state: 'running' }, { state: 'parked' }, { state: 'parked' }],
  runs: () => ({ queued: 2, running: 1 }),
  approvalsPending: () => 4,
  scheduler: () => [{ provider: 'scripted', queued: 5, inFlight: 3 }],
  workerHeaps: async () => [{ id: 'a1', name: 'alpha', heapBytes: 1234 }],
  isTool: (name) => name === 'file_read',
};

describe('the metrics collector', () => {
  it('samples gauges at scrape time and counts from the audit stream', async () => {
    const audit = new AuditLog();
    const metrics = new MetricsCollector(audit, sources);
    const h = { agent_id: 'a1', agent_name: 'alpha' };
    audit.emit({
      ...h,
      type: 'ToolResult',
      tool: 'file_read',
      success: false,
      duration_ms: 12,
      result_preview: 'x',
      error_code: 'AAOS_ERR_PATH_DENIED',
    });
    audit.emit({
      ...h,
      type: 'CapabilityDenied',
      capability: 'network: evil.example',
      reason: 'no',
      code: 'AAOS_ERR_CAPABILITY_DENIED',
      tool: 'web_fetch',
    });
    audit.emit({
      ...h,
      type: 'UsageReported',
      model: 'm',
      provider: 'scripted',
      input_tokens: 10,
      output_tokens: 3,
      duration_ms: 1500,
      queue_ms: 20,
    });
    const text = await metrics.text();
    expect(sample(text, 'aaos_agents', { state: 'parked' })).toBe(2);
    expect(sample(text, 'aaos_runs', { state: 'queued' })).toBe(2);
    expect(sample(text, 'aaos_approvals_pending')).toBe(4);
    expect(sample(text, 'aaos_scheduler_queue_depth', { provider: 'scripted' })).toBe(5);
    expect(sample(text, 'aaos_worker_heap_used_bytes', { agent_name: 'alpha' })).toBe(1234);
    expect(sample(text, 'aaos_tool_calls_total', { tool: 'file_read', outcome: 'error' })).toBe(1);
    expect(sample(text, 'aaos_capability_denials_total', { kind: 'network' })).toBe(1);
    expect(sample(text, 'aaos_model_tokens_total', { direction: 'input' })).toBe(10);
    expect(sample(text, 'aaos_model_call_duration_seconds_bucket', { le: '2' })).toBe(1);
    expect(sample(text, 'aaos_model_call_duration_seconds_bucket', { le: '1' })).toBe(0);
    metrics.close();
  });

  it('a model inventing tool names cannot grow the label set: unknown names count as unknown', async () => {
    const audit = new AuditLog();
    const metrics = new MetricsCollector(audit, sources);
    for (let i = 0; i < 500; i++) {
      audit.emit({
        agent_id: 'a',
        agent_name: 'a',
        type: 'CapabilityDenied',
        capability: `tool: made_up_${i}`,
        reason: 'no',
        code: 'AAOS_ERR_CAPABILITY_DENIED',
        tool: `made_up_${i}`,
      });
    }
    const text = await metrics.text();
    expect(sample(text, 'aaos_tool_calls_total', { tool: 'unknown', outcome: 'denied' })).toBe(500);
    expect(text).not.toContain('made_up_');
    metrics.close();
  });
});
