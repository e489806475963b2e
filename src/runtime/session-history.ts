import type { AuditInput } from '../audit/event.js';
import { prepareContext, renderTranscript, SUMMARIZE_SYSTEM_PROMPT } from '../context/context-manager.js';
import { tokenBudget } from '../context/token-budget.js';
import { estimateTextTokens } from '../providers/token-estimate.js';
import { toPlainError } from '../errors/index.js';
import { auditHeader, type CallContext } from '../audit/call-context.js';
import type { HistoryAgent, HistoryPort, PreparedHistory } from '../kernel/ports.js';
import type { ModelGateway } from '../providers/gateway.js';
import type { Message } from '../providers/model.js';
import type { SessionStore } from '../store/session-store.js';
import { trimHistory } from '../store/trim-history.js';

const DAY_MS = 86_400_000;

/**
 * Conversation history of persistent agents, on the session store: loaded and fitted
 * into the context window before each run (summarising the oldest part with the
 * agent's summarisation model, or dropping whole turns if that fails), appended and
 * trimmed after it, with archives pruned by age.
 */
export class SessionHistory implements HistoryPort {
  private readonly summarizers = new Set<string>();

  constructor(
    private readonly deps: {
      sessions: SessionStore;
      gateway: ModelGateway;
      emit: (e: AuditInput) => void;
      dataDir: string;
      maxOutputTokens: number;
    },
  ) {}

  async prepare(
    agent: HistoryAgent,
    systemPrompt: string,
    reserve: { message: string; toolsJson: string },
  ): Promise<PreparedHistory> {
    const { sessions, gateway, emit } = this.deps;
    const { call } = agent;
    const mem = agent.manifest.memory;
    if (mem.archive_ttl_days !== undefined) sessions.pruneArchives(call.id, mem.archive_ttl_days * DAY_MS);
    const history = sessions.load(call.id);
    const summarizationModel = mem.summarization_model ?? agent.manifest.model;
    const header = auditHeader(call);
    const prepared = await prepareContext({
      history,
      systemPrompt,
      budget: tokenBudget(mem.context_window_tokens, gateway.maxContextTokens(agent.manifest.model)),
      threshold: mem.summarization_threshold,
      reserveTokens:
        this.deps.maxOutputTokens + estimateTextTokens(reserve.message) + estimateTextTokens(reserve.toolsJson),
      summarizerMaxTokens: gateway.maxContextTokens(summarizationModel),
      summarize: async (entries) => {
        const helper = this.summarizerOf(call);
        // the summary is a model call of this delivery's trace, charged to the summarizer
        const res = await gateway.complete(
          { ...helper, ...(call.runId ? { runId: call.runId } : {}), ...(call.trace ? { trace: call.trace } : {}) },
          summarizationModel,
          {
            system: SUMMARIZE_SYSTEM_PROMPT,
            messages: [{ role: 'user', content: renderTranscript(entries) }],
            tools: [],
            max_tokens: 2048,
          },
          {
            agent_id: helper.id,
            agent_name: helper.name,
            data_dir: this.deps.dataDir,
            ...(call.runId ? { run_id: call.runId } : {}),
          },
        );
        return res.content
          .filter((b) => b.type === 'text')
          .map((b) => b.text)
          .join('\n');
      },
      archive: (segment) => {
        sessions.archive(call.id, {
          messages: segment.messages,
          source_range: segment.source_range,
          reason: segment.reason,
        });
      },
    });
    if (prepared.changed) sessions.replace(call.id, prepared.history);
    if (prepared.summarized) {
      emit({
        type: 'ContextSummarized',
        ...header,
        messages_summarized: prepared.summarized.count,
        tokens_saved_estimate: prepared.summarized.tokens_saved,
      });
    }
    if (prepared.fallback) {
      emit({
        type: 'ContextSummarizationFailed',
        ...header,
        reason: prepared.fallback.reason,
        fallback: 'dropped the oldest whole turns',
        dropped_messages: prepared.fallback.dropped,
      });
    }
    return { messages: prepared.messages, system: prepared.system };
  }

  commit(agent: HistoryAgent, transcript: Message[]): void {
    const { sessions, emit } = this.deps;
    const { call } = agent;
    try {
      sessions.append(call.id, transcript);
      const all = sessions.load(call.id);
      const trimmed = trimHistory(all, agent.manifest.memory.max_history_messages);
      if (trimmed.length < all.length) sessions.replace(call.id, trimmed);
    } catch (err) {
      emit({
        type: 'SessionStoreError',
        ...auditHeader(call),
        operation: 'append',
        message: toPlainError(err).message,
      });
    }
  }

  release(agentId: string): void {
    const id = `${agentId}/summarizer`;
    if (this.summarizers.delete(id)) this.deps.gateway.releaseAgent(id);
  }

  /** Summaries are model calls charged to the agent's budget (as a child) without consuming its own script cursor. */
  private summarizerOf(agent: CallContext): CallContext {
    const helper = { id: `${agent.id}/summarizer`, name: `${agent.name}/summarizer`, parentId: agent.id };
    if (!this.summarizers.has(helper.id)) {
      this.summarizers.add(helper.id);
      this.deps.gateway.registerAgent(helper);
    }
    return helper;
  }
}
