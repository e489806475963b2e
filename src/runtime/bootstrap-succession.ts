import { createHash } from 'node:crypto';
import type { AgentManifest } from '../manifest/schema.js';
import { parseManifest } from '../manifest/parse.js';
import type { AgentRecord } from '../store/agent-store.js';

/**
 * Which stored bootstrap agent a start continues, and which ones it retires.
 *
 * A bootstrap manifest is "the same" when it parses to the same agent (name, model, prompt
 * text, capabilities, limits, memory…): whitespace, comments, key order and the file's
 * location do not count. The same manifest keeps its agent id (history, memory); a changed
 * one gets a new agent and the previous one is stopped with its state kept under its id.
 */
export interface BootstrapSuccession {
  /** the stored bootstrap this start continues with its id, or none: a new agent */
  keep: AgentRecord | undefined;
  /** stored bootstraps to mark stopped (a changed manifest, or leftovers of older versions) */
  retire: AgentRecord[];
}

/** A digest of what the manifest makes the agent be (not where the file is or how it is spelled). */
export function manifestDigest(manifest: AgentManifest): string {
  // locations and spellings out: the file, the prompt file's path, each capability's line,
  // column and text as written (its parsed grant stays)
  const { source: _file, system_prompt_file: _promptFile, capabilities, ...rest } = manifest;
  const grants = capabilities.map(({ source: _text, line: _line, column: _column, ...grant }) => grant);
  return createHash('sha256')
    .update(canonicalJson({ ...rest, capabilities: grants }))
    .digest('hex');
}

/** JSON with object keys sorted at every depth, so equal values give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The digest a stored record was started with; records written before digests were kept are re-parsed. */
function storedDigest(rec: AgentRecord): string | undefined {
  if (rec.manifest_digest) return rec.manifest_digest;
  try {
    return manifestDigest(parseManifest(rec.manifest_yaml, rec.manifest_path ? { file: rec.manifest_path } : {}));
  } catch {
    return undefined; // unreadable now (a prompt file gone…): it cannot be the same agent
  }
}

/**
 * Decides from the stored agents. Bootstraps are the records marked `role: bootstrap` and not
 * stopped; a store written before that mark counts a persistent agent started from the same
 * path or under the same name from a manifest file. Of several, at most one (the newest whose
 * manifest is the same) is kept: a start always converges to exactly one bootstrap.
 */
export function planBootstrapSuccession(
  stored: AgentRecord[],
  next: { path: string; manifest: AgentManifest; digest: string },
): BootstrapSuccession {
  const live = stored.filter((r) => r.state !== 'stopped');
  let current = live.filter((r) => r.role === 'bootstrap');
  if (current.length === 0) {
    current = live.filter(
      (r) =>
        r.role === undefined &&
        r.manifest_path !== undefined &&
        (r.manifest_path === next.path || r.name === next.manifest.name),
    );
  }
  const newestFirst = [...current].sort((a, b) =>
    a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0,
  );
  const keep = newestFirst.find((r) => storedDigest(r) === next.digest);
  return { keep, retire: newestFirst.filter((r) => r !== keep) };
}
