import { z } from 'zod';
import { AaosError, ErrorCode } from '../../errors/index.js';
import { defineTool, type Tool } from '../tool.js';
import { DEFAULT_READ_LIMIT, MAX_FILE_BYTES } from './limits.js';
import { readVerifiedText } from './read-text.js';
import { absolutePath, resolveSafePath } from './safe-path.js';
import { splitLines } from './text.js';

const FileReadInput = z.object({
  path: z.string().min(1).describe('absolute path of a regular UTF-8 file'),
  offset: z.number().int().min(1).optional().describe('first line to return, 1-based (default 1)'),
  limit: z.number().int().min(1).optional().describe(`how many lines to return (default ${DEFAULT_READ_LIMIT})`),
});

interface FileReadResult {
  content: string;
  size_bytes: number;
  total_lines: number;
  offset: number;
  returned_lines: number;
  /** more lines follow the returned window */
  truncated: boolean;
}

/** Selects a window of lines; returned text keeps its newlines exactly as in the file. */
function sliceLines(text: string, offset: number, limit: number): Omit<FileReadResult, 'size_bytes'> {
  const lines = splitLines(text);
  const start = offset - 1;
  const window = lines.slice(start, start + limit);
  const endsAtFileEnd = start + window.length >= lines.length;
  let content = window.join('\n');
  // the last line of the window has a newline unless it is the file's unterminated last line
  if (window.length > 0 && (!endsAtFileEnd || text.endsWith('\n'))) content += '\n';
  return {
    content,
    total_lines: lines.length,
    offset,
    returned_lines: window.length,
    truncated: start + window.length < lines.length,
  };
}

export function createFileReadTool(): Tool {
  return defineTool({
    name: 'file_read',
    idempotent: true,
    description:
      `Read a UTF-8 text file by absolute path. Returns a window of lines (offset is 1-based, default 1; ` +
      `limit default ${DEFAULT_READ_LIMIT}). Files over ${MAX_FILE_BYTES} bytes are refused; symbolic links are never followed.`,
    input: FileReadInput,
    async run(input, ctx): Promise<FileReadResult> {
      const path = absolutePath(input.path);
      ctx.authorize({ kind: 'file_read', path });
      const target = await resolveSafePath(path);
      if (target.leaf === undefined) {
        throw new AaosError(ErrorCode.PATH_NOT_FOUND, `cannot read '${path}': no such file`, { path });
      }
      if (target.leaf.kind !== 'file') {
        throw new AaosError(ErrorCode.PATH_INVALID, `cannot read '${path}': not a regular file`, {
          path,
          kind: target.leaf.kind,
        });
      }
      const { text, size_bytes } = await readVerifiedText(path, target.leaf.identity, MAX_FILE_BYTES);
      return { size_bytes, ...sliceLines(text, input.offset ?? 1, input.limit ?? DEFAULT_READ_LIMIT) };
    },
  });
}
