import type { Supervisor } from '../kernel/supervisor.js';
import { builtinTools } from './builtin-tools.js';

/** Tools a runtime registers beside the built-ins (they need stores, so they are named here). */
const STORE_BACKED_TOOLS = ['memory_store', 'memory_query', 'memory_delete', 'skill_read'] as const;

/**
 * Names of every tool a runtime registers, known without opening one: what `agentd validate`
 * checks `tool:` grants against. A test compares it with a live runtime's registry.
 */
export function registeredToolNames(): string[] {
  const noSupervisor = (): Supervisor => {
    throw new Error('the tool catalog never runs a tool');
  };
  return [...builtinTools({}, noSupervisor).map((tool) => tool.definition.name), ...STORE_BACKED_TOOLS].sort();
}

/** Tools that come from outside the registry at run time (MCP servers) cannot be checked offline. */
export function isExternalToolName(name: string): boolean {
  return name.startsWith('mcp.') || name.includes('*');
}
