import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import type { AuditInput } from '../../src/audit/event.js';
import { ModelGateway } from '../../src/providers/gateway.js';

let dir: string;
let events: AuditInput[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aaos-gw-'));
  events = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const req = { system: '', messages: [{ role: 'user' as const, content: 'hello there' }], tools: [], max_tokens: 10 };

describe('ModelGateway', () => {
  it('runs scripted models offline with placeholders from the ScriptContext and reports usage', async () => {
    const file = join(dir, 'm.yaml');
    writeFileSync(file, '- text: "{agent_name} got: {message}"\n  usage: {input_tokens: 3, output_tokens: 4}\n');
    const gw = new ModelGateway({ env: {}, emit: (e) => events.push(e) });
    gw.registerAgent({ id: 'c1', name: 'child', parentId: 'p1', runId: 'run-1' });
    const response = await gw.complete(
      { id: 'c1', name: 'child', parentId: 'p1', runId: 'run-1', trace: { traceId: 't', spanId: 's0' } },
      `scripted:${file}`,
      req,
      { agent_id: 'c1', agent_name: 'child' },
    );
    expect(response.content).toEqual([{ type: 'text', text: 'child got: hello there' }]);
    expect(events).toEqual([
      {
        agent_id: 'c1',
        agent_name: 'child',
        parent_id: 'p1',
        run_id: 'run-1',
        trace_id: 't',
        type: 'UsageReported',
        model: file,
        provider: 'scripted',
        input_tokens: 3,
        output_tokens: 4,
        duration_ms: expect.any(Number),
        queue_ms: expect.any(Number),
        span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
        parent_span_id: 's0',
      },
    ]);
  });

  it('AAOS_MODEL_OVERRIDE sends a real-model agent to the scripted model', async () => {
    const file = join(dir, 'o.yaml');
    writeFileSync(file, '- text: overridden\n');
    const gw = new ModelGateway({ env: { AAOS_MODEL_OVERRIDE: `scripted:${file}` }, emit: (e) => events.push(e) });
    const response = await gw.complete({ id: 'a', name: 'a' }, 'claude-sonnet-4-5', req, {
      agent_id: 'a',
      agent_name: 'a',
    });
    expect(response.content).toEqual([{ type: 'text', text: 'overridden' }]);
  });

  it('a real model without its key fails with MODEL_UNAVAILABLE before any budget or audit', async () => {
    const gw = new ModelGateway({ env: {}, emit: (e) => events.push(e) });
    await expect(
      gw.complete({ id: 'a', name: 'a' }, 'claude-sonnet-4-5', req, { agent_id: 'a', agent_name: 'a' }),
    ).rejects.toMatchObject({
      code: ErrorCode.MODEL_UNAVAILABLE,
      message: expect.stringContaining('ANTHROPIC_API_KEY'),
    });
    expect(events).toEqual([]);
  });

  it('cancelAgent rejects a queued call and aborts an in-flight one (scripted latency)', async () => {
    const slow = join(dir, 'slow.yaml');
    writeFileSync(slow, 'turns: [{text: late}]\nlatency_ms: 60000\n');
    const gw = new ModelGateway({ env: {}, emit: (e) => events.push(e), limits: { maxConcurrent: 1, minDelayMs: 0 } });
    gw.registerAgent({ id: 'a', name: 'a' }, { max_tokens: 1000 });
    const inFlight = gw.complete({ id: 'a', name: 'a' }, `scripted:${slow}`, req, { agent_id: 'a', agent_name: 'a' });
    const queued = gw.complete({ id: 'a', name: 'a' }, `scripted:${slow}`, req, { agent_id: 'a', agent_name: 'a' });
    await new Promise((r) => setImmediate(r));
    gw.cancelAgent('a');
    await expect(inFlight).rejects.toMatchObject({ code: ErrorCode.CANCELLED });
    await expect(queued).rejects.toMatchObject({ code: ErrorCode.CANCELLED });
    // reservations were released, nothing was charged
    expect(gw.budgets.snapshot('a')).toMatchObject({ used: 0, reserved: 0 });
    expect(events).toEqual([]);
  });

  it('a caller AbortSignal cancels the call', async () => {
    const slow = join(dir, 'slow.yaml');
    writeFileSync(slow, 'turns: [{text: late}]\nlatency_ms: 60000\n');
    const gw = new ModelGateway({ env: {}, emit: (e) => events.push(e) });
    const controller = new AbortController();
    const call = gw.complete(
      { id: 'a', name: 'a' },
      `scripted:${slow}`,
      { ...req, signal: controller.signal },
      { agent_id: 'a', agent_name: 'a' },
    );
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: ErrorCode.CANCELLED });
  });

  it('releaseAgent drops the scripted cursor', async () => {
    const file = join(dir, 'r.yaml');
    writeFileSync(file, '- text: one\n- text: two\n');
    const gw = new ModelGateway({ env: {}, emit: () => {} });
    const call = () => gw.complete({ id: 'a', name: 'a' }, `scripted:${file}`, req, { agent_id: 'a', agent_name: 'a' });
    expect((await call()).content).toEqual([{ type: 'text', text: 'one' }]);
    gw.releaseAgent('a');
    expect((await call()).content).toEqual([{ type: 'text', text: 'one' }]);
  });

  it('describeDefault explains what is configured', () => {
    const none = new ModelGateway({ env: {}, emit: () => {} });
    expect(none.describeDefault()).toBe(
      'no provider API key set: agents with real model names will fail; scripted: models run offline; set ANTHROPIC_API_KEY, OPENAI_API_KEY, DEEPSEEK_API_KEY or OLLAMA_BASE_URL to use a real provider',
    );
    const some = new ModelGateway({
      env: { ANTHROPIC_API_KEY: 'k', OLLAMA_BASE_URL: 'http://127.0.0.1:1/v1' },
      emit: () => {},
    });
    expect(some.describeDefault()).toBe(
      'model providers: anthropic, ollama; scripted: models run offline; not configured: OPENAI_API_KEY, DEEPSEEK_API_KEY',
    );
    const override = new ModelGateway({ env: { AAOS_MODEL_OVERRIDE: 'scripted:/x.yaml' }, emit: () => {} });
    expect(override.describeDefault()).toMatch(
      /^AAOS_MODEL_OVERRIDE=scripted:\/x.yaml: every agent uses this model; no provider API key set/,
    );
  });

  it('maxContextTokens routes the model string; bad scheduler env is CONFIG_INVALID', () => {
    const gw = new ModelGateway({ env: {}, emit: () => {} });
    expect(gw.maxContextTokens('claude-opus-4-1')).toBe(200_000);
    expect(() => gw.maxContextTokens('nonsense')).toThrowError(
      expect.objectContaining({ code: ErrorCode.MODEL_UNKNOWN }),
    );
    expect(() => new ModelGateway({ env: { AAOS_MIN_INFERENCE_DELAY_MS: '-5' }, emit: () => {} })).toThrowError(
      expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }),
    );
  });
});
