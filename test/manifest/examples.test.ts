import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandCapabilities, loadManifestFile } from '../../src/manifest/index.js';

const EXAMPLES = path.resolve('manifests/examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

describe('example manifests', () => {
  it('exist', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
  });

  it.each(files)('%s parses and expands', async (file) => {
    const manifest = await loadManifestFile(path.join(EXAMPLES, file));
    expect(manifest.name).toBe(path.basename(file, '.yaml'));
    const grants = expandCapabilities(manifest, { data_dir: '/var/lib/aaos/agents/x', workspace: '/tmp/ws' }, 0);
    expect(grants).toHaveLength(manifest.capabilities.length);
    for (const grant of grants) {
      if (grant.capability.kind === 'file_read' || grant.capability.kind === 'file_write') {
        expect(grant.capability.glob.startsWith('/')).toBe(true);
        expect(grant.capability.glob).not.toContain('{');
      }
    }
  });

  it('researcher reads its prompt from a file and meters web_fetch', async () => {
    const manifest = await loadManifestFile(path.join(EXAMPLES, 'researcher.yaml'));
    expect(manifest.system_prompt).toMatch(/research assistant/);
    const fetch = manifest.capabilities.find((c) => c.source === 'tool: web_fetch');
    expect(fetch?.grant.constraints.max_invocations).toBe(20);
    expect(fetch?.expires_in_seconds).toBe(600);
  });

  it('assistant is persistent with memory and a budget', async () => {
    const manifest = await loadManifestFile(path.join(EXAMPLES, 'assistant.yaml'));
    expect(manifest.lifecycle).toBe('persistent');
    expect(manifest.memory.context_window_tokens).toBe(64 * 1024);
    expect(manifest.budget_config).toEqual({ max_tokens: 2_000_000, reset_period_seconds: 86_400 });
    expect(manifest.approval_required).toEqual(['memory_delete']);
  });
});
