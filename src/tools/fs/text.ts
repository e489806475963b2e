import { AaosError, ErrorCode } from '../../errors/index.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8: the tools return text, so a binary file is an error, not mojibake. */
export function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new AaosError(ErrorCode.TOOL_FAILED, `file '${path}' is not valid UTF-8 text`, { path });
  }
}

/** Lines without their `\n`; a trailing newline does not start another line, and '' has none. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

/** Counts non-overlapping occurrences of a non-empty needle. */
export function countOccurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) count += 1;
  return count;
}

export function tooLarge(path: string, bytes: number, max: number, what = 'file'): AaosError {
  return new AaosError(ErrorCode.FILE_TOO_LARGE, `${what} '${path}' is too large: ${bytes} bytes (max ${max})`, {
    path,
    size_bytes: bytes,
    max_bytes: max,
  });
}
