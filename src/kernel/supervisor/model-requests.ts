import { AaosError, ErrorCode } from '../../errors/index.js';
import type { ModelResponse, ToolDefinition } from '../../providers/model.js';
import type { LiveAgent } from '../agent-table.js';
import { recordAssistant, type Conversation } from '../conversation.js';
import type { SupervisorCore } from './core.js';

/**
 * A worker's `model` request: its new messages join the run's conversation, the supervisor
 * adds the system prompt and the tools the agent holds right now, and asks the model gateway.
 */
export class ModelRequests {
  constructor(private readonly core: SupervisorCore) {}

  async complete(rec: LiveAgent, runId: string, append: Conversation['messages']): Promise<ModelResponse> {
    const { core } = this;
    const state = this.requireRun(rec, runId);
    if (state.stop) throw state.stop;
    state.messages.push(...append);
    if (state.journaled) {
      for (const m of append) {
        if (m.role === 'tool_result')
          core.opts.journal?.append(state.runId, {
            kind: 'tool_result',
            tool_use_id: m.tool_use_id,
            content: m.content,
            is_error: m.is_error,
          });
      }
    }
    const response = await core.opts.models.complete(
      state.call,
      rec.manifest.model,
      {
        system: (state.system ??= this.systemPrompt(rec)),
        messages: state.messages,
        tools: this.visibleTools(rec),
        max_tokens: core.opts.maxOutputTokens ?? 4096,
        signal: state.controller.signal,
      },
      {
        agent_id: rec.id,
        agent_name: rec.name,
        run_id: state.call.runId,
        data_dir: core.dataDir,
        ...(state.workspace ? { workspace: state.workspace } : {}),
        metadata: rec.manifest.metadata,
      },
    );
    // journaled before the agent sees it: a resumed run continues after this turn, never re-asks it
    if (state.journaled) core.opts.journal?.append(state.runId, { kind: 'assistant', content: response.content });
    recordAssistant(state, response);
    return response;
  }

  /** The tools a model is shown: those the agent holds `tool:` for right now (revocation hides them at once). */
  visibleTools(rec: LiveAgent): ToolDefinition[] {
    const check = this.core.capabilities.checker(rec.id);
    return this.core.tools.definitions((name) => check({ kind: 'tool', name }));
  }

  systemPrompt(rec: LiveAgent): string {
    const { core } = this;
    // `{data_dir}` in a prompt names the real directory, as it does in capabilities
    const parts = [rec.manifest.system_prompt.replaceAll('{data_dir}', core.dataDir)];
    const skills = core.opts.skills;
    if (skills && core.capabilities.check(rec.id, { kind: 'tool', name: 'skill_read' })) {
      const catalog = skills.catalog();
      if (catalog) parts.push(catalog);
    }
    const addendum = core.opts.promptAddenda?.(rec.id);
    if (addendum) parts.unshift(addendum);
    return parts.filter((p) => p.length > 0).join('\n\n');
  }

  private requireRun(rec: LiveAgent, runId: string): Conversation {
    const state = this.core.conversations.get(rec.id, runId);
    if (!state) throw new AaosError(ErrorCode.PROTOCOL, `agent ${rec.name} referred to unknown run ${runId}`);
    return state;
  }
}
