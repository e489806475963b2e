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

/** Who holds or asks: enough to fill an audit header. */
export interface AgentRef {
  id: string;
  name: string;
  parentId?: string;
  runId?: string;
}

export type AuditEmitter = (event: AuditInput) => void;

export interface AuthorizeOptions {
  /** check this one token instead of searching the agent's tokens */
  handle?: string;
  /** count the attempt against max_invocations (default true) */
  charge?: boolean;
  /** the tool on whose behalf the request is made, for the audit trail */
  tool?: string;
  traceId?: string;
  /** the span the request is made in (a denial becomes an event of that span) */
  spanId?: string;
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
  readonly #agents = new Map<string, AgentRef>();

  constructor(emit: AuditEmitter, clock: () => number = Date.now) {
    this.#emit = emit;
    this.#now = clock;
  }

  /** Issues one token to `owner`. Path grants are canonicalised so they compare with canonical requests. */
  issue(owner: AgentRef, grant: CapabilityGrant, parentTokenId?: string): TokenView {
    const capability = canonicalCapability(grant.capability);
    const constraints = Constraints.parse(grant.constraints ?? {});
    return toTokenView(this.#store(owner, capability, constraints, parentTokenId));
  }

  /**
   * Narrowing for a spawn: every child grant must be covered by one live token of the
   * parent, and inherits the tightest of that token's and its own constraints.
   * All or nothing: if one grant is not covered, nothing is issued.
   */
  delegate(parent: AgentRef, child: AgentRef, grants: CapabilityGrant[], trace?: { traceId: string; spanId: string }): TokenView[] {
    const now = this.#now();
    const parentTokens = this.#byAgent.get(parent.id) ?? [];
    const plan: { capability: Capability; constraints: Constraints; parentTokenId: string }[] = [];
    const missing: Capability[] = [];
    for (const grant of grants) {
      const capability = canonicalCapability(grant.capability);
      const own = Constraints.parse(grant.constraints ?? {});
      const source = parentTokens.find((t) => tokenState(t, now) === 'live' && covers(t.capability, capability));
      if (source === undefined) missing.push(capability);
      else plan.push({ capability, constraints: tightestConstraints(source.constraints, own), parentTokenId: source.id });
    }
    if (missing.length > 0) {
      const what = missing.map(formatCapability).join('; ');
      const reason = `no live capability of agent '${parent.name}' covers it, so it cannot be delegated to child '${child.name}' (${child.id})`;
      this.#emitDenied(parent, what, reason, ErrorCode.CAPABILITY_NOT_DELEGABLE, undefined, trace?.traceId, trace?.spanId);
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
   * Level-2 check for one request; throws a CAPABILITY_* AaosError when denied (and emits
   * exactly one CapabilityDenied). On success the permitting token is charged one
   * invocation unless `charge: false`, and a copy of it is returned.
   */
  authorize(agent: AgentRef, req: CapabilityRequest, opts: AuthorizeOptions = {}): TokenView {
    const request = normalizeRequest(req);
    const now = this.#now();
    const outcome =
      opts.handle !== undefined ? this.#viaHandle(agent, request, opts.handle, now) : this.#viaSearch(agent, request, now);
    if ('code' in outcome) {
      const what = formatRequest(request);
      this.#emitDenied(agent, what, outcome.reason, outcome.code, opts.tool, opts.traceId, opts.spanId);
      const toolPart = opts.tool !== undefined ? ` (tool '${opts.tool}')` : '';
      throw new AaosError(
        outcome.code,
        `agent '${agent.name}' (${agent.id}) is denied ${what}${toolPart}: ${outcome.reason}`,
        { agent_id: agent.id, agent_name: agent.name, request: what, ...(opts.tool !== undefined ? { tool: opts.tool } : {}) },
      );
    }
    if (opts.charge !== false) outcome.invocation_count += 1;
    return toTokenView(outcome);
  }

  /** Would some live token permit this? No charge, no audit (used to filter the tools a model sees). */
  check(agentId: string, req: CapabilityRequest): boolean {
    const request = normalizeRequest(req);
    const now = this.#now();
    return (this.#byAgent.get(agentId) ?? []).some((t) => tokenState(t, now) === 'live' && permits(t.capability, request));
  }

  /** Revokes one token. False when the id is unknown or the token is already revoked. */
  revoke(tokenId: string, reason: string): boolean {
    const token = this.#byId.get(tokenId);
    if (token === undefined || token.revoked_at !== undefined) return false;
    this.#revoke(token, reason);
    return true;
  }

  /** Revokes every unrevoked token of the agent, one audit event each; returns how many. */
  revokeAll(agentId: string, reason: string): number {
    let count = 0;
    for (const token of this.#byAgent.get(agentId) ?? []) {
      if (token.revoked_at !== undefined) continue;
      this.#revoke(token, reason);
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
    for (const token of this.#byAgent.get(agentId) ?? []) this.#byId.delete(token.id);
    this.#byAgent.delete(agentId);
    this.#agents.delete(agentId);
  }

  #store(owner: AgentRef, capability: Capability, constraints: Constraints, parentTokenId?: string): CapabilityToken {
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
    const list = this.#byAgent.get(owner.id);
    if (list === undefined) this.#byAgent.set(owner.id, [token]);
    else list.push(token);
    this.#agents.set(owner.id, { ...owner });
    const hasConstraints = constraints.max_invocations !== undefined || constraints.expires_at !== undefined;
    this.#emit({
      ...header(owner),
      type: 'CapabilityGranted',
      token_id: token.id,
      capability: formatCapability(capability),
      ...(hasConstraints ? { constraints: { ...constraints } } : {}),
    });
    return token;
  }

  #revoke(token: CapabilityToken, reason: string): void {
    token.revoked_at = this.#now();
    const owner = this.#agents.get(token.owner) ?? { id: token.owner, name: token.owner };
    this.#emit({
      ...header(owner),
      type: 'CapabilityRevoked',
      token_id: token.id,
      capability: formatCapability(token.capability),
      reason,
    });
  }

