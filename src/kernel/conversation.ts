import type { CallContext, SpanContext } from '../audit/call-context.js';
import type { Message, ModelResponse, ToolUseBlock, Usage } from '../providers/model.js';
import type { LazyAbort } from './lazy-abort.js';

/**
 * The supervisor's copy of one run's conversation. The worker only sends what is
 * new (its user turn, tool results); the supervisor adds the system prompt, the
 * tool list and the assistant turns it got back from the provider.
 */
export interface Conversation {
  agentId: string;
  runId: string;
  /** built on the first model call (most deliveries to non-LLM agents never make one) */
  system: string | undefined;
  messages: Message[];
  historyLength: number;
  workspace: string | undefined;
  /**
   * The delivery as a caller, built once when it starts: its goal run (a routed request's:
   * its caller's), its delivery run id and its span (invoke_agent), whose children are its
   * model calls, tool calls and messages.
   */
  call: CallContext & { runId: string; deliveryRunId: string; trace: SpanContext };
  controller: LazyAbort;
  startedAt: number;
  usage: Usage;
  /** calls per `tool + input hash` in this run (the tool repeat guard) */
  toolRepeats: Map<string, number>;
  /** set when the run must end: its next model call is refused with this */
  stop?: Error;
  /** a goal run whose model turns and tool calls are written to the run journal as they happen */
  journaled?: boolean;
}

export class Conversations {
  /**
   * open runs, per agent then per run id: a stopping agent finds its own without a pass over
   * every open run (N children at once), and a lookup hashes no freshly joined key string
   */
  private readonly byAgent = new Map<string, Map<string, Conversation>>();

  open(state: Conversation): void {
    let mine = this.byAgent.get(state.agentId);
    if (!mine) this.byAgent.set(state.agentId, (mine = new Map()));
    mine.set(state.runId, state);
  }

  get(agentId: string, runId: string): Conversation | undefined {
    return this.byAgent.get(agentId)?.get(runId);
  }

  close(agentId: string, runId: string): void {
    const mine = this.byAgent.get(agentId);
    if (!mine?.delete(runId)) return;
    if (mine.size === 0) this.byAgent.delete(agentId);
  }

  ofAgent(agentId: string): Conversation[] {
    const mine = this.byAgent.get(agentId);
    return mine ? [...mine.values()] : [];
  }

  all(): Conversation[] {
    return [...this.byAgent.values()].flatMap((mine) => [...mine.values()]);
  }
}

export function recordAssistant(state: Conversation, response: ModelResponse): void {
  state.messages.push({ role: 'assistant', content: response.content });
  state.usage.input_tokens += response.usage.input_tokens;
  state.usage.output_tokens += response.usage.output_tokens;
}

/**
 * A transcript may end with an assistant tool_use whose results never came (the
 * iteration limit or a cancel hit first). Providers reject such a history, so the
 * unanswered turn is not persisted.
 */
export function closedTranscript(transcript: Message[]): Message[] {
  const out = [...transcript];
  for (;;) {
    const last = out[out.length - 1];
    if (last?.role !== 'assistant') return out;
    const uses = last.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
    if (uses.length === 0) return out;
    out.pop();
  }
}
