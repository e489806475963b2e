import { afterEach, describe, expect, it } from 'vitest';
import { type AaosError, ErrorCode } from '../../src/errors/index.js';
import type { AuditInput } from '../../src/audit/event.js';
import { ModelGateway } from '../../src/providers/gateway.js';
import { InferenceScheduler, schedulerLimitsFromEnv } from '../../src/providers/scheduler.js';
import { FakeOpenAIServer, chatCompletion, openAIError } from '../support/fake-openai-server.js';

/** A promise the test settles by hand. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('InferenceScheduler', () => {
  it('limit 2, 20 agents at once: never more than 2 in flight, every call served', async () => {
    const scheduler = new InferenceScheduler({ limits: { maxConcurrent: 2, minDelayMs: 0 } });
    let inFlight = 0;
    let maxInFlight = 0;
    const served: string[] = [];
    const calls = Array.from({ length: 20 }, (_, i) =>
      scheduler.run('p', `agent-${i}`, async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await turn();
        inFlight--;
        served.push(`agent-${i}`);
        return i;
      }),
    );
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(maxInFlight).toBe(2);
    expect(served).toHaveLength(20);
  });

  it('is fair: one agent with 50 queued calls does not starve 19 others', async () => {
    const scheduler = new InferenceScheduler({ limits: { maxConcurrent: 2, minDelayMs: 0 } });
    const order: string[] = [];
    const job = (label: string) => async () => {
      order.push(label);
      await turn();
    };
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) all.push(scheduler.run('p', 'greedy', job(`greedy-${i}`)));
    for (let i = 0; i < 19; i++) all.push(scheduler.run('p', `small-${i}`, job(`small-${i}`)));
    await Promise.all(all);
    const tenthGreedy = order.indexOf('greedy-9');
    for (let i = 0; i < 19; i++) expect(order.indexOf(`small-${i}`)).toBeLessThan(tenthGreedy);
    // the greedy agent's own calls stay in FIFO order
    const greedy = order.filter((l) => l.startsWith('greedy'));
    expect(greedy).toEqual(Array.from({ length: 50 }, (_, i) => `greedy-${i}`));
  });

  it('separate providers have separate limits', async () => {
    const scheduler = new InferenceScheduler({ limits: { maxConcurrent: 1, minDelayMs: 0 } });
    const hold = deferred();
    const a = scheduler.run('anthropic', 'x', () => hold.promise);
    let openaiRan = false;
    await scheduler.run('openai', 'y', async () => {
      openaiRan = true;
    });
    expect(openaiRan).toBe(true);
    expect(scheduler.stats('anthropic').inFlight).toBe(1);
    hold.resolve();
    await a;
  });

  it('keeps the minimum gap between call starts', async () => {
    let last = 0;
    const clock = () => (last = Date.now());
    const scheduler = new InferenceScheduler({ limits: { maxConcurrent: 5, minDelayMs: 15 }, clock });
    const starts: number[] = [];
    // `last` is the clock value the scheduler used for this very start
    await Promise.all(
      Array.from({ length: 4 }, (_, i) => scheduler.run('p', `a${i}`, async () => void starts.push(last))),
    );
    for (let i = 1; i < starts.length; i++) expect((starts[i] ?? 0) - (starts[i - 1] ?? 0)).toBeGreaterThanOrEqual(15);
  });

  it('pause() holds every agent of the provider until the given time', async () => {
    let last = 0;
    const clock = () => (last = Date.now());
    const scheduler = new InferenceScheduler({ limits: { maxConcurrent: 3, minDelayMs: 0 }, clock });
    const until = Date.now() + 40;
    scheduler.pause('p', until);
    scheduler.pause('p', until - 30); // never shortens
    const starts: number[] = [];
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => scheduler.run('p', id, async () => void starts.push(last))));
    expect(starts).toHaveLength(4);
    for (const start of starts) expect(start).toBeGreaterThanOrEqual(until);
  });

  it('cancelAgent rejects queued calls at once and aborts in-flight ones', async () => {
    const scheduler = new InferenceScheduler({ limits: { maxConcurrent: 1, minDelayMs: 0 } });
    const hold = deferred();
    let seenSignal: AbortSignal | undefined;
    const inFlight = scheduler.run('p', 'busy', (signal) => {
      seenSignal = signal;
      return hold.promise;
    });
    const outcomes: string[] = [];
    let started = 0;
    const queued = [1, 2, 3].map((n) =>
      scheduler
        .run('p', 'victim', async () => {
          started++;
        })
        .then(
          () => outcomes.push(`ok-${n}`),
          (err: AaosError) => outcomes.push(`${err.code}-${n}`),
        ),
    );
    const other = scheduler.run('p', 'bystander', async () => 'fine');
    expect(scheduler.stats('p').queued).toBe(4);

    expect(scheduler.cancelAgent('victim')).toBe(3);
    await Promise.all(queued);
    // rejected while the slot was still busy: nothing had to finish first
    expect(outcomes).toEqual([`${ErrorCode.CANCELLED}-1`, `${ErrorCode.CANCELLED}-2`, `${ErrorCode.CANCELLED}-3`]);
    expect(scheduler.stats('p')).toMatchObject({ inFlight: 1, queued: 1 });

    scheduler.cancelAgent('busy');
    await expect(inFlight).rejects.toMatchObject({ code: ErrorCode.CANCELLED });
    expect(seenSignal?.aborted).toBe(true);
    // the slot is freed only when the aborted task really ends
    expect(scheduler.stats('p').inFlight).toBe(1);
    hold.resolve();
    expect(await other).toBe('fine');
    expect(started).toBe(0);
  });

  it('a caller signal removes its queued call', async () => {
    const scheduler = new InferenceScheduler({ limits: { maxConcurrent: 1, minDelayMs: 0 } });
    const hold = deferred();
    const first = scheduler.run('p', 'a', () => hold.promise);
    const controller = new AbortController();
    const second = scheduler.run('p', 'a', async () => 'never', controller.signal);
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: ErrorCode.CANCELLED });
    expect(scheduler.stats('p').queued).toBe(0);
    hold.resolve();
    await first;
  });

  it('reads its limits from the environment', () => {
    expect(schedulerLimitsFromEnv({})).toEqual({ maxConcurrent: 3, minDelayMs: 0 });
    expect(schedulerLimitsFromEnv({ AAOS_MAX_CONCURRENT_INFERENCE: '5', AAOS_MIN_INFERENCE_DELAY_MS: '250' })).toEqual({
      maxConcurrent: 5,
      minDelayMs: 250,
    });
    expect(() => schedulerLimitsFromEnv({ AAOS_MAX_CONCURRENT_INFERENCE: 'lots' })).toThrow(
      /AAOS_MAX_CONCURRENT_INFERENCE="lots" is invalid/,
    );
    expect(() => schedulerLimitsFromEnv({ AAOS_MAX_CONCURRENT_INFERENCE: '0' })).toThrowError(
      expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }),
    );
  });
});

describe('shared backoff over real HTTP', () => {
  let server: FakeOpenAIServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it('a 429 seen by one agent pauses every agent of that provider until retry-after', async () => {
    server = await FakeOpenAIServer.start();
    const srv = server;
    srv.reply(openAIError(429, 'requests', 'Rate limit reached', { 'retry-after-ms': '60' }, 'rate_limit_exceeded'));
    srv.fallback = chatCompletion({ content: 'ok' });
    const events: AuditInput[] = [];
    const backoffSeen = deferred();
    const gw = new ModelGateway({
      env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: srv.baseUrl },
      emit: (e) => events.push(e),
      limits: { maxConcurrent: 3, minDelayMs: 0 },
      retry: { maxAttempts: 3 },
      sleep: async (ms) => {
        backoffSeen.resolve();
        await new Promise((r) => setTimeout(r, ms));
      },
    });
    const req = { system: '', messages: [{ role: 'user' as const, content: 'x' }], tools: [], max_tokens: 5 };
    const first = gw.complete({ id: 'a0', name: 'a0' }, 'gpt-4o', req, { agent_id: 'a0', agent_name: 'a0' });
    await backoffSeen.promise;
    // other agents ask while the provider is backing off
    const others = ['a1', 'a2', 'a3', 'a4'].map((id) =>
      gw.complete({ id, name: id }, 'gpt-4o', req, { agent_id: id, agent_name: id }),
    );
    await Promise.all([first, ...others]);

    expect(srv.requests).toHaveLength(6);
    const limitedAt = srv.requests[0]?.receivedAt ?? 0;
    for (const request of srv.requests.slice(1)) expect(request.receivedAt).toBeGreaterThanOrEqual(limitedAt + 60);
    expect(events.filter((e) => e.type === 'InferenceRetried').map((e) => e.agent_id)).toEqual(['a0']);
    expect(events.filter((e) => e.type === 'UsageReported')).toHaveLength(5);
  });
});
