import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isAaosError } from '../../src/errors/index.js';
import type { AuditInput } from '../../src/audit/event.js';
import { ModelGateway } from '../../src/providers/gateway.js';
import { TOOL_ERROR_PREFIX } from '../../src/providers/openai-compat.js';
import type { ToolDefinition } from '../../src/providers/model.js';
import { FakeOpenAIServer, chatCompletion, openAIError } from '../support/fake-openai-server.js';

const tools: ToolDefinition[] = [
  {
    name: 'web_fetch',
    description: 'Fetch a URL',
    input_schema: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
  },
];
const agent = { id: 'a-1', name: 'fetcher' };
const ctx = { agent_id: 'a-1', agent_name: 'fetcher' };

let server: FakeOpenAIServer;
let events: AuditInput[];

function gateway(env: Record<string, string>, totalMs?: number): ModelGateway {
  return new ModelGateway({
    env,
    emit: (e) => events.push(e),
    retry: { maxAttempts: 1 },
    ...(totalMs !== undefined ? { timeouts: { totalMs } } : {}),
  });
}
const openaiEnv = (): Record<string, string> => ({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.baseUrl });

beforeEach(async () => {
  server = await FakeOpenAIServer.start();
  events = [];
});
afterEach(async () => {
  await server.close();
});

