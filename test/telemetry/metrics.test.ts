import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RawClient,
  removeDir,
  startDaemon,
  streamToEnd,
  tempDataDir,
  type DaemonProcess,
} from '../daemon/daemon-process.js';
import { sample } from '../support/prometheus.js';

describe('/metrics on the built daemon', { timeout: 120_000 }, () => {
  let daemon: DaemonProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await daemon?.stop();
    if (dir) removeDir(dir);
  });

  it('refuses a scrape without the token, and after a goal shows the counters moved', async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir, args: ['--http', '127.0.0.1:0'] });
    const url = readFileSync(join(dir, 'http-url'), 'utf8').trim();
    const token = readFileSync(join(dir, 'http-token'), 'utf8').trim();
    expect(daemon.stderr()).toContain(`console, /metrics and /mcp on ${url}`);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    const scrape = async (): Promise<string> => {
      const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      return res.text();
    };
    const before = await scrape();
    expect(sample(before, 'aaos_agents', { state: 'running' })).toBe(1);
    expect(sample(before, 'aaos_model_calls_total', { provider: 'scripted' })).toBe(0);

    const client = await RawClient.open(daemon.socket);
    const { end } = await streamToEnd(
      client,
      client.send('agent.submit_streaming', { goal: 'Report on the bike-share pilot.' }),
    );
    expect(end['status']).toBe('completed');
    client.close();

    const after = await scrape();
    expect(sample(after, 'aaos_runs_finished_total', { state: 'completed' })).toBe(1);
    expect(sample(after, 'aaos_model_calls_total', { provider: 'scripted' })).toBeGreaterThan(0);
    expect(sample(after, 'aaos_model_tokens_total', { provider: 'scripted', direction: 'output' })).toBeGreaterThan(0);
    expect(sample(after, 'aaos_model_call_duration_seconds_count', { provider: 'scripted' })).toBeGreaterThan(0);
    expect(sample(after, 'aaos_scheduler_wait_seconds_count', { provider: 'scripted' })).toBeGreaterThan(0);
    expect(sample(after, 'aaos_tool_calls_total', { tool: 'spawn_agent', outcome: 'ok' })).toBe(1);
    expect(sample(after, 'aaos_tool_calls_total', { tool: 'file_write', outcome: 'ok' })).toBeGreaterThan(0);
    // the demo's publisher asks for a path the bootstrap agent does not hold
    expect(sample(after, 'aaos_capability_denials_total', { kind: 'file_write' })).toBeGreaterThan(0);
    expect(sample(after, 'aaos_runs', { state: 'running' })).toBe(0);
    expect(sample(after, 'aaos_approvals_pending')).toBe(0);
    expect(after).toMatch(/^aaos_event_loop_utilization \d/m);
    expect(after).toMatch(/^aaos_event_loop_lag_seconds\{stat="p99"\} \d/m);
    expect(sample(after, 'aaos_worker_heap_used_bytes', { agent_name: 'bootstrap' })).toBeGreaterThan(1_000_000);
    expect(after).toContain('aaos_scheduler_queue_depth{provider="scripted"} 0');
  });
});
