import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { RawClient, removeDir, startDaemon, type DaemonProcess } from '../daemon/daemon-process.js';

/**
 * The attacker's kit: a malicious model is a scripted model whose turns the test writes
 * (tool calls a hostile model would make), running in a real worker of the built daemon.
 */

export type Turn = ({ text: string } | { tool_calls: Array<{ name: string; input: Record<string, unknown> }> }) & {
  /** what the call reports as used (default: an estimate) */
  usage?: { input_tokens: number; output_tokens: number };
};

/** Writes a script of turns (one cursor per run) and returns its path. */
export function script(dir: string, name: string, turns: Turn[]): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify({ cursor: 'per_run', turns }));
  return file;
}

/** An operator manifest (trusted) for an agent driven by the given script. */
export function manifest(
  name: string,
  model: string,
  capabilities: Array<string | Record<string, unknown>>,
  extra: Record<string, unknown> = {},
): string {
  return stringify({ name, model: `scripted:${model}`, capabilities, ...extra });
}

/** The tool calls a model makes, then a last turn that reports every tool result it saw. */
export function toolThenReport(calls: Array<{ name: string; input: Record<string, unknown> }>): Turn[] {
  return [...calls.map((c) => ({ tool_calls: [c] })), { text: 'RESULT {last_tool_result}' }];
}

export interface RunResultLike {
  response: string;
  stop_reason: string;
}

/** The daemon's NDJSON audit copy (AAOS_AUDIT_FILE) lives here. */
export function auditFile(dataDir: string): string {
  return join(dataDir, 'audit.ndjson');
}

export async function daemonWith(
  dataDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ daemon: DaemonProcess; client: RawClient }> {
  const daemon = await startDaemon({
    dataDir,
    bootstrap: null,
    env: { AAOS_PARK_IDLE_MS: '0', AAOS_AUDIT_FILE: auditFile(dataDir), ...env },
  });
  const client = await RawClient.open(daemon.socket);
  return { daemon, client };
}

/** Spawns an operator agent over the socket and runs it once. */
export async function spawnAndRun(
  client: RawClient,
  manifestYaml: string,
  message = 'go',
): Promise<RunResultLike & { agent_id: string }> {
  const { agent_id } = await client.call<{ agent_id: string }>('agent.spawn', { manifest: manifestYaml });
  const result = await client.call<RunResultLike>('agent.run', { agent_id, message });
  return { ...result, agent_id };
}

export type AuditLine = Record<string, unknown> & { type: string };

/** Every audit event the daemon has written to its NDJSON copy so far. */
export function auditEvents(dataDir: string): AuditLine[] {
  if (!existsSync(auditFile(dataDir))) return [];
  return readFileSync(auditFile(dataDir), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditLine);
}

/** Waits until the audit copy holds an event matching `match` (the file sink writes behind). */
export async function waitForAudit(
  dataDir: string,
  match: (e: AuditLine) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<AuditLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hits = auditEvents(dataDir).filter(match);
    if (hits.length > 0) return hits;
    if (Date.now() > deadline) throw new Error(`no audit event ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What one test started: its daemon (at most one at a time) and temp dirs, for an afterEach to end. */
export class TestLeftovers {
  readonly dirs: string[] = [];
  daemon: DaemonProcess | undefined;

  async clean(): Promise<void> {
    await this.daemon?.stop();
    this.daemon = undefined;
    for (const d of this.dirs.splice(0)) removeDir(d);
  }
}
