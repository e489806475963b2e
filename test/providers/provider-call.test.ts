import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isAaosError, type AaosError } from '../../src/errors/index.js';
import type { AuditInput } from '../../src/audit/event.js';
import { ModelGateway } from '../../src/providers/gateway.js';
import type { ProviderTimeouts } from '../../src/providers/provider-call.js';
import { providerTimeoutsFromEnv } from '../../src/providers/provider-call.js';
import type { RetryPolicy } from '../../src/providers/retry.js';
import { FakeAnthropicServer, anthropicText } from '../support/fake-anthropic-server.js';
import { FakeOpenAIServer, chatCompletion } from '../support/fake-openai-server.js';
import type { FakeReply, ScriptedHttpServer } from '../support/scripted-http-server.js';

/**
 * Real SDKs against loopback servers that misbehave after the status line: a body that
 * stalls, HTML, an empty `choices`, malformed or cut-off JSON. Each must end in its typed
 * error (never INTERNAL, never an empty answer), bounded by the configured timeouts.
 */
interface WireFormat {
  name: string;
  start(): Promise<ScriptedHttpServer>;
  env(server: ScriptedHttpServer): Record<string, string>;
  model: string;
  ok(text: string): FakeReply;
  /** a well-formed JSON 200 that is not a completion of this API */
  notACompletion: FakeReply;
  notACompletionReason: RegExp;
}

