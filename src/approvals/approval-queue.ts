import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { auditHeader, type CallContext, type CallHeader } from '../audit/call-context.js';
import type { AuditInput } from '../audit/event.js';
import { preview } from '../audit/preview.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { ApprovalPersistence, ApprovalRecord } from './approval-record.js';

export interface ApprovalRequest {
  /** the tool call that needs a human's approval (its agent, goal run and span) */
  agent: CallContext;
  tool: string;
  input: unknown;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One line of `list()`, in the aaOS `approval.list` shape. */
export interface PendingApproval {
  id: string;
  agent_id: string;
  agent_name: string;
  tool: string;
  input: unknown;
  requested_at: string;
  /** present (true) when the approval was left by a previous process */
  recovered?: true;
}

/** A human's answer. `scope: {minutes}` on an approval also approves later calls of that agent+tool until it expires. */
export const ApprovalResponse = z.object({
  id: z.string().min(1),
  decision: z.enum(['approve', 'deny']),
  reason: z.string().optional(),
  scope: z
    .union([
      z.literal('once'),
      z.object({
        minutes: z
          .number()
          .positive()
          .max(7 * 24 * 60, 'at most one week (10080 minutes)'),
      }),
    ])
    .optional(),
});
export type ApprovalResponse = z.infer<typeof ApprovalResponse>;

type ApprovalOutcome = 'approved' | 'denied' | 'timed_out' | 'cancelled';

/** What live watchers (`agentd approvals --watch`) receive. */
export type ApprovalEvent =
  | { type: 'requested'; approval: PendingApproval }
  | {
      type: 'resolved';
      id: string;
      agent_id: string;
      tool: string;
      outcome: ApprovalOutcome;
      scope?: string;
      reason?: string;
    };

export interface ApprovalQueueOptions {
  persistence: ApprovalPersistence;
  emit: (event: AuditInput) => void;
  defaultTimeoutMs?: number;
  /** epoch milliseconds; standing grants expire by it */
  clock?: () => number;
}

// setTimeout overflows above this and would fire at once
const MAX_TIMEOUT_MS = 2_147_483_647;

interface Waiter {
  resolve(): void;
  reject(err: AaosError): void;
}

interface Entry {
  record: ApprovalRecord;
  waiters: Set<Waiter>;
  timer: NodeJS.Timeout | undefined;
}

interface StandingGrant {
  agentId: string;
  tool: string;
  expiresAt: number;
  approvalId: string;
}

type Settlement =
  | { status: 'approved'; scope: string }
  | { status: 'denied'; reason: string }
  | { status: 'timed_out' }
  | { status: 'cancelled' };

function checkTimeout(ms: number, what: string): number {
  if (!Number.isInteger(ms) || ms <= 0 || ms > MAX_TIMEOUT_MS) {
    throw new AaosError(
      ErrorCode.CONFIG_INVALID,
      `${what} must be a whole number of milliseconds between 1 and ${MAX_TIMEOUT_MS}, got ${ms}`,
      {
        field: what,
        value: ms,
      },
    );
  }
  return ms;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)} min`;
  return `${+(ms / 3_600_000).toFixed(2)} h`;
}

function view(record: ApprovalRecord): PendingApproval {
  const out: PendingApproval = {
    id: record.id,
    agent_id: record.agent_id,
    agent_name: record.agent_name,
    tool: record.tool,
    input: record.input,
    requested_at: record.requested_at,
  };
  if (record.recovered_at !== undefined) out.recovered = true;
  return out;
}

function cancelledError(record: ApprovalRecord): AaosError {
  return new AaosError(
    ErrorCode.CANCELLED,
    `approval ${record.id} for tool '${record.tool}' was cancelled before a human answered`,
    {
      approval_id: record.id,
      tool: record.tool,
      agent_id: record.agent_id,
    },
  );
}

/** The error a denied or timed-out record resolves to. */
function outcomeError(record: ApprovalRecord): AaosError {
  const details = {
    approval_id: record.id,
    tool: record.tool,
    agent_id: record.agent_id,
    agent_name: record.agent_name,
  };
  if (record.status === 'timed_out') {
    return new AaosError(
      ErrorCode.APPROVAL_TIMEOUT,
      `approval ${record.id} for tool '${record.tool}' (agent '${record.agent_name}') got no answer within ${formatDuration(record.timeout_ms)} and was denied; answer sooner with \`agentd approvals\`, or raise the approval timeout (now ${record.timeout_ms} ms)`,
      { ...details, timeout_ms: record.timeout_ms },
    );
  }
  return new AaosError(ErrorCode.APPROVAL_DENIED, `human denied: ${record.reason ?? 'denied by human'}`, {
    ...details,
    reason: record.reason,
  });
}

