import type { TraceParent } from '../../audit/trace-ids.js';
import type { ToolContext } from '../tool.js';

/** The calling agent and the delivery it calls from (so a message continues its trace and goal run). */
export interface MessengerCaller {
  agentId: string;
  deliveryRunId: string | undefined;
  /** the tool call's span, which the message hop continues */
  trace: TraceParent | undefined;
}

/** What the messaging tools need from the router, bound to the calling agent. */
export interface Messenger {
  send(caller: MessengerCaller, to: string, method: string, params: unknown): Promise<{ status: 'delivered'; envelope_id: string }>;
  request(caller: MessengerCaller, to: string, method: string, params: unknown, timeoutMs: number): Promise<unknown>;
}

/** The caller of a messaging tool: its delivery and the tool call's span. */
export function callerOf(ctx: ToolContext): MessengerCaller {
  return {
    agentId: ctx.agentId,
    deliveryRunId: ctx.deliveryRunId,
    trace: ctx.spanId !== undefined ? { traceId: ctx.traceId, spanId: ctx.spanId } : undefined,
  };
}
