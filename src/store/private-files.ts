import { chmodSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AaosError, ErrorCode } from '../errors/index.js';

/**
 * The daemon's state (store, memories, audit, workspaces) is private to its user: the
 * data dir is 0700 and the store's files 0600, also when the directory existed before
 * with a looser mode. Loosened modes are tightened; a directory owned by someone else
 * (which we could neither tighten nor trust) is refused with the reason.
 */

const uid = (): number | undefined => process.getuid?.();

function mode(m: number): string {
  return `0${(m & 0o777).toString(8)}`;
}

/** Tightens `dir` to 0700; refuses one owned by another user. Returns whether the mode changed. */
export function makePrivateDir(dir: string, what: string): boolean {
  const info = statSync(dir);
  const me = uid();
  if (me !== undefined && info.uid !== me) {
    throw new AaosError(
      ErrorCode.UNSAFE_PERMISSIONS,
      `${what} ${dir} belongs to user ${info.uid}, not to the daemon's user ${me}; use a directory of your own (--data-dir)`,
      { path: dir, owner: info.uid, mode: mode(info.mode) },
    );
  }
  if ((info.mode & 0o077) === 0) return false;
  chmodSync(dir, 0o700);
  return true;
}

/** Every regular file directly in `dir` becomes 0600 (LMDB creates its files 0644). */
export function makePrivateFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = lstatSync(path);
    if (info.isFile() && (info.mode & 0o077) !== 0) chmodSync(path, 0o600);
  }
}

/**
 * A socket in a directory another user can write to could be replaced by theirs (or
 * removed) between our start and a client's connect: refused. Group- or world-writable,
 * or owned by someone other than us or root, counts as writable by another user.
 */
export function refuseSharedDir(dir: string, what: string): void {
  const info = statSync(dir);
  const me = uid();
  const foreignOwner = me !== undefined && info.uid !== me && info.uid !== 0;
  if (foreignOwner || (info.mode & 0o022) !== 0) {
    throw new AaosError(
      ErrorCode.UNSAFE_PERMISSIONS,
      `refusing ${what} in ${dir}: other users can write to that directory (owner ${info.uid}, mode ${mode(info.mode)}), so they could replace the socket; put it in a directory only you can write (e.g. <data dir>/run)`,
      { path: dir, owner: info.uid, mode: mode(info.mode) },
    );
  }
}
