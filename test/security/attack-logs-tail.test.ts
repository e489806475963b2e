import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditStore } from '../../src/store/audit-store.js';
import { openStore } from '../../src/store/lmdb-env.js';

// The attacker's side of `logs --tail` (AuditStore.latest, read newest first through the
// per-agent / per-run index): ids that are prefixes of one another, ids that share a stem
// past the key separator ('/'), and tails far longer than the history. Whatever was stored,
// in flight or pending, the tail of one id is exactly the newest events carrying that id.

const IDS = ['a', 'a0', 'ab', 'a/b', 'a/', 'b'] as const;

describe('logs --tail against look-alike ids', () => {
  it('the tail of an id holds only its own events, the newest N, oldest first (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ agent: fc.constantFrom(...IDS), run: fc.constantFrom(...IDS), settle: fc.boolean() }), {
          maxLength: 80,
        }),
        fc.constantFrom(...IDS),
        fc.constantFrom(0, 1, 3, 50, 1_000_000),
        async (steps, id, limit) => {
          const dir = mkdtempSync(join(tmpdir(), 'aaos-attack-tail-'));
          const store = openStore(dir);
          try {
            const audit = new AuditStore(store);
            for (const [n, s] of steps.entries()) {
              audit.append({ type: 'ToolInvoked', agent_id: s.agent, run_id: s.run, n });
              if (s.settle) await audit.settle();
            }
            const all = audit.query({ limit: 1_000_000 }).map((e) => e.event);
            for (const field of ['agent_id', 'run_id'] as const) {
              const filter = field === 'agent_id' ? { agentId: id } : { runId: id };
              const tail = audit.latest({ ...filter, limit }).map((e) => e.event);
              // never another id's event (a prefix, or a stem before '/')
              expect(tail.every((e) => e[field] === id)).toBe(true);
              // the same events `logs` without --tail shows, cut to the last N
              const history = audit.query({ ...filter, limit: 1_000_000 }).map((e) => e.event);
              expect(tail).toEqual(limit === 0 ? [] : history.slice(-limit));
              // and, for an id a store key can hold, every event of the whole log carrying it
              if (!id.includes('/')) {
                const mine = all.filter((e) => e[field] === id);
                expect(tail).toEqual(limit === 0 ? [] : mine.slice(-limit));
              }
            }
            await audit.settle();
          } finally {
            await store.close();
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 12 },
    );
  });
});
