import { AaosError, ErrorCode } from '../errors/index.js';

/**
 * `context_window` from a manifest: "128k" = 128 * 1024 tokens, or a plain integer.
 * Capped by the model's own window when one is given.
 */
export function parseContextWindow(value: string | number, modelMax?: number): number {
  const text = String(value).trim();
  const match = /^(\d+)([kK]?)$/.exec(text);
  if (!match || match[1] === undefined) {
    throw new AaosError(
      ErrorCode.CONTEXT_WINDOW_INVALID,
      `invalid context_window '${text}': use a whole number of tokens or a number with a k suffix, e.g. 128k`,
      { value: text },
    );
  }
  const base = Number.parseInt(match[1], 10);
  const tokens = match[2] ? base * 1024 : base;
  if (tokens <= 0) {
    throw new AaosError(ErrorCode.CONTEXT_WINDOW_INVALID, `invalid context_window '${text}': must be positive`, {
      value: text,
    });
  }
  return modelMax !== undefined ? Math.min(tokens, modelMax) : tokens;
}
