import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors/index.js';
import { createFileEditTool } from '../../../src/tools/fs/file-edit.js';
import { createFileListTool } from '../../../src/tools/fs/file-list.js';
import { createFileReadTool } from '../../../src/tools/fs/file-read.js';
import { createFileWriteTool } from '../../../src/tools/fs/file-write.js';
import { readVerifiedText } from '../../../src/tools/fs/read-text.js';
import { resolveSafePath } from '../../../src/tools/fs/safe-path.js';
import { codeOf, makeKit, tempDir, type Kit } from './fs-test-kit.js';

const fileRead = createFileReadTool();
const fileWrite = createFileWriteTool();
const fileEdit = createFileEditTool();
const fileList = createFileListTool();

let tmp: ReturnType<typeof tempDir>;
let outside: ReturnType<typeof tempDir>;
let kit: Kit;
let grant: string;

beforeEach(() => {
  tmp = tempDir();
  outside = tempDir('aaos-outside-');
  grant = `${tmp.dir}/grant`;
  mkdirSync(`${grant}/real`, { recursive: true });
  writeFileSync(`${grant}/real/inner.txt`, 'inner');
  writeFileSync(`${outside.dir}/victim.txt`, 'victim');
  symlinkSync('/etc', `${grant}/evil-link`);
  symlinkSync(outside.dir, `${grant}/other-dir`);
  symlinkSync(`${outside.dir}/victim.txt`, `${grant}/leaf-link.txt`);
  symlinkSync(`${grant}/real`, `${grant}/inner-dir`);
  symlinkSync(`${grant}/real/inner.txt`, `${grant}/inner-leaf.txt`);
  kit = makeKit();
  kit.grant({ kind: 'file_read', glob: `${grant}/*` });
  kit.grant({ kind: 'file_write', glob: `${grant}/*` });
});

afterEach(() => {
  tmp.cleanup();
  outside.cleanup();
});

describe('symbolic links are refused in every component', () => {
  it.each([
    ['intermediate -> /etc', 'evil-link/passwd'],
    ['intermediate -> another temp dir', 'other-dir/victim.txt'],
    ['intermediate -> inside the grant', 'inner-dir/inner.txt'],
    ['leaf -> another temp dir', 'leaf-link.txt'],
    ['leaf -> inside the grant', 'inner-leaf.txt'],
  ])('file_read refuses %s', async (_label, rel) => {
    expect(await codeOf(kit.call(fileRead, { path: `${grant}/${rel}` }))).toBe(ErrorCode.PATH_SYMLINK);
  });

  it.each([
    ['intermediate -> /etc', 'evil-link/aaos-should-not-exist'],
    ['intermediate -> another temp dir', 'other-dir/victim.txt'],
    ['leaf -> another temp dir', 'leaf-link.txt'],
  ])('file_write refuses %s and touches nothing', async (_label, rel) => {
    expect(await codeOf(kit.call(fileWrite, { path: `${grant}/${rel}`, content: 'pwned' }))).toBe(
      ErrorCode.PATH_SYMLINK,
    );
    expect(await codeOf(kit.call(fileWrite, { path: `${grant}/${rel}`, content: 'pwned', append: true }))).toBe(
      ErrorCode.PATH_SYMLINK,
    );
    expect(readFileSync(`${outside.dir}/victim.txt`, 'utf8')).toBe('victim');
    expect(existsSync('/etc/aaos-should-not-exist')).toBe(false);
  });

  it('file_write creates no directory through a linked component', async () => {
    expect(await codeOf(kit.call(fileWrite, { path: `${grant}/other-dir/newdir/x.txt`, content: 'x' }))).toBe(
      ErrorCode.PATH_SYMLINK,
    );
    expect(readdirSync(outside.dir)).toEqual(['victim.txt']);
  });

  it('file_edit and file_list refuse links too', async () => {
    expect(
      await codeOf(kit.call(fileEdit, { path: `${grant}/leaf-link.txt`, old_string: 'victim', new_string: 'x' })),
    ).toBe(ErrorCode.PATH_SYMLINK);
    expect(await codeOf(kit.call(fileList, { path: `${grant}/other-dir` }))).toBe(ErrorCode.PATH_SYMLINK);
    expect(readFileSync(`${outside.dir}/victim.txt`, 'utf8')).toBe('victim');
  });

  it('still allows the real paths and a not-yet-existing file under the grant', async () => {
    expect(await kit.call(fileRead, { path: `${grant}/real/inner.txt` })).toMatchObject({ content: 'inner' });
    expect(await kit.call(fileWrite, { path: `${grant}/some-file.txt`, content: 'ok' })).toMatchObject({
      bytes_written: 2,
    });
  });

  it('a grant cannot be escaped by a link that points outside: the path is refused before any read', async () => {
    const reader = makeKit({ id: 'r2', name: 'reader2' });
    reader.grant({ kind: 'file_read', glob: `${grant}/*` });
    expect(await codeOf(reader.call(fileRead, { path: `${grant}/evil-link/passwd` }))).toBe(ErrorCode.PATH_SYMLINK);
  });
});

describe('the check-to-open window (TOCTOU)', () => {
  it('a leaf swapped for a symlink after the check is refused at open (O_NOFOLLOW)', async () => {
    writeFileSync(`${grant}/swap.txt`, 'fine');
    const checked = await resolveSafePath(`${grant}/swap.txt`);
    renameSync(`${grant}/swap.txt`, `${grant}/swap-old.txt`);
    symlinkSync(`${outside.dir}/victim.txt`, `${grant}/swap.txt`);
    await expect(readVerifiedText(checked.path, checked.leaf?.identity, 1024)).rejects.toMatchObject({
      code: ErrorCode.PATH_SYMLINK,
    });
  });

  it('a leaf replaced by another file after the check is refused (dev/ino)', async () => {
    writeFileSync(`${grant}/swap.txt`, 'fine');
    const checked = await resolveSafePath(`${grant}/swap.txt`);
    renameSync(`${grant}/swap.txt`, `${grant}/swap-old.txt`);
    writeFileSync(`${grant}/swap.txt`, 'other file');
    await expect(readVerifiedText(checked.path, checked.leaf?.identity, 1024)).rejects.toMatchObject({
      code: ErrorCode.PATH_SYMLINK,
    });
  });

  it.runIf(existsSync('/proc/self/fd'))(
    'an intermediate directory swapped for a link after the check is refused (fd location)',
    async () => {
      mkdirSync(`${grant}/d`);
      writeFileSync(`${grant}/d/f.txt`, 'fine');
      const checked = await resolveSafePath(`${grant}/d/f.txt`);
      // same file (same dev/ino) now reached through a link: only the fd location gives it away
      renameSync(`${grant}/d`, `${grant}/d2`);
      symlinkSync(`${grant}/d2`, `${grant}/d`);
      await expect(readVerifiedText(checked.path, checked.leaf?.identity, 1024)).rejects.toMatchObject({
        code: ErrorCode.PATH_SYMLINK,
      });
    },
  );
});
