import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isAaosError } from '../../src/errors/index.js';
import type { AuditInput } from '../../src/audit/event.js';
import { ModelGateway } from '../../src/providers/gateway.js';
import { fromAnthropicResponse, toAnthropicMessages } from '../../src/providers/anthropic.js';
import type { ToolDefinition } from '../../src/providers/model.js';
import {
  FakeAnthropicServer,
  anthropicError,
  anthropicMessage,
  anthropicText,
} from '../support/fake-anthropic-server.js';

const tools: ToolDefinition[] = [
  {
    name: 'file_read',
    description: 'Read a file',
    input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  },
  {
    name: 'file_list',
    description: 'List a directory',
    input_schema: { type: 'object', properties: { dir: { type: 'string' } } },
  },
];
const agent = { id: 'agent-1', name: 'reader', runId: 'run-1', trace: { traceId: 'trace-1', spanId: 'span-1' } };
const ctx = { agent_id: 'agent-1', agent_name: 'reader' };

let server: FakeAnthropicServer;
let events: AuditInput[];

function gateway(extra: Record<string, string> = {}, retry = { maxAttempts: 1 }, totalMs?: number): ModelGateway {
  return new ModelGateway({
    env: { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: server.baseUrl, ...extra },
    emit: (e) => events.push(e),
    retry,
    ...(totalMs !== undefined ? { timeouts: { totalMs } } : {}),
  });
}

beforeEach(async () => {
  server = await FakeAnthropicServer.start();
  events = [];
});
afterEach(async () => {
  await server.close();
});

describe('Anthropic provider over real HTTP', () => {
  it('runs a tool-using conversation and sends the exact Messages API requests', async () => {
    const gw = gateway();
    server.reply(
      anthropicMessage(
        [
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 'toolu_1', name: 'file_list', input: { dir: '/w' } },
          { type: 'tool_use', id: 'toolu_2', name: 'file_read', input: { path: '/w/missing' } },
        ],
        { input_tokens: 120, output_tokens: 30, model: 'claude-test-1' },
      ),
      anthropicMessage([{ type: 'text', text: 'The directory holds a.txt; missing does not exist.' }], {
        model: 'claude-test-1',
        usage: { input_tokens: 200, output_tokens: 12, cache_read_input_tokens: 50, cache_creation_input_tokens: 0 },
      }),
    );

    const first = await gw.complete(
      agent,
      'claude-test-1',
      { system: 'You read files.', messages: [{ role: 'user', content: 'What is in /w?' }], tools, max_tokens: 1024 },
      ctx,
    );
    expect(first).toEqual({
      content: [
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'toolu_1', name: 'file_list', input: { dir: '/w' } },
        { type: 'tool_use', id: 'toolu_2', name: 'file_read', input: { path: '/w/missing' } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 120, output_tokens: 30 },
      model: 'claude-test-1',
    });

    const second = await gw.complete(
      agent,
      'claude-test-1',
      {
        system: 'You read files.',
        messages: [
          { role: 'user', content: 'What is in /w?' },
          { role: 'assistant', content: first.content },
          { role: 'tool_result', tool_use_id: 'toolu_1', content: '["a.txt"]', is_error: false },
          {
            role: 'tool_result',
            tool_use_id: 'toolu_2',
            content: 'AAOS_ERR_PATH_NOT_FOUND: /w/missing',
            is_error: true,
          },
        ],
        tools,
        max_tokens: 1024,
      },
      ctx,
    );
    expect(second.content).toEqual([{ type: 'text', text: 'The directory holds a.txt; missing does not exist.' }]);
    expect(second.stop_reason).toBe('end_turn');
    // cached prompt tokens still count as input
    expect(second.usage).toEqual({ input_tokens: 250, output_tokens: 12 });

    expect(server.requests).toHaveLength(2);
    const [r1, r2] = server.requests;
    expect(r1?.path).toBe('/v1/messages');
    expect(`${r1?.headers['x-api-key'] ?? ''} ${r1?.headers['authorization'] ?? ''}`).toContain('sk-ant-test');
    const wireTools = [
      {
        name: 'file_read',
        description: 'Read a file',
        input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
      },
      {
        name: 'file_list',
        description: 'List a directory',
        input_schema: { type: 'object', properties: { dir: { type: 'string' } } },
      },
    ];
    expect(r1?.body).toEqual({
      model: 'claude-test-1',
      max_tokens: 1024,
      system: 'You read files.',
      messages: [{ role: 'user', content: 'What is in /w?' }],
      tools: wireTools,
    });
    expect(r2?.body).toEqual({
      model: 'claude-test-1',
      max_tokens: 1024,
      system: 'You read files.',
      messages: [
        { role: 'user', content: 'What is in /w?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'toolu_1', name: 'file_list', input: { dir: '/w' } },
            { type: 'tool_use', id: 'toolu_2', name: 'file_read', input: { path: '/w/missing' } },
          ],
        },
        // both results merged into one user turn
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '["a.txt"]', is_error: false },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              content: 'AAOS_ERR_PATH_NOT_FOUND: /w/missing',
              is_error: true,
            },
          ],
        },
      ],
      tools: wireTools,
    });

    const usage = events.filter((e) => e.type === 'UsageReported');
    expect(usage).toEqual([
      {
        agent_id: 'agent-1',
        agent_name: 'reader',
        run_id: 'run-1',
        trace_id: 'trace-1',
        type: 'UsageReported',
        model: 'claude-test-1',
        provider: 'anthropic',
        input_tokens: 120,
        output_tokens: 30,
        duration_ms: expect.any(Number),
        queue_ms: expect.any(Number),
        span_id: expect.any(String),
        parent_span_id: 'span-1',
      },
      {
        agent_id: 'agent-1',
        agent_name: 'reader',
        run_id: 'run-1',
        trace_id: 'trace-1',
        type: 'UsageReported',
        model: 'claude-test-1',
        provider: 'anthropic',
        input_tokens: 250,
        output_tokens: 12,
        duration_ms: expect.any(Number),
        queue_ms: expect.any(Number),
        span_id: expect.any(String),
        parent_span_id: 'span-1',
      },
    ]);
  });

  it('omits an empty system prompt and empty tool list', async () => {
    const gw = gateway();
    server.reply(anthropicText('hi'));
    await gw.complete(
      agent,
      'claude-haiku-4-5',
      { system: '', messages: [{ role: 'user', content: 'hello' }], tools: [], max_tokens: 50 },
      ctx,
    );
    expect(server.requests[0]?.body).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hello' }],
    });
  });

  it('sends large max_tokens without the SDK demanding streaming (explicit timeout)', async () => {
    const gw = gateway();
    server.reply(anthropicText('long'));
    await gw.complete(
      agent,
      'claude-test-1',
      { system: '', messages: [{ role: 'user', content: 'x' }], tools: [], max_tokens: 64_000 },
      ctx,
    );
    expect(server.requests[0]?.body.max_tokens).toBe(64_000);
  });

  it('maps max_tokens and unknown stop reasons', async () => {
    const gw = gateway();
    server.reply(
      anthropicMessage([{ type: 'text', text: 'cut' }], { stop_reason: 'max_tokens' }),
      anthropicMessage([{ type: 'text', text: 'no' }], { stop_reason: 'refusal' }),
    );
    const req = { system: '', messages: [{ role: 'user' as const, content: 'x' }], tools: [], max_tokens: 5 };
    expect((await gw.complete(agent, 'claude-x', req, ctx)).stop_reason).toBe('max_tokens');
    expect((await gw.complete(agent, 'claude-x', req, ctx)).stop_reason).toBe('end_turn');
  });
});

