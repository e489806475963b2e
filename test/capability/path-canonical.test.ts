import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import {
  canonicalizeGlobSync,
  canonicalizeRequestedPath,
  canonicalizeRequestedPathSync,
} from '../../src/capability/canonical-path.js';
import { globCovers } from '../../src/capability/path-match.js';

let root: string;

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'aaos-canon-')));
  mkdirSync(join(root, 'real', 'sub'), { recursive: true });
  writeFileSync(join(root, 'real', 'sub', 'f.txt'), 'x');
  symlinkSync(join(root, 'real'), join(root, 'link'));
  symlinkSync('/etc', join(root, 'evil-link'));
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('canonicalizeRequestedPath', () => {
  it('resolves a symlinked component to its real target', async () => {
    expect(await canonicalizeRequestedPath(`${root}/link/sub/f.txt`)).toBe(`${root}/real/sub/f.txt`);
    expect(canonicalizeRequestedPathSync(`${root}/link/sub/f.txt`)).toBe(`${root}/real/sub/f.txt`);
  });

  it('keeps a not-yet-existing tail on the real nearest ancestor', async () => {
    expect(await canonicalizeRequestedPath(`${root}/link/new/deeper/file.txt`)).toBe(
      `${root}/real/new/deeper/file.txt`,
    );
    expect(await canonicalizeRequestedPath(`${root}/some-file.txt`)).toBe(`${root}/some-file.txt`);
    expect(await canonicalizeRequestedPath('/nonexistent-root-aaos/new.txt')).toBe('/nonexistent-root-aaos/new.txt');
  });

  it('makes the symlink bypass visible to glob matching', async () => {
    const canonical = await canonicalizeRequestedPath(`${root}/evil-link/passwd`);
    expect(canonical).toBe(`${realpathSync('/etc')}/passwd`);
    expect(globCovers(`${root}/*`, canonical)).toBe(false);
    expect(globCovers(`${root}/*`, await canonicalizeRequestedPath(`${root}/some-file.txt`))).toBe(true);
    expect(
      globCovers('/nonexistent-root-aaos/*', await canonicalizeRequestedPath('/nonexistent-root-aaos/new.txt')),
    ).toBe(true);
  });

  it('normalises lexically before resolving', async () => {
    expect(await canonicalizeRequestedPath(`${root}/real/../real/./sub/f.txt`)).toBe(`${root}/real/sub/f.txt`);
    expect(await canonicalizeRequestedPath(`${root}/link/../real/sub`)).toBe(`${root}/real/sub`);
  });

  it('rejects relative paths with PATH_INVALID', async () => {
    await expect(canonicalizeRequestedPath('data/x')).rejects.toMatchObject({ code: ErrorCode.PATH_INVALID });
    expect(() => canonicalizeRequestedPathSync('./x')).toThrow(
      expect.objectContaining({ code: ErrorCode.PATH_INVALID }),
    );
  });

  it('treats a file used as a directory as missing below it', async () => {
    expect(await canonicalizeRequestedPath(`${root}/link/sub/f.txt/below`)).toBe(`${root}/real/sub/f.txt/below`);
  });
});

describe('canonicalizeGlobSync', () => {
  it('canonicalises the base of a grant and keeps the wildcard', () => {
    expect(canonicalizeGlobSync(`${root}/link/*`)).toBe(`${root}/real/*`);
    expect(canonicalizeGlobSync(`${root}/link/**`)).toBe(`${root}/real/**`);
    expect(canonicalizeGlobSync(`${root}/link/sub/f.txt`)).toBe(`${root}/real/sub/f.txt`);
    expect(canonicalizeGlobSync('/*')).toBe('/*');
    expect(canonicalizeGlobSync('/nonexistent-root-aaos/x/*')).toBe('/nonexistent-root-aaos/x/*');
  });

  it('rejects malformed grants', () => {
    expect(() => canonicalizeGlobSync('rel/*')).toThrow(expect.objectContaining({ code: ErrorCode.PATH_INVALID }));
    expect(() => canonicalizeGlobSync('/data/*/x')).toThrow(expect.objectContaining({ code: ErrorCode.PATH_INVALID }));
  });
});
