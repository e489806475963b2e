import { describe, expect, it } from 'vitest';
import {
  globContains,
  globCovers,
  globProblem,
  isWithin,
  normalizePath,
  parseGlob,
} from '../../src/capability/path-match.js';

describe('normalizePath', () => {
  it.each([
    ['/data/../etc/passwd', '/etc/passwd'],
    ['/data/foo/../../etc', '/etc'],
    ['/data/./file.txt', '/data/file.txt'],
    ['/data/project/', '/data/project'],
    ['/', '/'],
    ['/../etc', '/etc'],
    ['/../../..', '/'],
    ['//data///x//', '/data/x'],
    ['/data/./../../etc/passwd', '/etc/passwd'],
    ['data/x', 'data/x'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });
});

describe('globCovers', () => {
  it('denies traversal out of a subtree grant', () => {
    expect(globCovers('/data/*', '/data/../etc/passwd')).toBe(false);
    expect(globCovers('/data/*', '/data/foo/../../etc/shadow')).toBe(false);
    expect(globCovers('/data/*', '/data/./../../etc/passwd')).toBe(false);
    expect(globCovers('/data/*', '/data/project/file.txt')).toBe(true);
    expect(globCovers('/data/*', '/data/a/../b.txt')).toBe(true);
  });

  it('respects the / boundary', () => {
    for (const outside of ['/data-foo', '/data-foo/x', '/data_foo/x', '/database', '/dat', '/']) {
      expect(globCovers('/data/*', outside)).toBe(false);
      expect(globCovers('/data/**', outside)).toBe(false);
    }
    expect(globCovers('/data/*', '/data')).toBe(true);
    expect(globCovers('/data/*', '/data/')).toBe(true);
    expect(globCovers('/data/*', '/data/deep/er/file')).toBe(true);
  });

  it('treats /** exactly like /*', () => {
    for (const p of ['/ws', '/ws/a.rs', '/ws/src/deep/a.rs', '/ws-other/a.rs', '/w']) {
      expect(globCovers('/ws/**', p)).toBe(globCovers('/ws/*', p));
    }
    expect(globCovers('/ws/**', '/ws/a.rs')).toBe(true);
  });

  it('lets /* and /** cover every absolute path', () => {
    for (const g of ['/*', '/**']) {
      expect(globCovers(g, '/')).toBe(true);
      expect(globCovers(g, '/etc/passwd')).toBe(true);
    }
  });

  it('matches a glob without wildcard exactly', () => {
    expect(globCovers('/data/file.txt', '/data/file.txt')).toBe(true);
    expect(globCovers('/data/file.txt', '/data/./file.txt')).toBe(true);
    expect(globCovers('/data/file.txt', '/data/file.txt/x')).toBe(false);
    expect(globCovers('/data/file.txt', '/data/file.txt2')).toBe(false);
    expect(globCovers('/data', '/data/x')).toBe(false);
  });

  it('never matches relative paths or relative globs', () => {
    expect(globCovers('/data/*', 'data/x')).toBe(false);
    expect(globCovers('data/*', 'data/x')).toBe(false);
    expect(globCovers('*', '/data/x')).toBe(false);
  });

  it('treats a * that is not trailing literally', () => {
    expect(globCovers('/data/*/x', '/data/a/x')).toBe(false);
    expect(globCovers('/data/*/x', '/data/*/x')).toBe(true);
  });
});

describe('globContains (narrowing)', () => {
  it('accepts a narrower subtree or a path inside', () => {
    expect(globContains('/data/*', '/data/out/*')).toBe(true);
    expect(globContains('/data/*', '/data/*')).toBe(true);
    expect(globContains('/data/*', '/data/**')).toBe(true);
    expect(globContains('/data/**', '/data/out/*')).toBe(true);
    expect(globContains('/data/*', '/data/out/file.txt')).toBe(true);
    expect(globContains('/data/*', '/data')).toBe(true);
    expect(globContains('/*', '/anything/*')).toBe(true);
    expect(globContains('/data/f.txt', '/data/f.txt')).toBe(true);
  });

  it('refuses anything wider or beside', () => {
    expect(globContains('/data/out/*', '/data/*')).toBe(false);
    expect(globContains('/data/*', '/*')).toBe(false);
    expect(globContains('/data/*', '/data-foo/*')).toBe(false);
    expect(globContains('/data/*', '/database')).toBe(false);
    expect(globContains('/data/*', '/data/../etc/*')).toBe(false);
    expect(globContains('/data/f.txt', '/data/*')).toBe(false);
    expect(globContains('/data', '/data/*')).toBe(false);
    expect(globContains('/data/f.txt', '/data/g.txt')).toBe(false);
  });
});

describe('glob helpers', () => {
  it('parses globs', () => {
    expect(parseGlob('/data/*')).toEqual({ base: '/data', subtree: true });
    expect(parseGlob('/data/**')).toEqual({ base: '/data', subtree: true });
    expect(parseGlob('/*')).toEqual({ base: '/', subtree: true });
    expect(parseGlob('/data/x')).toEqual({ base: '/data/x', subtree: false });
    expect(parseGlob('rel/*')).toBeUndefined();
  });

  it('isWithin works at a boundary', () => {
    expect(isWithin('/a', '/a')).toBe(true);
    expect(isWithin('/a', '/a/b')).toBe(true);
    expect(isWithin('/a', '/ab')).toBe(false);
    expect(isWithin('/', '/ab')).toBe(true);
  });

  it('flags malformed globs', () => {
    expect(globProblem('/data/*')).toBeUndefined();
    expect(globProblem('/data/**')).toBeUndefined();
    expect(globProblem('/data/file')).toBeUndefined();
    expect(globProblem('data/*')).toMatch(/not absolute/);
    expect(globProblem('/data/*/x')).toMatch(/\*/);
    expect(globProblem('/data/x*')).toMatch(/\*/);
  });
});
