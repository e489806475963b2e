import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import type { AuditInput } from '../../src/audit/event.js';
import { BudgetLedger } from '../../src/providers/budget.js';
import { ModelGateway } from '../../src/providers/gateway.js';

describe('BudgetLedger', () => {
  it('refuses when used + reserved + estimate would pass the limit, and when the limit is reached', () => {
    const ledger = new BudgetLedger(() => 0);
    ledger.register('a', undefined, { max_tokens: 100, reset_period_seconds: 0 });
    const first = ledger.admit('a', 60);
    expect(first.ok).toBe(true);
    // the first call is still in flight: its estimate is reserved
    expect(ledger.admit('a', 60)).toEqual({
      ok: false,
      refusal: { owner: 'a', used: 0, reserved: 60, max: 100, estimate: 60 },
    });
    if (first.ok) ledger.settle(first.reservation, 100);
    expect(ledger.snapshot('a')).toMatchObject({ used: 100, reserved: 0 });
    expect(ledger.admit('a', 0)).toMatchObject({ ok: false, refusal: { used: 100, max: 100 } });
  });

  it('a cancelled call releases its reservation and charges nothing', () => {
    const ledger = new BudgetLedger(() => 0);
    ledger.register('a', undefined, { max_tokens: 10, reset_period_seconds: 0 });
    const admission = ledger.admit('a', 10);
    if (!admission.ok) throw new Error('expected admission');
    ledger.cancel(admission.reservation);
    ledger.cancel(admission.reservation);
    expect(ledger.snapshot('a')).toMatchObject({ used: 0, reserved: 0 });
  });

  it('charges every ancestor; the nearest exhausted budget refuses', () => {
    const ledger = new BudgetLedger(() => 0);
    ledger.register('root', undefined, { max_tokens: 1000, reset_period_seconds: 0 });
    ledger.register('mid'); // no budget of its own, still on the chain
    ledger.register('leaf', 'mid', { max_tokens: 500, reset_period_seconds: 0 });
    ledger.register('mid', 'root');
    const admission = ledger.admit('leaf', 10);
    if (!admission.ok) throw new Error('expected admission');
    ledger.settle(admission.reservation, 990);
    expect(ledger.snapshot('leaf')?.used).toBe(990);
    expect(ledger.snapshot('mid')?.used).toBe(990);
    expect(ledger.snapshot('root')?.used).toBe(990);
    expect(ledger.admit('leaf', 5)).toMatchObject({ ok: false, refusal: { owner: 'leaf' } });
    expect(ledger.admit('mid', 20)).toMatchObject({ ok: false, refusal: { owner: 'root', used: 990, max: 1000 } });
  });

  it('resets once per window, derived from the clock', () => {
    let now = 1_000_000;
    const ledger = new BudgetLedger(() => now);
    ledger.register('a', undefined, { max_tokens: 50, reset_period_seconds: 60 });
    const a = ledger.admit('a', 1);
    if (!a.ok) throw new Error('expected admission');
    ledger.settle(a.reservation, 50);
    expect(ledger.admit('a', 1).ok).toBe(false);
    now += 59_999;
    expect(ledger.admit('a', 1).ok).toBe(false);
    now += 1;
    const b = ledger.admit('a', 1);
    expect(b.ok).toBe(true);
    expect(ledger.snapshot('a')).toMatchObject({ used: 0, window_start: 1_060_000 });
    // usage recorded in the new window is not wiped by a second look at the clock
    if (b.ok) ledger.settle(b.reservation, 30);
    expect(ledger.snapshot('a')?.used).toBe(30);
    // a call admitted in one window and finished in the next lands in the next
    const c = ledger.admit('a', 1);
    now += 60_000;
    if (c.ok) ledger.settle(c.reservation, 20);
    expect(ledger.snapshot('a')).toMatchObject({ used: 20, reserved: 0, window_start: 1_120_000 });
  });
});

