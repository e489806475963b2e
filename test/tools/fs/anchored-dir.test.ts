import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors/index.js';
import { AnchoredDir } from '../../../src/tools/fs/anchored-dir.js';
import { appendFile, replaceFile, withWriteTarget } from '../../../src/tools/fs/write-file.js';
import { tempDir } from './fs-test-kit.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
  mkdirSync(`${tmp.dir}/grant/d`, { recursive: true });
  mkdirSync(`${tmp.dir}/outside`);
});
afterEach(() => tmp.cleanup());

describe('AnchoredDir', () => {
  it('keeps writing into the directory it verified after a racer swaps its name for a link', async () => {
    const path = `${tmp.dir}/grant/d/f.txt`;
    await withWriteTarget(path, { create: false }, async (target) => {
      // the race, made deterministic: after the descent, the name now leads outside
      renameSync(`${tmp.dir}/grant/d`, `${tmp.dir}/grant/moved`);
      symlinkSync(`${tmp.dir}/outside`, `${tmp.dir}/grant/d`);
      await replaceFile(target, Buffer.from('replaced'));
      await appendFile({ ...target, name: 'log.txt' }, Buffer.from('appended'));
    });
    expect(readdirSync(`${tmp.dir}/outside`)).toEqual([]);
    expect(readFileSync(`${tmp.dir}/grant/moved/f.txt`, 'utf8')).toBe('replaced');
    expect(readFileSync(`${tmp.dir}/grant/moved/log.txt`, 'utf8')).toBe('appended');
  });

  it('refuses a link on the way down and names the component; creates missing directories link-free', async () => {
    symlinkSync(`${tmp.dir}/outside`, `${tmp.dir}/grant/link`);
    const err = await AnchoredDir.open(`${tmp.dir}/grant/link/x`, {
      create: true,
      forPath: `${tmp.dir}/grant/link/x/f`,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.PATH_SYMLINK, details: { component: `${tmp.dir}/grant/link` } });
    expect(readdirSync(`${tmp.dir}/outside`)).toEqual([]);
    writeFileSync(`${tmp.dir}/grant/file`, 'f');
    expect(
      await AnchoredDir.open(`${tmp.dir}/grant/file/x`, { create: true, forPath: 'p' }).catch(
        (e: { code?: string }) => e.code,
      ),
    ).toBe(ErrorCode.PATH_INVALID);
    expect(
      await AnchoredDir.open(`${tmp.dir}/grant/none`, { create: false, forPath: 'p' }).catch(
        (e: { code?: string }) => e.code,
      ),
    ).toBe(ErrorCode.PATH_NOT_FOUND);
    const dir = await AnchoredDir.open(`${tmp.dir}/grant/a/b/c`, { create: true, forPath: 'p' });
    await dir.close();
    expect(existsSync(`${tmp.dir}/grant/a/b/c`)).toBe(true);
  });
});
