import { AaosError, ErrorCode } from '../errors/index.js';
import { sleep as realSleep } from './sleep.js';

/** Anything with a case-insensitive `get`, e.g. fetch `Headers`. */
export interface HeaderSource {
  get(name: string): string | null;
}

/**
 * How long the provider asked us to wait, in ms: `retry-after-ms` (OpenAI-style,
 * milliseconds) wins over `retry-after` (seconds, or an HTTP date). Undefined when
 * absent or unparseable; never negative.
 */
export function parseRetryAfter(headers: HeaderSource | null | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const raw = headers.get('retry-after');
  if (raw === null || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export interface RetryPolicy {
  /** total attempts including the first one */
  maxAttempts: number;
  /** first backoff delay when the provider gave no retry-after */
  baseDelayMs: number;
  /** no single wait is longer than this, retry-after included */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 60_000 };

/** What a retry hook learns about each retry (the `InferenceRetried` payload). */
interface RetryNotice {
  /** 1 for the first retry */
  attempt: number;
  delay_ms: number;
  reason: string;
  error: AaosError;
}

export interface RetryHooks {
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** in [0, 1); injectable so tests get exact delays */
  random?: () => number;
  /** called before each wait; the gateway emits InferenceRetried and pauses the provider on 429 */
  onRetry?: (notice: RetryNotice) => void;
  signal?: AbortSignal;
}

/** Transient provider failures are worth repeating; everything else (auth, bad request, cancel) fails at once. */
const RETRYABLE = new Set<string>([
  ErrorCode.MODEL_RATE_LIMITED,
  ErrorCode.MODEL_SERVER,
  ErrorCode.MODEL_TIMEOUT,
  ErrorCode.MODEL_BAD_RESPONSE,
]);

function isRetryable(err: unknown): err is AaosError {
  // an endpoint that refused the connection may be restarting; a missing key (same code) is not retried
  return (
    err instanceof AaosError &&
    (RETRYABLE.has(err.code) || (err.code === ErrorCode.MODEL_UNAVAILABLE && err.details?.['connection'] === true))
  );
}

/**
 * The wait before retry number `retry` (1-based). A provider's retry-after is honoured
 * as given (capped by maxDelayMs); otherwise exponential backoff with "equal jitter":
 * half the step fixed, half random, so synchronized agents spread out.
 */
export function retryDelayMs(
  err: AaosError,
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const asked = err.details?.['retry_after_ms'];
  if (typeof asked === 'number' && Number.isFinite(asked) && asked >= 0) return Math.min(asked, policy.maxDelayMs);
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

function retryReason(err: AaosError): string {
  const status = err.details?.['status'];
  const kind =
    err.code === ErrorCode.MODEL_RATE_LIMITED
      ? 'rate limited'
      : err.code === ErrorCode.MODEL_TIMEOUT
        ? 'timed out'
        : err.code === ErrorCode.MODEL_BAD_RESPONSE
          ? 'bad response'
          : err.code === ErrorCode.MODEL_UNAVAILABLE
            ? 'no connection'
            : 'server error';
  return typeof status === 'number' ? `${kind} (HTTP ${status})` : kind;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or `maxAttempts`
 * is used up; then the last error is rethrown with `details.attempts`.
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks = {},
): Promise<T> {
  const wait = hooks.sleep ?? realSleep;
  const maxAttempts = Math.max(1, Math.floor(policy.maxAttempts));
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      if (n >= maxAttempts) {
        throw new AaosError(
          err.code,
          `${err.message} (gave up after ${n} attempt${n === 1 ? '' : 's'})`,
          { ...err.details, attempts: n },
          { cause: err },
        );
      }
      const delay = retryDelayMs(err, n, policy, hooks.random);
      hooks.onRetry?.({ attempt: n, delay_ms: delay, reason: retryReason(err), error: err });
      await wait(delay, hooks.signal);
    }
  }
}
