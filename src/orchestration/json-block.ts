/**
 * The first balanced `{…}` block of a model's answer (models wrap JSON in prose or
 * code fences). Braces inside JSON strings are skipped. Undefined when there is none.
 */
export function firstJsonObject(text: string): string | undefined {
  let start = text.indexOf('{');
  while (start >= 0) {
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (let i = start; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === '{') depth++;
      else if (ch === '}') {
        depth--;
        if (depth === 0) return text.slice(start, i + 1);
      }
    }
    start = text.indexOf('{', start + 1);
  }
  return undefined;
}