describe('OpenAI-compatible provider over real HTTP', () => {
  it('runs a tool-using conversation and sends the exact Chat Completions requests', async () => {
    const gw = gateway(openaiEnv());
    server.reply(
      chatCompletion({
        content: 'Fetching both.',
        tool_calls: [
          { id: 'call_a', name: 'web_fetch', arguments: '{"url":"https://a.example"}' },
          { id: 'call_b', name: 'web_fetch', arguments: '{"url":"https://b.example"}' },
        ],
        prompt_tokens: 80,
        completion_tokens: 25,
        model: 'gpt-4o-2024-08-06',
      }),
      chatCompletion({
        content: 'A says hello; B failed.',
        prompt_tokens: 140,
        completion_tokens: 9,
        model: 'gpt-4o-2024-08-06',
      }),
    );
    const first = await gw.complete(
      agent,
      'gpt-4o',
      { system: 'You fetch.', messages: [{ role: 'user', content: 'Fetch a and b' }], tools, max_tokens: 512 },
      ctx,
    );
    expect(first).toEqual({
      content: [
        { type: 'text', text: 'Fetching both.' },
        { type: 'tool_use', id: 'call_a', name: 'web_fetch', input: { url: 'https://a.example' } },
        { type: 'tool_use', id: 'call_b', name: 'web_fetch', input: { url: 'https://b.example' } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 80, output_tokens: 25 },
      model: 'gpt-4o-2024-08-06',
    });
    const second = await gw.complete(
      agent,
      'gpt-4o',
      {
        system: 'You fetch.',
        messages: [
          { role: 'user', content: 'Fetch a and b' },
          { role: 'assistant', content: first.content },
          { role: 'tool_result', tool_use_id: 'call_a', content: 'hello', is_error: false },
          { role: 'tool_result', tool_use_id: 'call_b', content: 'AAOS_ERR_FETCH_FAILED: 503', is_error: true },
        ],
        tools,
        max_tokens: 512,
      },
      ctx,
    );
    expect(second.content).toEqual([{ type: 'text', text: 'A says hello; B failed.' }]);
    expect(second.stop_reason).toBe('end_turn');
    expect(second.usage).toEqual({ input_tokens: 140, output_tokens: 9 });

    const [r1, r2] = server.requests;
    expect(r1?.path).toBe('/v1/chat/completions');
    expect(r1?.headers['authorization']).toBe('Bearer sk-test');
    const wireTools = [
      {
        type: 'function',
        function: {
          name: 'web_fetch',
          description: 'Fetch a URL',
          parameters: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
        },
      },
    ];
    expect(r1?.body).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You fetch.' },
        { role: 'user', content: 'Fetch a and b' },
      ],
      max_completion_tokens: 512,
      tools: wireTools,
    });
    expect(r2?.body).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You fetch.' },
        { role: 'user', content: 'Fetch a and b' },
        {
          role: 'assistant',
          content: 'Fetching both.',
          tool_calls: [
            {
              id: 'call_a',
              type: 'function',
              function: { name: 'web_fetch', arguments: '{"url":"https://a.example"}' },
            },
            {
              id: 'call_b',
              type: 'function',
              function: { name: 'web_fetch', arguments: '{"url":"https://b.example"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: 'hello' },
        { role: 'tool', tool_call_id: 'call_b', content: `${TOOL_ERROR_PREFIX}AAOS_ERR_FETCH_FAILED: 503` },
      ],
      max_completion_tokens: 512,
      tools: wireTools,
    });
    expect(
      events
        .filter((e) => e.type === 'UsageReported')
        .map((e) => [e.type === 'UsageReported' && e.provider, e.type === 'UsageReported' && e.input_tokens]),
    ).toEqual([
      ['openai', 80],
      ['openai', 140],
    ]);
  });

  it('turns unparseable tool arguments into an input_error instead of crashing, and sends them back verbatim', async () => {
    const gw = gateway(openaiEnv());
    server.reply(
      chatCompletion({ tool_calls: [{ id: 'call_x', name: 'web_fetch', arguments: '{"url": "https://a.example"' }] }),
      chatCompletion({ content: 'fixed' }),
    );
    const response = await gw.complete(
      agent,
      'openai:my-model',
      { system: '', messages: [{ role: 'user', content: 'go' }], tools, max_tokens: 50 },
      ctx,
    );
    const block = response.content[0];
    expect(block?.type).toBe('tool_use');
    if (block?.type !== 'tool_use') return;
    expect(block.input).toBe('{"url": "https://a.example"');
    expect(block.input_error).toMatch(/not valid JSON/);
    expect(response.stop_reason).toBe('tool_use');

    await gw.complete(
      agent,
      'openai:my-model',
      {
        system: '',
        messages: [
          { role: 'user', content: 'go' },
          { role: 'assistant', content: response.content },
          { role: 'tool_result', tool_use_id: 'call_x', content: block.input_error ?? '', is_error: true },
        ],
        tools,
        max_tokens: 50,
      },
      ctx,
    );
    const sent = server.requests[1]?.body.messages;
    expect(sent[0]).toEqual({ role: 'user', content: 'go' });
    expect(sent[1].content).toBeNull();
    expect(sent[1].tool_calls[0].function.arguments).toBe('{"url": "https://a.example"');
    expect(sent[2].content.startsWith(TOOL_ERROR_PREFIX)).toBe(true);
    // the `openai:` prefix is stripped before the wire
    expect(server.requests[1]?.body.model).toBe('my-model');
  });

  it('maps finish reasons', async () => {
    const gw = gateway(openaiEnv());
    server.reply(
      chatCompletion({ content: 'cut', finish_reason: 'length' }),
      chatCompletion({ content: 'filtered', finish_reason: 'content_filter' }),
      chatCompletion({ content: 'ok', finish_reason: 'stop' }),
      // servers that say "stop" next to tool calls
      chatCompletion({ tool_calls: [{ id: 'c', name: 'web_fetch', arguments: '{}' }], finish_reason: 'stop' }),
    );
    const req = { system: '', messages: [{ role: 'user' as const, content: 'x' }], tools: [], max_tokens: 5 };
    const reasons = [];
    for (let i = 0; i < 4; i++) reasons.push((await gw.complete(agent, 'gpt-4o-mini', req, ctx)).stop_reason);
    expect(reasons).toEqual(['max_tokens', 'stop_sequence', 'end_turn', 'tool_use']);
  });

  it('DeepSeek: key and base URL from DEEPSEEK_*, max_tokens capped for chat models', async () => {
    const gw = gateway({ DEEPSEEK_API_KEY: 'ds-key', DEEPSEEK_BASE_URL: server.baseUrl });
    server.reply(chatCompletion({ content: 'hi', model: 'deepseek-chat' }));
    await gw.complete(
      agent,
      'deepseek-chat',
      { system: 'sys', messages: [{ role: 'user', content: 'x' }], tools: [], max_tokens: 16_384 },
      ctx,
    );
    const request = server.requests[0];
    expect(request?.headers['authorization']).toBe('Bearer ds-key');
    expect(request?.body).toEqual({
      model: 'deepseek-chat',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'x' },
      ],
      max_tokens: 8192,
    });
    expect(events.find((e) => e.type === 'UsageReported')).toMatchObject({
      provider: 'deepseek',
      model: 'deepseek-chat',
    });
  });

  it('a local server (ollama:) needs no key; missing usage is estimated', async () => {
    const gw = gateway({ OLLAMA_BASE_URL: server.baseUrl });
    server.reply(chatCompletion({ content: 'local answer!', usage: null, model: 'llama3.2' }));
    const response = await gw.complete(
      agent,
      'ollama:llama3.2',
      { system: '', messages: [{ role: 'user', content: 'abcdefgh' }], tools: [], max_tokens: 64 },
      ctx,
    );
    expect(response.usage).toEqual({ input_tokens: 2, output_tokens: 4 });
    expect(server.requests[0]?.body).toEqual({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'abcdefgh' }],
      max_tokens: 64,
    });
  });
});

