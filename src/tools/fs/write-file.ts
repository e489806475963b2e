import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { AaosError, ErrorCode } from '../../errors/index.js';
import { AnchoredDir } from './anchored-dir.js';
import { fsError } from './fs-errors.js';
import { readOpenedText, refuseHardLinks, type VerifiedText } from './read-text.js';
import { baseName, parentOf, sameIdentity, type PathInfo } from './safe-path.js';

/**
 * Write side of the file tools, all of it relative to one anchored parent directory
 * (see anchored-dir.ts). Callers authorize first: nothing here may run for a denied
 * request, because everything here has side effects.
 */

export interface WriteTarget {
  /** the requested (normalised, absolute) path */
  path: string;
  dir: AnchoredDir;
  name: string;
}

/**
 * Runs `fn` with the parent of `path` held open (created first when `create`), and
 * closes it after. `path` must be absolute and normalised (`absolutePath`).
 */
export async function withWriteTarget<T>(
  path: string,
  opts: { create: boolean },
  fn: (target: WriteTarget) => Promise<T>,
): Promise<T> {
  if (path === '/') throw new AaosError(ErrorCode.PATH_INVALID, `cannot write '/': it is a directory`, { path });
  const dir = await AnchoredDir.open(parentOf(path), { create: opts.create, forPath: path });
  try {
    return await fn({ path, dir, name: baseName(path) });
  } finally {
    await dir.close();
  }
}

/** The existing leaf, which must be a regular file (or absent). */
async function regularLeaf(target: WriteTarget, action: string): Promise<PathInfo | undefined> {
  const leaf = await target.dir.lstat(target.name);
  if (leaf?.kind === 'symlink') {
    throw new AaosError(ErrorCode.PATH_SYMLINK, `refusing to ${action} '${target.path}': it is a symbolic link`, {
      path: target.path,
    });
  }
  if (leaf !== undefined && leaf.kind !== 'file') {
    throw new AaosError(ErrorCode.PATH_INVALID, `cannot ${action} '${target.path}': not a regular file`, {
      path: target.path,
      kind: leaf.kind,
    });
  }
  return leaf;
}

/** Reads the leaf for an edit, through the anchored directory. */
export async function readLeafText(target: WriteTarget, maxBytes: number): Promise<VerifiedText> {
  const leaf = await target.dir.lstat(target.name);
  if (leaf === undefined)
    throw new AaosError(ErrorCode.PATH_NOT_FOUND, `cannot edit '${target.path}': no such file`, { path: target.path });
  await regularLeaf(target, 'edit');
  const { handle, info } = await target.dir.openEntry(target.name, constants.O_RDONLY, 'read');
  try {
    return await readOpenedText(handle, info, target.path, maxBytes);
  } catch (err) {
    throw fsError(err, target.path, 'read');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

export interface ReplaceOptions {
  /** the leaf must still be exactly this file (same identity, size and mtime) when we swap it in */
  unchangedSince?: PathInfo;
}

/**
 * Atomic replace: write a temp file beside the target (O_CREAT|O_EXCL, so never through
 * an existing entry), then rename it over the target. The target is never truncated in
 * place, so a failure leaves the old content whole.
 */
export async function replaceFile(target: WriteTarget, content: Buffer, opts: ReplaceOptions = {}): Promise<void> {
  const { dir } = target;
  const leaf = await regularLeaf(target, 'write');
  const temp = `.aaos-${randomBytes(9).toString('base64url')}.tmp`;
  let tempCreated = false;
  try {
    const mode = leaf?.mode ?? 0o666;
    const { handle } = await dir.openEntry(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      'write',
      mode,
    );
    tempCreated = true;
    try {
      await handle.writeFile(content);
      // keep the original permissions (open's mode is filtered by the umask)
      if (leaf !== undefined) await handle.chmod(leaf.mode);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    const now = await regularLeaf(target, 'write');
    const before = opts.unchangedSince;
    if (before !== undefined) {
      const same =
        now !== undefined &&
        sameIdentity(now.identity, before.identity) &&
        now.size === before.size &&
        now.mtimeNs === before.mtimeNs;
      if (!same) {
        throw new AaosError(
          ErrorCode.TOOL_FAILED,
          `file '${target.path}' changed while it was being edited; nothing was written`,
          { path: target.path },
        );
      }
    }
    // rename replaces the entry itself: a link swapped in meanwhile is replaced, not followed
    await dir.rename(temp, target.name);
    tempCreated = false;
  } catch (err) {
    throw fsError(err, target.path, 'write');
  } finally {
    if (tempCreated) await dir.unlink(temp).catch(() => undefined);
  }
}

/**
 * Appends through an O_NOFOLLOW fd of the anchored directory, creating the file when it
 * does not exist. A file with more than one hard link is refused: its other name may be
 * outside the grant, and an append would change that file too.
 */
export async function appendFile(target: WriteTarget, content: Buffer): Promise<void> {
  await regularLeaf(target, 'append to');
  const { handle, info } = await target.dir.openEntry(
    target.name,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
    'append to',
  );
  try {
    if (info.kind !== 'file') {
      throw new AaosError(ErrorCode.PATH_INVALID, `cannot append to '${target.path}': not a regular file`, {
        path: target.path,
        kind: info.kind,
      });
    }
    refuseHardLinks(info, target.path, 'append to');
    await handle.writeFile(content);
  } catch (err) {
    throw fsError(err, target.path, 'append to');
  } finally {
    await handle.close().catch(() => undefined);
  }
}
