import { auditHeader, outsideRun, type CallContext } from '../audit/call-context.js';
import type { AuditInput } from '../audit/event.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import {
  Capability,
  Constraints,
  formatCapability,
  formatRequest,
  type CapabilityGrant,
  type CapabilityRequest,
} from './capability.js';
import { canonicalizeGlobSync } from './canonical-path.js';
import { covers, permits } from './capability-match.js';
import {
  newTokenId,
  ownCapability,
  tightestConstraints,
  toTokenView,
  tokenState,
  type CapabilityToken,
  type TokenState,
  type TokenView,
} from './capability-token.js';
import { normalizePath } from './path-match.js';

export type AuditEmitter = (event: AuditInput) => void;

/** What survives a restart of one token of a persistent agent: matched by `key` (grant position + capability). */
export interface DurableTokenState {
  key: string;
  invocation_count: number;
  revoked_at?: number | undefined;
  reason?: string | undefined;
}

/** Where the table keeps the durable token states of persistent agents (synchronous, like every table step). */
export interface TokenStatePersistence {
  load(agentId: string): DurableTokenState[];
  save(agentId: string, states: DurableTokenState[]): void;
}

export interface AuthorizeOptions {
  /** check this one token instead of searching the agent's tokens */
  handle?: string;
  /** count the attempt against max_invocations (default true) */
  charge?: boolean;
  /**
   * A re-check after a wait of a use that was charged already: revocation and expiry
   * still deny, a pool that others used up since does not (this use holds its slot).
   */
  alreadyCharged?: boolean;
  /** the tool on whose behalf the request is made, for the audit trail */
  tool?: string;
}

interface Denial {
  code: ErrorCode;
  reason: string;
}

const STATE_CODE: Record<Exclude<TokenState, 'live'>, ErrorCode> = {
  revoked: ErrorCode.CAPABILITY_REVOKED,
  expired: ErrorCode.CAPABILITY_EXPIRED,
  exhausted: ErrorCode.CAPABILITY_EXHAUSTED,
};

/**
 * The supervisor's capability table: the only place tokens exist. Everything is
 * synchronous on the supervisor thread, so a check and its charge of max_invocations
 * can never interleave with another request (charge on attempt).
 */
export class CapabilityTable {
  readonly #emit: AuditEmitter;
  readonly #now: () => number;
  readonly #byId = new Map<string, CapabilityToken>();
  /** tokens per agent in issue order (the order `authorize` searches) */
  readonly #byAgent = new Map<string, CapabilityToken[]>();
  readonly #agents = new Map<string, CallContext>();
  /** token id -> ids of the tokens delegated from it (revocation cascades along these) */
  readonly #delegated = new Map<string, Set<string>>();
  /** agents whose revocations and invocation counts outlive the process */
  readonly #durable = new Set<string>();
  #persistence: TokenStatePersistence | undefined;

  constructor(emit: AuditEmitter, clock: () => number = Date.now) {
    this.#emit = emit;
    this.#now = clock;
  }

  /** Enables durable token state (revocations, max_invocations counters) for agents marked with `restoreDurable`. */
  setPersistence(persistence: TokenStatePersistence): void {
    this.#persistence = persistence;
  }

