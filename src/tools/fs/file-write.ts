import { z } from 'zod';
import { defineTool, type Tool } from '../tool.js';
import { MAX_FILE_BYTES } from './limits.js';
import { absolutePath } from './safe-path.js';
import { tooLarge } from './text.js';
import { appendFile, replaceFile, withWriteTarget } from './write-file.js';

const FileWriteInput = z.object({
  path: z.string().min(1).describe('absolute path of the file to write'),
  content: z.string().describe('UTF-8 text to write'),
  append: z.boolean().optional().describe('append instead of replacing the file (default false)'),
});

interface FileWriteResult {
  path: string;
  bytes_written: number;
}

export function createFileWriteTool(): Tool {
  return defineTool({
    name: 'file_write',
    description:
      `Write UTF-8 text to a file by absolute path, replacing it atomically (or appending with append: true). ` +
      `Missing parent directories are created. Content is limited to ${MAX_FILE_BYTES} bytes; symbolic links are never followed.`,
    input: FileWriteInput,
    async run(input, ctx): Promise<FileWriteResult> {
      const path = absolutePath(input.path);
      const bytes = Buffer.from(input.content, 'utf8');
      if (bytes.length > MAX_FILE_BYTES) throw tooLarge(path, bytes.length, MAX_FILE_BYTES, 'content for');
      // authorization precedes every side effect: a denied write leaves no trace
      ctx.authorize({ kind: 'file_write', path });
      await withWriteTarget(path, { create: true }, (target) =>
        input.append === true ? appendFile(target, bytes) : replaceFile(target, bytes),
      );
      return { path, bytes_written: bytes.length };
    },
  });
}
