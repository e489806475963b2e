import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Capability, Constraints, copyCapability } from './capability.js';

/**
 * A capability token: one capability held by one agent, with its limits and usage.
 * Tokens live only in the supervisor's CapabilityTable; everything else sees
 * `TokenView` copies. The id doubles as the opaque handle.
 */
export interface CapabilityToken {
  readonly id: string;
  /** agent id of the holder */
  readonly owner: string;
  readonly capability: Capability;
  readonly constraints: Constraints;
  /** epoch milliseconds */
  readonly issued_at: number;
  /** epoch milliseconds; set once */
  revoked_at?: number;
  invocation_count: number;
  /** the token this one was narrowed from (delegation) */
  readonly parent_token_id?: string;
  /** set by an explicit revocation (not a stop), which a persistent agent keeps across restarts */
  durableRevocation?: { at: number; reason: string };
}

/** Plain-data copy of a token (what `capability.list` returns). */
export const TokenView = z.object({
  id: z.string(),
  owner: z.string(),
  capability: Capability,
  constraints: Constraints,
  issued_at: z.number(),
  revoked_at: z.number().optional(),
  invocation_count: z.number().int().nonnegative(),
  parent_token_id: z.string().optional(),
});
export type TokenView = z.infer<typeof TokenView>;

export type TokenState = 'live' | 'revoked' | 'expired' | 'exhausted';

const HANDLE_PREFIX = 'cap_';

/** 16 random bytes = 22 base64url characters: unguessable, so a handle cannot be forged. */
export function newTokenId(): string {
  return HANDLE_PREFIX + randomBytes(16).toString('base64url');
}

/** Revocation wins over expiry, expiry over exhaustion (the most permanent reason first). */
export function tokenState(token: CapabilityToken, now: number): TokenState {
  if (token.revoked_at !== undefined) return 'revoked';
  const { expires_at, max_invocations } = token.constraints;
  if (expires_at !== undefined && now >= expires_at) return 'expired';
  if (max_invocations !== undefined && token.invocation_count >= max_invocations) return 'exhausted';
  return 'live';
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** The tightest of two constraint sets: fewer invocations, earlier expiry. */
export function tightestConstraints(a: Constraints, b: Constraints): Constraints {
  const out: Constraints = {};
  const max = minDefined(a.max_invocations, b.max_invocations);
  const exp = minDefined(a.expires_at, b.expires_at);
  if (max !== undefined) out.max_invocations = max;
  if (exp !== undefined) out.expires_at = exp;
  return out;
}

/** A detached copy: mutating it never touches the table. */
export function toTokenView(token: CapabilityToken): TokenView {
  const view: TokenView = {
    id: token.id,
    owner: token.owner,
    capability: copyCapability(token.capability),
    constraints: { ...token.constraints },
    issued_at: token.issued_at,
    invocation_count: token.invocation_count,
  };
  if (token.revoked_at !== undefined) view.revoked_at = token.revoked_at;
  if (token.parent_token_id !== undefined) view.parent_token_id = token.parent_token_id;
  return view;
}

/** A private copy of a capability for storage in a token (callers keep no reference into the table). */
export function ownCapability(cap: Capability): Capability {
  return copyCapability(cap);
}
