import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/manifest/parse.js';
import { manifestDigest, planBootstrapSuccession } from '../../src/runtime/bootstrap-succession.js';
import type { AgentRecord } from '../../src/store/agent-store.js';
import { tempDir } from '../support/kernel.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const LINES = [
  'name: lead',
  'model: scripted:script.yaml',
  'lifecycle: persistent',
  'system_prompt: {file: prompt.md}',
  'capabilities:',
  '  - "tool: echo"',
  '  - "tool: file_list"',
];

function write(name: string, lines: string[]): string {
  writeFileSync(join(dir, 'script.yaml'), 'turns:\n  - text: hi\n');
  writeFileSync(join(dir, 'prompt.md'), 'You lead.\n');
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
const parsed = (path: string) => parseManifest(readFileSync(path, 'utf8'), { file: path });
const digestOf = (path: string) => manifestDigest(parsed(path));

function record(id: string, over: Partial<AgentRecord> = {}): AgentRecord {
  return {
    v: 1,
    id,
    name: 'lead',
    manifest_yaml: `${LINES.join('\n')}\n`,
    manifest_path: join(dir, 'a.yaml'),
    state: 'running',
    created_at: `2026-01-0${id.length % 9}T00:00:00Z`,
    ...over,
  };
}

describe('bootstrap manifest digest', () => {
  it('ignores comments, blank lines, indentation style, key order and the file location', () => {
    const base = digestOf(write('a.yaml', LINES));
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('comment', 'blank', 'trailing'), { maxLength: 6 }),
        fc.boolean(),
        fc.boolean(),
        (noise, swap, elsewhere) => {
          const lines = [...LINES];
          if (swap) [lines[0], lines[1]] = [lines[1]!, lines[0]!];
          const spelled: string[] = [];
          for (const [i, line] of lines.entries()) {
            const kind = noise[i % Math.max(noise.length, 1)];
            if (kind === 'comment') spelled.push('# an operator note');
            if (kind === 'blank') spelled.push('');
            spelled.push(kind === 'trailing' && !line.startsWith('  ') ? `${line}   # why` : line);
          }
          return digestOf(write(elsewhere ? 'moved.yaml' : 'a.yaml', spelled)) === base;
        },
      ),
      { numRuns: 60 },
    );
  });

  it('changes with the model, a tool, the prompt text or a limit', () => {
    const base = digestOf(write('a.yaml', LINES));
    writeFileSync(join(dir, 'other.yaml'), 'turns:\n  - text: other\n');
    expect(
      digestOf(
        write(
          'b.yaml',
          LINES.map((l) => l.replace('script.yaml', 'other.yaml')),
        ),
      ),
    ).not.toBe(base);
    expect(digestOf(write('b.yaml', LINES.slice(0, -1)))).not.toBe(base);
    expect(digestOf(write('b.yaml', [...LINES, 'limits:', '  max_iterations: 3']))).not.toBe(base);
    const path = write('b.yaml', LINES);
    writeFileSync(join(dir, 'prompt.md'), 'You lead differently.\n');
    expect(digestOf(path)).not.toBe(base);
  });
});

describe('which stored bootstrap a start continues', () => {
  it('keeps the one with the same manifest and retires nothing', () => {
    const path = write('a.yaml', LINES);
    const manifest = parsed(path);
    const digest = manifestDigest(manifest);
    const kept = record('boot-1', { role: 'bootstrap', manifest_digest: digest });
    const plan = planBootstrapSuccession([kept, record('other', { name: 'helper', manifest_path: undefined })], {
      path,
      manifest,
      digest,
    });
    expect(plan.keep?.id).toBe('boot-1');
    expect(plan.retire).toEqual([]);
  });

  it('retires the previous one when the manifest changed, wherever the new file is', () => {
    const path = write('b.yaml', LINES.slice(0, -1));
    const manifest = parsed(path);
    const digest = manifestDigest(manifest);
    const old = record('boot-1', { role: 'bootstrap', manifest_digest: 'something else' });
    const plan = planBootstrapSuccession([old], { path, manifest, digest });
    expect(plan.keep).toBeUndefined();
    expect(plan.retire.map((r) => r.id)).toEqual(['boot-1']);
  });

  it('never continues a stopped one, and leaves agents that are not bootstraps alone', () => {
    const path = write('a.yaml', LINES);
    const manifest = parsed(path);
    const digest = manifestDigest(manifest);
    const stopped = record('boot-1', { role: 'bootstrap', manifest_digest: digest, state: 'stopped' });
    const helper = record('helper-1', { name: 'helper', manifest_path: join(dir, 'helper.yaml') });
    const plan = planBootstrapSuccession([stopped, helper], { path, manifest, digest });
    expect(plan).toEqual({ keep: undefined, retire: [] });
  });

  it('converges to one: of several live bootstraps (an older store, a crash) at most the newest same one is kept', () => {
    const path = write('a.yaml', LINES);
    const manifest = parsed(path);
    const digest = manifestDigest(manifest);
    const older = record('b1', { role: 'bootstrap', manifest_digest: digest, created_at: '2026-01-01T00:00:00Z' });
    const newer = record('b2', { role: 'bootstrap', manifest_digest: digest, created_at: '2026-01-02T00:00:00Z' });
    const changed = record('b3', { role: 'bootstrap', manifest_digest: 'x', created_at: '2026-01-03T00:00:00Z' });
    const plan = planBootstrapSuccession([older, changed, newer], { path, manifest, digest });
    expect(plan.keep?.id).toBe('b2');
    expect(plan.retire.map((r) => r.id).sort()).toEqual(['b1', 'b3']);
  });

  it('recognises a bootstrap stored before records were marked, by its path or name, comparing the re-parsed manifest', () => {
    const path = write('a.yaml', LINES);
    const manifest = parsed(path);
    const digest = manifestDigest(manifest);
    const legacySame = record('old-same', { manifest_path: path, created_at: '2026-01-02T00:00:00Z' });
    const legacyOtherPath = record('old-other', {
      manifest_path: join(dir, 'elsewhere', 'boot.yaml'),
      manifest_yaml: 'name: lead\nmodel: gone\n',
      created_at: '2026-01-01T00:00:00Z',
    });
    const plan = planBootstrapSuccession([legacyOtherPath, legacySame], { path, manifest, digest });
    expect(plan.keep?.id).toBe('old-same');
    expect(plan.retire.map((r) => r.id)).toEqual(['old-other']);
  });
});
