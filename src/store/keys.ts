import { AaosError, ErrorCode } from '../errors/index.js';

/**
 * Keys scoped to one agent are `<agentId>\x00<suffix>`: a prefix range then holds exactly
 * that agent's records, in suffix order.
 */
const SEP = '\x00';

export function agentKey(agentId: string, suffix: string): string {
  if (agentId.length === 0 || agentId.includes(SEP)) {
    throw new AaosError(ErrorCode.INTERNAL, `invalid agent id for a store key: ${JSON.stringify(agentId)}`, { agent_id: agentId });
  }
  return agentId + SEP + suffix;
}

/** Range bounds covering every key of one agent (end is exclusive). */
export function agentRange(agentId: string): { start: string; end: string } {
  return { start: agentKey(agentId, ''), end: agentId + '\x01' };
}

export function keySuffix(key: string): string {
  const at = key.indexOf(SEP);
  return at < 0 ? key : key.slice(at + 1);
}

/** Fixed-width decimal so lexical key order is numeric order. */
export function padNumber(n: number, width = 16): string {
  return Math.trunc(n).toString().padStart(width, '0');
}
