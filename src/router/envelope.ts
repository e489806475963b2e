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

/** Parse and validate envelope text; errors name the offending field. */
export function parseEnvelope(text: string): McpEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AaosError(ErrorCode.MESSAGE_INVALID, `envelope is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = McpEnvelope.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : '(envelope)';
    throw new AaosError(ErrorCode.MESSAGE_INVALID, `invalid envelope: ${field}: ${issue?.message ?? 'invalid'}`, {
      field,
    });
  }
  return parsed.data;
}
