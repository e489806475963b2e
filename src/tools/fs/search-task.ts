import { constants } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { toPlainError, type PlainError } from '../../errors/index.js';
import { readVerifiedText } from './read-text.js';
import { fdPath, openVerified, pathInfo, type FileIdentity } from './safe-path.js';
import { splitLines } from './text.js';

/** Pool task: search the text files of an already-authorized directory tree. */
export interface SearchTask {
  root: string;
  identity: FileIdentity;
  source: string;
  flags: string;
  maxResults: number;
  maxFileBytes: number;
  maxFiles: number;
  lineChars: number;
}

export interface SearchMatch {
  file: string;
  line: number;
  text: string;
}

export type SearchTaskResult =
  | { ok: true; matches: SearchMatch[]; truncated: boolean; files_scanned: number }
  | { ok: false; error: PlainError };

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** Entries of a directory, read through a verified O_NOFOLLOW fd. */
async function listDir(
  dir: string,
  identity: FileIdentity,
): Promise<{ name: string; isDir: boolean; isFile: boolean }[]> {
  const { handle } = await openVerified(dir, constants.O_RDONLY | constants.O_DIRECTORY, identity, 'search');
  try {
    const entries = await readdir(await fdPath(handle, dir), { withFileTypes: true });
    // symlinks are neither dirs nor files here: never followed
    return entries
      .map((e) => ({ name: e.name, isDir: e.isDirectory(), isFile: e.isFile() }))
      .sort((a, b) => byName(a.name, b.name));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function identityOf(
  path: string,
  kind: 'dir' | 'file',
): Promise<{ identity: FileIdentity; size: number } | undefined> {
  try {
    const info = pathInfo(await lstat(path, { bigint: true }));
    return info.kind === kind ? { identity: info.identity, size: info.size } : undefined;
  } catch {
    return undefined;
  }
}

export async function searchTask(task: SearchTask): Promise<SearchTaskResult> {
  try {
    // a global/sticky regex carries lastIndex between lines: drop those flags
    const regex = new RegExp(task.source, task.flags.replace(/[gy]/g, ''));
    const matches: SearchMatch[] = [];
    let filesScanned = 0;
    let truncated = false;
    // depth-first in name order, so results are deterministic
    const stack: { path: string; identity: FileIdentity }[] = [{ path: task.root, identity: task.identity }];
    outer: while (stack.length > 0) {
      const dir = stack.pop() as { path: string; identity: FileIdentity };
      let entries: Awaited<ReturnType<typeof listDir>>;
      try {
        entries = await listDir(dir.path, dir.identity);
      } catch (err) {
        if (dir.path === task.root) throw err;
        continue; // an unreadable or swapped subdirectory is skipped, not fatal
      }
      const subdirs: { path: string; identity: FileIdentity }[] = [];
      for (const entry of entries) {
        const path = join(dir.path, entry.name);
        if (entry.isDir) {
          const id = await identityOf(path, 'dir');
          if (id !== undefined) subdirs.push({ path, identity: id.identity });
          continue;
        }
        if (!entry.isFile) continue;
        if (filesScanned >= task.maxFiles) {
          truncated = true;
          break outer;
        }
        const id = await identityOf(path, 'file');
        if (id === undefined || id.size > task.maxFileBytes) continue;
        let text: string;
        try {
          text = (await readVerifiedText(path, id.identity, task.maxFileBytes)).text;
        } catch {
          continue; // binary (not UTF-8), vanished or swapped: not searchable
        }
        filesScanned += 1;
        if (text.includes('\0')) continue;
        const lines = splitLines(text);
        for (let i = 0; i < lines.length; i += 1) {
          const line = lines[i] as string;
          if (!regex.test(line)) continue;
          if (matches.length >= task.maxResults) {
            truncated = true;
            break outer;
          }
          matches.push({
            file: path,
            line: i + 1,
            text: line.length > task.lineChars ? line.slice(0, task.lineChars) : line,
          });
        }
      }
      for (let i = subdirs.length - 1; i >= 0; i -= 1)
        stack.push(subdirs[i] as { path: string; identity: FileIdentity });
    }
    return { ok: true, matches, truncated, files_scanned: filesScanned };
  } catch (err) {
    return { ok: false, error: toPlainError(err) };
  }
}
