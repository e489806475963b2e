import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import { anthropicMessage, anthropicText, FakeAnthropicServer } from '../support/fake-anthropic-server.js';
import { tempDir } from '../support/kernel.js';

let anthropic: FakeAnthropicServer;
let dir: string;
let cleanup: () => void;
const open = () =>
  Runtime.open({
    dataDir: dir,
    env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: anthropic.baseUrl, AAOS_PARK_IDLE_MS: '0' },
  });

beforeEach(async () => {
  anthropic = await FakeAnthropicServer.start();
  ({ dir, cleanup } = tempDir());
});
afterEach(async () => {
  await anthropic.close();
  cleanup();
});

const assistant = (extra = '') =>
  `name: assistant\nmodel: claude-sonnet-test\nlifecycle: persistent\nsystem_prompt: You remember things.\ncapabilities:\n  - "tool: memory_store"\n  - "tool: memory_query"\nmemory:\n  episodic_enabled: true\n${extra}`;

type Msg = { role: string; content: unknown };
const texts = (messages: Msg[]) =>
  messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));

describe('persistent agents on the durable store', () => {
  it('keep their conversation across messages and across a supervisor restart, with the same id', async () => {
    let runtime = await open();
    const agent = await runtime.spawnAgent({ yaml: assistant() });
    anthropic.reply(anthropicText('Noted: your cat is Luna.'), anthropicText('Your cat is Luna.'));
    await runtime.runAgent(agent.id, 'My cat is called Luna.');
    await runtime.runAgent(agent.id, 'What is my cat called?');
    expect(texts(anthropic.requests[1]!.body.messages)).toEqual([
      'My cat is called Luna.',
      JSON.stringify([{ type: 'text', text: 'Noted: your cat is Luna.' }]),
      'What is my cat called?',
    ]);
    await runtime.close();

    runtime = await open();
    const { restored, failed } = await runtime.restoreAgents();
    expect(failed).toEqual([]);
    expect(restored).toEqual([agent.id]);
    anthropic.reply(anthropicText('Still Luna.'));
    const out = await runtime.runAgent(agent.id, 'And now?');
    expect(out.response).toBe('Still Luna.');
    expect(texts(anthropic.requests[2]!.body.messages)).toHaveLength(5);
    expect(anthropic.requests[2]!.body.messages[0].content).toBe('My cat is called Luna.');
    await runtime.close();
  });

  it('keep their episodic memories across a restart, private to the agent', async () => {
    let runtime = await open();
    const agent = await runtime.spawnAgent({ yaml: assistant() });
    anthropic.reply(
      anthropicMessage([
        {
          type: 'tool_use',
          id: 't1',
          name: 'memory_store',
          input: { content: 'The deploy window is Tuesday 14:00 UTC', category: 'fact' },
        },
      ]),
      anthropicText('stored'),
    );
    const stored = await runtime.runAgent(agent.id, 'remember the deploy window');
    expect(stored.response).toBe('stored');
    const result = runtime.events.recent((e) => e.type === 'ToolResult');
    expect(result.map((e) => (e.type === 'ToolResult' ? [e.tool, e.success, e.result_preview] : []))).toEqual([
      ['memory_store', true, expect.any(String)],
    ]);
    await runtime.close();

    runtime = await open();
    await runtime.restoreAgents();
    const found = (await runtime.invokeTool(agent.id, 'memory_query', {
      query: 'when is the deploy window?',
    })) as {
      results: Array<{ content: string }>;
    };
    expect(found.results[0]?.content).toBe('The deploy window is Tuesday 14:00 UTC');
    const other = await runtime.spawnAgent({ yaml: assistant().replace('name: assistant', 'name: other') });
    const none = (await runtime.invokeTool(other.id, 'memory_query', { query: 'deploy window' })) as {
      results: unknown[];
    };
    expect(none.results).toEqual([]);
    await runtime.close();
  });

  it('summarise the oldest turns into the system prompt when the context window fills up', async () => {
    writeFileSync(
      join(dir, 'summarizer.yaml'),
      '- text: "Earlier: the user said their name is Orion and their cat is Luna."\n',
    );
    const runtime = await open();
    const agent = await runtime.spawnAgent({
      yaml: assistant(
        `  context_window: 3000\n  summarization_threshold: 0.5\n  summarization_model: scripted:${join(dir, 'summarizer.yaml')}\n`,
      ),
    });
    const padding = 'lorem ipsum dolor sit amet '.repeat(60);
    for (let i = 0; i < 6; i++) {
      anthropic.reply(anthropicText(`ack ${i}`));
      await runtime.runAgent(agent.id, `fact ${i}: ${padding}`);
    }
    const summarized = runtime.events.recent((e) => e.type === 'ContextSummarized');
    expect(summarized.length).toBeGreaterThan(0);
    const last = anthropic.requests.at(-1)!.body;
    expect(last.system).toContain('[Previous conversation summary]');
    expect(last.system).toContain('their name is Orion');
    expect(last.system).toContain('You remember things.');
    // the summary is never a turn, and turns still alternate starting with the user
    expect(last.messages[0].role).toBe('user');
    expect(texts(last.messages).join('\n')).not.toContain('fact 0:');
    await runtime.close();
  });

  it('fall back to dropping the oldest whole turns when summarising fails, and say so', async () => {
    writeFileSync(join(dir, 'broken.yaml'), '{turns: [{text: ok}], when_exhausted: error}\n');
    const runtime = await open();
    // the summariser's only turn is used up by the first summary attempt; the next one fails
    const agent = await runtime.spawnAgent({
      yaml: assistant(
        `  context_window: 2500\n  summarization_threshold: 0.5\n  summarization_model: scripted:${join(dir, 'missing.yaml')}\n`,
      ),
    });
    const padding = 'lorem ipsum dolor sit amet '.repeat(60);
    for (let i = 0; i < 6; i++) {
      anthropic.reply(anthropicText(`ack ${i}`));
      const out = await runtime.runAgent(agent.id, `fact ${i}: ${padding}`);
      expect(out.stop_reason).toBe('complete');
    }
    const failed = runtime.events.recent((e) => e.type === 'ContextSummarizationFailed');
    expect(failed.length).toBeGreaterThan(0);
    const last = anthropic.requests.at(-1)!.body;
    expect(texts(last.messages).join('\n')).not.toContain('fact 0:');
    expect(last.messages[0].role).toBe('user');
    await runtime.close();
  });
});
