import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, rename, unlink, type FileHandle } from 'node:fs/promises';
import { AaosError, ErrorCode } from '../../errors/index.js';
import { fsError } from './fs-errors.js';
import { pathInfo, type PathInfo } from './safe-path.js';

/**
 * The one mechanism every mutating file tool goes through. Node has no openat(), so a
 * directory is reached from `/` one component at a time with O_DIRECTORY|O_NOFOLLOW,
 * each open relative to the previous fd through `/proc/self/fd/<n>/<name>` (the kernel
 * resolves that magic link to the open directory itself, not to a path string). Every
 * later mkdir, create, rename and unlink names an entry of that held directory the same
 * way, so a component a racing process swaps for a link after the check is never
 * followed: at worst the held directory has moved, and writes land in it, where it is.
 */

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

let procChecked = false;

/** Linux only: without /proc/self/fd there is no race-free way to address an fd's entries. */
async function requireProcFd(handle: FileHandle, path: string): Promise<void> {
  if (procChecked) return;
  try {
    await readlink(`/proc/self/fd/${handle.fd}`);
    procChecked = true;
  } catch (err) {
    throw new AaosError(
      ErrorCode.TOOL_FAILED,
      `cannot write '${path}': race-safe writes need /proc/self/fd (Linux with /proc mounted)`,
      { path },
      { cause: err },
    );
  }
}

function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function code(err: unknown): unknown {
  return (err as { code?: unknown }).code;
}

export interface OpenedFile {
  handle: FileHandle;
  info: PathInfo;
}

/** A directory held open after a link-free descent; entries are addressed through its fd. */
export class AnchoredDir {
  private constructor(
    /** the path it was reached by (for messages; the directory may have moved since) */
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /**
   * Descends to `dir` from `/`. Missing components are created when `create` is set
   * (mkdir never follows a link in the last component). `forPath` is the path the
   * caller is working on, named in errors.
   */
  static async open(dir: string, opts: { create: boolean; forPath: string }): Promise<AnchoredDir> {
    const parts = dir === '/' ? [] : dir.slice(1).split('/');
    let current = new AnchoredDir('/', await open('/', DIR_FLAGS));
    try {
      await requireProcFd(current.handle, opts.forPath);
      for (const name of parts) {
        const next = await current.descend(name, opts);
        await current.close();
        current = next;
      }
      return current;
    } catch (err) {
      await current.close();
      throw err;
    }
  }

  /** `/proc/self/fd/<n>/<name>`: the entry `name` of this very directory, wherever it is now. */
  entry(name: string): string {
    return `/proc/self/fd/${this.handle.fd}/${name}`;
  }

  /** The path an entry was requested by, for messages. */
  named(name: string): string {
    return joinPath(this.path, name);
  }

  private async descend(name: string, opts: { create: boolean; forPath: string }): Promise<AnchoredDir> {
    const path = this.named(name);
    try {
      return new AnchoredDir(path, await open(this.entry(name), DIR_FLAGS));
    } catch (err) {
      if (code(err) !== 'ENOENT' || !opts.create) throw await this.refusal(name, opts.forPath, err);
    }
    try {
      await mkdir(this.entry(name), 0o777);
    } catch (err) {
      if (code(err) !== 'EEXIST') throw fsError(err, path, 'create directory');
    }
    // whoever created it, it must be a real directory now: open it the same link-free way
    try {
      return new AnchoredDir(path, await open(this.entry(name), DIR_FLAGS));
    } catch (err) {
      throw await this.refusal(name, opts.forPath, err);
    }
  }

  /** Why a component could not be opened as a directory, named precisely. */
  private async refusal(name: string, forPath: string, err: unknown): Promise<AaosError> {
    const component = this.named(name);
    const errno = code(err);
    if (errno === 'ELOOP' || errno === 'ENOTDIR') {
      const now = await this.lstat(name).catch(() => undefined);
      if (errno === 'ELOOP' || now?.kind === 'symlink') {
        return new AaosError(
          ErrorCode.PATH_SYMLINK,
          `refusing path '${forPath}': '${component}' is a symbolic link (links are not followed)`,
          { path: forPath, component },
          { cause: err },
        );
      }
      return new AaosError(
        ErrorCode.PATH_INVALID,
        `invalid path '${forPath}': '${component}' is not a directory`,
        { path: forPath, component },
        { cause: err },
      );
    }
    if (errno === 'ENOENT') {
      return new AaosError(
        ErrorCode.PATH_NOT_FOUND,
        `no such directory '${component}' (in path '${forPath}')`,
        { path: forPath, component },
        { cause: err },
      );
    }
    return fsError(err, component, 'open directory');
  }

  /** lstat of an entry (never follows it); undefined when it does not exist. */
  async lstat(name: string): Promise<PathInfo | undefined> {
    try {
      return pathInfo(await lstat(this.entry(name), { bigint: true }));
    } catch (err) {
      if (code(err) === 'ENOENT') return undefined;
      throw fsError(err, this.named(name), 'inspect');
    }
  }

  /**
   * Opens an entry with O_NOFOLLOW (and O_NONBLOCK, so a FIFO cannot stall the
   * supervisor); the caller checks the returned kind before using the handle.
   */
  async openEntry(name: string, flags: number, action: string, mode = 0o666): Promise<OpenedFile> {
    let handle: FileHandle;
    try {
      handle = await open(this.entry(name), flags | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode);
    } catch (err) {
      throw fsError(err, this.named(name), action);
    }
    try {
      return { handle, info: pathInfo(await handle.stat({ bigint: true })) };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw fsError(err, this.named(name), action);
    }
  }

  /** rename(2) inside this directory: neither name's last component is followed. */
  async rename(from: string, to: string): Promise<void> {
    await rename(this.entry(from), this.entry(to));
  }

  async unlink(name: string): Promise<void> {
    await unlink(this.entry(name));
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}
