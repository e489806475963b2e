import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AaosError, ErrorCode } from '../../src/errors/index.js';
import type { AuditInput } from '../../src/audit/event.js';
import { ModelGateway } from '../../src/providers/gateway.js';
import { parseRetryAfter, retryDelayMs, withRetry, DEFAULT_RETRY_POLICY } from '../../src/providers/retry.js';
import { FakeAnthropicServer, anthropicError, anthropicText } from '../support/fake-anthropic-server.js';

const headers = (h: Record<string, string>) => new Headers(h);

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads retry-after-ms, seconds and HTTP dates', () => {
    expect(parseRetryAfter(headers({ 'retry-after-ms': '20' }), now)).toBe(20);
    expect(parseRetryAfter(headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(parseRetryAfter(headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfter(headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }), now)).toBe(3000);
    expect(parseRetryAfter(headers({ 'retry-after': 'Tue, 31 Dec 2024 23:00:00 GMT' }), now)).toBe(0);
    // ms wins over seconds
    expect(parseRetryAfter(headers({ 'retry-after-ms': '150', 'retry-after': '9' }), now)).toBe(150);
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(headers({}), now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('withRetry', () => {
  const limited = (retryAfter?: number) =>
    new AaosError(ErrorCode.MODEL_RATE_LIMITED, 'anthropic: rate limited (HTTP 429)', {
      status: 429,
      ...(retryAfter !== undefined ? { retry_after_ms: retryAfter } : {}),
    });

  it('honours retry-after, then succeeds', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw limited(calls === 1 ? 20 : 1500);
        return 'ok';
      },
      { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 },
      { sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    // the second wait is capped by maxDelayMs
    expect(waits).toEqual([20, 1000]);
  });

  it('backs off exponentially with jitter when no retry-after is given', async () => {
    const waits: number[] = [];
    const err = new AaosError(ErrorCode.MODEL_SERVER, 'x: provider server error (HTTP 502)', { status: 502 });
    await expect(
      withRetry(
        async () => {
          throw err;
        },
        { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 },
        { sleep: async (ms) => void waits.push(ms), random: () => 1 },
      ),
    ).rejects.toMatchObject({ code: ErrorCode.MODEL_SERVER, details: { attempts: 4 } });
    expect(waits).toEqual([100, 200, 250]);
    // with random 0 only the fixed half remains
    expect(retryDelayMs(err, 3, { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 10_000 }, () => 0)).toBe(200);
  });

  it('bounded: gives up with the same code after maxAttempts, reporting each retry', async () => {
    const notices: Array<{ attempt: number; delay_ms: number; reason: string }> = [];
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw limited(5);
        },
        { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 },
        {
          sleep: async () => {},
          onRetry: (n) => notices.push({ attempt: n.attempt, delay_ms: n.delay_ms, reason: n.reason }),
        },
      ),
    ).rejects.toMatchObject({
      code: ErrorCode.MODEL_RATE_LIMITED,
      message: expect.stringContaining('gave up after 3 attempts'),
    });
    expect(calls).toBe(3);
    expect(notices).toEqual([
      { attempt: 1, delay_ms: 5, reason: 'rate limited (HTTP 429)' },
      { attempt: 2, delay_ms: 5, reason: 'rate limited (HTTP 429)' },
    ]);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new AaosError(ErrorCode.MODEL_AUTH, 'no');
        },
        DEFAULT_RETRY_POLICY,
        { sleep: async () => {} },
      ),
    ).rejects.toMatchObject({ code: ErrorCode.MODEL_AUTH });
    expect(calls).toBe(1);
  });
});

describe('retries through the gateway over real HTTP', () => {
  let server: FakeAnthropicServer;
  let events: AuditInput[];
  beforeEach(async () => {
    server = await FakeAnthropicServer.start();
    events = [];
  });
  afterEach(async () => {
    await server.close();
  });
  const agent = { id: 'r-1', name: 'retrier' };
  const ctx = { agent_id: 'r-1', agent_name: 'retrier' };
  const req = { system: '', messages: [{ role: 'user' as const, content: 'x' }], tools: [], max_tokens: 5 };

  it('retries a 429 after the retry-after-ms delay and emits InferenceRetried', async () => {
    const waits: number[] = [];
    const gw = new ModelGateway({
      env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: server.baseUrl },
      emit: (e) => events.push(e),
      retry: { maxAttempts: 3 },
      sleep: async (ms) => {
        waits.push(ms);
        await new Promise((r) => setTimeout(r, ms));
      },
    });
    server.reply(
      anthropicError(429, 'rate_limit_error', 'slow down', { 'retry-after-ms': '20' }),
      anthropicText('finally'),
    );
    const response = await gw.complete(agent, 'claude-test-1', req, ctx);
    expect(response.content).toEqual([{ type: 'text', text: 'finally' }]);
    expect(server.requests).toHaveLength(2);
    expect(waits).toEqual([20]);
    // the second request was not sent before the 429's retry-after had passed
    const [first, second] = server.requests;
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(20);
    expect(events.filter((e) => e.type === 'InferenceRetried')).toEqual([
      {
        agent_id: 'r-1',
        agent_name: 'retrier',
        type: 'InferenceRetried',
        provider: 'anthropic',
        attempt: 1,
        delay_ms: 20,
        reason: 'rate limited (HTTP 429)',
      },
    ]);
  });

  it('retries 5xx and gives up with MODEL_SERVER; persistent 429 gives MODEL_RATE_LIMITED', async () => {
    const gw = new ModelGateway({
      env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: server.baseUrl },
      emit: (e) => events.push(e),
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    });
    server.fallback = anthropicError(503, 'api_error', 'unavailable');
    await expect(gw.complete(agent, 'claude-test-1', req, ctx)).rejects.toMatchObject({
      code: ErrorCode.MODEL_SERVER,
      details: { attempts: 3, status: 503 },
    });
    expect(server.requests).toHaveLength(3);

    server.fallback = anthropicError(429, 'rate_limit_error', 'slow down', { 'retry-after-ms': '3' });
    await expect(gw.complete(agent, 'claude-test-1', req, ctx)).rejects.toMatchObject({
      code: ErrorCode.MODEL_RATE_LIMITED,
      details: { attempts: 3, status: 429 },
    });
    expect(server.requests).toHaveLength(6);
    expect(events.filter((e) => e.type === 'InferenceRetried')).toHaveLength(4);
    expect(events.filter((e) => e.type === 'UsageReported')).toHaveLength(0);
  });
});
