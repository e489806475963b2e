import { AaosError, ErrorCode } from '../errors/index.js';
import { readSetting, type EnvRecord } from '../config/config.js';
import { toProviderError, type ProviderCallInfo } from './provider-errors.js';
import { abortReason } from './sleep.js';

/** How long one provider HTTP call may take, in total and between two body chunks. */
export interface ProviderTimeouts {
  /** from sending the request to the last byte of the answer */
  totalMs: number;
  /** once headers arrived: the longest silence between two chunks of the body */
  idleMs: number;
}

/** AAOS_MODEL_TIMEOUT_MS and AAOS_MODEL_IDLE_TIMEOUT_MS (defaults in the settings table). */
export function providerTimeoutsFromEnv(env: EnvRecord): ProviderTimeouts {
  return {
    totalMs: readSetting(env, 'AAOS_MODEL_TIMEOUT_MS'),
    idleMs: readSetting(env, 'AAOS_MODEL_IDLE_TIMEOUT_MS'),
  };
}

export const DEFAULT_PROVIDER_TIMEOUTS: ProviderTimeouts = providerTimeoutsFromEnv({});

type ReadResult = { done: true; value?: undefined } | { done: false; value: Uint8Array };

/** A completion body larger than this is not a completion (and would eat the supervisor's heap). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

function where(info: ProviderCallInfo): string {
  return `${info.provider} model '${info.model}'`;
}

/** The start of a body for error messages: enough to tell HTML from JSON, never the whole thing. */
function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}

/** A 200 that is not a completion of the provider's API. Retried a bounded number of times. */
export function badResponse(info: ProviderCallInfo, why: string, body?: string): AaosError {
  const shown = body !== undefined && body !== '' ? `; the body starts: ${JSON.stringify(snippet(body))}` : '';
  return new AaosError(
    ErrorCode.MODEL_BAD_RESPONSE,
    `${where(info)}: the provider answered 200 but not with a valid completion: ${why}${shown}`,
    {
      provider: info.provider,
      model: info.model,
      reason: why,
    },
  );
}

function timeoutError(info: ProviderCallInfo, why: string, limitMs: number, kind: 'total' | 'idle'): AaosError {
  return new AaosError(ErrorCode.MODEL_TIMEOUT, `${where(info)}: ${why}`, {
    provider: info.provider,
    model: info.model,
    timeout: kind,
    timeout_ms: limitMs,
  });
}

/** `read()` that rejects with `onIdle()` when no chunk arrives within `ms`. */
function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
  onIdle: () => AaosError,
): Promise<ReadResult> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onIdle()), ms);
  });
  return Promise.race([reader.read() as Promise<ReadResult>, idle]).finally(() => clearTimeout(timer));
}

/**
 * One provider HTTP call, bounded twice: `start` sends the request through the SDK (which
 * raises the typed HTTP errors) and hands back the raw `Response`; its body is read here,
 * chunk by chunk, so a server that sends headers and then stalls fails as MODEL_TIMEOUT
 * after `idleMs` (the SDKs stop their own timer once headers arrive), and the whole call
 * never outlives `totalMs`. A body that is not JSON, or is cut off, is MODEL_BAD_RESPONSE.
 * Returns the parsed JSON; the caller checks its shape.
 */
export async function callProviderJson(
  start: (signal: AbortSignal) => Promise<Response>,
  info: ProviderCallInfo,
  timeouts: ProviderTimeouts,
): Promise<{ json: unknown; text: string }> {
  const controller = new AbortController();
  let expired: AaosError | undefined;
  const expire = (err: AaosError): AaosError => {
    expired ??= err;
    controller.abort(expired);
    return expired;
  };
  const outer = info.signal;
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  const total = setTimeout(
    () =>
      expire(
        timeoutError(
          info,
          `no complete answer within ${timeouts.totalMs} ms (AAOS_MODEL_TIMEOUT_MS)`,
          timeouts.totalMs,
          'total',
        ),
      ),
    timeouts.totalMs,
  );
  // whatever failed, a cancel by the caller is reported as the cancel, and an expiry as the timeout
  const settle = (err: unknown): AaosError => {
    if (outer?.aborted) return abortReason(outer, `call to ${where(info)}`);
    if (expired) return expired;
    return toProviderError(err, { ...info, signal: controller.signal });
  };
  try {
    let response: Response;
    try {
      response = await start(controller.signal);
    } catch (err) {
      throw settle(err);
    }
    const text = await readBody(response, info, timeouts, expire, settle);
    try {
      return { json: JSON.parse(text) as unknown, text };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const type = response.headers.get('content-type') ?? 'no content-type';
      throw badResponse(
        info,
        text.trim() === '' ? `the body is empty (${type})` : `the body is not JSON (${type}: ${reason})`,
        text,
      );
    }
  } finally {
    clearTimeout(total);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

async function readBody(
  response: Response,
  info: ProviderCallInfo,
  timeouts: ProviderTimeouts,
  expire: (err: AaosError) => AaosError,
  settle: (err: unknown) => AaosError,
): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const onIdle = (): AaosError =>
    expire(
      timeoutError(
        info,
        `sent headers, then no body bytes for ${timeouts.idleMs} ms (AAOS_MODEL_IDLE_TIMEOUT_MS)`,
        timeouts.idleMs,
        'idle',
      ),
    );
  try {
    for (;;) {
      let next: ReadResult;
      try {
        next = await readWithin(reader, timeouts.idleMs, onIdle);
      } catch (err) {
        // a cancel or a deadline says so; anything else broke the body half-way: a cut-off answer
        const settled = settle(err);
        if (info.signal?.aborted || isDeadline(settled)) throw settled;
        const reason = err instanceof Error ? err.message : String(err);
        throw badResponse(
          info,
          `the body was cut off after ${size} bytes (${reason})`,
          new TextDecoder().decode(concat(chunks, size)),
        );
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > MAX_BODY_BYTES) throw badResponse(info, `the body is larger than ${MAX_BODY_BYTES} bytes`);
      chunks.push(next.value);
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return new TextDecoder().decode(concat(chunks, size));
}

function isDeadline(err: unknown): boolean {
  return (
    err instanceof AaosError &&
    err.code === ErrorCode.MODEL_TIMEOUT &&
    (err.details?.['timeout'] === 'total' || err.details?.['timeout'] === 'idle')
  );
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
