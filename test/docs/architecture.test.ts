import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

describe('docs/architecture.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');

  it('its folder table names every folder of src/, and only those', () => {
    const documented = [...doc.matchAll(/^\| `src\/([a-z-]+)` \|/gm)].map((m) => m[1]).sort();
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(documented).toEqual(folders);
  });

  it('its table of the supervisor modules names every file of src/kernel/supervisor/', () => {
    const documented = [...doc.matchAll(/^\| `([a-z-]+\.ts)` \|/gm)].map((m) => m[1]).sort();
    const files = readdirSync(join(ROOT, 'src', 'kernel', 'supervisor')).sort();
    expect(documented).toEqual(files);
  });
});