describe('Anthropic translation', () => {
  it('merges a user message that follows tool results into the same user turn', () => {
    const wire = toAnthropicMessages([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'x', input: {} }] },
      { role: 'tool_result', tool_use_id: 't1', content: 'ok', is_error: false },
      { role: 'user', content: 'now write the file' },
    ]);
    expect(wire).toEqual([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'x', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't1', content: 'ok', is_error: false },
          { type: 'text', text: 'now write the file' },
        ],
      },
    ]);
  });

  it('drops block types it does not model', () => {
    const response = fromAnthropicResponse(
      {
        id: 'm',
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 's' } as never,
          { type: 'text', text: 'done', citations: null } as never,
        ],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 1, output_tokens: 2 } as never,
      } as never,
      'claude-x',
    );
    expect(response.content).toEqual([{ type: 'text', text: 'done' }]);
  });
});

describe('Anthropic errors from real HTTP responses', () => {
  const req = { system: 's', messages: [{ role: 'user' as const, content: 'x' }], tools: [], max_tokens: 5 };

  async function failure(
    gw: ModelGateway,
    model = 'claude-test-1',
  ): Promise<{ code: string; message: string; details: Record<string, unknown> | undefined }> {
    try {
      await gw.complete(agent, model, req, ctx);
    } catch (err) {
      if (!isAaosError(err)) throw err;
      return { code: err.code, message: err.message, details: err.details };
    }
    throw new Error('expected a failure');
  }

  it.each([
    [401, 'authentication_error', 'invalid x-api-key', ErrorCode.MODEL_AUTH],
    [403, 'permission_error', 'not allowed', ErrorCode.MODEL_AUTH],
    [404, 'not_found_error', 'model: claude-nope', ErrorCode.MODEL_UNKNOWN],
    [
      400,
      'invalid_request_error',
      'prompt is too long: 208000 tokens > 200000 maximum',
      ErrorCode.MODEL_CONTEXT_TOO_LONG,
    ],
    [413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes', ErrorCode.MODEL_CONTEXT_TOO_LONG],
    [400, 'invalid_request_error', 'messages: roles must alternate', ErrorCode.MODEL_BAD_REQUEST],
    [429, 'rate_limit_error', 'slow down', ErrorCode.MODEL_RATE_LIMITED],
    [500, 'api_error', 'boom', ErrorCode.MODEL_SERVER],
    [529, 'overloaded_error', 'Overloaded', ErrorCode.MODEL_SERVER],
  ])('HTTP %i %s → %s', async (status, type, message, code) => {
    server.reply(anthropicError(status, type, message));
    const err = await failure(gateway());
    expect(err.code).toBe(code);
    expect(err.message).toContain('anthropic');
    expect(err.message).toContain('claude-test-1');
    expect(err.message).toContain(`HTTP ${status}`);
    expect(err.message).toContain(message);
    expect(err.details).toMatchObject({ provider: 'anthropic', model: 'claude-test-1', status });
    if (code === ErrorCode.MODEL_AUTH) expect(err.message).toContain('ANTHROPIC_API_KEY');
  });

  it('a request that gets no answer in time → MODEL_TIMEOUT', async () => {
    server.reply({ hang: true });
    const err = await failure(gateway({}, { maxAttempts: 1 }, 200));
    expect(err.code).toBe(ErrorCode.MODEL_TIMEOUT);
    expect(err.message).toContain("anthropic model 'claude-test-1'");
  });

  it('a dropped connection → MODEL_TIMEOUT', async () => {
    server.reply({ destroy: true });
    const err = await failure(gateway());
    expect(err.code).toBe(ErrorCode.MODEL_TIMEOUT);
    expect(err.message).toMatch(/connection/);
  });
});
