import { AaosError, ErrorCode, isAaosError, toPlainError } from '../errors/index.js';
import type { AgentInit, Delivery, RunResult, StopReason } from '../protocol/index.js';
import type { ContentBlock, Message, ToolUseBlock } from '../providers/model.js';
import type { AgentApi, AgentModule } from './agent-module.js';

/**
 * The default agent: an LLM loop. model call → tool calls → results → model, until
 * the model answers without tools, the iteration limit, a truncated answer, a budget
 * stop, a cancel or an error. Runs in the worker; every model and tool call is a
 * request to the supervisor, which owns providers, keys, tools and the scheduler.
 */
let agent: AgentInit | undefined;
const running = new Map<string, AbortController>();

export const agentModule: AgentModule = {
  init(init) {
    agent = init;
  },
  async handle(delivery, api) {
    if (!agent) throw new AaosError(ErrorCode.PROTOCOL, 'deliver before init');
    const input = userTextOf(delivery.envelope);
    const controller = new AbortController();
    running.set(delivery.run.run_id, controller);
    try {
      return await runLoop(api, agent, delivery, input, controller.signal);
    } finally {
      running.delete(delivery.run.run_id);
    }
  },
  cancel(runId, reason) {
    running.get(runId)?.abort(new AaosError(ErrorCode.CANCELLED, reason));
  },
  async warmup() {
    // a few runs of the loop against a local stand-in: tool turns, a failing tool, a final answer
    const api: AgentApi = {
      complete: async (_runId, append) =>
        append.some((m) => m.role === 'tool_result')
          ? {
              content: [{ type: 'text', text: 'done' }],
              stop_reason: 'end_turn',
              usage: { input_tokens: 1, output_tokens: 1 },
              model: 'warmup',
            }
          : {
              content: [
                { type: 'text', text: 'calling' },
                { type: 'tool_use', id: 'w1', name: 'a', input: { x: 1 } },
                { type: 'tool_use', id: 'w2', name: 'b', input: {} },
              ],
              stop_reason: 'tool_use',
              usage: { input_tokens: 1, output_tokens: 1 },
              model: 'warmup',
            },
      callTool: async (_runId, name) => {
        if (name === 'b') throw new AaosError(ErrorCode.TOOL_FAILED, 'warm-up failure');
        return { ok: true };
      },
      send: async () => {},
      request: async () => ({
        jsonrpc: '2.0',
        id: 'w',
        result: null,
        metadata: { responder: 'warmup', trace_id: 'w', timestamp: '' },
      }),
    };
    const envelope = JSON.stringify({ jsonrpc: '2.0', id: 'w', method: 'agent.run', params: { message: 'warm up' } });
    const init: AgentInit = { agent_id: 'warmup', name: 'warmup', max_iterations: 4 };
    for (let i = 0; i < 20; i++)
      await runLoop(
        api,
        init,
        { envelope, run: { run_id: `w${i}`, history: [] } },
        userTextOf(envelope),
        new AbortController().signal,
      );
  },
};

/** The user turn carried by an envelope: `params.message` when present, else the params as JSON. */
function userTextOf(envelopeText: string): string {
  const env = JSON.parse(envelopeText) as { method?: unknown; params?: unknown };
  const params = env.params as { message?: unknown } | undefined;
  if (params && typeof params.message === 'string') return params.message;
  return `${String(env.method)} ${JSON.stringify(env.params ?? {})}`;
}

function stopFromError(err: unknown): StopReason {
  if (isAaosError(err, ErrorCode.BUDGET_EXCEEDED)) return 'budget_exceeded';
  if (isAaosError(err, ErrorCode.TOOL_REPEAT)) return 'tool_repeat';
  if (isAaosError(err, ErrorCode.CANCELLED) || isAaosError(err, ErrorCode.AGENT_STOPPED)) return 'cancelled';
  return 'error';
}

function toolResultText(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value ?? null);
}

/** The text of an assistant turn, trimmed ('' when it only calls tools). */
function textOf(content: ContentBlock[]): string {
  return content
    .filter((b) => b.type === 'text')
    .map((b) => b.text)
    .join('\n')
    .trim();
}

/** Independent tool calls of one turn run concurrently; results keep the model's order. */
function runTools(api: AgentApi, runId: string, calls: ToolUseBlock[]): Promise<Message[]> {
  return Promise.all(
    calls.map(async (call): Promise<Message> => {
      try {
        const out = await api.callTool(runId, call.name, call.input, undefined, call.id);
        return { role: 'tool_result', tool_use_id: call.id, content: toolResultText(out), is_error: false };
      } catch (err) {
        const plain = toPlainError(err);
        return {
          role: 'tool_result',
          tool_use_id: call.id,
          content: `${plain.code}: ${plain.message}`,
          is_error: true,
        };
      }
    }),
  );
}

async function runLoop(
  api: AgentApi,
  init: AgentInit,
  delivery: Delivery,
  input: string,
  signal: AbortSignal,
): Promise<RunResult> {
  const runId = delivery.run.run_id;
  const resumed = delivery.run.resume;
  // a resumed run starts from its stored transcript, which the supervisor already holds
  const transcript: Message[] = resumed ? [...resumed] : [{ role: 'user', content: input }];
  let unsent = resumed ? 0 : 1; // messages of the transcript not yet sent to the supervisor
  let iterations = 0;
  let lastText = '';
  let lastTurn: ToolUseBlock[] | undefined;
  for (const m of transcript) {
    if (m.role !== 'assistant') continue;
    iterations++;
    lastText = textOf(m.content) || lastText;
    lastTurn = m.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
  }
  const finish = (stop_reason: StopReason, error: unknown = null): RunResult => ({
    run_id: runId,
    response: lastText,
    stop_reason,
    iterations,
    transcript,
    error: error === null ? null : toPlainError(error),
  });

  if (lastTurn) {
    // the stored run ended on a model turn: an answer means it was done; else make the calls still owed
    if (lastTurn.length === 0) return finish('complete');
    const answered = new Set(transcript.flatMap((m) => (m.role === 'tool_result' ? [m.tool_use_id] : [])));
    const owed = lastTurn.filter((call) => !answered.has(call.id));
    if (owed.length > 0 && !signal.aborted) {
      const results = await runTools(api, runId, owed);
      transcript.push(...results);
      unsent = results.length;
    }
  }

  for (;;) {
    if (signal.aborted) return finish('cancelled', signal.reason);
    if (iterations >= init.max_iterations) return finish('max_iterations');
    let response;
    try {
      response = await api.complete(runId, transcript.slice(transcript.length - unsent));
      unsent = 0;
    } catch (err) {
      return finish(signal.aborted ? 'cancelled' : stopFromError(err), err);
    }
    iterations++;
    transcript.push({ role: 'assistant', content: response.content });
    const text = textOf(response.content);
    if (text) lastText = text;
    const calls = response.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
    if (calls.length === 0) return finish(response.stop_reason === 'max_tokens' ? 'max_tokens' : 'complete');

    const results = await runTools(api, runId, calls);
    transcript.push(...results);
    // The supervisor recorded the assistant turn when it answered; only the results are new.
    unsent = results.length;
  }
}
