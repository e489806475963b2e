import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentStore } from '../../src/store/agent-store.js';
import { ApprovalStore } from '../../src/store/approval-store.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { openStore, type RecordIssue, type Store } from '../../src/store/lmdb-env.js';
import { RunStore } from '../../src/store/run-store.js';

let dir: string;
let store: Store;
let issues: RecordIssue[];

const reopen = async (): Promise<void> => {
  await store.close();
  store = openStore(dir, { onInvalid: (i) => issues.push(i) });
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aaos-records-'));
  issues = [];
  store = openStore(dir, { onInvalid: (i) => issues.push(i) });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('openStore', () => {
  it('creates <dataDir>/store and refuses use after close', async () => {
    const nested = join(dir, 'deep', 'data');
    const s = openStore(nested);
    expect(s.path).toBe(join(nested, 'store'));
    await s.close();
    expect(s.closed).toBe(true);
    expect(() => s.db('runs')).toThrow(/closed/);
  });
});

describe('RunStore', () => {
  it('creates durably, updates, lists and finds unfinished runs across a restart', async () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const runs = new RunStore(store, { now: () => (t += 1000) });
    runs.create({ run_id: 'r1', goal: 'first', agent_id: 'a1', workspace: '/w/1' });
    runs.create({ run_id: 'r2', goal: 'second', agent_id: 'a2', workspace: '/w/2' });
    runs.create({ run_id: 'r3', goal: 'third', agent_id: 'a3', workspace: '/w/3' });
    expect(() => runs.create({ run_id: 'r1', goal: 'dup', agent_id: 'a1', workspace: '/w' })).toThrow(/already exists/);
    runs.update('r1', { state: 'running', started_at: '2026-01-01T00:00:05Z' });
    runs.update('r2', {
      state: 'completed',
      ended_at: '2026-01-01T00:01:00Z',
      result: 'ok',
      usage: { input_tokens: 10, output_tokens: 5 },
    });
    expect(() => runs.update('nope', { state: 'failed' })).toThrow(
      expect.objectContaining({ code: 'AAOS_ERR_RUN_NOT_FOUND' }),
    );

    await reopen();
    const again = new RunStore(store);
    expect(again.get('r2')).toMatchObject({
      v: 1,
      state: 'completed',
      result: 'ok',
      usage: { input_tokens: 10, output_tokens: 5 },
    });
    expect(again.list().map((r) => r.run_id)).toEqual(['r3', 'r2', 'r1']);
    expect(again.list({ state: 'completed' }).map((r) => r.run_id)).toEqual(['r2']);
    expect(again.list({ limit: 1 }).map((r) => r.run_id)).toEqual(['r3']);
    expect(again.unfinished().map((r) => [r.run_id, r.state])).toEqual([
      ['r1', 'running'],
      ['r3', 'queued'],
    ]);
    // an undefined field in a patch removes it
    expect(again.update('r2', { result: undefined }).result).toBeUndefined();
    expect(again.get('r2')).not.toHaveProperty('result');
  });

  it('reports a record with an unknown version instead of dropping it silently', () => {
    const runs = new RunStore(store);
    runs.create({ run_id: 'good', goal: 'g', agent_id: 'a', workspace: '/w' });
    store.transaction(() => store.db('runs').putSync('future', { v: 2, run_id: 'future', shiny: true }));
    expect(runs.list().map((r) => r.run_id)).toEqual(['good']);
    expect(runs.get('future')).toBeUndefined();
    expect(issues.length).toBeGreaterThanOrEqual(2);
    expect(issues[0]).toMatchObject({ db: 'runs', key: 'future', v: 2 });
    expect(issues[0]?.reason).toMatch(/unsupported schema version 2/);
  });
});

describe('AgentStore', () => {
  it('round-trips persistent agents across a restart, with updates', async () => {
    const agents = new AgentStore(store);
    agents.put({
      id: 'id-1',
      name: 'helper',
      manifest_yaml: 'name: helper\n',
      state: 'running',
      created_at: '2026-01-01T00:00:00Z',
    });
    agents.put({
      id: 'id-2',
      name: 'other',
      manifest_yaml: 'name: other\n',
      manifest_path: '/etc/aaos/other.yaml',
      state: 'running',
      created_at: '2026-01-02T00:00:00Z',
    });
    agents.update('id-1', { parked: true, state: 'parked' });
    await reopen();
    const again = new AgentStore(store);
    expect(again.list().map((a) => a.id)).toEqual(['id-1', 'id-2']);
    expect(again.get('id-1')).toEqual({
      v: 1,
      id: 'id-1',
      name: 'helper',
      manifest_yaml: 'name: helper\n',
      state: 'parked',
      created_at: '2026-01-01T00:00:00Z',
      parked: true,
    });
    expect(again.remove('id-2')).toBe(true);
    expect(again.remove('id-2')).toBe(false);
    expect(() => again.update('id-2', { state: 'x' })).toThrow(
      expect.objectContaining({ code: 'AAOS_ERR_AGENT_NOT_FOUND' }),
    );
  });

  it('reports a bad version', () => {
    store.transaction(() => store.db('agents').putSync('old', { v: 0, id: 'old' }));
    expect(new AgentStore(store).list()).toEqual([]);
    expect(issues).toEqual([expect.objectContaining({ db: 'agents', key: 'old', v: 0 })]);
  });
});

