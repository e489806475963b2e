import { describe, expect, it } from 'vitest';
import { ApprovalQueue, type ApprovalEvent } from '../../src/approvals/approval-queue.js';
import { MemoryApprovalPersistence } from '../../src/approvals/memory-persistence.js';
import type { AuditInput } from '../../src/audit/event.js';
import { ErrorCode } from '../../src/errors/index.js';

const alice = { id: 'agent-a', name: 'alice', runId: 'run-1' };
const bob = { id: 'agent-b', name: 'bob', parentId: 'agent-a' };

function setup(options: { defaultTimeoutMs?: number } = {}) {
  const events: AuditInput[] = [];
  const persistence = new MemoryApprovalPersistence();
  let now = Date.parse('2025-01-01T00:00:00Z');
  const clock = { advance: (ms: number) => (now += ms) };
  const queue = new ApprovalQueue({ persistence, emit: (e) => events.push(e), clock: () => now, ...options });
  return { queue, events, persistence, clock };
}

/** the id of the one pending approval for `tool` */
function pendingId(queue: ApprovalQueue, tool: string): string {
  const found = queue.list().pending.filter((p) => p.tool === tool);
  expect(found).toHaveLength(1);
  return found[0]!.id;
}

describe('ApprovalQueue', () => {
  it('blocks the caller until approved, lists the request, and audits it', async () => {
    const { queue, events, persistence } = setup();
    let settled = false;
    const call = queue
      .request({ agent: alice, tool: 'file_write', input: { path: '/tmp/x' } })
      .then(() => (settled = true));

    const { pending } = queue.list();
    expect(pending).toEqual([
      {
        id: expect.any(String),
        agent_id: 'agent-a',
        agent_name: 'alice',
        tool: 'file_write',
        input: { path: '/tmp/x' },
        requested_at: '2025-01-01T00:00:00.000Z',
      },
    ]);
    expect(persistence.loadAll()).toHaveLength(1);
    await Promise.resolve();
    expect(settled).toBe(false);

    expect(queue.respond({ id: pending[0]!.id, decision: 'approve' })).toEqual({ ok: true });
    await call;
    expect(settled).toBe(true);
    expect(queue.list().pending).toEqual([]);
    expect(persistence.loadAll()).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['HumanApprovalRequested', 'HumanApprovalGranted']);
    expect(events[0]).toMatchObject({
      agent_id: 'agent-a',
      agent_name: 'alice',
      run_id: 'run-1',
      tool: 'file_write',
      input_preview: '{"path":"/tmp/x"}',
    });
    expect(events[1]).toMatchObject({ scope: 'once', approval_id: pending[0]!.id });
  });

  it('rejects with APPROVAL_DENIED carrying the human reason', async () => {
    const { queue, events } = setup();
    const call = queue.request({ agent: alice, tool: 'web_fetch', input: {} });
    queue.respond({ id: pendingId(queue, 'web_fetch'), decision: 'deny', reason: 'not during the demo' });
    await expect(call).rejects.toMatchObject({
      code: ErrorCode.APPROVAL_DENIED,
      message: 'human denied: not during the demo',
    });
    expect(events.at(-1)).toMatchObject({ type: 'HumanApprovalDenied', reason: 'not during the demo' });
  });

  it('uses a default reason when the human gives none', async () => {
    const { queue } = setup();
    const call = queue.request({ agent: alice, tool: 'web_fetch', input: {} });
    queue.respond({ id: pendingId(queue, 'web_fetch'), decision: 'deny' });
    await expect(call).rejects.toMatchObject({ message: 'human denied: denied by human' });
  });

  it('denies on timeout and says how to wait longer', async () => {
    const { queue, events, persistence } = setup({ defaultTimeoutMs: 10 });
    const err = await queue.request({ agent: alice, tool: 'file_write', input: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.APPROVAL_TIMEOUT });
    expect((err as Error).message).toContain('10 ms');
    expect((err as Error).message).toContain('raise the approval timeout');
    expect(events.at(-1)).toMatchObject({ type: 'HumanApprovalTimedOut', timeout_ms: 10 });
    expect(queue.list().pending).toEqual([]);
    expect(persistence.loadAll()).toEqual([]);
  });

  it('a per-request timeout overrides the default', async () => {
    const { queue } = setup();
    await expect(queue.request({ agent: alice, tool: 'file_write', input: {}, timeoutMs: 5 })).rejects.toMatchObject({
      code: ErrorCode.APPROVAL_TIMEOUT,
    });
  });

  it('a standing grant auto-approves later calls of that agent and tool until it expires', async () => {
    const { queue, events, clock } = setup();
    const first = queue.request({ agent: alice, tool: 'web_fetch', input: { url: 'a' } });
    const firstId = pendingId(queue, 'web_fetch');
    queue.respond({ id: firstId, decision: 'approve', scope: { minutes: 10 } });
    await first;

    // same agent and tool: no human needed
    await queue.request({ agent: alice, tool: 'web_fetch', input: { url: 'b' } });
    expect(queue.list().pending).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'HumanApprovalGranted', scope: 'standing', approval_id: firstId });

    // another tool, or another agent, still asks
    const otherTool = queue.request({ agent: alice, tool: 'file_write', input: {} });
    const otherAgent = queue.request({ agent: bob, tool: 'web_fetch', input: {} });
    expect(
      queue
        .list()
        .pending.map((p) => `${p.agent_name}:${p.tool}`)
        .sort(),
    ).toEqual(['alice:file_write', 'bob:web_fetch']);
    for (const p of queue.list().pending) queue.respond({ id: p.id, decision: 'approve' });
    await Promise.all([otherTool, otherAgent]);

    // after expiry the human is asked again
    clock.advance(10 * 60_000);
    const later = queue.request({ agent: alice, tool: 'web_fetch', input: { url: 'c' } });
    expect(queue.list().pending).toHaveLength(1);
    queue.respond({ id: pendingId(queue, 'web_fetch'), decision: 'approve', scope: 'once' });
    await later;
  });

  it('a standing grant also releases calls of the same agent and tool already waiting', async () => {
    const { queue } = setup();
    const a = queue.request({ agent: alice, tool: 'web_fetch', input: { n: 1 } });
    const b = queue.request({ agent: alice, tool: 'web_fetch', input: { n: 2 } });
    const first = queue.list().pending[0]!;
    queue.respond({ id: first.id, decision: 'approve', scope: { minutes: 1 } });
    await Promise.all([a, b]);
    expect(queue.list().pending).toEqual([]);
  });

  it('keeps concurrent approvals of different agents independent', async () => {
    const { queue } = setup();
    const outcomes: string[] = [];
    const a = queue.request({ agent: alice, tool: 'file_write', input: {} }).then(
      () => outcomes.push('alice approved'),
      () => outcomes.push('alice denied'),
    );
    const b = queue.request({ agent: bob, tool: 'file_write', input: {} }).then(
      () => outcomes.push('bob approved'),
      () => outcomes.push('bob denied'),
    );
    const [pa, pb] = ['alice', 'bob'].map((name) => queue.list().pending.find((p) => p.agent_name === name)!);
    queue.respond({ id: pb!.id, decision: 'deny', reason: 'no' });
    await b;
    expect(outcomes).toEqual(['bob denied']);
    expect(queue.list().pending.map((p) => p.agent_name)).toEqual(['alice']);
    queue.respond({ id: pa!.id, decision: 'approve' });
    await a;
    expect(outcomes).toEqual(['bob denied', 'alice approved']);
  });

  it('answers APPROVAL_NOT_FOUND for an unknown or already answered id', async () => {
    const { queue } = setup();
    expect(() => queue.respond({ id: 'nope', decision: 'approve' })).toThrow(
      expect.objectContaining({ code: ErrorCode.APPROVAL_NOT_FOUND }),
    );
    const call = queue.request({ agent: alice, tool: 'echo', input: {} });
    const id = pendingId(queue, 'echo');
    queue.respond({ id, decision: 'approve' });
    await call;
    expect(() => queue.respond({ id, decision: 'deny' })).toThrow(
      expect.objectContaining({ code: ErrorCode.APPROVAL_NOT_FOUND }),
    );
  });

  it('rejects a malformed response', () => {
    const { queue } = setup();
    expect(() => queue.respond({ id: 'x', decision: 'maybe' as 'approve' })).toThrow(
      expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }),
    );
    expect(() => queue.respond({ id: 'x', decision: 'approve', scope: { minutes: -1 } })).toThrow(
      expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }),
    );
  });

  it('cancels through the signal, removing the approval', async () => {
    const { queue, persistence, events } = setup();
    const controller = new AbortController();
    const call = queue.request({ agent: alice, tool: 'file_write', input: {}, signal: controller.signal });
    const id = pendingId(queue, 'file_write');
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: ErrorCode.CANCELLED });
    expect(queue.list().pending).toEqual([]);
    expect(persistence.loadAll()).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'HumanApprovalDenied', approval_id: id });
    expect(() => queue.respond({ id, decision: 'approve' })).toThrow(
      expect.objectContaining({ code: ErrorCode.APPROVAL_NOT_FOUND }),
    );
  });

  it('refuses at once when the signal is already aborted', async () => {
    const { queue } = setup();
    await expect(
      queue.request({ agent: alice, tool: 'x', input: {}, signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({
      code: ErrorCode.CANCELLED,
    });
    expect(queue.list().pending).toEqual([]);
  });

  it('tells watchers about requests and answers', async () => {
    const { queue } = setup();
    const seen: ApprovalEvent[] = [];
    const unsubscribe = queue.subscribe((e) => seen.push(e));
    const call = queue.request({ agent: alice, tool: 'echo', input: { message: 'hi' } });
    const id = pendingId(queue, 'echo');
    queue.respond({ id, decision: 'approve' });
    await call;
    unsubscribe();
    expect(seen).toEqual([
      { type: 'requested', approval: expect.objectContaining({ id, tool: 'echo' }) },
      { type: 'resolved', id, agent_id: 'agent-a', tool: 'echo', outcome: 'approved', scope: 'once' },
    ]);
  });

  it('recovers persisted approvals in a new queue and lets a new waiter collect the answer', async () => {
    const persistence = new MemoryApprovalPersistence();
    const first = new ApprovalQueue({ persistence, emit: () => undefined });
    const orphan = first.request({ agent: alice, tool: 'file_write', input: { path: '/x' } });
    orphan.catch(() => undefined);
    const other = first.request({ agent: bob, tool: 'web_fetch', input: {} });
    other.catch(() => undefined);
    first.close(); // the old process goes away; its callers are gone
    await expect(orphan).rejects.toMatchObject({ code: ErrorCode.SHUTTING_DOWN });
    expect(persistence.loadAll()).toHaveLength(2);

    const events: AuditInput[] = [];
    const second = new ApprovalQueue({ persistence, emit: (e) => events.push(e) });
    const recovered = second.recover();
    expect(recovered.map((r) => r.tool).sort()).toEqual(['file_write', 'web_fetch']);
    expect(recovered.every((r) => r.recovered_at !== undefined && r.status === 'pending')).toBe(true);
    expect(second.list().pending.every((p) => p.recovered === true)).toBe(true);
    expect(second.recover()).toEqual([]); // idempotent

    const writeId = recovered.find((r) => r.tool === 'file_write')!.id;
    const fetchId = recovered.find((r) => r.tool === 'web_fetch')!.id;

    // re-attached before the answer
    const waiting = second.await(writeId);
    second.respond({ id: writeId, decision: 'approve' });
    await waiting;

    // answered before anyone re-attached: the answer is kept, persisted, for a later await
    second.respond({ id: fetchId, decision: 'deny', reason: 'stale' });
    expect(persistence.loadAll()).toEqual([
      expect.objectContaining({ id: fetchId, status: 'denied', reason: 'stale' }),
    ]);
    await expect(second.await(fetchId)).rejects.toMatchObject({
      code: ErrorCode.APPROVAL_DENIED,
      message: 'human denied: stale',
    });
    expect(persistence.loadAll()).toEqual([]);
    await expect(second.await(fetchId)).rejects.toMatchObject({ code: ErrorCode.APPROVAL_NOT_FOUND });
    expect(events.map((e) => e.type)).toEqual(['HumanApprovalGranted', 'HumanApprovalDenied']);
    second.close();
  });

  it('a recovered approval still times out', async () => {
    const persistence = new MemoryApprovalPersistence();
    const first = new ApprovalQueue({ persistence, emit: () => undefined });
    first.request({ agent: alice, tool: 'file_write', input: {}, timeoutMs: 20 }).catch(() => undefined);
    first.close();
    const second = new ApprovalQueue({ persistence, emit: () => undefined });
    const [record] = second.recover();
    await expect(second.await(record!.id)).rejects.toMatchObject({ code: ErrorCode.APPROVAL_TIMEOUT });
  });
});