  /**
   * Marks a persistent agent's tokens durable and re-applies what a previous process
   * recorded for them: a token revoked then stays revoked, a counter keeps its count.
   * Tokens are matched by their position among the agent's grants and their capability.
   */
  restoreDurable(agentId: string): void {
    if (this.#persistence === undefined) return;
    this.#durable.add(agentId);
    const stored = new Map(this.#persistence.load(agentId).map((s) => [s.key, s]));
    const tokens = this.#byAgent.get(agentId) ?? [];
    tokens.forEach((token, index) => {
      const state = stored.get(durableKey(index, token));
      if (state === undefined) return;
      token.invocation_count = Math.max(token.invocation_count, state.invocation_count);
      if (state.revoked_at !== undefined && token.revoked_at === undefined) {
        this.#revoke(token, `still revoked after a restart: ${state.reason ?? 'revoked'}`, false);
        token.revoked_at = state.revoked_at;
        token.durableRevocation = { at: state.revoked_at, reason: state.reason ?? 'revoked' };
      }
    });
  }

  /** Issues one token to `owner`. Path grants are canonicalised so they compare with canonical requests. */
  issue(owner: CallContext, grant: CapabilityGrant, parentTokenId?: string): TokenView {
    const capability = canonicalCapability(grant.capability);
    const constraints = Constraints.parse(grant.constraints ?? {});
    return toTokenView(this.#store(owner, capability, constraints, parentTokenId));
  }

  /**
   * Narrowing for a spawn: every child grant must be covered by one live token of the
   * parent, and inherits the tightest of that token's and its own constraints.
   * All or nothing: if one grant is not covered, nothing is issued.
   */
  delegate(parent: CallContext, child: CallContext, grants: CapabilityGrant[]): TokenView[] {
    const now = this.#now();
    const parentTokens = this.#byAgent.get(parent.id) ?? [];
    const plan: { capability: Capability; constraints: Constraints; parentTokenId: string }[] = [];
    const missing: Capability[] = [];
    for (const grant of grants) {
      const capability = canonicalCapability(grant.capability);
      const own = Constraints.parse(grant.constraints ?? {});
      const source = this.#coveringToken(parentTokens, capability, now);
      if (source === undefined) missing.push(capability);
      else
        plan.push({ capability, constraints: tightestConstraints(source.constraints, own), parentTokenId: source.id });
    }
    if (missing.length > 0) {
      const what = missing.map(formatCapability).join('; ');
      const reason = `no live capability of agent '${parent.name}' covers it, so it cannot be delegated to child '${child.name}' (${child.id})`;
      this.#emitDenied(parent, what, reason, ErrorCode.CAPABILITY_NOT_DELEGABLE);
      throw new AaosError(
        ErrorCode.CAPABILITY_NOT_DELEGABLE,
        `agent '${parent.name}' (${parent.id}) cannot delegate ${what} to child '${child.name}' (${child.id}): it holds no live capability that covers it`,
        {
          parent_id: parent.id,
          parent_name: parent.name,
          child_id: child.id,
          child_name: child.name,
          capabilities: missing.map(formatCapability),
        },
      );
    }
    return plan.map((p) => toTokenView(this.#store(child, p.capability, p.constraints, p.parentTokenId)));
  }

  /**
   * Would a child given these grants draw on a counted pool: a `max_invocations` of its own or
   * on the parent token (or any token above it) it would be narrowed from? Such a pool is
   * charged in this table only, so a child that shares one must run where this table is.
   */
  sharesCountedPool(parentId: string, grants: CapabilityGrant[]): boolean {
    const now = this.#now();
    const parentTokens = this.#byAgent.get(parentId) ?? [];
    return grants.some((grant) => {
      if (grant.constraints?.max_invocations !== undefined) return true;
      const source = this.#coveringToken(parentTokens, canonicalCapability(grant.capability), now);
      return source !== undefined && this.#chain(source).some((link) => link.constraints.max_invocations !== undefined);
    });
  }

  /**
   * Level-2 check for one request; throws a CAPABILITY_* AaosError when denied (and emits
   * exactly one CapabilityDenied). On success the permitting token is charged one
   * invocation unless `charge: false`, and a copy of it is returned.
   */
  authorize(agent: CallContext, req: CapabilityRequest, opts: AuthorizeOptions = {}): TokenView {
    const request = normalizeRequest(req);
    const now = this.#now();
    const outcome =
      opts.handle !== undefined
        ? this.#viaHandle(agent, request, opts.handle, now, opts.alreadyCharged ?? false)
        : this.#viaSearch(agent, request, now);
    if ('code' in outcome) {
      const what = formatRequest(request);
      this.#emitDenied(agent, what, outcome.reason, outcome.code, opts.tool);
      const toolPart = opts.tool !== undefined ? ` (tool '${opts.tool}')` : '';
      throw new AaosError(
        outcome.code,
        `agent '${agent.name}' (${agent.id}) is denied ${what}${toolPart}: ${outcome.reason}`,
        {
          agent_id: agent.id,
          agent_name: agent.name,
          request: what,
          ...(opts.tool !== undefined ? { tool: opts.tool } : {}),
        },
      );
    }
    if (opts.charge !== false) this.#charge(outcome);
    return toTokenView(outcome);
  }

  /** Would some live token permit this? No charge, no audit (used to filter the tools a model sees). */
  check(agentId: string, req: CapabilityRequest): boolean {
    const request = normalizeRequest(req);
    const now = this.#now();
    return (this.#byAgent.get(agentId) ?? []).some(
      (t) => this.#chainState(t, now).state === 'live' && permits(t.capability, request),
    );
  }

  /**
   * `check` for many requests at one instant: the agent's live tokens are found once (each
   * model call filters every registered tool through this).
   */
  checker(agentId: string): (req: CapabilityRequest) => boolean {
    const now = this.#now();
    const live = (this.#byAgent.get(agentId) ?? []).filter((t) => this.#chainState(t, now).state === 'live');
    return (req) => {
      if (live.length === 0) return false;
      const request = normalizeRequest(req);
      return live.some((t) => permits(t.capability, request));
    };
  }

  /**
   * Revokes one token and, at once, every token delegated from it (in running children
   * too). An explicit revocation: for a persistent agent it survives a restart.
   * False when the id is unknown or the token is already revoked.
   */
  revoke(tokenId: string, reason: string): boolean {
    const token = this.#byId.get(tokenId);
    if (token === undefined || token.revoked_at !== undefined) return false;
    this.#revoke(token, reason, true);
    return true;
  }

  /**
   * A token this table does not hold (it lives on another cluster node) was revoked:
   * revokes, at once, the tokens here that were narrowed from it. Returns how many.
   */
  revokeDelegatedFrom(tokenId: string, reason: string): number {
    let count = 0;
    for (const childId of this.#delegated.get(tokenId) ?? []) {
      const child = this.#byId.get(childId);
      if (child === undefined || child.revoked_at !== undefined) continue;
      this.#revoke(child, `the token ${tokenId} it was delegated from was revoked on another node: ${reason}`, false);
      count += 1;
    }
    return count;
  }

  /**
   * Revokes every unrevoked token of the agent (and what was delegated from them), one
   * audit event each; returns how many of the agent's own. `durable` for an operator's
   * revocation; lifecycle revocations (stop, shutdown) are not remembered across a restart.
   */
  revokeAll(agentId: string, reason: string, options: { durable?: boolean } = {}): number {
    let count = 0;
    for (const token of this.#byAgent.get(agentId) ?? []) {
      if (token.revoked_at !== undefined) continue;
      this.#revoke(token, reason, options.durable ?? false);
      count += 1;
    }
    return count;
  }

  /** Copies of all the agent's tokens, revoked ones included. */
  list(agentId: string): TokenView[] {
    return (this.#byAgent.get(agentId) ?? []).map(toTokenView);
  }

  /** Handles of the agent's tokens that are currently usable. */
  handles(agentId: string): string[] {
    const now = this.#now();
    return (this.#byAgent.get(agentId) ?? []).filter((t) => tokenState(t, now) === 'live').map((t) => t.id);
  }

  /**
   * Drops a stopped agent's tokens. They should already be revoked; any that are not
   * are revoked here first so the trail still shows their end.
   */
  forget(agentId: string): void {
    this.revokeAll(agentId, 'agent forgotten');
    for (const token of this.#byAgent.get(agentId) ?? []) {
      this.#byId.delete(token.id);
      this.#delegated.delete(token.id);
      if (token.parent_token_id !== undefined) this.#delegated.get(token.parent_token_id)?.delete(token.id);
    }
    this.#byAgent.delete(agentId);
    this.#agents.delete(agentId);
    this.#durable.delete(agentId);
  }

  /** The token and every token it was narrowed from, nearest first (stops at a forgotten one). */
  #chain(token: CapabilityToken): CapabilityToken[] {
    const out = [token];
    let parentId = token.parent_token_id;
    while (parentId !== undefined) {
      const parent = this.#byId.get(parentId);
      if (parent === undefined || out.includes(parent)) break;
      out.push(parent);
      parentId = parent.parent_token_id;
    }
    return out;
  }

  /**
   * A delegated token is usable only while every token above it is: the whole delegation
   * tree shares one max_invocations pool, one expiry and one revocation.
   */
  #chainState(
    token: CapabilityToken,
    now: number,
    ignoreExhausted = false,
  ): { state: TokenState; at: CapabilityToken } {
    for (const link of this.#chain(token)) {
      const state = tokenState(link, now);
      if (state !== 'live' && !(ignoreExhausted && state === 'exhausted')) return { state, at: link };
    }
    return { state: 'live', at: token };
  }

  /** The live parent token a child's grant is narrowed from (delegation and placement ask the same). */
  #coveringToken(parentTokens: CapabilityToken[], capability: Capability, now: number): CapabilityToken | undefined {
    return parentTokens.find((t) => this.#chainState(t, now).state === 'live' && covers(t.capability, capability));
  }

  /** One use charges the token and every ancestor token: the pool is shared by the tree. */
  #charge(token: CapabilityToken): void {
    const dirty = new Set<string>();
    for (const link of this.#chain(token)) {
      link.invocation_count += 1;
      if (link.constraints.max_invocations !== undefined && this.#durable.has(link.owner)) dirty.add(link.owner);
    }
    for (const owner of dirty) this.#persist(owner);
  }

  #persist(agentId: string): void {
    if (this.#persistence === undefined || !this.#durable.has(agentId)) return;
    const states: DurableTokenState[] = (this.#byAgent.get(agentId) ?? []).map((token, index) => ({
      key: durableKey(index, token),
      invocation_count: token.invocation_count,
      ...(token.durableRevocation !== undefined
        ? { revoked_at: token.durableRevocation.at, reason: token.durableRevocation.reason }
        : {}),
    }));
    this.#persistence.save(agentId, states);
  }

  #store(
    owner: CallContext,
    capability: Capability,
    constraints: Constraints,
    parentTokenId?: string,
  ): CapabilityToken {
    const token: CapabilityToken = {
      id: newTokenId(),
      owner: owner.id,
      capability,
      constraints,
      issued_at: this.#now(),
      invocation_count: 0,
      ...(parentTokenId !== undefined ? { parent_token_id: parentTokenId } : {}),
    };
    this.#byId.set(token.id, token);
    if (parentTokenId !== undefined) {
      let children = this.#delegated.get(parentTokenId);
      if (children === undefined) this.#delegated.set(parentTokenId, (children = new Set()));
      children.add(token.id);
    }
    const list = this.#byAgent.get(owner.id);
    if (list === undefined) this.#byAgent.set(owner.id, [token]);
    else list.push(token);
    // grants and revocations belong to the agent, not to the span it was in when it got the token
    const agent = outsideRun(owner);
    this.#agents.set(owner.id, agent);
    const hasConstraints = constraints.max_invocations !== undefined || constraints.expires_at !== undefined;
    this.#emit({
      ...auditHeader(agent),
      type: 'CapabilityGranted',
      token_id: token.id,
      capability: formatCapability(capability),
      ...(hasConstraints ? { constraints: { ...constraints } } : {}),
    });
    return token;
  }

  #revoke(token: CapabilityToken, reason: string, durable: boolean): void {
    token.revoked_at = this.#now();
    if (durable) token.durableRevocation = { at: token.revoked_at, reason };
    const owner = this.#agents.get(token.owner) ?? { id: token.owner, name: token.owner };
    this.#emit({
      ...auditHeader(owner),
      type: 'CapabilityRevoked',
      token_id: token.id,
      capability: formatCapability(token.capability),
      reason,
    });
    if (durable) this.#persist(token.owner);
    // at once, every token narrowed from this one, however deep
    for (const childId of this.#delegated.get(token.id) ?? []) {
      const child = this.#byId.get(childId);
      if (child !== undefined && child.revoked_at === undefined) {
        this.#revoke(child, `the token ${token.id} it was delegated from was revoked: ${reason}`, durable);
      }
    }
  }

  #viaHandle(
    agent: CallContext,
    req: CapabilityRequest,
    handle: string,
    now: number,
    alreadyCharged: boolean,
  ): CapabilityToken | Denial {
    const token = this.#byId.get(handle);
    if (token === undefined) {
      return { code: ErrorCode.CAPABILITY_UNKNOWN_HANDLE, reason: 'the presented capability handle was never issued' };
    }
    if (token.owner !== agent.id) {
      return {
        code: ErrorCode.CAPABILITY_WRONG_AGENT,
        reason: 'the presented capability handle belongs to another agent',
      };
    }
    if (!permits(token.capability, req)) {
      return {
        code: ErrorCode.CAPABILITY_DENIED,
        reason: `the presented handle (${formatCapability(token.capability)}) does not permit it`,
      };
    }
    const { state, at } = this.#chainState(token, now, alreadyCharged);
    return state === 'live' ? token : stateDenial(token, state, at);
  }

  #viaSearch(agent: CallContext, req: CapabilityRequest, now: number): CapabilityToken | Denial {
    const matching = (this.#byAgent.get(agent.id) ?? []).filter((t) => permits(t.capability, req));
    if (matching.length === 0)
      return { code: ErrorCode.CAPABILITY_DENIED, reason: 'no capability of the agent permits it' };
    let best: { token: CapabilityToken; state: Exclude<TokenState, 'live'>; at: CapabilityToken } | undefined;
    for (const token of matching) {
      const { state, at } = this.#chainState(token, now);
      if (state === 'live') return token;
      // report the most actionable reason: a used-up or expired token over a revoked one
      if (best === undefined || RANK[state] > RANK[best.state]) best = { token, state, at };
    }
    const worst = best as { token: CapabilityToken; state: Exclude<TokenState, 'live'>; at: CapabilityToken };
    return stateDenial(worst.token, worst.state, worst.at);
  }

  /** A denial is an event of the span the request was made in (the caller's). */
  #emitDenied(agent: CallContext, capability: string, reason: string, code: ErrorCode, tool?: string): void {
    this.#emit({
      ...auditHeader(agent),
      type: 'CapabilityDenied',
      capability,
      reason,
      code,
      ...(tool !== undefined ? { tool } : {}),
    });
  }
}