describe('ApprovalStore', () => {
  it('has exactly save/remove/loadAll and round-trips across a restart', async () => {
    const approvals = new ApprovalStore(store);
    const methods = Object.getOwnPropertyNames(ApprovalStore.prototype).filter((m) => m !== 'constructor');
    expect(methods.sort()).toEqual(['loadAll', 'remove', 'save']);
    approvals.save({
      v: 1,
      id: 'ap2',
      agent_id: 'a',
      agent_name: 'writer',
      tool: 'file_write',
      input: { path: '/w/x', content: 'hi' },
      requested_at: '2026-01-01T00:00:02Z',
      timeout_ms: 3_600_000,
      status: 'pending',
    });
    approvals.save({
      v: 1,
      id: 'ap1',
      agent_id: 'a',
      agent_name: 'writer',
      tool: 'web_fetch',
      input: { url: 'https://example.com' },
      requested_at: '2026-01-01T00:00:01Z',
      timeout_ms: 3_600_000,
      status: 'pending',
      run_id: 'r1',
    });
    await reopen();
    const again = new ApprovalStore(store);
    const all = again.loadAll();
    expect(all.map((a) => a.id)).toEqual(['ap1', 'ap2']);
    expect(all[0]).toEqual({
      v: 1,
      id: 'ap1',
      agent_id: 'a',
      agent_name: 'writer',
      tool: 'web_fetch',
      input: { url: 'https://example.com' },
      requested_at: '2026-01-01T00:00:01Z',
      timeout_ms: 3_600_000,
      status: 'pending',
      run_id: 'r1',
    });
    again.remove('ap1');
    again.remove('ap1');
    expect(again.loadAll().map((a) => a.id)).toEqual(['ap2']);
  });

  it('reports a bad version', () => {
    store.transaction(() => store.db('approvals').putSync('x', { v: 3, id: 'x' }));
    expect(new ApprovalStore(store).loadAll()).toEqual([]);
    expect(issues).toEqual([expect.objectContaining({ db: 'approvals', key: 'x', v: 3 })]);
  });
});

describe('AuditStore', () => {
  const ev = (agent: string, run: string | undefined, n: number) => ({
    type: 'ToolInvoked',
    agent_id: agent,
    agent_name: agent,
    ...(run ? { run_id: run } : {}),
    ts: new Date(n).toISOString(),
    n,
  });

  it('appends with monotonic keys and queries by agent, run and afterKey across a restart', async () => {
    const audit = new AuditStore(store);
    const k1 = audit.append(ev('a1', 'r1', 1));
    const k2 = audit.append(ev('a2', 'r2', 2));
    const k3 = audit.append(ev('a1', 'r1', 3));
    const k4 = audit.append(ev('a1', undefined, 4));
    expect([k1, k2, k3, k4]).toEqual([1, 2, 3, 4]);
    // visible before the write-behind commits
    expect(audit.query({ agentId: 'a1' }).map((e) => e.key)).toEqual([1, 3, 4]);
    await audit.settle();
    await reopen();
    const again = new AuditStore(store);
    expect(again.count).toBe(4);
    expect(again.append(ev('a2', undefined, 5))).toBe(5);
    expect(again.query().map((e) => e.event['n'])).toEqual([1, 2, 3, 4, 5]);
    expect(again.query({ agentId: 'a1' }).map((e) => e.key)).toEqual([1, 3, 4]);
    expect(again.query({ runId: 'r1' }).map((e) => e.key)).toEqual([1, 3]);
    expect(again.query({ agentId: 'a1', runId: 'r1', afterKey: 1 }).map((e) => e.key)).toEqual([3]);
    expect(again.query({ afterKey: 2, limit: 2 }).map((e) => e.key)).toEqual([3, 4]);
  });

  it('is bounded by count after each committed batch, pruning the oldest, indexes included', async () => {
    const audit = new AuditStore(store, { maxCount: 50, pruneBatch: 5 });
    for (let i = 1; i <= 200; i++) {
      audit.append(ev(i % 2 ? 'odd' : 'even', undefined, i));
      if (i % 40 === 0) {
        await audit.settle();
        expect(audit.count).toBeLessThanOrEqual(50);
      }
    }
    const all = audit.query({ limit: 1000 });
    expect(all.length).toBe(audit.count);
    expect(all.at(-1)?.key).toBe(200);
    expect(all[0]?.key).toBe(200 - all.length + 1);
    // the agent index holds no dangling entries: each points at a stored batch
    const odd = audit.query({ agentId: 'odd', limit: 1000 });
    expect(odd.length).toBeGreaterThan(0);
    expect(odd.every((e) => e.key >= all[0]!.key && (e.event['n'] as number) % 2 === 1)).toBe(true);
    for (const { value } of store.db('audit_by_agent').getRange())
      expect(store.db('audit').get(value as number)).toBeDefined();
  });

  it('is bounded by age, keeps the newest event, and keys stay monotonic after a restart', async () => {
    let now = 1_000_000;
    const audit = new AuditStore(store, { maxAgeMs: 1000, pruneBatch: 3, now: () => now });
    for (let i = 0; i < 10; i++) {
      audit.append(ev('a', undefined, i));
      await audit.settle(); // one batch per event
      now += 100;
    }
    now += 5000;
    expect(audit.pruneExpired()).toBe(9);
    expect(audit.query().map((e) => e.key)).toEqual([10]);
    await reopen();
    const again = new AuditStore(store, { maxAgeMs: 1000, now: () => now });
    expect(again.append(ev('a', undefined, 11))).toBe(11);
  });

  it('rejects invalid bounds and reports a bad record version', () => {
    expect(() => new AuditStore(store, { maxCount: 0 })).toThrow(
      expect.objectContaining({ code: 'AAOS_ERR_CONFIG_INVALID' }),
    );
    const audit = new AuditStore(store);
    audit.append(ev('a', undefined, 1));
    store.transaction(() => store.db('audit').putSync(2, { v: 9, at: 0, event: {} }));
    expect(audit.query().map((e) => e.key)).toEqual([1]);
    expect(issues).toEqual([expect.objectContaining({ db: 'audit', key: '2', v: 9 })]);
  });
});
