import type { SkillsPort } from '../../kernel/ports.js';
import type { MemoryStore } from '../../memory/memory-store.js';
import type { SkillActivations } from '../../skills/activations.js';
import type { SkillRegistry } from '../../skills/registry.js';

/** The supervisor's skills port: the catalog, per-run activations and what an agent leaves loaded when it ends. */
export class RegistrySkillsPort implements SkillsPort {
  constructor(
    private readonly skills: SkillRegistry,
    private readonly activations: SkillActivations,
    private readonly memory: MemoryStore,
  ) {}

  catalog(): string {
    return this.skills.catalog();
  }

  check(agentId: string, runId: string, tool: string): void {
    this.activations.check(agentId, runId, tool);
  }

  endRun(agentId: string, runId: string): void {
    this.activations.endRun(agentId, runId);
  }

  endAgent(agentId: string): void {
    this.activations.endAgent(agentId);
    // an agent's memory index is loaded while it lives
    this.memory.unload(agentId);
  }
}
