import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Supervisor, type SupervisorOptions } from '../../src/kernel/supervisor.js';
import { nullModels } from './null-models.js';

export const COMMAND_AGENT = fileURLToPath(new URL('../fixtures/agents/command-agent.mjs', import.meta.url));

export function tempDir(prefix = 'aaos-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A supervisor on a temp data dir; `close()` shuts it down and removes the dir. */
export function testSupervisor(opts: Partial<SupervisorOptions> = {}): {
  sup: Supervisor;
  dir: string;
  close(): Promise<void>;
} {
  const { dir, cleanup } = tempDir();
  const sup = new Supervisor({ dataDir: dir, models: nullModels, ...opts });
  return {
    sup,
    dir,
    close: async () => {
      await sup.shutdown('test done');
      cleanup();
    },
  };
}

export function commandManifest(name: string, capabilities: string[] = [], extra = ''): string {
  const caps = capabilities.length ? `capabilities:\n${capabilities.map((c) => `  - "${c}"`).join('\n')}\n` : '';
  return `name: ${name}\nmodel: fixture\nsystem_prompt: test\n${caps}${extra}`;
}

/** Poll until `predicate` holds (for state reached asynchronously); fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
