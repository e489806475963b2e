import { z } from 'zod';
import { AaosError, ErrorCode, isAaosError } from '../../errors/index.js';
import { defineTool, type Tool, type ToolContext } from '../tool.js';

const WEB_FETCH_DEFAULT_MAX_BYTES = 50_000;
const WEB_FETCH_MAX_BYTES_LIMIT = 5 * 1024 * 1024;
const WEB_FETCH_DEFAULT_TIMEOUT_MS = 30_000;
const WEB_FETCH_MAX_REDIRECTS = 5;

const WebFetchInput = z.object({
  url: z.string().min(1).describe('an http:// or https:// URL'),
  max_bytes: z
    .number()
    .int()
    .positive()
    .max(WEB_FETCH_MAX_BYTES_LIMIT)
    .default(WEB_FETCH_DEFAULT_MAX_BYTES)
    .describe(
      `read at most this many bytes of the body (default ${WEB_FETCH_DEFAULT_MAX_BYTES}, at most ${WEB_FETCH_MAX_BYTES_LIMIT})`,
    ),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .max(600_000)
    .default(WEB_FETCH_DEFAULT_TIMEOUT_MS)
    .describe(
      `give up after this many milliseconds, redirects and body included (default ${WEB_FETCH_DEFAULT_TIMEOUT_MS})`,
    ),
});
type WebFetchInput = z.infer<typeof WebFetchInput>;

