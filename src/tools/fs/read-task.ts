import { toPlainError, type PlainError } from '../../errors/index.js';
import { readVerifiedText } from './read-text.js';
import type { FileIdentity } from './safe-path.js';
import { splitLines } from './text.js';

/** Pool task: read one already-authorized file, re-verifying it is the file that was checked. */
export interface ReadTask {
  path: string;
  identity: FileIdentity;
  maxBytes: number;
}

export type ReadTaskResult =
  | { ok: true; content: string; size_bytes: number; total_lines: number }
  | { ok: false; error: PlainError };

export async function readFileTask(task: ReadTask): Promise<ReadTaskResult> {
  try {
    // O_NOFOLLOW + dev/ino + fd location: a swap after the supervisor's check is caught here
    const { text, size_bytes } = await readVerifiedText(task.path, task.identity, task.maxBytes);
    return { ok: true, content: text, size_bytes, total_lines: splitLines(text).length };
  } catch (err) {
    return { ok: false, error: toPlainError(err) };
  }
}