describe('OpenAI-compatible errors from real HTTP responses', () => {
  const req = { system: '', messages: [{ role: 'user' as const, content: 'x' }], tools: [], max_tokens: 5 };

  async function failure(
    gw: ModelGateway,
  ): Promise<{ code: string; message: string; details: Record<string, unknown> | undefined }> {
    try {
      await gw.complete(agent, 'gpt-4o', req, ctx);
    } catch (err) {
      if (!isAaosError(err)) throw err;
      return { code: err.code, message: err.message, details: err.details };
    }
    throw new Error('expected a failure');
  }

  it.each([
    [401, 'invalid_request_error', 'Incorrect API key provided', 'invalid_api_key', ErrorCode.MODEL_AUTH],
    [403, 'invalid_request_error', 'Project does not have access', null, ErrorCode.MODEL_AUTH],
    [404, 'invalid_request_error', 'The model `gpt-4o` does not exist', 'model_not_found', ErrorCode.MODEL_UNKNOWN],
    [
      400,
      'invalid_request_error',
      "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
      'context_length_exceeded',
      ErrorCode.MODEL_CONTEXT_TOO_LONG,
    ],
    [400, 'invalid_request_error', "Invalid type for 'messages[0].content'", null, ErrorCode.MODEL_BAD_REQUEST],
    [429, 'requests', 'Rate limit reached', 'rate_limit_exceeded', ErrorCode.MODEL_RATE_LIMITED],
    [503, 'server_error', 'The engine is currently overloaded', null, ErrorCode.MODEL_SERVER],
  ])('HTTP %i (%s) → %s', async (status, type, message, code, expected) => {
    server.reply(openAIError(status, type, message, {}, code));
    const err = await failure(gateway(openaiEnv()));
    expect(err.code).toBe(expected);
    expect(err.message).toContain("openai model 'gpt-4o'");
    expect(err.message).toContain(`HTTP ${status}`);
    expect(err.message).toContain(message);
    expect(err.details).toMatchObject({ provider: 'openai', model: 'gpt-4o', status });
    if (expected === ErrorCode.MODEL_AUTH) expect(err.message).toContain('OPENAI_API_KEY');
  });

  it('timeouts and dropped connections → MODEL_TIMEOUT', async () => {
    server.reply({ hang: true }, { destroy: true });
    expect((await failure(gateway(openaiEnv(), 200))).code).toBe(ErrorCode.MODEL_TIMEOUT);
    expect((await failure(gateway(openaiEnv()))).code).toBe(ErrorCode.MODEL_TIMEOUT);
  });

  it('an unreachable local server → MODEL_UNAVAILABLE naming the provider and the URL', async () => {
    const url = server.baseUrl;
    await server.close();
    server = await FakeOpenAIServer.start();
    const gw = gateway({ OLLAMA_BASE_URL: url });
    await expect(gw.complete(agent, 'ollama:qwen', req, ctx)).rejects.toMatchObject({
      code: ErrorCode.MODEL_UNAVAILABLE,
      message: expect.stringMatching(
        new RegExp(`ollama model 'qwen': no connection connecting to ${url.replace(/[.]/g, '\\.')} \\(ECONNREFUSED\\)`),
      ),
    });
  });
});