export interface WebFetchResult {
  url: string;
  final_url: string;
  status: number;
  content_type: string;
  /** `base64` for binary content types */
  encoding: 'utf-8' | 'base64';
  body: string;
  truncated: boolean;
  bytes_read: number;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const TEXT_TYPES = new Set([
  'application/json',
  'application/ld+json',
  'application/x-ndjson',
  'application/xml',
  'application/xhtml+xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-javascript',
  'application/x-www-form-urlencoded',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/graphql',
  'application/sql',
  'application/csv',
  'image/svg+xml',
]);

function failed(message: string, details: Record<string, unknown>, cause?: unknown): AaosError {
  return new AaosError(ErrorCode.FETCH_FAILED, message, details, cause === undefined ? undefined : { cause });
}

function parseHttpUrl(raw: string, what: string, original: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw failed(`web_fetch: ${what} '${raw}' is not a valid URL`, { url: original });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw failed(
      `web_fetch: ${what} '${raw}' uses the ${url.protocol.replace(/:$/, '')} scheme; only http and https are supported`,
      { url: original },
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw failed(
      `web_fetch: ${what} '${url.host}${url.pathname}' carries credentials in the URL; they are not supported`,
      { url: original },
    );
  }
  return url;
}

/** Host as capabilities name it: lowercase, IPv6 without brackets. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

function isTextual(contentType: string | null, head: Uint8Array): boolean {
  if (contentType === null) {
    // no declared type: treat as text when the bytes look like UTF-8 without NULs
    if (head.includes(0)) return false;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
      return true;
    } catch {
      return false;
    }
  }
  const mime = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return mime.startsWith('text/') || TEXT_TYPES.has(mime) || mime.endsWith('+json') || mime.endsWith('+xml');
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const source = cause instanceof Error ? cause : err instanceof Error ? err : undefined;
  if (!source) return String(err);
  const code = (source as NodeJS.ErrnoException).code;
  return code ? `${code}: ${source.message}` : source.message;
}

async function readCapped(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - total;
      if (value.length > room) {
        // one byte past the cap is enough to know there was more
        chunks.push(value.subarray(0, room));
        total += room;
        truncated = true;
        break;
      }
      chunks.push(value);
      total += value.length;
    }
  } finally {
    if (truncated) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  return { bytes: Buffer.concat(chunks, total), truncated };
}

async function fetchWithin(input: WebFetchInput, ctx: ToolContext): Promise<WebFetchResult> {
  const original = input.url;
  let url = parseHttpUrl(original, 'URL', original);
  if (ctx.signal.aborted)
    throw new AaosError(ErrorCode.CANCELLED, `web_fetch ${original} was cancelled`, { url: original });

  const controller = new AbortController();
  let stoppedBy: 'timeout' | 'cancelled' | undefined;
  const timer = setTimeout(() => {
    stoppedBy ??= 'timeout';
    controller.abort();
  }, input.timeout_ms);
  const onCancel = (): void => {
    stoppedBy ??= 'cancelled';
    controller.abort();
  };
  ctx.signal.addEventListener('abort', onCancel, { once: true });

  try {
    for (let redirects = 0; ; redirects++) {
      // every hop is its own network request, so every hop is checked (throws when denied)
      ctx.authorize({ kind: 'network', host: hostOf(url) });

      const response = await fetch(url, {
        redirect: 'manual',
        signal: controller.signal,
        headers: { 'user-agent': 'aaos-web-fetch/0.1', accept: '*/*' },
      });

      const location = response.headers.get('location');
      if (REDIRECT_STATUSES.has(response.status) && location !== null) {
        await response.body?.cancel().catch(() => undefined);
        if (redirects >= WEB_FETCH_MAX_REDIRECTS) {
          throw failed(
            `web_fetch ${original}: too many redirects (more than ${WEB_FETCH_MAX_REDIRECTS}); last hop ${url.href} → ${location}`,
            {
              url: original,
              redirects: redirects + 1,
            },
          );
        }
        let next: string;
        try {
          next = new URL(location, url).href;
        } catch {
          throw failed(`web_fetch ${original}: ${url.href} redirected to an invalid location '${location}'`, {
            url: original,
            location,
          });
        }
        url = parseHttpUrl(next, 'redirect target', original);
        continue;
      }

      const declared = Number(response.headers.get('content-length') ?? NaN);
      if (Number.isFinite(declared) && declared > 10 * input.max_bytes) {
        await response.body?.cancel().catch(() => undefined);
        throw failed(
          `web_fetch ${url.href}: the response declares ${declared} bytes, more than 10× max_bytes (${input.max_bytes}); raise max_bytes (at most ${WEB_FETCH_MAX_BYTES_LIMIT}) or fetch a smaller resource`,
          { url: original, final_url: url.href, content_length: declared, max_bytes: input.max_bytes },
        );
      }

      const { bytes, truncated } = response.body
        ? await readCapped(response.body, input.max_bytes)
        : { bytes: new Uint8Array(), truncated: false };
      const contentType = response.headers.get('content-type');
      const textual = isTextual(contentType, bytes.subarray(0, 4096));
      // stream mode drops a multi-byte character cut in half by the cap instead of emitting U+FFFD
      const body = textual
        ? new TextDecoder('utf-8').decode(bytes, { stream: truncated })
        : Buffer.from(bytes).toString('base64');
      return {
        url: original,
        final_url: url.href,
        status: response.status,
        content_type: contentType ?? 'unknown',
        encoding: textual ? 'utf-8' : 'base64',
        body,
        truncated,
        bytes_read: bytes.length,
      };
    }
  } catch (err) {
    if (stoppedBy === 'timeout') {
      throw new AaosError(
        ErrorCode.FETCH_TIMEOUT,
        `web_fetch ${original} timed out after ${input.timeout_ms} ms (at ${url.href}); pass a larger timeout_ms to wait longer`,
        { url: original, final_url: url.href, timeout_ms: input.timeout_ms },
      );
    }
    if (stoppedBy === 'cancelled')
      throw new AaosError(ErrorCode.CANCELLED, `web_fetch ${original} was cancelled`, { url: original });
    if (isAaosError(err)) throw err;
    throw failed(
      `web_fetch ${original}: request to ${url.href} failed: ${describeNetworkError(err)}`,
      { url: original, final_url: url.href },
      err,
    );
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onCancel);
  }
}

/**
 * `web_fetch`: GET one http(s) URL. Redirects are followed by hand (at most 5) so
 * that each hop's host passes the agent's network capability; the body is read
 * as a stream and cut at `max_bytes`.
 */
export function createWebFetchTool(): Tool {
  return defineTool({
    name: 'web_fetch',
    idempotent: true,
    description:
      'Fetch an http(s) URL with GET and return its status, content type and body (text as UTF-8, binary as base64), cut at max_bytes. Each host, including redirect targets, must be allowed by your network capability.',
    input: WebFetchInput,
    run: (input, ctx) => fetchWithin(input, ctx),
  });
}
