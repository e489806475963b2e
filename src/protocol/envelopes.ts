import type { TraceParent } from '../audit/trace-ids.js';
import { AaosError, ErrorCode, isErrorCode } from '../errors/index.js';

/**
 * Envelopes between agents, without zod: worker modules (the LLM loop, bench and test
 * agents) build their requests here and read replies here, so nobody hand-writes the
 * metadata. The supervisor validates what arrives (router/envelope.ts) and stamps the
 * authoritative trace context; what a worker writes is the same context it was given.
 */

export interface EnvelopeMeta {
  sender: string;
  recipient: string;
  trace_id: string;
  timestamp: string;
  /** the sender's span: the recipient's delivery is its child */
  span_id?: string;
  /** the sender's goal run */
  run_id?: string;
}

export type EnvelopeId = string | number;

export interface RequestEnvelope {
  jsonrpc: '2.0';
  /** present for a request, absent for a notification */
  id?: EnvelopeId;
  method: string;
  params?: unknown;
  metadata: EnvelopeMeta;
}

export interface ReplyError {
  code: number;
  message: string;
  /** `code` is always the local AAOS_ERR_* code */
  data: { code: string; details?: Record<string, unknown> };
}

export interface ReplyMeta {
  responder: string;
  trace_id: string;
  timestamp: string;
}

/** JSON-RPC 2.0 response envelope: exactly one of `result` and `error`, the request's id. */
export type ReplyEnvelope =
  | { jsonrpc: '2.0'; id: EnvelopeId; result: unknown; metadata: ReplyMeta }
  | { jsonrpc: '2.0'; id: EnvelopeId; error: ReplyError; metadata: ReplyMeta };

/** MCP's cancellation notification method. */
export const CANCELLED_METHOD = 'notifications/cancelled';

let counter = 0;
/** Unique enough within one sender (ids only need to be unique per sender while pending). */
function nextId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${Date.now().toString(36)}-${counter.toString(36)}`;
}

function meta(
  sender: string,
  recipient: string,
  trace: TraceParent | undefined,
  runId: string | undefined,
): EnvelopeMeta {
  const m: EnvelopeMeta = {
    sender,
    recipient,
    trace_id: trace?.traceId ?? `t-${nextId()}`,
    timestamp: new Date().toISOString(),
  };
  if (trace) m.span_id = trace.spanId;
  if (runId) m.run_id = runId;
  return m;
}

export interface EnvelopeArgs {
  sender: string;
  recipient: string;
  method: string;
  params?: unknown;
  /** the sending delivery's span (Delivery.run.trace) */
  trace?: TraceParent;
  /** the sender's goal run (Delivery.run.goal_run_id) */
  runId?: string;
  id?: EnvelopeId;
}

/** A request (a reply is expected): gets an id unless one is given. */
export function requestEnvelope(args: EnvelopeArgs): RequestEnvelope {
  const env: RequestEnvelope = {
    jsonrpc: '2.0',
    id: args.id ?? nextId(),
    method: args.method,
    metadata: meta(args.sender, args.recipient, args.trace, args.runId),
  };
  if (args.params !== undefined) env.params = args.params;
  return env;
}

/** A notification: no id, no reply. */
export function notificationEnvelope(args: Omit<EnvelopeArgs, 'id'>): RequestEnvelope {
  const env: RequestEnvelope = {
    jsonrpc: '2.0',
    method: args.method,
    metadata: meta(args.sender, args.recipient, args.trace, args.runId),
  };
  if (args.params !== undefined) env.params = args.params;
  return env;
}

/** `notifications/cancelled` in MCP's shape: `params.requestId` and `reason`. */
export function cancelledEnvelope(args: {
  sender: string;
  recipient: string;
  requestId: EnvelopeId;
  reason: string;
  trace?: TraceParent;
}): RequestEnvelope {
  return notificationEnvelope({
    sender: args.sender,
    recipient: args.recipient,
    method: CANCELLED_METHOD,
    params: { requestId: args.requestId, reason: args.reason },
    ...(args.trace ? { trace: args.trace } : {}),
  });
}

export function resultReply(id: EnvelopeId, result: unknown, metadata: ReplyMeta): ReplyEnvelope {
  return { jsonrpc: '2.0', id, result: result === undefined ? null : result, metadata };
}

export function errorReply(id: EnvelopeId, error: ReplyError, metadata: ReplyMeta): ReplyEnvelope {
  return { jsonrpc: '2.0', id, error, metadata };
}

export function isErrorReply(reply: ReplyEnvelope): reply is Extract<ReplyEnvelope, { error: ReplyError }> {
  return 'error' in reply && reply.error !== undefined;
}

/** The reply's result, or its error rethrown as an AaosError with the local code. */
export function replyResult<T = unknown>(reply: ReplyEnvelope): T {
  if (isErrorReply(reply)) {
    const code = isErrorCode(reply.error.data?.code) ? reply.error.data.code : ErrorCode.INTERNAL;
    throw new AaosError(code, reply.error.message, reply.error.data?.details);
  }
  return reply.result as T;
}