/**
 * Human approval of tool calls. `request` blocks only its own caller until a human
 * answers with `respond`, the timeout denies it, or its signal cancels it. Every
 * pending approval is persisted so a restarted supervisor can `recover()` it.
 */
export class ApprovalQueue {
  readonly #persistence: ApprovalPersistence;
  readonly #emit: (event: AuditInput) => void;
  readonly #defaultTimeoutMs: number;
  readonly #clock: () => number;
  readonly #pending = new Map<string, Entry>();
  /** answered while nobody waited (recovered approvals), kept for `await` */
  readonly #answered = new Map<string, ApprovalRecord>();
  #grants: StandingGrant[] = [];
  readonly #listeners = new Set<(event: ApprovalEvent) => void>();
  #closed = false;

  constructor(options: ApprovalQueueOptions) {
    this.#persistence = options.persistence;
    this.#emit = options.emit;
    this.#defaultTimeoutMs = checkTimeout(options.defaultTimeoutMs ?? 3_600_000, 'defaultTimeoutMs');
    this.#clock = options.clock ?? Date.now;
  }

  /** Resolves when approved; rejects with APPROVAL_DENIED, APPROVAL_TIMEOUT or CANCELLED. */
  async request(req: ApprovalRequest): Promise<void> {
    if (this.#closed)
      throw new AaosError(ErrorCode.SHUTTING_DOWN, `approval queue is closed; tool '${req.tool}' cannot be approved`, {
        tool: req.tool,
      });
    const timeoutMs = checkTimeout(req.timeoutMs ?? this.#defaultTimeoutMs, 'timeoutMs');
    const now = this.#clock();

    const grant = this.#standingGrant(req.agent.id, req.tool, now);
    if (grant) {
      this.#audit({
        ...auditHeader(req.agent),
        type: 'HumanApprovalGranted',
        approval_id: grant.approvalId,
        tool: req.tool,
        scope: 'standing',
      });
      return;
    }

    const record: ApprovalRecord = {
      v: 1,
      id: randomUUID(),
      agent_id: req.agent.id,
      agent_name: req.agent.name,
      ...(req.agent.parentId !== undefined ? { parent_id: req.agent.parentId } : {}),
      ...(req.agent.runId !== undefined ? { run_id: req.agent.runId } : {}),
      ...(req.agent.trace ? { trace_id: req.agent.trace.traceId, span_id: req.agent.trace.spanId } : {}),
      tool: req.tool,
      input: req.input,
      requested_at: new Date(now).toISOString(),
      timeout_ms: timeoutMs,
      status: 'pending',
    };
    if (req.signal?.aborted) throw cancelledError(record);

    // persisted before anyone can see it, so a crash never loses an approval a human saw
    this.#persistence.save(record);
    const entry: Entry = { record, waiters: new Set(), timer: undefined };
    this.#pending.set(record.id, entry);
    this.#audit({
      ...this.#header(record),
      type: 'HumanApprovalRequested',
      approval_id: record.id,
      tool: record.tool,
      input_preview: preview(record.input),
    });
    this.#notify({ type: 'requested', approval: view(record) });
    const waiting = this.#wait(entry, req.signal);
    this.#startTimer(entry);
    return waiting;
  }

  list(): { pending: PendingApproval[] } {
    const pending = [...this.#pending.values()]
      .map((entry) => view(entry.record))
      .sort((a, b) =>
        a.requested_at < b.requested_at ? -1 : a.requested_at > b.requested_at ? 1 : a.id < b.id ? -1 : 1,
      );
    return { pending };
  }

  respond(response: ApprovalResponse): { ok: true } {
    const parsed = ApprovalResponse.safeParse(response);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(response)';
      throw new AaosError(
        ErrorCode.CONFIG_INVALID,
        `invalid approval response: ${field}: ${issue?.message ?? 'invalid'}`,
        { field },
      );
    }
    const { id, decision, reason, scope } = parsed.data;
    const entry = this.#pending.get(id);
    if (!entry) {
      const answered = this.#answered.has(id);
      throw new AaosError(
        ErrorCode.APPROVAL_NOT_FOUND,
        answered
          ? `approval ${id} was already answered`
          : `no pending approval with id '${id}'; \`agentd approvals\` lists the pending ones`,
        { approval_id: id },
      );
    }

    if (decision === 'deny') {
      this.#settle(entry, { status: 'denied', reason: reason?.trim() ? reason.trim() : 'denied by human' });
      return { ok: true };
    }
    if (scope === undefined || scope === 'once') {
      this.#settle(entry, { status: 'approved', scope: 'once' });
      return { ok: true };
    }

    const { agent_id: agentId, tool } = entry.record;
    const expiresAt = this.#clock() + scope.minutes * 60_000;
    this.#grants = this.#grants.filter((g) => !(g.agentId === agentId && g.tool === tool));
    this.#grants.push({ agentId, tool, expiresAt, approvalId: id });
    this.#settle(entry, { status: 'approved', scope: `${scope.minutes} min` });
    // calls of the same agent+tool already waiting are covered by the grant too
    for (const other of [...this.#pending.values()]) {
      if (other.record.agent_id === agentId && other.record.tool === tool)
        this.#settle(other, { status: 'approved', scope: 'standing' });
    }
    return { ok: true };
  }

  /**
   * Takes over the approvals a previous process persisted. Pending ones are listed
   * again and get a fresh timeout (nobody could answer while the daemon was down);
   * answered ones wait for `await`. Returns them all, marked with `recovered_at`.
   */
  recover(): ApprovalRecord[] {
    const recovered: ApprovalRecord[] = [];
    const now = new Date(this.#clock()).toISOString();
    for (const stored of this.#persistence.loadAll()) {
      if (this.#pending.has(stored.id) || this.#answered.has(stored.id)) continue;
      const record: ApprovalRecord = { ...stored, recovered_at: now };
      this.#persistence.save(record);
      if (record.status === 'pending') {
        const entry: Entry = { record, waiters: new Set(), timer: undefined };
        this.#pending.set(record.id, entry);
        this.#startTimer(entry);
        this.#notify({ type: 'requested', approval: view(record) });
      } else {
        this.#answered.set(record.id, record);
      }
      recovered.push(structuredClone(record));
    }
    return recovered;
  }

  /** Waits on an existing approval (one returned by `recover`), with the same outcomes as `request`. */
  async await(id: string, signal?: AbortSignal): Promise<void> {
    const entry = this.#pending.get(id);
    if (entry) {
      if (signal?.aborted) {
        this.#settle(entry, { status: 'cancelled' });
        throw cancelledError(entry.record);
      }
      return this.#wait(entry, signal);
    }
    const answered = this.#answered.get(id);
    if (answered) {
      this.#answered.delete(id);
      this.#persistence.remove(id);
      if (answered.status === 'approved') return;
      throw outcomeError(answered);
    }
    throw new AaosError(ErrorCode.APPROVAL_NOT_FOUND, `no approval with id '${id}' to wait for`, { approval_id: id });
  }

  /** Live events for watchers; returns the unsubscribe function. */
  subscribe(listener: (event: ApprovalEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Shutdown: stops the timers and fails the waiting callers with SHUTTING_DOWN, but
   * leaves the persisted approvals in place for the next process to recover.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#pending.values()) {
      clearTimeout(entry.timer);
      const err = new AaosError(
        ErrorCode.SHUTTING_DOWN,
        `approval ${entry.record.id} for tool '${entry.record.tool}' is still pending; the supervisor is shutting down`,
        {
          approval_id: entry.record.id,
          tool: entry.record.tool,
        },
      );
      for (const waiter of entry.waiters) waiter.reject(err);
      entry.waiters.clear();
    }
    this.#pending.clear();
    this.#answered.clear();
    this.#listeners.clear();
  }

  #standingGrant(agentId: string, tool: string, now: number): StandingGrant | undefined {
    this.#grants = this.#grants.filter((g) => g.expiresAt > now);
    return this.#grants.find((g) => g.agentId === agentId && g.tool === tool);
  }

  #wait(entry: Entry, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const current = this.#pending.get(entry.record.id);
        if (current === entry) this.#settle(entry, { status: 'cancelled' });
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      entry.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #startTimer(entry: Entry): void {
    entry.timer = setTimeout(() => {
      if (this.#pending.get(entry.record.id) === entry) this.#settle(entry, { status: 'timed_out' });
    }, entry.record.timeout_ms);
  }

  #settle(entry: Entry, settlement: Settlement): void {
    const { record } = entry;
    clearTimeout(entry.timer);
    this.#pending.delete(record.id);
    const header = this.#header(record);

    switch (settlement.status) {
      case 'approved':
        this.#audit({
          ...header,
          type: 'HumanApprovalGranted',
          approval_id: record.id,
          tool: record.tool,
          scope: settlement.scope,
        });
        break;
      case 'denied':
        this.#audit({
          ...header,
          type: 'HumanApprovalDenied',
          approval_id: record.id,
          tool: record.tool,
          reason: settlement.reason,
        });
        break;
      case 'timed_out':
        this.#audit({
          ...header,
          type: 'HumanApprovalTimedOut',
          approval_id: record.id,
          tool: record.tool,
          timeout_ms: record.timeout_ms,
        });
        break;
      case 'cancelled':
        // no dedicated event type: close the audit trail of this approval as a denial
        this.#audit({
          ...header,
          type: 'HumanApprovalDenied',
          approval_id: record.id,
          tool: record.tool,
          reason: 'cancelled: the calling run was cancelled',
        });
        break;
    }

    const final: ApprovalRecord = { ...record };
    if (settlement.status === 'approved') final.status = 'approved';
    else if (settlement.status === 'denied') Object.assign(final, { status: 'denied', reason: settlement.reason });
    else if (settlement.status === 'timed_out') final.status = 'timed_out';

    if (settlement.status === 'cancelled' || entry.waiters.size > 0) {
      this.#persistence.remove(record.id);
      const waiters = [...entry.waiters];
      entry.waiters.clear();
      for (const waiter of waiters) {
        if (settlement.status === 'approved') waiter.resolve();
        else waiter.reject(settlement.status === 'cancelled' ? cancelledError(record) : outcomeError(final));
      }
    } else {
      // a recovered approval nobody has re-attached to yet: keep the answer for `await`
      this.#persistence.save(final);
      this.#answered.set(record.id, final);
    }

    const resolved: ApprovalEvent = {
      type: 'resolved',
      id: record.id,
      agent_id: record.agent_id,
      tool: record.tool,
      outcome: settlement.status,
    };
    if (settlement.status === 'approved') resolved.scope = settlement.scope;
    if (settlement.status === 'denied') resolved.reason = settlement.reason;
    this.#notify(resolved);
  }

  #header(record: ApprovalRecord): CallHeader {
    const h = auditHeader({
      id: record.agent_id,
      name: record.agent_name,
      ...(record.parent_id !== undefined ? { parentId: record.parent_id } : {}),
      ...(record.run_id !== undefined ? { runId: record.run_id } : {}),
    });
    // records from before span ids were kept have a trace id alone
    if (record.trace_id !== undefined) h.trace_id = record.trace_id;
    if (record.span_id !== undefined) h.span_id = record.span_id;
    return h;
  }

  #audit(event: AuditInput): void {
    this.#emit(event);
  }

  #notify(event: ApprovalEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // a broken watcher must not break approvals
      }
    }
  }
}
