import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditEvent } from '../../src/audit/event.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { tempDir } from '../support/kernel.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BOOTSTRAP = join(ROOT, 'manifests', 'bootstrap.yaml');

/** A runtime on a temp data dir with the demo inbox, a bootstrap agent, and every event collected. */
export async function planRuntime(
  env: NodeJS.ProcessEnv = {},
): Promise<{ runtime: Runtime; dir: string; events: AuditEvent[]; close(): Promise<void> }> {
  const { dir, cleanup } = tempDir('aaos-plan-');
  mkdirSync(join(dir, 'inbox'));
  cpSync(join(ROOT, 'manifests', 'demo', 'inbox'), join(dir, 'inbox'), { recursive: true });
  const runtime = await Runtime.open({ dataDir: dir, env: { AAOS_PARK_IDLE_MS: '0', ...env } });
  const events: AuditEvent[] = [];
  runtime.events.subscribe((e) => events.push(e));
  await runtime.startBootstrap(BOOTSTRAP);
  return {
    runtime,
    dir,
    events,
    close: async () => {
      await runtime.close();
      cleanup();
    },
  };
}

/** Writes a file (making its directory) and returns its path. */
export function writeAt(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  mkdirSync(resolve(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

export const ofType = <T extends AuditEvent['type']>(
  events: AuditEvent[],
  type: T,
): Extract<AuditEvent, { type: T }>[] => events.filter((e): e is Extract<AuditEvent, { type: T }> => e.type === type);
