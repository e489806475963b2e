import * as AnthropicSdk from '@anthropic-ai/sdk';
import * as OpenAISdk from 'openai';
import { AaosError, ErrorCode } from '../errors/index.js';
import { abortReason } from './sleep.js';
import { parseRetryAfter, type HeaderSource } from './retry.js';

/** Who was being called, for error messages. */
export interface ProviderCallInfo {
  provider: string;
  model: string;
  /** the env var holding this provider's key, named in auth errors */
  keyEnv?: string;
  /** the endpoint, named when it cannot be reached (credentials and query left out) */
  baseUrl?: string;
  signal?: AbortSignal;
}

const CONTEXT_TOO_LONG =
  /context[ _-]?(length|window)|maximum context|prompt is too long|too many (input )?tokens|reduce the length|input is too long/i;

function isUserAbort(err: unknown): boolean {
  return err instanceof AnthropicSdk.APIUserAbortError || err instanceof OpenAISdk.APIUserAbortError;
}

function isTimeout(err: unknown): boolean {
  return err instanceof AnthropicSdk.APIConnectionTimeoutError || err instanceof OpenAISdk.APIConnectionTimeoutError;
}

function isConnection(err: unknown): boolean {
  return err instanceof AnthropicSdk.APIConnectionError || err instanceof OpenAISdk.APIConnectionError;
}

/** Causes that mean no connection was ever made to the endpoint. */
const NEVER_CONNECTED =
  /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|ERR_INVALID_URL)$|cannot be constructed from a URL/;

/** `ECONNREFUSED`, `ENOTFOUND`…: the innermost cause's code, else its message. */
function connectionReason(err: unknown): string {
  let cause: unknown = err instanceof Error ? err.cause : undefined;
  let reason = '';
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    reason = typeof code === 'string' ? code : cause.message;
    cause = cause.cause;
  }
  // a message may quote the URL it failed on, credentials included (fetch does)
  return reason.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)]+/gi, (url) => displayUrl(url));
}

/** The URL without user, password or query: those may hold a key. */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.href.replace(/\/$/, '');
  } catch {
    return '(an invalid URL)';
  }
}

interface StatusError {
  status: number;
  headers: HeaderSource | undefined;
  body: unknown;
  message: string;
}

function asStatusError(err: unknown): StatusError | undefined {
  if (!(err instanceof AnthropicSdk.APIError) && !(err instanceof OpenAISdk.APIError)) return undefined;
  if (typeof err.status !== 'number') return undefined;
  return {
    status: err.status,
    headers: err.headers as HeaderSource | undefined,
    body: err.error,
    message: err.message,
  };
}

/** The provider's own explanation: Anthropic `{error: {message}}`, OpenAI `{message}` (SDK unwraps `error`). */
function apiMessage(body: unknown, fallback: string): string {
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const inner = record['error'];
    if (inner && typeof inner === 'object') {
      const message = (inner as Record<string, unknown>)['message'];
      if (typeof message === 'string' && message) return message;
    }
    const message = record['message'];
    if (typeof message === 'string' && message) return message;
  }
  return fallback;
}

function apiCode(body: unknown): string {
  if (!body || typeof body !== 'object') return '';
  const record = body as Record<string, unknown>;
  const inner =
    record['error'] && typeof record['error'] === 'object' ? (record['error'] as Record<string, unknown>) : record;
  return [inner['code'], inner['type']].filter((v): v is string => typeof v === 'string').join(' ');
}

/**
 * Maps whatever an SDK call threw to one AaosError. Messages always name the provider,
 * the model and (when there was a response) the HTTP status; `details.retry_after_ms`
 * carries the provider's requested wait for the retry loop and the scheduler.
 */
