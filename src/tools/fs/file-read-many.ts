import { setMaxListeners } from 'node:events';
import { z } from 'zod';
import { AaosError, ErrorCode, fromPlainError, toPlainError } from '../../errors/index.js';
import { defineTool, type Tool, type ToolContext } from '../tool.js';
import { runIoTask } from './io-pool.js';
import { MAX_FILE_BYTES, READ_MANY_MAX_PATHS } from './limits.js';
import type { ReadTask, ReadTaskResult } from './read-task.js';
import { absolutePath, resolveSafePath } from './safe-path.js';
import { tooLarge } from './text.js';

const FileReadManyInput = z.object({
  paths: z.array(z.string().min(1)).min(1).max(READ_MANY_MAX_PATHS).describe('absolute paths of UTF-8 files'),
});

interface FileReadManyOk {
  path: string;
  content: string;
  size_bytes: number;
  total_lines: number;
}

interface FileReadManyError {
  path: string;
  error: { code: string; message: string };
}

interface FileReadManyResult {
  files: (FileReadManyOk | FileReadManyError)[];
  count: number;
}

const READ_TASK_MODULE = 'src/tools/fs/read-task.js';

function failed(path: string, err: unknown): FileReadManyError {
  const plain = toPlainError(err);
  return { path, error: { code: plain.code, message: plain.message } };
}

/** Supervisor side for one path: authorize and check on this thread, before any read. */
async function prepare(requested: string, ctx: ToolContext): Promise<ReadTask> {
  const path = absolutePath(requested);
  ctx.authorize({ kind: 'file_read', path });
  const target = await resolveSafePath(path);
  if (target.leaf === undefined)
    throw new AaosError(ErrorCode.PATH_NOT_FOUND, `cannot read '${path}': no such file`, { path });
  if (target.leaf.kind !== 'file') {
    throw new AaosError(ErrorCode.PATH_INVALID, `cannot read '${path}': not a regular file`, {
      path,
      kind: target.leaf.kind,
    });
  }
  if (target.leaf.size > MAX_FILE_BYTES) throw tooLarge(path, target.leaf.size, MAX_FILE_BYTES);
  return { path, identity: target.leaf.identity, maxBytes: MAX_FILE_BYTES };
}

export function createFileReadManyTool(): Tool {
  return defineTool({
    name: 'file_read_many',
    idempotent: true,
    description:
      `Read up to ${READ_MANY_MAX_PATHS} UTF-8 files at once by absolute path. Results come back in request order; ` +
      `a file that cannot be read gets an {path, error} entry and does not affect the others.`,
    input: FileReadManyInput,
    async run(input, ctx): Promise<FileReadManyResult> {
      // checks run one after another on this thread (each one charges a capability use) ...
      const prepared: (ReadTask | FileReadManyError)[] = [];
      for (const requested of input.paths) {
        try {
          prepared.push(await prepare(requested, ctx));
        } catch (err) {
          prepared.push(failed(requested, err));
        }
      }
      // ... the reads themselves run in parallel on the I/O pool, under one batch signal
      // (one listener on the caller's signal instead of one per file)
      const batch = new AbortController();
      setMaxListeners(READ_MANY_MAX_PATHS + 4, batch.signal);
      const forward = (): void => batch.abort(ctx.signal.reason);
      if (ctx.signal.aborted) forward();
      else ctx.signal.addEventListener('abort', forward, { once: true });
      const files = await Promise.all(
        prepared.map(async (item): Promise<FileReadManyOk | FileReadManyError> => {
          if ('error' in item) return item;
          try {
            const result = await runIoTask<ReadTaskResult>(READ_TASK_MODULE, 'readFileTask', item, batch.signal);
            if (!result.ok) return failed(item.path, fromPlainError(result.error));
            return {
              path: item.path,
              content: result.content,
              size_bytes: result.size_bytes,
              total_lines: result.total_lines,
            };
          } catch (err) {
            return failed(item.path, err);
          }
        }),
      ).finally(() => ctx.signal.removeEventListener('abort', forward));
      return { files, count: files.length };
    },
  });
}