describe('budgets through the gateway (scripted usage)', () => {
  let dir: string;
  let file: string;
  let events: AuditInput[];
  let now: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aaos-budget-'));
    file = join(dir, 'model.yaml');
    // 25 tokens per call, whatever the request
    writeFileSync(file, '- text: "ok"\n  usage: {input_tokens: 5, output_tokens: 20}\n');
    events = [];
    now = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const req = { system: '', messages: [{ role: 'user' as const, content: 'hi' }], tools: [], max_tokens: 10 };
  const gw = () => new ModelGateway({ env: {}, emit: (e) => events.push(e), clock: () => now });
  const ctx = (id: string) => ({ agent_id: id, agent_name: id });

  it('an agent stops exactly at its limit, without sending the refused call', async () => {
    const g = gw();
    g.registerAgent({ id: 'a', name: 'alpha', runId: 'r1' }, { max_tokens: 100, reset_period_seconds: 0 });
    for (let i = 0; i < 4; i++)
      await g.complete({ id: 'a', name: 'alpha', runId: 'r1' }, `scripted:${file}`, req, ctx('a'));
    expect(g.budgets.snapshot('a')?.used).toBe(100);
    await expect(
      g.complete({ id: 'a', name: 'alpha', runId: 'r1' }, `scripted:${file}`, req, ctx('a')),
    ).rejects.toMatchObject({
      code: ErrorCode.BUDGET_EXCEEDED,
      message: expect.stringMatching(/agent 'alpha' \(a\).*used 100 of 100 tokens/),
      details: { budget_agent_id: 'a', used_tokens: 100, max_tokens: 100 },
    });
    expect(events.filter((e) => e.type === 'UsageReported')).toHaveLength(4);
    expect(events.filter((e) => e.type === 'BudgetExceeded')).toEqual([
      {
        agent_id: 'a',
        agent_name: 'alpha',
        run_id: 'r1',
        type: 'BudgetExceeded',
        max_tokens: 100,
        used_tokens: 100,
        requested_by: 'a',
      },
    ]);
  });

  it("a child's usage exhausts its parent's budget, so the parent's next call is refused", async () => {
    const g = gw();
    g.registerAgent({ id: 'p', name: 'parent' }, { max_tokens: 50, reset_period_seconds: 0 });
    g.registerAgent({ id: 'c', name: 'child', parentId: 'p' });
    await g.complete({ id: 'c', name: 'child', parentId: 'p' }, `scripted:${file}`, req, ctx('c'));
    await g.complete({ id: 'c', name: 'child', parentId: 'p' }, `scripted:${file}`, req, ctx('c'));
    expect(g.budgets.snapshot('p')?.used).toBe(50);
    await expect(g.complete({ id: 'p', name: 'parent' }, `scripted:${file}`, req, ctx('p'))).rejects.toMatchObject({
      code: ErrorCode.BUDGET_EXCEEDED,
      details: { budget_agent_id: 'p' },
    });
    await expect(
      g.complete({ id: 'c', name: 'child', parentId: 'p' }, `scripted:${file}`, req, ctx('c')),
    ).rejects.toMatchObject({
      code: ErrorCode.BUDGET_EXCEEDED,
      message: expect.stringContaining("ancestor 'parent' (p) of agent 'child' (c)"),
    });
    expect(events.filter((e) => e.type === 'BudgetExceeded')).toEqual([
      {
        agent_id: 'p',
        agent_name: 'parent',
        type: 'BudgetExceeded',
        max_tokens: 50,
        used_tokens: 50,
        requested_by: 'p',
      },
      {
        agent_id: 'p',
        agent_name: 'parent',
        type: 'BudgetExceeded',
        max_tokens: 50,
        used_tokens: 50,
        requested_by: 'c',
      },
    ]);
  });

  it('the budget comes back after its reset period', async () => {
    const g = gw();
    g.registerAgent({ id: 'a', name: 'a' }, { max_tokens: 25, reset_period_seconds: 3600 });
    await g.complete({ id: 'a', name: 'a' }, `scripted:${file}`, req, ctx('a'));
    await expect(g.complete({ id: 'a', name: 'a' }, `scripted:${file}`, req, ctx('a'))).rejects.toMatchObject({
      code: ErrorCode.BUDGET_EXCEEDED,
    });
    now += 3600 * 1000;
    await expect(g.complete({ id: 'a', name: 'a' }, `scripted:${file}`, req, ctx('a'))).resolves.toMatchObject({
      usage: { input_tokens: 5, output_tokens: 20 },
    });
  });

  it('refuses a first call whose estimated input alone exceeds the budget', async () => {
    const g = gw();
    g.registerAgent({ id: 'a', name: 'a' }, { max_tokens: 10 });
    const big = { ...req, messages: [{ role: 'user' as const, content: 'x'.repeat(44) }] };
    await expect(g.complete({ id: 'a', name: 'a' }, `scripted:${file}`, big, ctx('a'))).rejects.toMatchObject({
      code: ErrorCode.BUDGET_EXCEEDED,
      details: { estimated_input_tokens: 11, used_tokens: 0 },
    });
  });
});
