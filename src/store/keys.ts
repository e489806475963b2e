import { AaosError, ErrorCode } from '../errors/index.js';

/**
 * Keys scoped to one agent are `<agentId>/<suffix>`: a prefix range then holds exactly
 * that agent's records, in suffix order. Not NUL: lmdb's key encoding uses 0x00 between
 * array elements, so `"a\x00b"` would read back as the array `["a", "b"]` and ranges miss it.
 */
const SEP = '/';
/** the character right after SEP, closing an agent's range */
const SEP_END = String.fromCharCode(SEP.charCodeAt(0) + 1);

/** Whether an id can scope store keys (non-empty, no separator); helper ids like `<id>/summarizer` cannot. */
export function isKeyableId(agentId: string): boolean {
  return agentId.length > 0 && !agentId.includes(SEP);
}

export function agentKey(agentId: string, suffix: string): string {
  if (!isKeyableId(agentId)) {
    throw new AaosError(ErrorCode.INTERNAL, `invalid agent id for a store key: ${JSON.stringify(agentId)}`, {
      agent_id: agentId,
    });
  }
  return agentId + SEP + suffix;
}

/** Range bounds covering every key of one agent (end is exclusive). */
export function agentRange(agentId: string): { start: string; end: string } {
  return { start: agentKey(agentId, ''), end: agentId + SEP_END };
}

export function keySuffix(key: string): string {
  const at = key.indexOf(SEP);
  return at < 0 ? key : key.slice(at + 1);
}

/** Fixed-width decimal so lexical key order is numeric order. */
export function padNumber(n: number, width = 16): string {
  return Math.trunc(n).toString().padStart(width, '0');
}
