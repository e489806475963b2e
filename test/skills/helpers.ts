import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ToolContext } from '../../src/tools/tool.js';

export async function tempRoot(prefix = 'aaos-skills-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Writes files (relative path → content) under `dir`. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const file = join(dir, rel);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

export function skillMd(name: string, extra = '', body = `# ${name}\n\nDo the thing.`): string {
  return `---\nname: ${name}\ndescription: Skill ${name} for tests.\n${extra}---\n\n${body}\n`;
}

export function toolContext(agentId = 'agent-1', runId: string | undefined = 'run-1'): ToolContext {
  return {
    call: {
      id: agentId,
      name: 'tester',
      ...(runId !== undefined ? { runId } : {}),
      trace: { traceId: 'trace', spanId: 'span' },
    },
    workspace: undefined,
    dataDir: '/tmp',
    signal: new AbortController().signal,
    authorize: () => undefined,
    spawnAndRun: () => Promise.reject(new Error('not used')),
  };
}
