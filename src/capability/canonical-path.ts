import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { AaosError, ErrorCode } from '../errors/index.js';
import { globProblem, normalizePath } from './path-match.js';

/**
 * Canonical form of a path for capability matching: lexical normalisation, then the
 * real path of the nearest existing ancestor with the not-yet-existing tail re-attached.
 * That way `/grant/link/x` with `link -> /etc` is judged as `/etc/x`, while a file that
 * does not exist yet still matches the grant of its directory.
 */

function requireAbsolute(p: string): string {
  if (typeof p !== 'string' || !p.startsWith('/')) {
    throw new AaosError(ErrorCode.PATH_INVALID, `path '${String(p)}' is not absolute`, { path: p });
  }
  if (p.includes('\0')) {
    throw new AaosError(ErrorCode.PATH_INVALID, `path '${p.replaceAll('\0', '\\0')}' contains a NUL byte`, { path: p });
  }
  return normalizePath(p);
}

function attach(base: string, tail: string[]): string {
  if (tail.length === 0) return base;
  return base === '/' ? `/${tail.join('/')}` : `${base}/${tail.join('/')}`;
}

/** Missing (or not a directory): keep walking up. Anything else is a real failure. */
function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function resolveFailure(path: string, err: unknown): AaosError {
  const code = (err as { code?: unknown }).code;
  if (code === 'ELOOP') {
    return new AaosError(ErrorCode.PATH_SYMLINK, `path '${path}' has a symbolic link loop`, { path }, { cause: err });
  }
  return new AaosError(
    ErrorCode.PATH_INVALID,
    `cannot resolve path '${path}': ${err instanceof Error ? err.message : String(err)}`,
    { path, errno: typeof code === 'string' ? code : undefined },
    { cause: err },
  );
}

/** Async canonicalisation of a requested path. Throws PATH_INVALID for a relative path. */
export async function canonicalizeRequestedPath(p: string): Promise<string> {
  const lexical = requireAbsolute(p);
  const parts = lexical === '/' ? [] : lexical.slice(1).split('/');
  const tail: string[] = [];
  while (true) {
    const candidate = attach('/', parts);
    try {
      return attach(await realpath(candidate), tail);
    } catch (err) {
      if (!isMissing(err) || parts.length === 0) throw resolveFailure(lexical, err);
      tail.unshift(parts.pop() as string);
    }
  }
}

/** Same as canonicalizeRequestedPath, synchronously (used when grants are issued). */
export function canonicalizeRequestedPathSync(p: string): string {
  const lexical = requireAbsolute(p);
  const parts = lexical === '/' ? [] : lexical.slice(1).split('/');
  const tail: string[] = [];
  while (true) {
    const candidate = attach('/', parts);
    try {
      return attach(realpathSync(candidate), tail);
    } catch (err) {
      if (!isMissing(err) || parts.length === 0) throw resolveFailure(lexical, err);
      tail.unshift(parts.pop() as string);
    }
  }
}

/**
 * Canonical form of a grant glob: the base is canonicalised, the trailing wildcard kept.
 * Grants are canonical so that they compare with canonical requests (e.g. a data dir
 * under a symlinked home). Throws PATH_INVALID for a malformed glob.
 */
export function canonicalizeGlobSync(glob: string): string {
  const problem = globProblem(glob);
  if (problem !== undefined) throw new AaosError(ErrorCode.PATH_INVALID, problem, { glob });
  let suffix = '';
  let base = glob;
  if (glob.endsWith('/**')) {
    suffix = '/**';
    base = glob.slice(0, -3);
  } else if (glob.endsWith('/*')) {
    suffix = '/*';
    base = glob.slice(0, -2);
  }
  const canonical = canonicalizeRequestedPathSync(base === '' ? '/' : base);
  if (suffix === '') return canonical;
  return canonical === '/' ? suffix : `${canonical}${suffix}`;
}
