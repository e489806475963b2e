import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors/index.js';
import { createFileListTool } from '../../../src/tools/fs/file-list.js';
import { LIST_MAX_ENTRIES } from '../../../src/tools/fs/limits.js';
import { codeOf, makeKit, tempDir, type Kit } from './fs-test-kit.js';

const fileList = createFileListTool();
let tmp: ReturnType<typeof tempDir>;
let kit: Kit;
let dir: string;

beforeEach(() => {
  tmp = tempDir();
  dir = `${tmp.dir}/d`;
  mkdirSync(`${dir}/sub`, { recursive: true });
  writeFileSync(`${dir}/b.txt`, 'bbb');
  writeFileSync(`${dir}/a.txt`, 'a');
  symlinkSync('/etc', `${dir}/link`);
  kit = makeKit();
});

afterEach(() => tmp.cleanup());

describe('file_list', () => {
  it('lists sorted entries with kinds; links are listed, not followed', async () => {
    kit.grant({ kind: 'file_read', glob: `${dir}/*` });
    const result = (await kit.call(fileList, { path: dir })) as {
      entries: { name: string; kind: string; size_bytes: number }[];
    };
    expect(result).toMatchObject({ path: dir, kind: 'dir', truncated: false });
    expect(result.entries.map((e) => [e.name, e.kind])).toEqual([
      ['a.txt', 'file'],
      ['b.txt', 'file'],
      ['link', 'symlink'],
      ['sub', 'dir'],
    ]);
    expect(result.entries[1]?.size_bytes).toBe(3);
  });

  it('needs file_read on the directory; an exact grant on it is enough', async () => {
    expect(await codeOf(kit.call(fileList, { path: dir }))).toBe(ErrorCode.CAPABILITY_DENIED);
    kit.grant({ kind: 'file_read', glob: `${dir}/sub/*` });
    expect(await codeOf(kit.call(fileList, { path: dir }))).toBe(ErrorCode.CAPABILITY_DENIED);
    kit.grant({ kind: 'file_read', glob: dir });
    expect(await kit.call(fileList, { path: dir })).toMatchObject({ kind: 'dir' });
    expect(await codeOf(kit.call(fileList, { path: `${dir}/..` }))).toBe(ErrorCode.CAPABILITY_DENIED);
  });

  it('describes a file as a single entry and reports a missing path', async () => {
    kit.grant({ kind: 'file_read', glob: `${dir}/*` });
    expect(await kit.call(fileList, { path: `${dir}/a.txt` })).toEqual({
      path: `${dir}/a.txt`,
      kind: 'file',
      entries: [{ name: 'a.txt', kind: 'file', size_bytes: 1 }],
      truncated: false,
    });
    expect(await codeOf(kit.call(fileList, { path: `${dir}/missing` }))).toBe(ErrorCode.PATH_NOT_FOUND);
  });

  it(`caps at ${LIST_MAX_ENTRIES} entries`, async () => {
    mkdirSync(`${dir}/many`);
    for (let i = 0; i < LIST_MAX_ENTRIES + 5; i += 1) writeFileSync(`${dir}/many/f${String(i).padStart(4, '0')}`, '');
    kit.grant({ kind: 'file_read', glob: `${dir}/*` });
    const result = (await kit.call(fileList, { path: `${dir}/many` })) as {
      entries: { name: string }[];
      truncated: boolean;
    };
    expect(result.entries).toHaveLength(LIST_MAX_ENTRIES);
    expect(result.truncated).toBe(true);
    expect(result.entries[0]?.name).toBe('f0000');
  });
});
