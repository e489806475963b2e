import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises';
import { AaosError, ErrorCode } from '../../errors/index.js';
import { normalizePath } from '../../capability/path-match.js';
import { fsError } from './fs-errors.js';

/**
 * Path safety for file I/O. Node has no openat2(RESOLVE_NO_SYMLINKS), so we emulate it:
 * 1. walk every existing component with lstat and refuse any symbolic link;
 * 2. open with O_NOFOLLOW and compare the fd's dev/ino with what the walk saw;
 * 3. where /proc exists, check that the fd really sits at the expected path (this
 *    catches an intermediate directory swapped for a link between 1 and 2).
 * A path that passes 1 has no symlink in it, so it is already canonical. This is the read
 * side; writes go through anchored-dir.ts, which never resolves a path by name twice.
 */

/** dev/ino as decimal strings: exact (bigint stats) and cheap to send to a pool thread. */
export interface FileIdentity {
  dev: string;
  ino: string;
}

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface PathInfo {
  identity: FileIdentity;
  kind: EntryKind;
  size: number;
  mode: number;
  /** hard links to it (an append refuses a file that has others) */
  links: number;
  /** modification time in ns, to notice a concurrent change */
  mtimeNs: string;
}

export interface SafePath {
  /** canonical absolute path */
  path: string;
  /** the leaf, or undefined when it does not exist */
  leaf: PathInfo | undefined;
}

export function kindOf(stats: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryKind {
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  return 'other';
}

export function pathInfo(stats: BigIntStats): PathInfo {
  return {
    identity: { dev: stats.dev.toString(), ino: stats.ino.toString() },
    kind: kindOf(stats),
    size: Number(stats.size),
    mode: Number(stats.mode & 0o7777n),
    links: Number(stats.nlink),
    mtimeNs: stats.mtimeNs.toString(),
  };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Absolute and lexically normalised, or PATH_INVALID. No I/O. */
export function absolutePath(requested: string): string {
  if (!requested.startsWith('/')) {
    throw new AaosError(ErrorCode.PATH_INVALID, `path '${requested}' is not absolute`, { path: requested });
  }
  if (requested.includes('\0')) {
    throw new AaosError(ErrorCode.PATH_INVALID, `path '${requested.replaceAll('\0', '\\0')}' contains a NUL byte`, {
      path: requested,
    });
  }
  return normalizePath(requested);
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** Parent directory of a normalised absolute path. */
export function parentOf(path: string): string {
  const idx = path.lastIndexOf('/');
  return idx <= 0 ? '/' : path.slice(0, idx);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Resolves a requested path for I/O: absolute, normalised, no symbolic link in any
 * existing component (PATH_SYMLINK), no non-directory in the middle (PATH_INVALID).
 * Reads metadata only; never creates or changes anything.
 */
export async function resolveSafePath(requested: string): Promise<SafePath> {
  const path = absolutePath(requested);
  const parts = path === '/' ? [] : path.slice(1).split('/');
  // infos[0] is the root; infos[i] the i-th component, while components exist
  const infos: PathInfo[] = [pathInfo(await lstat('/', { bigint: true }))];
  let current = '/';
  for (let i = 0; i < parts.length; i += 1) {
    current = join(current, parts[i] as string);
    let info: PathInfo;
    try {
      info = pathInfo(await lstat(current, { bigint: true }));
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') break;
      throw fsError(err, current, 'inspect');
    }
    if (info.kind === 'symlink') {
      throw new AaosError(
        ErrorCode.PATH_SYMLINK,
        `refusing path '${path}': '${current}' is a symbolic link (links are not followed)`,
        { path, component: current },
      );
    }
    if (i < parts.length - 1 && info.kind !== 'dir') {
      throw new AaosError(ErrorCode.PATH_INVALID, `invalid path '${path}': '${current}' is not a directory`, {
        path,
        component: current,
      });
    }
    infos.push(info);
  }
  const existing = infos.length - 1; // how many components exist
  return { path, leaf: existing === parts.length ? infos[parts.length] : undefined };
}

let procFd: boolean | undefined;

/** On Linux the kernel tells us where an fd really is; elsewhere the dev/ino check has to do. */
async function fdLocation(fd: number): Promise<string | undefined> {
  if (procFd === false) return undefined;
  try {
    const where = await readlink(`/proc/self/fd/${fd}`);
    procFd = true;
    return where;
  } catch {
    if (procFd === undefined) procFd = false;
    return undefined;
  }
}

/** A path through which the opened fd itself can be addressed (Linux), or the plain path. */
export async function fdPath(handle: FileHandle, path: string): Promise<string> {
  return (await fdLocation(handle.fd)) !== undefined ? `/proc/self/fd/${handle.fd}` : path;
}

export interface VerifiedHandle {
  handle: FileHandle;
  info: PathInfo;
}

/**
 * Opens with O_NOFOLLOW and proves the fd is the object the check saw: same dev/ino
 * as `expected` (when given) and, where /proc is available, located at `path`.
 */
export async function openVerified(
  path: string,
  flags: number,
  expected: FileIdentity | undefined,
  action: string,
): Promise<VerifiedHandle> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO swapped in after the check fails the kind check instead of
    // holding a libuv thread until some writer appears (no effect on regular files)
    handle = await open(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw fsError(err, path, action);
  }
  try {
    const info = pathInfo(await handle.stat({ bigint: true }));
    if (expected !== undefined && !sameIdentity(expected, info.identity)) {
      throw new AaosError(
        ErrorCode.PATH_SYMLINK,
        `refusing to ${action} '${path}': it was replaced between the check and the open`,
        { path },
      );
    }
    const where = await fdLocation(handle.fd);
    if (where !== undefined && where !== path) {
      throw new AaosError(
        ErrorCode.PATH_SYMLINK,
        `refusing to ${action} '${path}': the opened file resolves elsewhere (a component was swapped for a link)`,
        { path },
      );
    }
    return { handle, info };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw fsError(err, path, action);
  }
}
