/**
 * A YAML file that is JSON text, read with the native JSON parser: the `yaml` package takes
 * ~0.5 s for a 100 KB script (a fan-out root's 500 inline child manifests), JSON.parse under
 * a millisecond. JSON is YAML 1.2, so the value is the same; the one rule JSON.parse does not
 * keep is YAML's unique keys, so text that repeats a key in one object is left to the YAML
 * parser, as is anything that is not valid JSON (its errors name the line).
 */
export function parseJsonText(text: string): { value: unknown } | undefined {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return repeatsKey(text) ? undefined : { value };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether valid JSON text repeats a key within one object (keys compared decoded: "a" = "\u0061"). */
function repeatsKey(text: string): boolean {
  // one set of keys per open object, null per open array
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      while (text.charCodeAt(end) !== QUOTE) end += text.charCodeAt(end) === BACKSLASH ? 2 : 1;
      const keys = open[open.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return true;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      open.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      open.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      const top = open[open.length - 1];
      expectKey = top !== undefined && top !== null;
    }
  }
  return false;
}
