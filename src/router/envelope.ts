import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AaosError, ErrorCode } from '../errors/index.js';

/** Routing metadata the supervisor stamps on every envelope. */
export const EnvelopeMetadata = z.object({
  sender: z.string().min(1),
  recipient: z.string().min(1),
  trace_id: z.string().min(1),
  timestamp: z.string().min(1),
});
export type EnvelopeMetadata = z.infer<typeof EnvelopeMetadata>;

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

export const McpReply = z.object({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.string(), z.number()]),
  result: z.unknown().optional(),
  error: z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }).optional(),
  metadata: z.object({ responder: z.string(), trace_id: z.string(), timestamp: z.string() }),
});
export type McpReply = z.infer<typeof McpReply>;

export function makeEnvelope(args: {
  sender: string;
  recipient: string;
  method: string;
  params?: unknown;
  request?: boolean;
  traceId?: string;
}): McpEnvelope {
  const env: McpEnvelope = {
    jsonrpc: '2.0',
    method: args.method,
    metadata: {
      sender: args.sender,
      recipient: args.recipient,
      trace_id: args.traceId ?? randomUUID(),
      timestamp: new Date().toISOString(),
    },
  };
  if (args.params !== undefined) env.params = args.params;
  if (args.request) env.id = randomUUID();
  return env;
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
    throw new AaosError(ErrorCode.MESSAGE_INVALID, `invalid envelope: ${field}: ${issue?.message ?? 'invalid'}`, { field });
  }
  return parsed.data;
}
