import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors/index.js';
import { createFileSearchTool } from '../../../src/tools/fs/file-search.js';
import { closeIoPool } from '../../../src/tools/fs/io-pool.js';
import { SEARCH_LINE_CHARS } from '../../../src/tools/fs/limits.js';
import { codeOf, makeKit, tempDir, type Kit } from './fs-test-kit.js';

// the scan runs on a piscina pool that loads dist/: build first (`npx tsc -p .`)
const search = createFileSearchTool();
let tmp: ReturnType<typeof tempDir>;
let outside: ReturnType<typeof tempDir>;
let kit: Kit;
let root: string;

interface Result {
  path: string;
  matches: { file: string; line: number; text: string }[];
  truncated: boolean;
  files_scanned: number;
}

beforeEach(() => {
  tmp = tempDir();
  outside = tempDir('aaos-outside-');
  root = `${tmp.dir}/repo`;
  mkdirSync(`${root}/src/deep`, { recursive: true });
  writeFileSync(`${root}/README.md`, 'intro\nTODO: docs\n');
  writeFileSync(`${root}/src/a.ts`, 'const x = 1; // TODO fix\nconst y = 2;\n');
  writeFileSync(`${root}/src/deep/b.ts`, `ok\n${'TODO '.repeat(200)}\n`);
  writeFileSync(`${root}/src/bin.dat`, Buffer.from([0x54, 0x4f, 0x44, 0x4f, 0x00, 0xff]));
  writeFileSync(`${outside.dir}/leak.txt`, 'TODO outside secret\n');
  symlinkSync(outside.dir, `${root}/src/outside-dir`);
  symlinkSync(`${outside.dir}/leak.txt`, `${root}/leak-link.txt`);
  writeFileSync(`${tmp.dir}/repo-sibling.txt`, 'TODO sibling\n');
  kit = makeKit();
});

afterEach(() => {
  tmp.cleanup();
  outside.cleanup();
});
afterAll(() => closeIoPool());

describe('file_search', () => {
  it('finds matches in name order, never through symlinks, never binary files', async () => {
    kit.grant({ kind: 'file_read', glob: `${root}/*` });
    const result = (await kit.call(search, { path: root, pattern: 'TODO' })) as Result;
    expect(result.truncated).toBe(false);
    expect(result.matches.map((m) => [m.file.slice(root.length), m.line])).toEqual([
      ['/README.md', 2],
      ['/src/a.ts', 1],
      ['/src/deep/b.ts', 2],
    ]);
    expect(result.matches[2]?.text).toHaveLength(SEARCH_LINE_CHARS);
    expect(JSON.stringify(result)).not.toContain('outside secret');
    expect(JSON.stringify(result)).not.toContain('sibling');
  });

  it('truncates at max_results', async () => {
    kit.grant({ kind: 'file_read', glob: `${root}/*` });
    const result = (await kit.call(search, { path: root, pattern: 'TODO|const', max_results: 2 })) as Result;
    expect(result.matches).toHaveLength(2);
    expect(result.truncated).toBe(true);
    expect(await codeOf(kit.call(search, { path: root, pattern: 'x', max_results: 201 }))).toBe(
      ErrorCode.TOOL_INPUT_INVALID,
    );
  });

  it('needs file_read over the whole tree: an exact grant on the directory is not enough', async () => {
    kit.grant({ kind: 'file_read', glob: root });
    expect(await codeOf(kit.call(search, { path: root, pattern: 'TODO' }))).toBe(ErrorCode.CAPABILITY_DENIED);
    kit.grant({ kind: 'file_read', glob: `${root}/src/*` });
    expect(await codeOf(kit.call(search, { path: root, pattern: 'TODO' }))).toBe(ErrorCode.CAPABILITY_DENIED);
    const sub = (await kit.call(search, { path: `${root}/src`, pattern: 'TODO' })) as Result;
    expect(sub.matches.map((m) => m.file)).toEqual([`${root}/src/a.ts`, `${root}/src/deep/b.ts`]);
    expect(await codeOf(kit.call(search, { path: `${root}/src/..`, pattern: 'TODO' }))).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
    expect(kit.denials()).toHaveLength(3);
  });

  it('rejects a bad regex, a symlinked root and a file root', async () => {
    kit.grant({ kind: 'file_read', glob: `${root}/*` });
    expect(await codeOf(kit.call(search, { path: root, pattern: '(' }))).toBe(ErrorCode.TOOL_INPUT_INVALID);
    expect(await codeOf(kit.call(search, { path: `${root}/src/outside-dir`, pattern: 'TODO' }))).toBe(
      ErrorCode.PATH_SYMLINK,
    );
    expect(await codeOf(kit.call(search, { path: `${root}/README.md`, pattern: 'TODO' }))).toBe(ErrorCode.PATH_INVALID);
    expect(await codeOf(kit.call(search, { path: `${root}/nope`, pattern: 'TODO' }))).toBe(ErrorCode.PATH_NOT_FOUND);
  });
});