const formats: WireFormat[] = [
  {
    name: 'OpenAI Chat Completions',
    start: () => FakeOpenAIServer.start(),
    env: (s) => ({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${s.origin}/v1` }),
    model: 'gpt-4o',
    ok: (text) => chatCompletion({ content: text }),
    notACompletion: {
      status: 200,
      body: { id: 'x', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [] },
    },
    notACompletionReason: /'choices' is empty/,
  },
  {
    name: 'Anthropic Messages',
    start: () => FakeAnthropicServer.start(),
    env: (s) => ({ ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: s.origin }),
    model: 'claude-test-1',
    ok: (text) => anthropicText(text),
    notACompletion: {
      status: 200,
      body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    },
    notACompletionReason: /'type' is "error"/,
  },
];

const agent = { id: 'a-1', name: 'caller' };
const ctx = { agent_id: 'a-1', agent_name: 'caller' };
const request = { system: 's', messages: [{ role: 'user' as const, content: 'hi' }], tools: [], max_tokens: 16 };
const noWait = { sleep: async (): Promise<void> => undefined };

let server: ScriptedHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function gateway(
  format: WireFormat,
  s: ScriptedHttpServer,
  events: AuditInput[],
  timeouts: Partial<ProviderTimeouts>,
  retry: Partial<RetryPolicy> = { maxAttempts: 1 },
  maxConcurrent?: number,
): ModelGateway {
  return new ModelGateway({
    env: format.env(s),
    emit: (e) => events.push(e),
    retry,
    timeouts,
    ...noWait,
    ...(maxConcurrent !== undefined ? { limits: { maxConcurrent, minDelayMs: 0 } } : {}),
  });
}

async function failure(gw: ModelGateway, model: string): Promise<AaosError> {
  try {
    const answer = await gw.complete(agent, model, request, ctx);
    throw new Error(`expected a failure, got an answer: ${JSON.stringify(answer)}`);
  } catch (err) {
    if (!isAaosError(err)) throw err;
    return err;
  }
}

describe.each(formats)('$name: a 200 that is not a completion', (format) => {
  it('a body that stalls after the headers → MODEL_TIMEOUT after the idle timeout, not the total one', async () => {
    server = await format.start();
    server.reply({ stallBody: true, raw: '{"id":' });
    const events: AuditInput[] = [];
    const err = await failure(gateway(format, server, events, { idleMs: 300, totalMs: 120_000 }), format.model);
    expect(err.code).toBe(ErrorCode.MODEL_TIMEOUT);
    expect(err.message).toContain(`model '${format.model}'`);
    expect(err.message).toMatch(/sent headers, then no body bytes for 300 ms/);
    expect(err.details).toMatchObject({ timeout: 'idle', timeout_ms: 300 });
  });

  it('a stalled body is still cut at the total timeout when the idle limit is longer', async () => {
    server = await format.start();
    server.reply({ stallBody: true });
    const events: AuditInput[] = [];
    const err = await failure(gateway(format, server, events, { idleMs: 120_000, totalMs: 400 }), format.model);
    expect(err.code).toBe(ErrorCode.MODEL_TIMEOUT);
    expect(err.message).toMatch(/no complete answer within 400 ms \(AAOS_MODEL_TIMEOUT_MS\)/);
    expect(err.details).toMatchObject({ timeout: 'total' });
  });

  it.each([
    [
      'HTML',
      {
        status: 200,
        raw: '<html><body><h1>Welcome to nginx!</h1></body></html>',
        headers: { 'content-type': 'text/html' },
      },
      /the body is not JSON \(text\/html/,
    ],
    [
      'malformed JSON',
      { status: 200, raw: '{"id": "x", "choices": [', headers: {} },
      /the body is not JSON \(application\/json/,
    ],
    ['an empty body', { status: 200, raw: '', headers: {} }, /the body is empty/],
  ])('%s → MODEL_BAD_RESPONSE naming the reason and the body', async (_label, reply, reason) => {
    server = await format.start();
    server.reply(reply);
    const err = await failure(gateway(format, server, [], {}), format.model);
    expect(err.code).toBe(ErrorCode.MODEL_BAD_RESPONSE);
    expect(err.message).toMatch(reason);
    expect(err.message).toContain(`model '${format.model}'`);
    if (reply.raw !== '') expect(err.message).toContain('the body starts:');
  });

  it('a JSON 200 that is not a completion of this API → MODEL_BAD_RESPONSE, never an empty answer', async () => {
    server = await format.start();
    server.reply(format.notACompletion);
    const err = await failure(gateway(format, server, [], {}), format.model);
    expect(err.code).toBe(ErrorCode.MODEL_BAD_RESPONSE);
    expect(err.message).toMatch(format.notACompletionReason);
  });

  it('a body cut off mid-way (connection dropped) → MODEL_BAD_RESPONSE', async () => {
    server = await format.start();
    server.reply({ ...format.ok('a long enough answer that gets cut'), cutAfter: 20 });
    const err = await failure(gateway(format, server, [], {}), format.model);
    expect(err.code).toBe(ErrorCode.MODEL_BAD_RESPONSE);
    expect(err.message).toMatch(/cut off after 20 bytes/);
  });

  it('bad responses and stalls are retried a bounded number of times, then the last error is given', async () => {
    server = await format.start();
    server.fallback = { status: 200, raw: '<html>gateway</html>', headers: { 'content-type': 'text/html' } };
    const events: AuditInput[] = [];
    const err = await failure(gateway(format, server, events, {}, { maxAttempts: 3 }), format.model);
    expect(err.code).toBe(ErrorCode.MODEL_BAD_RESPONSE);
    expect(err.details).toMatchObject({ attempts: 3 });
    expect(server.requests).toHaveLength(3);
    expect(events.filter((e) => e.type === 'InferenceRetried').map((e) => (e as { reason?: string }).reason)).toEqual([
      'bad response',
      'bad response',
    ]);
  });

  it('a stall then a bad body then a good answer: the run gets the good answer', async () => {
    server = await format.start();
    server.reply({ stallBody: true }, { status: 200, raw: 'not json' }, format.ok('finally'));
    const events: AuditInput[] = [];
    const answer = await gateway(format, server, events, { idleMs: 200 }, { maxAttempts: 3 }).complete(
      agent,
      format.model,
      request,
      ctx,
    );
    expect(answer.content).toEqual([{ type: 'text', text: 'finally' }]);
    expect(events.filter((e) => e.type === 'InferenceRetried').map((e) => (e as { reason?: string }).reason)).toEqual([
      'timed out',
      'bad response',
    ]);
  });

  it('stalled calls never hold every inference slot: with one slot, a later call completes once the stall times out', async () => {
    server = await format.start();
    server.reply({ stallBody: true }, { stallBody: true }, format.ok('served'));
    const gw = gateway(format, server, [], { idleMs: 200 }, { maxAttempts: 1 }, 1);
    const stalled = [failure(gw, format.model), failure(gw, format.model)];
    const served = gw.complete({ id: 'a-2', name: 'later' }, format.model, request, {
      agent_id: 'a-2',
      agent_name: 'later',
    });
    expect((await Promise.all(stalled)).map((e) => e.code)).toEqual([ErrorCode.MODEL_TIMEOUT, ErrorCode.MODEL_TIMEOUT]);
    expect((await served).content).toEqual([{ type: 'text', text: 'served' }]);
  });

  it('a cancel during a stalled body is a cancel, not a timeout', async () => {
    server = await format.start();
    server.reply({ stallBody: true });
    const gw = gateway(format, server, [], { idleMs: 60_000 });
    const pending = failure(gw, format.model);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    gw.cancelAgent(agent.id);
    expect((await pending).code).toBe(ErrorCode.CANCELLED);
  });
});

describe('provider timeout settings', () => {
  it('come from AAOS_MODEL_TIMEOUT_MS and AAOS_MODEL_IDLE_TIMEOUT_MS; a bad value names the variable', () => {
    expect(providerTimeoutsFromEnv({})).toEqual({ totalMs: 600_000, idleMs: 120_000 });
    expect(providerTimeoutsFromEnv({ AAOS_MODEL_TIMEOUT_MS: '5000', AAOS_MODEL_IDLE_TIMEOUT_MS: '700' })).toEqual({
      totalMs: 5000,
      idleMs: 700,
    });
    expect(() => providerTimeoutsFromEnv({ AAOS_MODEL_IDLE_TIMEOUT_MS: 'soon' })).toThrow(
      /AAOS_MODEL_IDLE_TIMEOUT_MS="soon" is invalid/,
    );
  });
});

describe.each(formats)('$name: cancelled between attempts', (format) => {
  // a wait between attempts that only an abort ends, and says when it began
  function waitingGateway(s: ScriptedHttpServer, events: AuditInput[], onWait: () => void): ModelGateway {
    return new ModelGateway({
      env: format.env(s),
      emit: (e) => events.push(e),
      retry: { maxAttempts: 5 },
      sleep: (_ms, signal) =>
        new Promise<void>((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
          onWait();
        }),
    });
  }

  it('cancelAgent during the wait after a bad response ends the call with CANCELLED, and no further request is made', async () => {
    server = await format.start();
    server.fallback = { status: 200, raw: '<html>gateway</html>', headers: { 'content-type': 'text/html' } };
    const events: AuditInput[] = [];
    let gw: ModelGateway | undefined;
    gw = waitingGateway(server, events, () => gw?.cancelAgent(agent.id));
    const err = await failure(gw, format.model);
    expect(err.code).toBe(ErrorCode.CANCELLED);
    expect(server.requests).toHaveLength(1);
    expect(events.filter((e) => e.type === 'InferenceRetried')).toHaveLength(1);
    expect(gw.budgets.snapshot(agent.id)).toMatchObject({ reserved: 0 });
  });

  it("the caller's signal aborting during the wait ends the call with its reason, and no further request is made", async () => {
    server = await format.start();
    server.fallback = { status: 200, raw: '<html>gateway</html>', headers: { 'content-type': 'text/html' } };
    const controller = new AbortController();
    const reason = new Error('operator cancelled the run');
    const gw = waitingGateway(server, [], () => controller.abort(reason));
    const outcome = await gw.complete(agent, format.model, { ...request, signal: controller.signal }, ctx).then(
      () => 'answered',
      (e: unknown) => e,
    );
    // the wait ends with the caller's reason (the real sleep turns it into CANCELLED)
    expect(outcome).toBe(reason);
    expect(server.requests).toHaveLength(1);
  });

  it('a caller signal aborted before the call makes no request and holds no budget', async () => {
    server = await format.start();
    const gw = waitingGateway(server, [], () => {});
    const controller = new AbortController();
    controller.abort();
    await expect(
      gw.complete(agent, format.model, { ...request, signal: controller.signal }, ctx),
    ).rejects.toMatchObject({ code: ErrorCode.CANCELLED });
    expect(server.requests).toHaveLength(0);
    expect(gw.budgets.snapshot(agent.id)).toMatchObject({ reserved: 0 });
  });
});
