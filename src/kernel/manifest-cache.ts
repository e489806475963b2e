import type { AgentManifest } from '../manifest/schema.js';
import { manifestFiles, parseManifest, type ManifestFileCheck } from '../manifest/parse.js';

/**
 * Child manifests arrive as YAML text in tool calls, and a fan-out sends the same text
 * many times. Parsing is pure for a given text and base directory, except when the
 * prompt comes from a file, so those are never cached. Entries are shared: read-only.
 * A hit still passes every file the manifest names through `authorizeFile`: the
 * caller's authority may differ from (or have changed since) the parse that was cached.
 */
export class ManifestCache {
  private readonly entries = new Map<string, AgentManifest>();

  constructor(private readonly capacity = 128) {}

  parse(text: string, file: string, baseDir: string, authorizeFile?: ManifestFileCheck): AgentManifest {
    const key = `${baseDir}\u0000${text}`;
    const hit = this.entries.get(key);
    if (hit) {
      if (authorizeFile) for (const ref of manifestFiles(hit)) authorizeFile(ref.path, ref.field);
      // refresh its place in the LRU order
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const manifest = parseManifest(text, { file, baseDir, ...(authorizeFile ? { authorizeFile } : {}) });
    if (manifest.system_prompt_file === undefined) {
      this.entries.set(key, manifest);
      if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    }
    return manifest;
  }
}
