import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors/index.js';
import { createFileReadTool } from '../../../src/tools/fs/file-read.js';
import { MAX_FILE_BYTES } from '../../../src/tools/fs/limits.js';
import { codeOf, makeKit, tempDir, type Kit } from './fs-test-kit.js';

const fileRead = createFileReadTool();
let tmp: ReturnType<typeof tempDir>;
let kit: Kit;
let data: string;

beforeEach(() => {
  tmp = tempDir();
  data = `${tmp.dir}/data`;
  mkdirSync(`${data}/project`, { recursive: true });
  writeFileSync(`${data}/project/file.txt`, 'one\ntwo\nthree\nfour\nfive\n');
  writeFileSync(`${tmp.dir}/secret.txt`, 'secret');
  mkdirSync(`${tmp.dir}/data-foo`);
  writeFileSync(`${tmp.dir}/data-foo/x`, 'beside');
  kit = makeKit();
  kit.grant({ kind: 'file_read', glob: `${data}/*` });
});

afterEach(() => tmp.cleanup());

describe('file_read', () => {
  it('reads a whole file with line metadata', async () => {
    expect(await kit.call(fileRead, { path: `${data}/project/file.txt` })).toEqual({
      content: 'one\ntwo\nthree\nfour\nfive\n',
      size_bytes: 24,
      total_lines: 5,
      offset: 1,
      returned_lines: 5,
      truncated: false,
    });
  });

  it('honours offset and limit', async () => {
    expect(await kit.call(fileRead, { path: `${data}/project/file.txt`, offset: 2, limit: 2 })).toMatchObject({
      content: 'two\nthree\n',
      total_lines: 5,
      offset: 2,
      returned_lines: 2,
      truncated: true,
    });
    expect(await kit.call(fileRead, { path: `${data}/project/file.txt`, offset: 5, limit: 10 })).toMatchObject({
      content: 'five\n',
      returned_lines: 1,
      truncated: false,
    });
    expect(await kit.call(fileRead, { path: `${data}/project/file.txt`, offset: 9 })).toMatchObject({
      content: '',
      returned_lines: 0,
      truncated: false,
    });
    writeFileSync(`${data}/noeol.txt`, 'a\nb');
    expect(await kit.call(fileRead, { path: `${data}/noeol.txt`, offset: 2 })).toMatchObject({
      content: 'b',
      total_lines: 2,
    });
    expect(await codeOf(kit.call(fileRead, { path: `${data}/project/file.txt`, offset: 0 }))).toBe(
      ErrorCode.TOOL_INPUT_INVALID,
    );
  });

  it('denies traversal out of the grant', async () => {
    for (const path of [
      `${data}/../secret.txt`,
      `${data}/project/../../secret.txt`,
      `${data}/./../secret.txt`,
      '/data/../etc/passwd',
    ]) {
      expect(await codeOf(kit.call(fileRead, { path }))).toBe(ErrorCode.CAPABILITY_DENIED);
    }
    expect(kit.denials()).toHaveLength(4);
    expect(kit.denials()[0]).toMatchObject({ capability: `file_read: ${tmp.dir}/secret.txt`, tool: 'file_read' });
  });

  it('respects the glob boundary and allows the grant dir itself only as a directory', async () => {
    expect(await codeOf(kit.call(fileRead, { path: `${tmp.dir}/data-foo/x` }))).toBe(ErrorCode.CAPABILITY_DENIED);
    // the directory is covered, but it is not a regular file
    expect(await codeOf(kit.call(fileRead, { path: data }))).toBe(ErrorCode.PATH_INVALID);
  });

  it('rejects relative paths, missing files and directories', async () => {
    expect(await codeOf(kit.call(fileRead, { path: 'data/project/file.txt' }))).toBe(ErrorCode.PATH_INVALID);
    expect(await codeOf(kit.call(fileRead, { path: `${data}/nope.txt` }))).toBe(ErrorCode.PATH_NOT_FOUND);
    expect(await codeOf(kit.call(fileRead, { path: `${data}/project` }))).toBe(ErrorCode.PATH_INVALID);
    expect(await codeOf(kit.call(fileRead, { path: `${data}/project/file.txt/x` }))).toBe(ErrorCode.PATH_INVALID);
  });

  it('caps files at 1 MiB', async () => {
    writeFileSync(`${data}/exact.txt`, 'a'.repeat(MAX_FILE_BYTES));
    writeFileSync(`${data}/big.txt`, 'a'.repeat(MAX_FILE_BYTES + 1));
    expect(await kit.call(fileRead, { path: `${data}/exact.txt` })).toMatchObject({
      size_bytes: MAX_FILE_BYTES,
      total_lines: 1,
    });
    expect(await codeOf(kit.call(fileRead, { path: `${data}/big.txt` }))).toBe(ErrorCode.FILE_TOO_LARGE);
  });

  it('refuses invalid UTF-8', async () => {
    writeFileSync(`${data}/bin`, Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    expect(await codeOf(kit.call(fileRead, { path: `${data}/bin` }))).toBe(ErrorCode.TOOL_FAILED);
  });

  it('needs file_read, not file_write', async () => {
    const writer = makeKit({ id: 'w', name: 'writer' });
    writer.grant({ kind: 'file_write', glob: `${data}/*` });
    expect(await codeOf(writer.call(fileRead, { path: `${data}/project/file.txt` }))).toBe(ErrorCode.CAPABILITY_DENIED);
  });
});
