import { constants } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { z } from 'zod';
import { AaosError, ErrorCode } from '../../errors/index.js';
import { defineTool, type Tool } from '../tool.js';
import { fsError } from './fs-errors.js';
import { LIST_MAX_ENTRIES } from './limits.js';
import { absolutePath, baseName, fdPath, kindOf, openVerified, resolveSafePath, type EntryKind } from './safe-path.js';

const FileListInput = z.object({
  path: z.string().min(1).describe('absolute path of a directory (or a file)'),
});

interface FileListEntry {
  name: string;
  kind: EntryKind;
  size_bytes: number;
}

interface FileListResult {
  path: string;
  kind: EntryKind;
  entries: FileListEntry[];
  truncated: boolean;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function createFileListTool(): Tool {
  return defineTool({
    name: 'file_list',
    idempotent: true,
    description:
      `List a directory by absolute path: entries sorted by name with kind (file, dir, symlink, other) and size. ` +
      `At most ${LIST_MAX_ENTRIES} entries. Symbolic links are listed, never followed.`,
    input: FileListInput,
    async run(input, ctx): Promise<FileListResult> {
      const path = absolutePath(input.path);
      ctx.authorize({ kind: 'file_read', path });
      const target = await resolveSafePath(path);
      if (target.leaf === undefined)
        throw new AaosError(ErrorCode.PATH_NOT_FOUND, `cannot list '${path}': no such file or directory`, { path });
      if (target.leaf.kind !== 'dir') {
        const entry = { name: baseName(path), kind: target.leaf.kind, size_bytes: target.leaf.size };
        return { path, kind: target.leaf.kind, entries: [entry], truncated: false };
      }
      // list through the very fd that was verified, not the path again
      const { handle } = await openVerified(
        path,
        constants.O_RDONLY | constants.O_DIRECTORY,
        target.leaf.identity,
        'list',
      );
      try {
        const base = await fdPath(handle, path);
        const names = (await readdir(base)).sort(byName);
        const shown = names.slice(0, LIST_MAX_ENTRIES);
        const entries: FileListEntry[] = [];
        for (const name of shown) {
          try {
            const stats = await lstat(`${base}/${name}`);
            entries.push({ name, kind: kindOf(stats), size_bytes: stats.size });
          } catch (err) {
            // removed while we were listing: leave it out
            if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
          }
        }
        return { path, kind: 'dir', entries, truncated: names.length > shown.length };
      } catch (err) {
        throw fsError(err, path, 'list');
      } finally {
        await handle.close().catch(() => undefined);
      }
    },
  });
}
