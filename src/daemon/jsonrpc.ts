import { z } from 'zod';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';
import { RpcCode, rpcCodeFor } from '../errors/rpc-code.js';

export { RpcCode };

/**
 * JSON-RPC 2.0 wire types and the mapping from local errors (AAOS_ERR_*) to wire
 * errors. Local codes never travel as the JSON-RPC `code`; they go in `data.code`.
 */

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

export type RpcResponse =
  | { jsonrpc: '2.0'; id: RpcId; result: unknown }
  | { jsonrpc: '2.0'; id: RpcId; error: RpcErrorObject };

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
  const issues = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(params)',
    message: i.message,
  }));
  const first = issues[0] ?? { path: '(params)', message: 'invalid' };
  throw new RpcError(RpcCode.INVALID_PARAMS, `invalid params for ${method}: ${first.path}: ${first.message}`, {
    issues,
  });
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
