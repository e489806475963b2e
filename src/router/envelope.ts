import { z } from 'zod';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { TraceParent } from '../audit/trace-ids.js';
import { notificationEnvelope, requestEnvelope } from '../protocol/envelopes.js';

/** Routing metadata on every envelope; the supervisor checks the sender and stamps the trace. */
const EnvelopeMetadata = z.object({
  sender: z.string().min(1),
  recipient: z.string().min(1),
  trace_id: z.string().min(1),
  timestamp: z.string().min(1),
  /** the sender's span; the recipient's delivery is its child */
  span_id: z.string().min(1).optional(),
  /** the sender's goal run */
  run_id: z.string().min(1).optional(),
});

/** An MCP message between agents: a JSON-RPC 2.0 request or notification plus metadata. */
export const McpEnvelope = z.object({
  jsonrpc: z.literal('2.0'),
  /** present for a request (a reply is expected), absent for a notification */
  id: z.union([z.string(), z.number()]).optional(),
  method: z.string().min(1).max(200),
  params: z.unknown().optional(),
  metadata: EnvelopeMetadata,
});
export type McpEnvelope = z.infer<typeof McpEnvelope>;

const ReplyMetadata = z.object({ responder: z.string(), trace_id: z.string(), timestamp: z.string() });

/** The response envelope of a routed request (the router builds it, protocol/envelopes.ts). */
export const McpReply = z.union([
  z.strictObject({
    jsonrpc: z.literal('2.0'),
    id: z.union([z.string(), z.number()]),
    result: z.unknown(),
    metadata: ReplyMetadata,
  }),
  z.strictObject({
    jsonrpc: z.literal('2.0'),
    id: z.union([z.string(), z.number()]),
    error: z.object({
      code: z.number().int(),
      message: z.string(),
      data: z.object({
        code: z.string().startsWith('AAOS_ERR_'),
        details: z.record(z.string(), z.unknown()).optional(),
      }),
    }),
    metadata: ReplyMetadata,
  }),
]);
export type McpReply = z.infer<typeof McpReply>;

/** An envelope from the supervisor side (tools, `run`); worker modules use protocol/envelopes.ts. */
export function makeEnvelope(args: {
  sender: string;
  recipient: string;
  method: string;
  params?: unknown;
  request?: boolean;
  trace?: TraceParent;
  runId?: string;
}): McpEnvelope {
  const base = {
    sender: args.sender,
    recipient: args.recipient,
    method: args.method,
    params: args.params,
    ...(args.trace ? { trace: args.trace } : {}),
    ...(args.runId ? { runId: args.runId } : {}),
  };
  return args.request ? requestEnvelope(base) : notificationEnvelope(base);
}

/**
 * Parse and validate envelope text; errors name the offending field. The checks are the
 * `McpEnvelope` schema's, written out by hand (the router runs this for every message, and
 * zod's generic walk cost more than the rest of admitting it): the same fields in the same
 * order, the same first error and message, the same output (unknown keys dropped, `params`
 * passed through as parsed). test/router/envelope.test.ts holds the two to each other.
 */
export function parseEnvelope(text: string): McpEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AaosError(ErrorCode.MESSAGE_INVALID, `envelope is not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(raw)) throw invalid('(envelope)', expected('object', raw));
  if (raw.jsonrpc !== '2.0') throw invalid('jsonrpc', 'Invalid input: expected "2.0"');
  const id = raw.id;
  if (id !== undefined && typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id)))
    throw invalid('id', 'Invalid input');
  const method = text1(raw.method, 'method', 200);
  const meta = raw.metadata;
  if (!isRecord(meta)) throw invalid('metadata', expected('object', meta));
  const metadata: McpEnvelope['metadata'] = {
    sender: text1(meta.sender, 'metadata.sender'),
    recipient: text1(meta.recipient, 'metadata.recipient'),
    trace_id: text1(meta.trace_id, 'metadata.trace_id'),
    timestamp: text1(meta.timestamp, 'metadata.timestamp'),
  };
  if (meta.span_id !== undefined) metadata.span_id = text1(meta.span_id, 'metadata.span_id');
  if (meta.run_id !== undefined) metadata.run_id = text1(meta.run_id, 'metadata.run_id');
  // the schema's key order; an absent optional key stays absent (`'params' in envelope` means it was sent)
  const envelope = { jsonrpc: '2.0' } as McpEnvelope;
  if (id !== undefined) envelope.id = id;
  envelope.method = method;
  if ('params' in raw) envelope.params = raw.params;
  envelope.metadata = metadata;
  return envelope;
}

/** zod's object check: any non-null object but an array */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** a string of at least one and at most `max` UTF-16 units (zod's `.min(1)` / `.max(n)`) */
function text1(value: unknown, field: string, max?: number): string {
  if (typeof value !== 'string') throw invalid(field, expected('string', value));
  if (value.length < 1) throw invalid(field, 'Too small: expected string to have >=1 characters');
  if (max !== undefined && value.length > max)
    throw invalid(field, `Too big: expected string to have <=${max} characters`);
  return value;
}

/** zod's invalid_type message, with its name for what was received */
function expected(type: string, value: unknown): string {
  let received: string;
  if (value === null) received = 'null';
  else if (Array.isArray(value)) received = 'array';
  else if (typeof value === 'number' && !Number.isFinite(value)) received = Number.isNaN(value) ? 'NaN' : String(value);
  else received = typeof value;
  return `Invalid input: expected ${type}, received ${received}`;
}

function invalid(field: string, message: string): AaosError {
  return new AaosError(ErrorCode.MESSAGE_INVALID, `invalid envelope: ${field}: ${message}`, { field });
}
