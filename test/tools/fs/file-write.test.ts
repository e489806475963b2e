import { execFileSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors/index.js';
import { createFileWriteTool } from '../../../src/tools/fs/file-write.js';
import { MAX_FILE_BYTES } from '../../../src/tools/fs/limits.js';
import { codeOf, makeKit, tempDir, type Kit } from './fs-test-kit.js';

const fileWrite = createFileWriteTool();
let tmp: ReturnType<typeof tempDir>;
let kit: Kit;
let out: string;

beforeEach(() => {
  tmp = tempDir();
  out = `${tmp.dir}/out`;
  mkdirSync(out);
  writeFileSync(`${tmp.dir}/precious.txt`, 'keep me');
  kit = makeKit();
  kit.grant({ kind: 'file_write', glob: `${out}/*` });
});

afterEach(() => tmp.cleanup());

describe('file_write', () => {
  it('creates a not-yet-existing file, and its missing parent directories', async () => {
    expect(await kit.call(fileWrite, { path: `${out}/a/b/c.txt`, content: 'héllo' })).toEqual({
      path: `${out}/a/b/c.txt`,
      bytes_written: 6,
    });
    expect(readFileSync(`${out}/a/b/c.txt`, 'utf8')).toBe('héllo');
  });

  it('replaces atomically (no temp files left) and keeps the mode', async () => {
    writeFileSync(`${out}/f.txt`, 'old content that is longer', { mode: 0o640 });
    await kit.call(fileWrite, { path: `${out}/f.txt`, content: 'new' });
    expect(readFileSync(`${out}/f.txt`, 'utf8')).toBe('new');
    expect(statSync(`${out}/f.txt`).mode & 0o777).toBe(0o640);
    expect(readdirSync(out)).toEqual(['f.txt']);
  });

  it('appends', async () => {
    await kit.call(fileWrite, { path: `${out}/log.txt`, content: 'a\n', append: true });
    await kit.call(fileWrite, { path: `${out}/log.txt`, content: 'b\n', append: true });
    expect(readFileSync(`${out}/log.txt`, 'utf8')).toBe('a\nb\n');
  });

  it('a denied write leaves no trace: no directory, no file, nothing truncated', async () => {
    expect(await codeOf(kit.call(fileWrite, { path: `${tmp.dir}/elsewhere/deep/x.txt`, content: 'x' }))).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
    expect(existsSync(`${tmp.dir}/elsewhere`)).toBe(false);
    expect(await codeOf(kit.call(fileWrite, { path: `${tmp.dir}/precious.txt`, content: '' }))).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
    expect(await codeOf(kit.call(fileWrite, { path: `${tmp.dir}/precious.txt`, content: 'x', append: true }))).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
    expect(await codeOf(kit.call(fileWrite, { path: `${out}/../precious.txt`, content: '' }))).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
    expect(readFileSync(`${tmp.dir}/precious.txt`, 'utf8')).toBe('keep me');
    expect(readdirSync(tmp.dir).sort()).toEqual(['out', 'precious.txt']);
    expect(kit.denials()).toHaveLength(4);
  });

  it('file_read alone does not allow writing', async () => {
    const reader = makeKit({ id: 'r', name: 'reader' });
    reader.grant({ kind: 'file_read', glob: `${tmp.dir}/*` });
    expect(await codeOf(reader.call(fileWrite, { path: `${out}/new/x.txt`, content: 'x' }))).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
    expect(existsSync(`${out}/new`)).toBe(false);
  });

  it('respects the glob boundary', async () => {
    expect(await codeOf(kit.call(fileWrite, { path: `${tmp.dir}/out-foo/x`, content: 'x' }))).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
    expect(await codeOf(kit.call(fileWrite, { path: `${tmp.dir}/out_foo`, content: 'x' }))).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
    expect(existsSync(`${tmp.dir}/out-foo`)).toBe(false);
    expect(existsSync(`${tmp.dir}/out_foo`)).toBe(false);
  });

  it('caps content at 1 MiB', async () => {
    expect(await codeOf(kit.call(fileWrite, { path: `${out}/big.txt`, content: 'a'.repeat(MAX_FILE_BYTES + 1) }))).toBe(
      ErrorCode.FILE_TOO_LARGE,
    );
    expect(existsSync(`${out}/big.txt`)).toBe(false);
    await kit.call(fileWrite, { path: `${out}/max.txt`, content: 'a'.repeat(MAX_FILE_BYTES) });
    expect(statSync(`${out}/max.txt`).size).toBe(MAX_FILE_BYTES);
  });

  it('refuses to write over a directory or below a file', async () => {
    mkdirSync(`${out}/dir`);
    writeFileSync(`${out}/file`, 'f');
    expect(await codeOf(kit.call(fileWrite, { path: `${out}/dir`, content: 'x' }))).toBe(ErrorCode.PATH_INVALID);
    expect(await codeOf(kit.call(fileWrite, { path: `${out}/file/x.txt`, content: 'x' }))).toBe(ErrorCode.PATH_INVALID);
    expect(readFileSync(`${out}/file`, 'utf8')).toBe('f');
  });

  it('refuses to append to a file with a second hard link (it may be outside the grant)', async () => {
    linkSync(`${tmp.dir}/precious.txt`, `${out}/alias.txt`);
    const err = await kit
      .call(fileWrite, { path: `${out}/alias.txt`, content: 'leak', append: true })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.PATH_INVALID, message: expect.stringContaining('2 hard links') });
    expect(readFileSync(`${tmp.dir}/precious.txt`, 'utf8')).toBe('keep me');
    // a replace writes a new file and leaves the other name's content alone
    await kit.call(fileWrite, { path: `${out}/alias.txt`, content: 'own copy' });
    expect(readFileSync(`${tmp.dir}/precious.txt`, 'utf8')).toBe('keep me');
    expect(readFileSync(`${out}/alias.txt`, 'utf8')).toBe('own copy');
  });

  it('never writes through a link: not as the leaf, not as a directory to create in', async () => {
    symlinkSync(tmp.dir, `${out}/up`);
    symlinkSync(`${tmp.dir}/precious.txt`, `${out}/leaf.txt`);
    expect(await codeOf(kit.call(fileWrite, { path: `${out}/up/new/x.txt`, content: 'x' }))).toBe(
      ErrorCode.PATH_SYMLINK,
    );
    expect(await codeOf(kit.call(fileWrite, { path: `${out}/leaf.txt`, content: 'x' }))).toBe(ErrorCode.PATH_SYMLINK);
    expect(await codeOf(kit.call(fileWrite, { path: `${out}/leaf.txt`, content: 'x', append: true }))).toBe(
      ErrorCode.PATH_SYMLINK,
    );
    expect(readdirSync(tmp.dir).sort()).toEqual(['out', 'precious.txt']);
    expect(readFileSync(`${tmp.dir}/precious.txt`, 'utf8')).toBe('keep me');
  });

  it('an append to a FIFO fails at once instead of blocking the supervisor', async () => {
    execFileSync('mkfifo', [`${out}/pipe`]);
    expect(await codeOf(kit.call(fileWrite, { path: `${out}/pipe`, content: 'x', append: true }))).toBe(
      ErrorCode.PATH_INVALID,
    );
  });
});
