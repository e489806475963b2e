/** How much of a value an audit event shows (args, results, messages, approval inputs, goals). */
const PREVIEW_CHARS = 200;

/** A short, single value for an audit event: text as it is, anything else as JSON, cut at `max` characters. */
export function preview(value: unknown, max = PREVIEW_CHARS): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
