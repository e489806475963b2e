import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditInput } from '../../../src/audit/event.js';
import type { Capability, Constraints } from '../../../src/capability/capability.js';
import type { CallContext } from '../../../src/audit/call-context.js';
import { CapabilityTable } from '../../../src/capability/capability-table.js';
import type { Tool, ToolContext } from '../../../src/tools/tool.js';

/** A real CapabilityTable plus one agent, and a ToolContext whose authorize goes through the table. */
export interface Kit {
  table: CapabilityTable;
  events: AuditInput[];
  agent: CallContext;
  grant(capability: Capability, constraints?: Constraints): string;
  call(tool: Tool, input: unknown): Promise<unknown>;
  denials(): AuditInput[];
}

export function makeKit(agent: CallContext = { id: 'agent-1', name: 'tester' }): Kit {
  const events: AuditInput[] = [];
  const table = new CapabilityTable((e) => events.push(e));
  const context = (tool: string): ToolContext => ({
    call: agent,
    workspace: undefined,
    dataDir: '/nonexistent-data-dir',
    signal: new AbortController().signal,
    authorize(request) {
      table.authorize(agent, request, { tool });
    },
    spawnAndRun() {
      return Promise.reject(new Error('not available in file tool tests'));
    },
  });
  return {
    table,
    events,
    agent,
    grant: (capability, constraints = {}) => table.issue(agent, { capability, constraints }).id,
    call: (tool, input) => tool.invoke(input, context(tool.definition.name)),
    denials: () => events.filter((e) => e.type === 'CapabilityDenied'),
  };
}

/** A fresh temp dir, canonical (so grants and requests agree even if the system tmp is a link). */
export function tempDir(prefix = 'aaos-fs-'): { dir: string; cleanup(): void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Resolves to the AaosError code of a rejected promise (fails the test if it resolves). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
  throw new Error('expected the call to fail, but it succeeded');
}
