import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { AuditEvent } from '../../src/audit/event.js';
import { McpReply } from '../../src/router/envelope.js';
import { defineTool } from '../../src/tools/tool.js';
import { COMMAND_AGENT, commandManifest, testSupervisor, waitFor } from '../support/kernel.js';

/** A side effect the tests can count: every call that really ran. */
function probeTool() {
  const calls: string[] = [];
  const tool = defineTool({
    name: 'probe',
    description: 'records that it ran',
    input: z.object({ tag: z.string().default('') }),
    run: async (input, ctx) => {
      calls.push(`${ctx.call.name}:${input.tag}`);
      return { ran: true };
    },
  });
  return { tool, calls };
}

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

function setup() {
  const probe = probeTool();
  const t = testSupervisor({ tools: [probe.tool] });
  closers.push(t.close);
  return { sup: t.sup, calls: probe.calls };
}

const ofType = <T extends AuditEvent['type']>(events: AuditEvent[], type: T) =>
  events.filter((e): e is Extract<AuditEvent, { type: T }> => e.type === type);

describe('routed requests are answered with JSON-RPC response envelopes', () => {
  it('a reply carries the request id, the result and the responder', async () => {
    const { sup } = setup();
    const b = await sup.spawn(commandManifest('bob'), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('alice', ['message_send: [bob]']), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, `askt 5000 ${b.id} echo hello`);
    const reply = McpReply.parse(JSON.parse(out.response));
    const sent = ofType(sup.audit.recent(), 'MessageSent').find((e) => e.from === a.id)!;
    expect(reply.id).toBe(sent.envelope_id);
    expect(reply.metadata.responder).toBe(b.id);
    expect('result' in reply && reply.result).toMatchObject({
      response: 'hello',
      stop_reason: 'complete',
      agent_id: b.id,
    });
    expect(sup.pendingRequests).toBe(0);
  });

  it('a failed recipient answers with an error envelope: a JSON-RPC code and data.code = AAOS_ERR_*', async () => {
    const { sup } = setup();
    const b = await sup.spawn(commandManifest('fragile'), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('asker', ['message_send: *']), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, `askt 5000 ${b.id} crash`);
    const reply = McpReply.parse(JSON.parse(out.response));
    expect('error' in reply).toBe(true);
    if (!('error' in reply)) return;
    expect(reply.error.data.code).toBe('AAOS_ERR_AGENT_FAILED');
    expect(reply.error.code).toBeLessThan(-32000 + 1);
    expect(reply.error.message).toMatch(/fragile/);
  });
});

