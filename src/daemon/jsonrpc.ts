import { z } from 'zod';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';

/**
 * JSON-RPC 2.0 wire types and the mapping from local errors (AAOS_ERR_*) to wire
 * errors. Local codes never travel as the JSON-RPC `code`; they go in `data.code`.
 */

/** Standard JSON-RPC codes. */
export const RpcCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** an AaosError with no more specific class below */
  OPERATION_FAILED: -32000,
  /** agent, run, approval, tool, token or manifest file does not exist */
  NOT_FOUND: -32001,
  /** a capability check or a human said no */
  DENIED: -32002,
  /** well-formed params whose content the runtime rejected (manifest, tool input, config) */
  INVALID_INPUT: -32003,
  /** the target is in the wrong state or a limit is reached */
  CONFLICT: -32004,
  /** the daemon is shutting down and refuses new work */
  SHUTTING_DOWN: -32005,
} as const;
export type RpcCode = (typeof RpcCode)[keyof typeof RpcCode];

export const RpcId = z.union([z.string(), z.number(), z.null()]);
export type RpcId = z.infer<typeof RpcId>;

/** A request envelope; `id` absent means a notification (no response is sent). */
export const RpcRequest = z.object({
  jsonrpc: z.literal('2.0'),
  id: RpcId.optional(),
  method: z.string().min(1),
  params: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown()), z.null()]).optional(),
});
export type RpcRequest = z.infer<typeof RpcRequest>;

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

export type RpcResponse = { jsonrpc: '2.0'; id: RpcId; result: unknown } | { jsonrpc: '2.0'; id: RpcId; error: RpcErrorObject };

/** A wire error raised inside the daemon (bad params, unknown method); never leaves src/daemon. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const NOT_FOUND = new Set<string>([
  ErrorCode.AGENT_NOT_FOUND,
  ErrorCode.RUN_NOT_FOUND,
  ErrorCode.APPROVAL_NOT_FOUND,
  ErrorCode.TOOL_NOT_FOUND,
  ErrorCode.MANIFEST_NOT_FOUND,
  ErrorCode.CAPABILITY_UNKNOWN_HANDLE,
]);
const DENIED = new Set<string>([
  ErrorCode.CAPABILITY_DENIED,
  ErrorCode.CAPABILITY_WRONG_AGENT,
  ErrorCode.CAPABILITY_REVOKED,
  ErrorCode.CAPABILITY_EXHAUSTED,
  ErrorCode.CAPABILITY_EXPIRED,
  ErrorCode.CAPABILITY_NOT_DELEGABLE,
  ErrorCode.SKILL_TOOL_NOT_ALLOWED,
  ErrorCode.APPROVAL_DENIED,
  ErrorCode.APPROVAL_TIMEOUT,
]);
const INVALID_INPUT = new Set<string>([
  ErrorCode.MANIFEST_INVALID,
  ErrorCode.TOOL_INPUT_INVALID,
  ErrorCode.CONFIG_INVALID,
  ErrorCode.CONTEXT_WINDOW_INVALID,
  ErrorCode.MESSAGE_INVALID,
]);
const CONFLICT = new Set<string>([
  ErrorCode.AGENT_NOT_RUNNING,
  ErrorCode.AGENT_LIMIT,
  ErrorCode.SPAWN_DEPTH,
  ErrorCode.INVALID_STATE_TRANSITION,
  ErrorCode.AGENT_STOPPED,
  ErrorCode.TOO_MANY_CONNECTIONS,
]);

/** The JSON-RPC code for a local error code. */
export function rpcCodeFor(code: string): number {
  if (NOT_FOUND.has(code)) return RpcCode.NOT_FOUND;
  if (DENIED.has(code)) return RpcCode.DENIED;
  if (INVALID_INPUT.has(code)) return RpcCode.INVALID_INPUT;
  if (CONFLICT.has(code)) return RpcCode.CONFLICT;
  if (code === ErrorCode.SHUTTING_DOWN) return RpcCode.SHUTTING_DOWN;
  if (code === ErrorCode.INTERNAL) return RpcCode.INTERNAL_ERROR;
  return RpcCode.OPERATION_FAILED;
}

/** Any thrown value → a JSON-RPC error object (the protocol edge). */
export function toRpcError(err: unknown): RpcErrorObject {
  if (err instanceof RpcError) return { code: err.code, message: err.message, ...(err.data ? { data: err.data } : {}) };
  const plain = toPlainError(err);
  const data: Record<string, unknown> = { code: plain.code };
  if (plain.details !== undefined) data['details'] = plain.details;
  if (!(err instanceof AaosError)) data['details'] = { name: plain.name };
  return { code: rpcCodeFor(plain.code), message: plain.message, data };
}

export function resultResponse(id: RpcId, result: unknown): RpcResponse {
  return { jsonrpc: '2.0', id, result: result === undefined ? null : result };
}

export function errorResponse(id: RpcId, error: RpcErrorObject): RpcResponse {
  return { jsonrpc: '2.0', id, error };
}

/** Validates params with a zod schema; failures become -32602 naming the issue path. */
export function parseParams<S extends z.ZodType>(method: string, schema: S, params: unknown): z.infer<S> {
  const parsed = schema.safeParse(params ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(params)', message: i.message }));
  const first = issues[0] ?? { path: '(params)', message: 'invalid' };
  throw new RpcError(RpcCode.INVALID_PARAMS, `invalid params for ${method}: ${first.path}: ${first.message}`, { issues });
}

/** Best effort: the id of a message that failed validation, so the error can still be matched. */
export function salvageId(value: unknown): RpcId {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const id = (value as { id?: unknown }).id;
    const parsed = RpcId.safeParse(id);
    if (parsed.success) return parsed.data;
  }
  return null;
}

export function frameTooLarge(limit: number): RpcErrorObject {
  return {
    code: RpcCode.INVALID_REQUEST,
    message: `frame exceeds ${limit} bytes without a newline; closing the connection`,
    data: { code: ErrorCode.FRAME_TOO_LARGE, limit },
  };
}
