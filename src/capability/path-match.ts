/**
 * Lexical path and glob matching for capability grants. Pure string work: no I/O.
 * Symlink resolution lives in canonical-path.ts; callers canonicalise first.
 *
 * Grant globs are absolute. The only wildcard is a trailing `/*` or `/**` (same
 * meaning): the directory itself and everything below it, at a `/` boundary.
 * A glob without that suffix matches exactly one path.
 */

/** Lexical normalisation: drops `.` and empty components, `..` pops (never above `/`), no trailing slash. */
export function normalizePath(p: string): string {
  const absolute = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      // popping past the root (or past the start of a relative path) is a no-op
      out.pop();
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  return absolute ? `/${joined}` : joined;
}

/** A glob split into its normalised base and whether it covers the subtree below the base. */
export interface ParsedGlob {
  base: string;
  subtree: boolean;
}

/** Splits a grant glob. Returns undefined for a glob that is not absolute (it covers nothing). */
export function parseGlob(glob: string): ParsedGlob | undefined {
  if (!glob.startsWith('/')) return undefined;
  let rest: string | undefined;
  if (glob.endsWith('/**')) rest = glob.slice(0, -3);
  else if (glob.endsWith('/*')) rest = glob.slice(0, -2);
  if (rest === undefined) return { base: normalizePath(glob), subtree: false };
  // `/*` and `/**` leave an empty rest: the root
  return { base: normalizePath(rest === '' ? '/' : rest), subtree: true };
}

/** True when `path` is `base` or lies below it at a `/` boundary (`/data` never covers `/data-foo`). */
export function isWithin(base: string, path: string): boolean {
  if (base === '/') return path.startsWith('/');
  return path === base || path.startsWith(`${base}/`);
}

/** Does the grant glob cover the requested absolute path? The path is normalised lexically first. */
export function globCovers(glob: string, path: string): boolean {
  const parsed = parseGlob(glob);
  if (parsed === undefined || !path.startsWith('/')) return false;
  const target = normalizePath(path);
  return parsed.subtree ? isWithin(parsed.base, target) : parsed.base === target;
}

/**
 * Narrowing check: is every path the child glob covers also covered by the parent glob?
 * A subtree child needs a subtree parent whose base contains the child's base.
 */
export function globContains(parentGlob: string, childGlob: string): boolean {
  const parent = parseGlob(parentGlob);
  const child = parseGlob(childGlob);
  if (parent === undefined || child === undefined) return false;
  if (!child.subtree) return parent.subtree ? isWithin(parent.base, child.base) : parent.base === child.base;
  return parent.subtree && isWithin(parent.base, child.base);
}

/** Why a grant glob is malformed, or undefined when it is fine. A `*` is only allowed as the trailing wildcard. */
export function globProblem(glob: string): string | undefined {
  if (!glob.startsWith('/')) return `path grant '${glob}' is not absolute`;
  let rest = glob;
  if (glob.endsWith('/**')) rest = glob.slice(0, -3);
  else if (glob.endsWith('/*')) rest = glob.slice(0, -2);
  if (rest.includes('*')) return `path grant '${glob}' has a '*' that is not a trailing '/*' or '/**'`;
  return undefined;
}
