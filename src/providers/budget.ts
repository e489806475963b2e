/**
 * Token budgets (a manifest's `budget_config`), per agent, along the parent chain.
 *
 * The rule, exactly:
 * - An agent's usage is input + output tokens as the provider reported them. Every call's
 *   usage is added to the calling agent AND to every ancestor (parent, grandparent, ...).
 * - Before a call, the gateway estimates its input tokens E (characters of system prompt,
 *   messages and tool definitions, divided by 4, rounded up); O is the call's
 *   `max_tokens` (its worst-case output). For the agent and each ancestor that has a
 *   budget, with U = tokens used in its current window and R = the worst cases (E + O) of
 *   calls admitted but not finished yet (in the agent or its descendants): the call is
 *   refused when U >= max_tokens or U + R + E > max_tokens. A refused call is never sent.
 *   The first (nearest) budget that refuses is the one reported.
 * - An admitted call reserves its worst case E + O on the same chain until it finishes;
 *   then the reservation is replaced by the real usage. Concurrent calls (sixteen children
 *   started at once) therefore see each other's worst case, and actual usage may end a
 *   window above max_tokens by at most one call's output, never by a call that was refused.
 * - reset_period_seconds > 0: windows are [origin + k*period, origin + (k+1)*period)
 *   counted from registration. Which window applies is derived from the clock on every
 *   touch, so a reset can happen only once per window and two concurrent touches cannot
 *   both reset (or lose each other's usage). Usage lands in the window where the call
 *   finished. 0 = never reset.
 */

export interface TokenBudget {
  max_tokens: number;
  /** 0 or absent = never reset */
  reset_period_seconds?: number;
}

interface Account {
  agentId: string;
  parentId: string | undefined;
  budget: TokenBudget | undefined;
  used: number;
  reserved: number;
  origin: number;
  window: number;
}

export interface BudgetReservation {
  agentId: string;
  /** the agent and its ancestors at admission time */
  chain: string[];
  /** what is reserved: estimated input plus the call's maximum output */
  estimate: number;
  done: boolean;
}

interface BudgetRefusal {
  /** whose budget refused: the caller or one of its ancestors */
  owner: string;
  used: number;
  reserved: number;
  max: number;
  estimate: number;
}

export type BudgetAdmission = { ok: true; reservation: BudgetReservation } | { ok: false; refusal: BudgetRefusal };

export interface BudgetSnapshot {
  used: number;
  reserved: number;
  max_tokens: number | undefined;
  window_start: number;
}

export class BudgetLedger {
  private readonly accounts = new Map<string, Account>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** (Re-)register an agent. Re-registering keeps its usage; a new budget applies from now on. */
  register(agentId: string, parentId?: string, budget?: TokenBudget): void {
    const existing = this.accounts.get(agentId);
    if (existing) {
      existing.parentId = parentId;
      existing.budget = budget;
      return;
    }
    this.accounts.set(agentId, { agentId, parentId, budget, used: 0, reserved: 0, origin: this.clock(), window: 0 });
  }

  release(agentId: string): void {
    this.accounts.delete(agentId);
  }

  has(agentId: string): boolean {
    return this.accounts.has(agentId);
  }

  /** Check the chain for `estimate` input tokens and reserve `estimate + maxOutput` on it, in one synchronous step. */
  admit(agentId: string, estimate: number, maxOutput = 0): BudgetAdmission {
    const chain = this.chain(agentId);
    for (const account of chain) {
      const budget = account.budget;
      if (!budget) continue;
      this.roll(account);
      if (account.used >= budget.max_tokens || account.used + account.reserved + estimate > budget.max_tokens) {
        return {
          ok: false,
          refusal: {
            owner: account.agentId,
            used: account.used,
            reserved: account.reserved,
            max: budget.max_tokens,
            estimate,
          },
        };
      }
    }
    const worstCase = estimate + maxOutput;
    for (const account of chain) account.reserved += worstCase;
    return { ok: true, reservation: { agentId, chain: chain.map((a) => a.agentId), estimate: worstCase, done: false } };
  }

  /** The call finished: release its reservation and charge its real usage up the chain. */
  settle(reservation: BudgetReservation, tokens: number): void {
    this.finish(reservation, tokens);
  }

  /** The call failed or was cancelled: release its reservation, charge nothing. */
  cancel(reservation: BudgetReservation): void {
    this.finish(reservation, 0);
  }

  snapshot(agentId: string): BudgetSnapshot | undefined {
    const account = this.accounts.get(agentId);
    if (!account) return undefined;
    this.roll(account);
    const period = (account.budget?.reset_period_seconds ?? 0) * 1000;
    return {
      used: account.used,
      reserved: account.reserved,
      max_tokens: account.budget?.max_tokens,
      window_start: account.origin + account.window * period,
    };
  }

  private finish(reservation: BudgetReservation, tokens: number): void {
    if (reservation.done) return;
    reservation.done = true;
    for (const id of reservation.chain) {
      const account = this.accounts.get(id);
      if (!account) continue;
      this.roll(account);
      account.reserved = Math.max(0, account.reserved - reservation.estimate);
      account.used += tokens;
    }
  }

  /** The agent and its ancestors (stops at unknown ids; guards against cycles). */
  private chain(agentId: string): Account[] {
    const out: Account[] = [];
    const seen = new Set<string>();
    let id: string | undefined = agentId;
    while (id !== undefined && !seen.has(id)) {
      seen.add(id);
      const account = this.accounts.get(id);
      if (!account) break;
      out.push(account);
      id = account.parentId;
    }
    return out;
  }

  private roll(account: Account): void {
    const period = (account.budget?.reset_period_seconds ?? 0) * 1000;
    if (period <= 0) return;
    const window = Math.floor((this.clock() - account.origin) / period);
    if (window > account.window) {
      account.window = window;
      account.used = 0;
    }
  }
}
