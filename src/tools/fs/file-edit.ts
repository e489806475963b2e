import { z } from 'zod';
import { AaosError, ErrorCode } from '../../errors/index.js';
import { defineTool, type Tool } from '../tool.js';
import { MAX_FILE_BYTES } from './limits.js';
import { absolutePath } from './safe-path.js';
import { countOccurrences, tooLarge } from './text.js';
import { readLeafText, replaceFile, withWriteTarget, type WriteTarget } from './write-file.js';

const FileEditInput = z.object({
  path: z.string().min(1).describe('absolute path of an existing UTF-8 file'),
  old_string: z.string().min(1).describe('exact text to replace; must occur exactly once unless replace_all'),
  new_string: z.string().describe('replacement text'),
  replace_all: z.boolean().optional().describe('replace every occurrence (default false)'),
});
type FileEditInput = z.infer<typeof FileEditInput>;

interface FileEditResult {
  path: string;
  replacements: number;
  bytes_before: number;
  bytes_after: number;
}

export function createFileEditTool(): Tool {
  return defineTool({
    name: 'file_edit',
    description:
      'Replace exact text in an existing file. old_string must match exactly once, unless replace_all is true. ' +
      'The file is rewritten atomically; it fails if the file changed meanwhile.',
    input: FileEditInput,
    async run(input, ctx): Promise<FileEditResult> {
      const path = absolutePath(input.path);
      // an edit reads and writes: both capabilities, both before touching anything
      ctx.authorize({ kind: 'file_read', path });
      ctx.authorize({ kind: 'file_write', path });
      return withWriteTarget(path, { create: false }, (target) => edit(target, input));
    },
  });
}

async function edit(target: WriteTarget, input: FileEditInput): Promise<FileEditResult> {
  const { path } = target;
  const { text, size_bytes, info } = await readLeafText(target, MAX_FILE_BYTES);
  const count = countOccurrences(text, input.old_string);
  if (count === 0) {
    throw new AaosError(ErrorCode.EDIT_NO_MATCH, `file_edit: old_string not found in '${path}'`, { path });
  }
  if (count > 1 && input.replace_all !== true) {
    throw new AaosError(
      ErrorCode.EDIT_AMBIGUOUS,
      `file_edit: old_string occurs ${count} times in '${path}'; give more context or set replace_all`,
      { path, occurrences: count },
    );
  }
  // split/join: no `$&`-style replacement patterns, unlike String.replace
  const updated = text.split(input.old_string).join(input.new_string);
  const bytes = Buffer.from(updated, 'utf8');
  if (bytes.length > MAX_FILE_BYTES) throw tooLarge(path, bytes.length, MAX_FILE_BYTES, 'edited file');
  await replaceFile(target, bytes, { unchangedSince: info });
  return { path, replacements: count, bytes_before: size_bytes, bytes_after: bytes.length };
}
