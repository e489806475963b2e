import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, rename, unlink } from 'node:fs/promises';
import { AaosError, ErrorCode } from '../../errors/index.js';
import { fsError } from './fs-errors.js';
import { openVerified, parentOf, pathInfo, sameIdentity, type PathInfo, type SafePath } from './safe-path.js';

/**
 * Write side of the file tools. Callers authorize first: nothing here may run for a
 * denied request, because everything here has side effects.
 */

async function lstatInfo(path: string): Promise<PathInfo | undefined> {
  try {
    return pathInfo(await lstat(path, { bigint: true }));
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw fsError(err, path, 'inspect');
  }
}

/** Creates the missing parent directories one by one (never through a link); returns the parent's info. */
export async function ensureParentDirs(target: SafePath): Promise<PathInfo> {
  if (target.path === '/') throw new AaosError(ErrorCode.PATH_INVALID, `cannot write '/': it is a directory`, { path: '/' });
  for (const dir of target.missingDirs) {
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EEXIST') throw fsError(err, dir, 'create directory');
    }
    // whoever created it, it must be a real directory now
    const info = await lstatInfo(dir);
    if (info?.kind === 'symlink') {
      throw new AaosError(ErrorCode.PATH_SYMLINK, `refusing to write '${target.path}': '${dir}' is a symbolic link`, { path: target.path, component: dir });
    }
    if (info?.kind !== 'dir') {
      throw new AaosError(ErrorCode.PATH_INVALID, `cannot write '${target.path}': '${dir}' is not a directory`, { path: target.path, component: dir });
    }
  }
  const parent = target.missingDirs.length > 0 ? await lstatInfo(parentOf(target.path)) : target.parent;
  if (parent === undefined || parent.kind !== 'dir') {
    throw new AaosError(ErrorCode.PATH_INVALID, `cannot write '${target.path}': its parent is not a directory`, { path: target.path });
  }
  return parent;
}

export interface ReplaceOptions {
  /** the leaf must still be exactly this file (same identity, size and mtime) when we swap it in */
  unchangedSince?: PathInfo;
}

/**
 * Atomic replace: write a temp file beside the target, then rename over it. The
 * target is never truncated in place, so a failure leaves the old content whole.
 */
export async function replaceFile(target: SafePath, parent: PathInfo, content: Buffer, opts: ReplaceOptions = {}): Promise<void> {
  const dir = parentOf(target.path);
  // proves the directory we are about to write into is the one that was checked
  const dirHandle = await openVerified(dir, constants.O_RDONLY | constants.O_DIRECTORY, parent.identity, 'open directory');
  const temp = `${dir === '/' ? '' : dir}/.aaos-${randomBytes(9).toString('base64url')}.tmp`;
  let tempCreated = false;
  try {
    const mode = target.leaf?.mode ?? 0o666;
    const { handle } = await openVerified(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, undefined, 'write', mode);
    tempCreated = true;
    try {
      await handle.writeFile(content);
      // keep the original permissions (open's mode is filtered by the umask)
      if (target.leaf !== undefined) await handle.chmod(target.leaf.mode);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    const now = await lstatInfo(target.path);
    const before = opts.unchangedSince ?? target.leaf;
    if (now?.kind === 'symlink') {
      throw new AaosError(ErrorCode.PATH_SYMLINK, `refusing to write '${target.path}': it became a symbolic link`, { path: target.path });
    }
    if (now !== undefined && now.kind !== 'file') {
      throw new AaosError(ErrorCode.PATH_INVALID, `cannot write '${target.path}': not a regular file`, { path: target.path, kind: now.kind });
    }
    if (opts.unchangedSince !== undefined && before !== undefined) {
      const same = now !== undefined && sameIdentity(now.identity, before.identity) && now.size === before.size && now.mtimeNs === before.mtimeNs;
      if (!same) {
        throw new AaosError(ErrorCode.TOOL_FAILED, `file '${target.path}' changed while it was being edited; nothing was written`, { path: target.path });
      }
    }
    await rename(temp, target.path);
    tempCreated = false;
  } catch (err) {
    throw fsError(err, target.path, 'write');
  } finally {
    if (tempCreated) await unlink(temp).catch(() => undefined);
    await dirHandle.handle.close().catch(() => undefined);
  }
}

/** Appends through a verified O_NOFOLLOW fd, creating the file when it does not exist. */
export async function appendFile(target: SafePath, content: Buffer): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_APPEND | (target.leaf === undefined ? constants.O_CREAT : 0);
  const { handle, info } = await openVerified(target.path, flags, target.leaf?.identity, 'append to', 0o666);
  try {
    if (info.kind !== 'file') {
      throw new AaosError(ErrorCode.PATH_INVALID, `cannot append to '${target.path}': not a regular file`, { path: target.path, kind: info.kind });
    }
    await handle.writeFile(content);
  } catch (err) {
    throw fsError(err, target.path, 'append to');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

