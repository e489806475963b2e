import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { AaosError, ErrorCode } from '../../errors/index.js';
import { fsError } from './fs-errors.js';
import { openVerified, type FileIdentity, type PathInfo } from './safe-path.js';
import { decodeUtf8, tooLarge } from './text.js';

export interface VerifiedText {
  text: string;
  size_bytes: number;
  info: PathInfo;
}

/**
 * A file with more than one name may have its other name outside the grant: the link walk
 * sees only the name it was given, so reading (or appending to) it could reveal (or change)
 * a file the grant does not cover. Checked on the opened fd, so no swap can come between.
 */
export function refuseHardLinks(info: PathInfo, path: string, action: string): void {
  if (info.links <= 1) return;
  throw new AaosError(
    ErrorCode.PATH_INVALID,
    `refusing to ${action} '${path}': it has ${info.links} hard links, and another may be outside the grant`,
    { path, links: info.links },
  );
}

/**
 * Reads an opened regular file as UTF-8. The size is checked on the fd (not an earlier
 * lstat) and the read stops one byte past the cap, so a file that grows in between
 * still cannot blow the limit.
 */
export async function readOpenedText(
  handle: FileHandle,
  info: PathInfo,
  path: string,
  maxBytes: number,
): Promise<VerifiedText> {
  if (info.kind !== 'file') {
    throw new AaosError(ErrorCode.PATH_INVALID, `cannot read '${path}': not a regular file`, { path, kind: info.kind });
  }
  refuseHardLinks(info, path, 'read');
  if (info.size > maxBytes) throw tooLarge(path, info.size, maxBytes);
  const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  if (filled > maxBytes) throw tooLarge(path, filled, maxBytes);
  return { text: decodeUtf8(buffer.subarray(0, filled), path), size_bytes: filled, info };
}

/** Reads a regular file as UTF-8 through a verified O_NOFOLLOW fd. */
export async function readVerifiedText(
  path: string,
  expected: FileIdentity | undefined,
  maxBytes: number,
): Promise<VerifiedText> {
  const { handle, info } = await openVerified(path, constants.O_RDONLY, expected, 'read');
  try {
    return await readOpenedText(handle, info, path, maxBytes);
  } catch (err) {
    throw fsError(err, path, 'read');
  } finally {
    await handle.close().catch(() => undefined);
  }
}
