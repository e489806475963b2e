import { readSetting, type EnvRecord } from '../config/config.js';

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

const MAX_BACKOFF_MS = 30_000;

/** AAOS_RESTART_MAX, AAOS_RESTART_WINDOW_MS, AAOS_RESTART_BACKOFF_MS (doubling, at most 30 s). */
export function restartLimitsFromEnv(env: EnvRecord): RestartLimits {
  return {
    maxFailures: readSetting(env, 'AAOS_RESTART_MAX'),
    windowMs: readSetting(env, 'AAOS_RESTART_WINDOW_MS'),
    backoffMs: readSetting(env, 'AAOS_RESTART_BACKOFF_MS'),
    maxBackoffMs: MAX_BACKOFF_MS,
  };
}

/** The defaults of the settings table (5 failures in 60 s; 1 s doubling). */
export const DEFAULT_RESTART_LIMITS: RestartLimits = restartLimitsFromEnv({});

export type RestartDecision =
  | { restart: true; delayMs: number; failures: number }
  | { restart: false; failures: number };

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
