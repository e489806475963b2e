import type { AuditHeader } from './event.js';
import { goalTraceId, newSpanId, type TraceParent } from './trace-ids.js';

/** A span in a goal's trace, with the span it is a child of (none for a trace's root). */
export interface SpanContext extends TraceParent {
  parentSpanId?: string;
}

/**
 * Who is calling, for which goal run, from which delivery, in which span: the one shape
 * the capability table, tool dispatch, the router, the model gateway, approvals, memory
 * and the audit log take. Built once per delivery (and once per agent for calls made
 * outside a run); a call made from it (a tool call, a message hop, a spawn) is `childCall`.
 */
export interface CallContext {
  /** the calling agent */
  id: string;
  name: string;
  parentId?: string;
  /** the goal run the call belongs to: the agent's own, or for a routed request its caller's */
  runId?: string;
  /** the delivery the call is made from: cancelling it cancels what it asked for */
  deliveryRunId?: string;
  /** the span the call is made in */
  trace?: SpanContext;
}

/** The fields of an audit event that say who, in which run and in which span. */
export type CallHeader = Pick<
  AuditHeader,
  'agent_id' | 'agent_name' | 'parent_id' | 'run_id' | 'trace_id' | 'span_id' | 'parent_span_id'
>;

/**
 * The one way an audit header is made: an event of `call`, in its span. Outside any span an
 * event of a goal run still carries the goal's trace id, so one goal is one trace throughout.
 */
export function auditHeader(call: CallContext): CallHeader {
  const h: CallHeader = { agent_id: call.id, agent_name: call.name };
  if (call.parentId !== undefined) h.parent_id = call.parentId;
  if (call.runId !== undefined) h.run_id = call.runId;
  if (call.trace) {
    h.trace_id = call.trace.traceId;
    h.span_id = call.trace.spanId;
    if (call.trace.parentSpanId !== undefined) h.parent_span_id = call.trace.parentSpanId;
  } else if (call.runId !== undefined) {
    h.trace_id = goalTraceId(call.runId);
  }
  return h;
}

/** A call made from `call` in a span of its own (a tool call, a model call, a message hop, a spawn). */
export function childCall(call: CallContext): CallContext {
  if (!call.trace) return call;
  return { ...call, trace: { traceId: call.trace.traceId, spanId: newSpanId(), parentSpanId: call.trace.spanId } };
}

/** `call` as the parent of new work: its trace and span, without its own parent. */
export function traceParentOf(call: CallContext): TraceParent | undefined {
  return call.trace ? { traceId: call.trace.traceId, spanId: call.trace.spanId } : undefined;
}

/** The agent of `call` with its goal run, outside any delivery or span (grants, lifecycle events). */
export function outsideRun(call: CallContext): CallContext {
  const c: CallContext = { id: call.id, name: call.name };
  if (call.parentId !== undefined) c.parentId = call.parentId;
  if (call.runId !== undefined) c.runId = call.runId;
  return c;
}
