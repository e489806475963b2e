import { intFromEnv } from '../config/env.js';

/**
 * Bounded restart intensity for persistent agents, as OTP supervisors have it: a worker
 * that dies is restarted (on the agent's next message, after a backoff that doubles per
 * recent failure), but `maxFailures` failures within `windowMs` park the agent as failed.
 */
export interface RestartLimits {
  maxFailures: number;
  windowMs: number;
  /** wait before the first restart; doubles with each further failure in the window */
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RESTART_LIMITS: RestartLimits = { maxFailures: 5, windowMs: 60_000, backoffMs: 1000, maxBackoffMs: 30_000 };

/** AAOS_RESTART_MAX (5), AAOS_RESTART_WINDOW_MS (60000), AAOS_RESTART_BACKOFF_MS (1000, doubling, at most 30000). */
export function restartLimitsFromEnv(env: NodeJS.ProcessEnv): RestartLimits {
  return {
    maxFailures: intFromEnv(env, 'AAOS_RESTART_MAX', DEFAULT_RESTART_LIMITS.maxFailures, 1),
    windowMs: intFromEnv(env, 'AAOS_RESTART_WINDOW_MS', DEFAULT_RESTART_LIMITS.windowMs, 1),
    backoffMs: intFromEnv(env, 'AAOS_RESTART_BACKOFF_MS', DEFAULT_RESTART_LIMITS.backoffMs, 0),
    maxBackoffMs: DEFAULT_RESTART_LIMITS.maxBackoffMs,
  };
}

export type RestartDecision = { restart: true; delayMs: number; failures: number } | { restart: false; failures: number };

/** The failure history of one agent. */
export class RestartHistory {
  private failures: number[] = [];
  /** no restart before this time (ms since epoch) */
  notBefore = 0;

  constructor(private readonly limits: RestartLimits) {}

  /** Record a failure at `now` and decide: restart after a delay, or give up. */
  fail(now: number): RestartDecision {
    this.failures = this.failures.filter((t) => now - t < this.limits.windowMs);
    this.failures.push(now);
    const failures = this.failures.length;
    if (failures >= this.limits.maxFailures) return { restart: false, failures };
    const delayMs = Math.min(this.limits.maxBackoffMs, this.limits.backoffMs * 2 ** (failures - 1));
    this.notBefore = now + delayMs;
    return { restart: true, delayMs, failures };
  }
}