describe('a timed-out or cancelled request is cancelled at the recipient', () => {
  it('queued requests that time out are removed from the mailbox and never run', async () => {
    const { sup, calls } = setup();
    const b = await sup.spawn(commandManifest('busy', ['tool: probe']), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('asker', ['message_send: *']), { module: COMMAND_AGENT, concurrency: 8 });
    const blocker = sup.run(b.id, 'sleep 1500');
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => sup.run(a.id, `askt 150 ${b.id} sidefx 0 probe {"tag":"late-${i}"}`)),
    );
    for (const out of replies) {
      const reply = McpReply.parse(JSON.parse(out.response));
      expect('error' in reply && reply.error.data.code).toBe('AAOS_ERR_MESSAGE_TIMEOUT');
    }
    await blocker;
    // the recipient is free again: had any late delivery survived, it would run now
    await sup.run(b.id, 'echo after');
    await sup.run(b.id, 'sleep 100');
    expect(calls).toEqual([]);
    const ended = ofType(sup.audit.recent(), 'AgentExecutionCompleted').filter(
      (e) => e.agent_id === b.id && e.stop_reason === 'cancelled',
    );
    expect(ended).toHaveLength(8);
    const notices = ofType(sup.audit.recent(), 'MessageSent').filter((e) => e.method === 'notifications/cancelled');
    expect(notices).toHaveLength(8);
    expect(sup.pendingRequests).toBe(0);
  });

  it('a running delivery gets notifications/cancelled in MCP shape, ends cancelled, and its later tool call is refused', async () => {
    const { sup, calls } = setup();
    const b = await sup.spawn(commandManifest('slowpoke', ['tool: probe']), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('asker', ['message_send: *']), { module: COMMAND_AGENT });
    const actor = sup.record(b.id)!.actor;
    const cancelSpy = vi.spyOn(actor, 'cancelRun');
    const out = await sup.run(a.id, `askt 200 ${b.id} sidefx 700 probe {"tag":"too-late"}`);
    const reply = McpReply.parse(JSON.parse(out.response));
    expect('error' in reply && reply.error.data.code).toBe('AAOS_ERR_MESSAGE_TIMEOUT');
    expect(cancelSpy).toHaveBeenCalledTimes(1);
    const [, reason, envelopeText] = cancelSpy.mock.calls[0]!;
    expect(reason).toMatch(/no reply within 200 ms/);
    const notice = JSON.parse(envelopeText!);
    expect(notice).toMatchObject({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: reply.id, reason },
    });
    expect(notice.id).toBeUndefined();
    await waitFor(
      () => ofType(sup.audit.recent(), 'AgentExecutionCompleted').some((e) => e.agent_id === b.id),
      10_000,
      'the cancelled delivery to end',
    );
    const done = ofType(sup.audit.recent(), 'AgentExecutionCompleted').find((e) => e.agent_id === b.id)!;
    expect(done.stop_reason).toBe('cancelled');
    expect(calls).toEqual([]);
    expect(ofType(sup.audit.recent(), 'ToolInvoked').filter((e) => e.agent_id === b.id)).toEqual([]);
  });

  it('a sender may cancel its own request with notifications/cancelled', async () => {
    const { sup, calls } = setup();
    const b = await sup.spawn(commandManifest('helper', ['tool: probe']), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('fickle', ['message_send: *']), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, `askcancel 200 ${b.id} sidefx 600 probe {"tag":"unwanted"}`);
    const reply = McpReply.parse(JSON.parse(out.response));
    expect('error' in reply && reply.error).toMatchObject({
      data: { code: 'AAOS_ERR_CANCELLED' },
      message: expect.stringContaining('changed my mind'),
    });
    await waitFor(
      () => ofType(sup.audit.recent(), 'AgentExecutionCompleted').some((e) => e.agent_id === b.id),
      10_000,
      'the recipient to end',
    );
    expect(ofType(sup.audit.recent(), 'AgentExecutionCompleted').find((e) => e.agent_id === b.id)!.stop_reason).toBe(
      'cancelled',
    );
    // the notification cancelled a delivery; it did not start one
    expect(ofType(sup.audit.recent(), 'AgentExecutionStarted').filter((e) => e.agent_id === b.id)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 700));
    expect(calls).toEqual([]);
  }, 60_000);

  it('cancelling the caller cancels the request at the recipient', async () => {
    const { sup, calls } = setup();
    const b = await sup.spawn(commandManifest('worker', ['tool: probe']), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('boss', ['message_send: *']), { module: COMMAND_AGENT });
    const caller = sup.run(a.id, `askt 30000 ${b.id} sidefx 600 probe {"tag":"orphan"}`, { runId: 'caller-run' });
    await waitFor(
      () => ofType(sup.audit.recent(), 'AgentExecutionStarted').some((e) => e.agent_id === b.id),
      10_000,
      'the request to be delivered',
    );
    expect(sup.cancelRun(a.id, 'caller-run', 'operator said stop')).toBe(true);
    const out = await caller;
    // the command agent answers with the reply it got, whatever its own run's fate
    if (out.response.startsWith('{')) {
      const reply = McpReply.parse(JSON.parse(out.response));
      expect('error' in reply && reply.error.data.code).toBe('AAOS_ERR_CANCELLED');
    }
    await waitFor(
      () => ofType(sup.audit.recent(), 'AgentExecutionCompleted').some((e) => e.agent_id === b.id),
      10_000,
      'the recipient to end',
    );
    expect(ofType(sup.audit.recent(), 'AgentExecutionCompleted').find((e) => e.agent_id === b.id)!.stop_reason).toBe(
      'cancelled',
    );
    await new Promise((r) => setTimeout(r, 800));
    expect(calls).toEqual([]);
    expect(sup.pendingRequests).toBe(0);
  });
});

describe('trace context', () => {
  it('a request continues the caller trace and goal run; the recipient delivery is a child span', async () => {
    const { sup } = setup();
    const b = await sup.spawn(commandManifest('bob'), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('alice', ['message_send: [bob]']), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, `ask ${b.id} echo traced`, { runId: 'goal-1' });
    expect(out.response).toBe('traced');
    const events = sup.audit
      .recent()
      .filter((e) => (e.agent_id === a.id || e.agent_id === b.id) && e.trace_id !== undefined);
    expect(new Set(events.map((e) => e.trace_id)).size).toBe(1);
    expect(new Set(events.map((e) => e.agent_id))).toEqual(new Set([a.id, b.id]));
    for (const e of events) expect(e.run_id).toBe('goal-1');
    const started = ofType(events, 'AgentExecutionStarted');
    // the caller's delivery span → the message hop → the recipient's delivery
    const callerSpan = started.find((e) => e.agent_id === a.id)!.span_id;
    expect(callerSpan).toMatch(/^[0-9a-f]{16}$/);
    const hop = ofType(events, 'MessageSent')[0]!;
    expect(hop.run_id).toBe('goal-1');
    expect(hop.parent_span_id).toBe(callerSpan);
    expect(hop.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(started.find((e) => e.agent_id === b.id)!.parent_span_id).toBe(hop.span_id);
  });
});
