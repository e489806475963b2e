import { auditHeader } from '../../audit/call-context.js';
import type { AuditInput } from '../../audit/event.js';
import type { AgentManifest } from '../../manifest/schema.js';
import type { MemoryLimits } from '../../memory/tools.js';
import type { ActiveSkill } from '../../skills/activations.js';

/**
 * What services built before the supervisor (skill activations, memory tools) need to know
 * about a live agent, read from its manifest once the supervisor exists.
 */
export class AgentManifests {
  private lookup: (agentId: string) => AgentManifest | undefined = () => undefined;

  /** Binds the lookup (the supervisor's) once it is built. */
  bind(lookup: (agentId: string) => AgentManifest | undefined): void {
    this.lookup = lookup;
  }

  /** `episodic_max_records` and `episodic_max_content_bytes` of the agent's manifest. */
  memoryLimits(agentId: string): MemoryLimits {
    const m = this.lookup(agentId)?.memory;
    return { maxRecords: m?.episodic_max_records ?? 10_000, maxContentBytes: m?.episodic_max_content_bytes ?? 4096 };
  }

  episodicEnabled(agentId: string): boolean {
    return this.lookup(agentId)?.memory.episodic_enabled ?? false;
  }

  /** The audit event of a skill activated by an agent in a run. */
  skillActivated(agentId: string, runId: string | undefined, skill: ActiveSkill): AuditInput {
    return {
      type: 'SkillActivated',
      ...auditHeader({ id: agentId, name: this.lookup(agentId)?.name ?? agentId, ...(runId ? { runId } : {}) }),
      skill: skill.name,
      allowed_tools: skill.allowedTools,
    };
  }
}
