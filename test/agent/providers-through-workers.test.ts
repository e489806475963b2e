import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import {
  anthropicError,
  anthropicMessage,
  anthropicText,
  FakeAnthropicServer,
} from '../support/fake-anthropic-server.js';
import { chatCompletion, FakeOpenAIServer } from '../support/fake-openai-server.js';
import { COMMAND_AGENT, tempDir } from '../support/kernel.js';

let anthropic: FakeAnthropicServer;
let openai: FakeOpenAIServer;
let runtime: Runtime;
let cleanup: () => void;
let dir: string;

beforeEach(async () => {
  anthropic = await FakeAnthropicServer.start();
  openai = await FakeOpenAIServer.start();
  ({ dir, cleanup } = tempDir());
  runtime = await Runtime.open({
    dataDir: dir,
    env: {
      ANTHROPIC_API_KEY: 'sk-ant-secret-test',
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
      OPENAI_API_KEY: 'sk-openai-secret-test',
      OPENAI_BASE_URL: openai.baseUrl,
    },
  });
});

afterEach(async () => {
  await runtime.close();
  await anthropic.close();
  await openai.close();
  cleanup();
});

const agentYaml = (model: string, extra = '') =>
  `name: helper\nmodel: ${model}\nsystem_prompt: You are terse.\ncapabilities:\n  - "tool: echo"\n${extra}`;

describe('real provider SDKs driven from agents in workers', () => {
  it('runs a multi-turn tool-using agent on the Anthropic Messages API', async () => {
    anthropic.reply(
      anthropicMessage([{ type: 'tool_use', id: 'toolu_1', name: 'echo', input: { message: 'ping' } }], {
        input_tokens: 20,
        output_tokens: 7,
      }),
      anthropicText('pong received', { input_tokens: 30, output_tokens: 3 }),
    );
    const agent = await runtime.spawnAgent({ yaml: agentYaml('claude-sonnet-test') });
    const out = await runtime.runAgent(agent.id, 'say ping through echo');
    expect(out.stop_reason).toBe('complete');
    expect(out.response).toBe('pong received');
    expect(out.iterations).toBe(2);
    expect(out.usage).toEqual({ input_tokens: 50, output_tokens: 10 });
    expect(anthropic.requests).toHaveLength(2);
    const [first, second] = anthropic.requests;
    expect(first!.headers['x-api-key'] ?? first!.headers['authorization']).toMatch(/sk-ant-secret-test/);
    expect(first!.body.system).toContain('You are terse.');
    expect(first!.body.tools.map((t: { name: string }) => t.name)).toEqual(['echo']);
    expect(second!.body.messages.at(-1)).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '{"message":"ping"}', is_error: false }],
    });
    const usage = runtime.events.recent((e) => e.type === 'UsageReported');
    expect(usage).toHaveLength(2);
  });

  it('runs a multi-turn tool-using agent on OpenAI Chat Completions', async () => {
    openai.reply(
      chatCompletion({ tool_calls: [{ id: 'call_1', name: 'echo', arguments: '{"message":"hi"}' }] }),
      chatCompletion({ content: 'echoed hi' }),
    );
    const agent = await runtime.spawnAgent({ yaml: agentYaml('gpt-test-mini') });
    const out = await runtime.runAgent(agent.id, 'echo hi');
    expect(out.response).toBe('echoed hi');
    expect(openai.requests).toHaveLength(2);
    expect(openai.requests[0]!.headers['authorization']).toBe('Bearer sk-openai-secret-test');
    const msgs = openai.requests[1]!.body.messages;
    expect(msgs[0]).toMatchObject({ role: 'system' });
    expect(msgs.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_1', content: '{"message":"hi"}' });
  });

  it('keeps keys out of workers: a worker sees an empty environment while the supervisor holds the keys', async () => {
    const probe = await runtime.spawnAgent(
      { yaml: 'name: probe\nmodel: claude-sonnet-test\n' },
      { module: COMMAND_AGENT },
    );
    const out = await runtime.runAgent(probe.id, 'whoami');
    expect(JSON.parse(out.response).env).toBe(0);
  });

  it('reports a provider error as the run error and the agent carries on', async () => {
    anthropic.reply(anthropicError(401, 'authentication_error', 'invalid x-api-key'), anthropicText('back again'));
    const agent = await runtime.spawnAgent({ yaml: agentYaml('claude-sonnet-test') });
    const failed = await runtime.runAgent(agent.id, 'hello');
    expect(failed.stop_reason).toBe('error');
    expect(failed.error?.code).toBe(ErrorCode.MODEL_AUTH);
    const ok = await runtime.runAgent(agent.id, 'hello again');
    expect(ok.response).toBe('back again');
  });

  it('stops an agent at its token budget with stop reason budget_exceeded', async () => {
    anthropic.reply(
      anthropicMessage([{ type: 'tool_use', id: 'toolu_1', name: 'echo', input: { message: 'x' } }], {
        input_tokens: 80,
        output_tokens: 30,
      }),
      anthropicText('never sent'),
    );
    const agent = await runtime.spawnAgent({
      yaml: agentYaml('claude-sonnet-test', 'budget_config:\n  max_tokens: 100\n'),
    });
    const out = await runtime.runAgent(agent.id, 'spend');
    expect(out.stop_reason).toBe('budget_exceeded');
    expect(out.error?.code).toBe(ErrorCode.BUDGET_EXCEEDED);
    expect(anthropic.requests).toHaveLength(1); // the call that would exceed was not made
    const events = runtime.events.recent((e) => e.type === 'BudgetExceeded');
    expect(events).toHaveLength(1);
  });

  it("counts a child's tokens against its parent's budget", async () => {
    const scripts = join(dir, 'scripts');
    writeFileSync(
      join(dir, 'parent.yaml'),
      [
        '- tool_calls:',
        '    - name: spawn_agent',
        '      input:',
        '        manifest: |',
        '          name: spender',
        `          model: scripted:${join(dir, 'child.yaml')}`,
        '        message: spend a lot',
        '- text: parent carries on',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'child.yaml'), '- text: spent\n  usage: {input_tokens: 400, output_tokens: 300}\n');
    void scripts;
    const parent = await runtime.spawnAgent({
      yaml: `name: parent\nmodel: scripted:${join(dir, 'parent.yaml')}\ncapabilities:\n  - "tool: spawn_agent"\n  - "spawn_child: [spender]"\n  - "file_read: ${dir}/*"\nbudget_config:\n  max_tokens: 500\n`,
    });
    const out = await runtime.runAgent(parent.id, 'delegate');
    expect(out.stop_reason).toBe('budget_exceeded');
    expect(out.error?.message).toMatch(/parent/);
    const exceeded = runtime.events.recent((e) => e.type === 'BudgetExceeded');
    expect(exceeded).toHaveLength(1);
  });
});
