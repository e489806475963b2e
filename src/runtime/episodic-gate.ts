import { AaosError, ErrorCode } from '../errors/index.js';
import type { Tool } from '../tools/tool.js';

/**
 * Memory tools need the capability (`tool: memory_store`…) AND `memory.episodic_enabled:
 * true` in the agent's manifest: an operator who turned memory off gets no memory,
 * whatever capabilities the agent was handed.
 */
export function episodicGate(tool: Tool, enabled: (agentId: string) => boolean): Tool {
  return {
    definition: tool.definition,
    idempotent: tool.idempotent,
    invoke(input, ctx) {
      if (!enabled(ctx.call.id)) {
        return Promise.reject(
          new AaosError(
            ErrorCode.CAPABILITY_DENIED,
            `${tool.definition.name}: episodic memory is off for agent ${ctx.call.name} (set memory.episodic_enabled: true in its manifest)`,
            { tool: tool.definition.name, agent_id: ctx.call.id },
          ),
        );
      }
      return tool.invoke(input, ctx);
    },
  };
}