const RANK: Record<Exclude<TokenState, 'live'>, number> = { revoked: 0, expired: 1, exhausted: 2 };

function stateDenial(token: CapabilityToken, state: Exclude<TokenState, 'live'>, at: CapabilityToken): Denial {
  const code = STATE_CODE[state];
  // `at` is the token itself, or the ancestor it was delegated from whose limit ended it
  const via = at === token ? '' : ` (through token ${at.id} it was delegated from, whose pool it shares)`;
  switch (state) {
    case 'revoked':
      return { code, reason: `the capability that permits it has been revoked${via}` };
    case 'expired':
      return {
        code,
        reason: `the capability that permits it expired at ${new Date(at.constraints.expires_at ?? 0).toISOString()}${via}`,
      };
    case 'exhausted':
      return {
        code,
        reason: `the capability that permits it has used all ${at.constraints.max_invocations ?? 0} of its invocations${via}`,
      };
  }
}

/** A token's durable identity across restarts: its position among the agent's grants and what it grants. */
function durableKey(index: number, token: CapabilityToken): string {
  return `${index}:${formatCapability(token.capability)}`;
}

/** Validates a capability and canonicalises path grants (throws PATH_INVALID for a malformed glob). */
function canonicalCapability(cap: Capability): Capability {
  const parsed = ownCapability(Capability.parse(cap));
  if (parsed.kind === 'file_read' || parsed.kind === 'file_write') {
    return { kind: parsed.kind, glob: canonicalizeGlobSync(parsed.glob) };
  }
  return parsed;
}

/** Requests are matched lexically normalised; a relative path stays relative and matches no grant. */
function normalizeRequest(req: CapabilityRequest): CapabilityRequest {
  if (req.kind === 'file_read' || req.kind === 'file_write') return { kind: req.kind, path: normalizePath(req.path) };
  return req;
}
