import { ErrorCode } from './codes.js';

/**
 * JSON-RPC wire codes for local errors: the socket API and the envelopes between agents
 * both put the local code (AAOS_ERR_*) in `data.code` and one of these in `code`.
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
