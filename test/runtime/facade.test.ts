import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The boundary rule of docs/architecture.md ("The Runtime façade"): code outside src/runtime talks
// to the Runtime's methods, never to its parts. The parts are `private` (the compiler refuses a
// read); this test also catches a part made public again, the test-only accessor used in src/,
// and the cluster hooks used anywhere but the cluster wiring.

const ROOT = join(import.meta.dirname, '..', '..');
const RUNTIME_TS = join(ROOT, 'src', 'runtime', 'runtime.ts');

/** Where `clusterHooks()` may be called: the two places that wire a cluster membership to the kernel. */
const CLUSTER_WIRING = ['src/cli/commands/run.ts', 'src/cluster/local-node.ts'];

interface Finding {
  file: string;
  line: number;
  text: string;
}

/** The names of the Runtime's parts, read from `interface RuntimeParts` in src/runtime/runtime.ts. */
function partNames(source: string): string[] {
  const body = /export interface RuntimeParts \{([\s\S]*?)\n\}/.exec(source)?.[1];
  if (!body) throw new Error('src/runtime/runtime.ts declares no `interface RuntimeParts { … }`');
  return [...body.matchAll(/^ {2}([a-zA-Z]+)\??:/gm)].map((m) => m[1]!);
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/**
 * Reads of a part through a variable named `runtime` or `rt` (also `this.runtime`, `daemon.runtime`,
 * `runtime?.x`, a chain broken over lines) and destructuring of parts out of a runtime.
 */
function partReads(file: string, text: string, parts: readonly string[]): Finding[] {
  const names = parts.join('|');
  const found: Finding[] = [];
  const access = new RegExp(`\\b(?:runtime|rt)\\s*\\??\\.\\s*(${names})\\b(?!\\s*\\()`, 'g');
  for (const m of text.matchAll(access)) found.push({ file, line: lineOf(text, m.index), text: m[0] });
  const destructure = /\{([^{}]*)\}\s*=\s*(?:[\w.]+\.)?(?:runtime|rt)\b/g;
  for (const m of text.matchAll(destructure)) {
    const keys = m[1]!.split(',').map((k) => k.split(':')[0]!.trim());
    for (const key of keys)
      if (parts.includes(key)) found.push({ file, line: lineOf(text, m.index), text: `{ ${key} } = runtime` });
  }
  return found;
}

function calls(file: string, text: string, method: string): Finding[] {
  return [...text.matchAll(new RegExp(`\\.${method}\\s*\\(`, 'g'))].map((m) => ({
    file,
    line: lineOf(text, m.index),
    text: m[0],
  }));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => join(d.parentPath, d.name));
}

function outsideRuntime(): Array<{ file: string; text: string }> {
  return sourceFiles(join(ROOT, 'src'))
    .map((path) => ({ file: relative(ROOT, path), text: readFileSync(path, 'utf8') }))
    .filter(({ file }) => !file.startsWith('src/runtime/'));
}

const where = (f: Finding): string => `${f.file}:${f.line}: ${f.text}`;

describe('the Runtime façade', () => {
  const runtimeSource = readFileSync(RUNTIME_TS, 'utf8');
  const parts = partNames(runtimeSource);

  it('keeps every part of the Runtime private', () => {
    expect(parts).toEqual(expect.arrayContaining(['supervisor', 'goals', 'store', 'audit', 'config']));
    const notPrivate = parts.filter(
      (p) => !new RegExp(`^ {2}private readonly ${p}\\b`, 'm').test(runtimeSource.split('export class Runtime')[1]!),
    );
    expect(notPrivate, 'parts of Runtime declared without `private readonly`').toEqual([]);
  });

  it('is all that code outside src/runtime uses: no part read, named by file and line', () => {
    const reads = outsideRuntime().flatMap(({ file, text }) => partReads(file, text, parts));
    expect(reads.map(where)).toEqual([]);
  });

  it('leaves the test-only accessor to tests and benches, and the cluster hooks to the cluster wiring', () => {
    const files = outsideRuntime();
    expect(files.flatMap(({ file, text }) => calls(file, text, 'internalsForTests')).map(where)).toEqual([]);
    const hooks = files
      .filter(({ file }) => !CLUSTER_WIRING.includes(file))
      .flatMap(({ file, text }) => calls(file, text, 'clusterHooks'));
    expect(hooks.map(where)).toEqual([]);
  });

  it('is described in docs/architecture.md: its table names every public method and getter', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    const table = /\| group \| methods \|\n\|---\|---\|\n((?:\|.*\n)+)/.exec(doc)?.[1];
    expect(table, 'docs/architecture.md has no `| group | methods |` table').toBeDefined();
    const documented = new Set([...table!.matchAll(/`(?:Runtime\.)?([a-zA-Z]+)/g)].map((m) => m[1]!));
    const body = runtimeSource.split('export class Runtime')[1]!;
    const members = [...body.matchAll(/^ {2}(?:static )?(?:async )?(?:get )?([a-zA-Z]+)(?:<[^>]*>)?\(/gm)].map(
      (m) => m[1]!,
    );
    expect(members.length).toBeGreaterThan(20);
    expect(members.filter((m) => m !== 'constructor' && !documented.has(m))).toEqual([]);
  });

  // the scanner itself: a checker that finds nothing because it cannot see is worse than none
  it('the scanner finds a part read however it is written, and leaves façade calls alone', () => {
    const sample = [
      'const a = runtime.supervisor.list();', // 1
      'const b = this.runtime?.goals;', // 2
      'const c = daemon.runtime', // 3
      '  .store.health();', // 4
      'const { audit, events } = ctx.daemon.runtime;', // 5
      'const d = rt.config.get("AAOS_X");', // 6
      'runtime.events.subscribe(() => {});', // 7: a façade getter
      'runtime.runs({ limit: 5 });', // 8: a façade method
      'runtime.audit(x);', // 9: a call, so a method of that name, not the part
    ].join('\n');
    const found = partReads('sample.ts', sample, ['supervisor', 'goals', 'store', 'audit', 'config']);
    expect(found.map((f) => f.line)).toEqual([1, 2, 3, 6, 5]);
    expect(found.map((f) => f.text)).toContain('{ audit } = runtime');
    expect(calls('x.ts', 'x\nruntime.internalsForTests ().supervisor', 'internalsForTests')).toEqual([
      { file: 'x.ts', line: 2, text: '.internalsForTests (' },
    ]);
  });
});
