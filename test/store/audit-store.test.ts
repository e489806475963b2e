import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditStore } from '../../src/store/audit-store.js';
import { openStore, type RecordIssue, type Store } from '../../src/store/lmdb-env.js';

// The durable audit log's batches (v3: one JSON text per batch), as queries and a restart see them.
let dir: string;
let store: Store;
let issues: RecordIssue[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aaos-audit-'));
  issues = [];
  store = openStore(dir, { onInvalid: (i) => issues.push(i) });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const ev = (agent: string, n: number, extra: Record<string, unknown> = {}) => ({
  type: 'ToolInvoked',
  agent_id: agent,
  agent_name: agent,
  run_id: `run-${agent}`,
  n,
  ...extra,
});

describe('AuditStore batches', () => {
  it('never loses sight of an event between its commit and the next read', async () => {
    const audit = new AuditStore(store);
    for (let round = 1; round <= 40; round++) {
      // a read in this turn pins a snapshot; the commit that follows happens on lmdb's write thread
      expect(audit.query({ agentId: 'a', limit: 10_000 }).length).toBe(round - 1);
      audit.append(ev('a', round));
      await audit.settle();
      const seen = audit.query({ agentId: 'a', limit: 10_000 }).map((e) => e.event['n']);
      expect(seen).toEqual(Array.from({ length: round }, (_, i) => i + 1));
      expect(audit.query({ runId: 'run-a', limit: 10_000 }).length).toBe(round);
    }
    await audit.settle();
  });

  it('stores a burst larger than one batch in order, and a fresh store reads it back', async () => {
    const audit = new AuditStore(store);
    for (let i = 1; i <= 3000; i++) audit.append(ev(i % 3 ? 'x' : 'y', i));
    await audit.settle();
    const again = new AuditStore(store);
    expect(again.count).toBe(3000);
    const all = again.query({ limit: 5000 });
    expect(all.map((e) => e.key)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(all.every((e) => e.event['n'] === e.key)).toBe(true);
    expect(again.query({ agentId: 'y', limit: 5000 }).length).toBe(1000);
    expect(again.unstored).toBe(0);
  });

  it('counts a batch JSON cannot express as unstored, keeps running, and stores the next batch', async () => {
    const audit = new AuditStore(store);
    audit.append(ev('a', 1, { bad: 10n }));
    await audit.settle();
    expect(audit.unstored).toBe(1);
    expect(store.health().writeFailures).toBe(1);
    audit.append(ev('a', 2));
    await audit.settle();
    expect(audit.unstored).toBe(1);
    expect(store.health().writable).toBe(true);
    await audit.settle();
    const again = new AuditStore(store);
    expect(again.query().map((e) => e.event['n'])).toEqual([2]);
  });

  it('reads batches written by the previous format (v2, events as an msgpack array)', () => {
    store.transaction(() =>
      store.db('audit').putSync(1, { v: 2, at: 1, first: 1, events: [ev('old', 1), ev('old', 2)] }),
    );
    const audit = new AuditStore(store);
    expect(audit.count).toBe(2);
    expect(audit.append(ev('new', 3))).toBe(3);
    expect(audit.query().map((e) => e.event['n'])).toEqual([1, 2, 3]);
    expect(issues).toEqual([]);
  });

  it('reports a v3 batch whose events text is damaged, and skips it', () => {
    store.transaction(() => store.db('audit').putSync(1, { v: 3, at: 1, first: 1, count: 2, events: '[{"n":1}' }));
    store.transaction(() => store.db('audit').putSync(3, { v: 3, at: 1, first: 3, count: 2, events: '[{"n":3}]' }));
    const audit = new AuditStore(store);
    expect(audit.query()).toEqual([]);
    // reported each time a read meets them (opening reads the newest and oldest too)
    expect(new Set(issues.map((i) => i.key))).toEqual(new Set(['1', '3']));
    expect(issues.every((i) => i.db === 'audit' && i.reason.startsWith('invalid record: events:') && i.v === 3)).toBe(
      true,
    );
  });
});

describe('AuditStore.latest (logs --tail)', () => {
  it('reads the newest events from the end of a long history, however long', async () => {
    const audit = new AuditStore(store);
    for (let i = 1; i <= 12_000; i++) audit.append(ev(i % 4 === 0 ? 'b' : 'a', i));
    await audit.settle();
    const tail = audit.latest({ agentId: 'a', limit: 3 }).map((e) => e.event['n']);
    expect(tail).toEqual([11_997, 11_998, 11_999]);
    expect(audit.latest({ runId: 'run-b', limit: 2 }).map((e) => e.event['n'])).toEqual([11_996, 12_000]);
    expect(audit.latest({ limit: 1 }).map((e) => e.event['n'])).toEqual([12_000]);
    expect(audit.latest({ agentId: 'a', limit: 0 })).toEqual([]);
    // an id that is another's prefix shares no events with it
    audit.append(ev('a0', 1));
    expect(audit.latest({ agentId: 'a', limit: 1 }).map((e) => e.event['n'])).toEqual([11_999]);
    await audit.settle();
  });

  it('equals the matching history cut to its last N, whatever was stored, written or pending (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ agent: fc.constantFrom('a', 'b', 'c'), settle: fc.boolean() }), {
          minLength: 0,
          maxLength: 120,
        }),
        fc.constantFrom('a', 'b', 'c'),
        fc.nat({ max: 130 }),
        fc.nat({ max: 3 }),
        async (steps, agent, limit, mod) => {
          const sub = mkdtempSync(join(tmpdir(), 'aaos-audit-p-'));
          const s = openStore(sub);
          try {
            const audit = new AuditStore(s);
            for (const [i, step] of steps.entries()) {
              audit.append(ev(step.agent, i));
              if (step.settle) await audit.settle();
            }
            const accept = (e: Record<string, unknown>): boolean => (e['n'] as number) % 4 >= mod;
            const all = audit.query({ agentId: agent, limit: 10_000 }).filter((e) => accept(e.event));
            expect(audit.latest({ agentId: agent, limit }, accept)).toEqual(limit === 0 ? [] : all.slice(-limit));
            await audit.settle();
          } finally {
            await s.close();
            rmSync(sub, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
