import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/providers/model.js';
import type { HistoryPort, ModelPort } from '../../src/kernel/ports.js';
import { nullModels } from '../support/null-models.js';
import { commandManifest, testSupervisor } from '../support/kernel.js';

const HOSTILE_AGENT = fileURLToPath(new URL('../fixtures/agents/hostile-agent.mjs', import.meta.url));

describe('a hostile worker: what it sends is validated before anything of it is kept', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('a malformed append is refused with PROTOCOL naming the field; the model never sees it and the conversation keeps nothing of it', async () => {
    const seen: Message[][] = [];
    const models: ModelPort = {
      ...nullModels,
      complete: async (_agent, _model, request) => {
        seen.push(structuredClone(request.messages));
        return {
          model: 'fixture',
          content: [{ type: 'text', text: `saw ${request.messages.length}` }],
          stop_reason: 'end_turn',
          usage: { input_tokens: 1, output_tokens: 1 },
        };
      },
    };
    const t = testSupervisor({ models });
    close = t.close;
    const info = await t.sup.spawn(commandManifest('hostile'), { module: HOSTILE_AGENT });
    const outcome = await t.sup.run(info.id, 'bad-append');
    expect(outcome.stop_reason).toBe('complete');
    const body = JSON.parse(outcome.response) as {
      bad: { refused: boolean; code: string; message: string };
      reply: string;
    };
    expect(body.bad).toMatchObject({ refused: true, code: 'AAOS_ERR_PROTOCOL' });
    expect(body.bad.message).toContain('hostile');
    expect(body.bad.message).toContain("'model' request");
    expect(body.bad.message).toContain('append.1.content');
    // not even the valid first message of the refused batch was kept: the model saw one turn
    expect(seen).toEqual([[{ role: 'user', content: 'hello' }]]);
    expect(body.reply).toBe('saw 1');
  });

  it('a nameless tool call, an overflowing timeout and a non-text envelope are each refused by field', async () => {
    const t = testSupervisor();
    close = t.close;
    const info = await t.sup.spawn(commandManifest('hostile', ['tool: *', 'message_send: [*]']), {
      module: HOSTILE_AGENT,
    });
    const outcome = await t.sup.run(info.id, 'bad-requests');
    const out = JSON.parse(outcome.response) as Record<string, { refused: boolean; code: string; message: string }>;
    expect(out['tool']).toMatchObject({ refused: true, code: 'AAOS_ERR_PROTOCOL' });
    expect(out['tool']!.message).toContain('field name');
    expect(out['timeout']).toMatchObject({ refused: true, code: 'AAOS_ERR_PROTOCOL' });
    expect(out['timeout']!.message).toContain('field timeout_ms');
    expect(out['send']).toMatchObject({ refused: true, code: 'AAOS_ERR_PROTOCOL' });
    expect(out['send']!.message).toContain('field envelope');
    // refusals are answers, not a broken worker: the agent lives on
    expect(t.sup.status(info.id).state).toBe('running');
    expect(t.sup.audit.recent((e) => e.type === 'ToolInvoked')).toEqual([]);
  });

  it('a malformed transcript ends the run in error and is never committed to the history; a result for another run is refused', async () => {
    const committed: Message[][] = [];
    const history: HistoryPort = {
      prepare: async (_agent, system) => ({ messages: [], system }),
      commit: (_agent, transcript) => void committed.push(transcript),
      release: () => {},
    };
    const t = testSupervisor({ history });
    close = t.close;
    const info = await t.sup.spawn(commandManifest('hostile', [], 'lifecycle: persistent\n'), {
      module: HOSTILE_AGENT,
    });
    const bad = await t.sup.run(info.id, 'bad-transcript');
    expect(bad.stop_reason).toBe('error');
    expect(bad.error).toMatchObject({ code: 'AAOS_ERR_PROTOCOL' });
    expect(bad.error!.message).toContain('transcript.1.tool_use_id');
    expect(committed).toEqual([]);
    const foreign = await t.sup.run(info.id, 'foreign-run');
    expect(foreign.stop_reason).toBe('error');
    expect(foreign.error!.message).toContain('"some-other-run"');
    expect(foreign.response).toBe('');
    expect(committed).toEqual([]);
  });
});