export function toProviderError(err: unknown, info: ProviderCallInfo, now: number = Date.now()): AaosError {
  if (err instanceof AaosError) return err;
  const where = `${info.provider} model '${info.model}'`;
  const base = { provider: info.provider, model: info.model };
  if (info.signal?.aborted || isUserAbort(err)) {
    return info.signal
      ? abortReason(info.signal, `call to ${where}`)
      : new AaosError(ErrorCode.CANCELLED, `call to ${where} was cancelled`, base);
  }
  if (isTimeout(err)) {
    return new AaosError(ErrorCode.MODEL_TIMEOUT, `${where}: no answer before the request timed out`, base, {
      cause: err,
    });
  }
  if (isConnection(err)) {
    // say where we tried: a wrong *_BASE_URL is the usual cause
    const url = info.baseUrl ? displayUrl(info.baseUrl) : undefined;
    const reason = connectionReason(err);
    const at = `${url ? ` connecting to ${url}` : ''}${reason ? ` (${reason})` : ''}`;
    const details = { ...base, ...(url ? { url } : {}) };
    // nothing to connect to (refused, no such host, a URL fetch will not use): unavailable;
    // a connection that was made and then dropped stays a timeout, as before
    if (!NEVER_CONNECTED.test(reason)) {
      return new AaosError(
        ErrorCode.MODEL_TIMEOUT,
        `${where}: the connection failed or was dropped before an answer${at}`,
        details,
        { cause: err },
      );
    }
    return new AaosError(
      ErrorCode.MODEL_UNAVAILABLE,
      `${where}: no connection${at}`,
      { ...details, connection: true },
      { cause: err },
    );
  }
  const status = asStatusError(err);
  if (!status) {
    const message = err instanceof Error ? err.message : String(err);
    return new AaosError(ErrorCode.INTERNAL, `${where}: unexpected failure: ${message}`, base, { cause: err });
  }
  const said = apiMessage(status.body, status.message);
  const details: Record<string, unknown> = { ...base, status: status.status, provider_message: said };
  const http = `HTTP ${status.status}`;
  const code = status.status;
  if (code === 401 || code === 403) {
    const hint = info.keyEnv ? `; check ${info.keyEnv}` : '';
    return new AaosError(
      ErrorCode.MODEL_AUTH,
      `${where}: the provider refused the API key (${http}): ${said}${hint}`,
      details,
      { cause: err },
    );
  }
  if (code === 404) {
    return new AaosError(
      ErrorCode.MODEL_UNKNOWN,
      `${where}: the provider does not know this model (${http}): ${said}`,
      details,
      { cause: err },
    );
  }
  if (code === 429) {
    const retryAfter = parseRetryAfter(status.headers, now);
    if (retryAfter !== undefined) details['retry_after_ms'] = retryAfter;
    return new AaosError(ErrorCode.MODEL_RATE_LIMITED, `${where}: rate limited (${http}): ${said}`, details, {
      cause: err,
    });
  }
  if (code >= 500) {
    const retryAfter = parseRetryAfter(status.headers, now);
    if (retryAfter !== undefined) details['retry_after_ms'] = retryAfter;
    return new AaosError(ErrorCode.MODEL_SERVER, `${where}: provider server error (${http}): ${said}`, details, {
      cause: err,
    });
  }
  if (code === 408) {
    return new AaosError(
      ErrorCode.MODEL_TIMEOUT,
      `${where}: the provider timed out the request (${http}): ${said}`,
      details,
      { cause: err },
    );
  }
  if (code === 413 || ((code === 400 || code === 422) && CONTEXT_TOO_LONG.test(`${said} ${apiCode(status.body)}`))) {
    return new AaosError(
      ErrorCode.MODEL_CONTEXT_TOO_LONG,
      `${where}: the request exceeds the model's context window (${http}): ${said}`,
      details,
      { cause: err },
    );
  }
  return new AaosError(
    ErrorCode.MODEL_BAD_REQUEST,
    `${where}: the provider rejected the request (${http}): ${said}`,
    details,
    { cause: err },
  );
}