  #viaHandle(agent: AgentRef, req: CapabilityRequest, handle: string, now: number): CapabilityToken | Denial {
    const token = this.#byId.get(handle);
    if (token === undefined) {
      return { code: ErrorCode.CAPABILITY_UNKNOWN_HANDLE, reason: 'the presented capability handle was never issued' };
    }
    if (token.owner !== agent.id) {
      return { code: ErrorCode.CAPABILITY_WRONG_AGENT, reason: 'the presented capability handle belongs to another agent' };
    }
    if (!permits(token.capability, req)) {
      return { code: ErrorCode.CAPABILITY_DENIED, reason: `the presented handle (${formatCapability(token.capability)}) does not permit it` };
    }
    const state = tokenState(token, now);
    return state === 'live' ? token : stateDenial(token, state);
  }

  #viaSearch(agent: AgentRef, req: CapabilityRequest, now: number): CapabilityToken | Denial {
    const matching = (this.#byAgent.get(agent.id) ?? []).filter((t) => permits(t.capability, req));
    if (matching.length === 0) return { code: ErrorCode.CAPABILITY_DENIED, reason: 'no capability of the agent permits it' };
    let best: { token: CapabilityToken; state: Exclude<TokenState, 'live'> } | undefined;
    for (const token of matching) {
      const state = tokenState(token, now);
      if (state === 'live') return token;
      // report the most actionable reason: a used-up or expired token over a revoked one
      if (best === undefined || RANK[state] > RANK[best.state]) best = { token, state };
    }
    const worst = best as { token: CapabilityToken; state: Exclude<TokenState, 'live'> };
    return stateDenial(worst.token, worst.state);
  }

  #emitDenied(agent: AgentRef, capability: string, reason: string, code: ErrorCode, tool?: string, traceId?: string, spanId?: string): void {
    this.#emit({
      ...header(agent, traceId),
      ...(spanId !== undefined ? { span_id: spanId } : {}),
      type: 'CapabilityDenied',
      capability,
      reason,
      code,
      ...(tool !== undefined ? { tool } : {}),
    });
  }
}

const RANK: Record<Exclude<TokenState, 'live'>, number> = { revoked: 0, expired: 1, exhausted: 2 };

function stateDenial(token: CapabilityToken, state: Exclude<TokenState, 'live'>): Denial {
  const code = STATE_CODE[state];
  switch (state) {
    case 'revoked':
      return { code, reason: 'the capability that permits it has been revoked' };
    case 'expired':
      return { code, reason: `the capability that permits it expired at ${new Date(token.constraints.expires_at ?? 0).toISOString()}` };
    case 'exhausted':
      return { code, reason: `the capability that permits it has used all ${token.constraints.max_invocations ?? 0} of its invocations` };
  }
}

function header(agent: AgentRef, traceId?: string): Pick<AuditInput, 'agent_id' | 'agent_name' | 'parent_id' | 'run_id' | 'trace_id'> {
  return {
    agent_id: agent.id,
    agent_name: agent.name,
    ...(agent.parentId !== undefined ? { parent_id: agent.parentId } : {}),
    ...(agent.runId !== undefined ? { run_id: agent.runId } : {}),
    ...(traceId !== undefined ? { trace_id: traceId } : {}),
  };
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
