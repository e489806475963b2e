import { ErrorCode, isErrorCode } from './codes.js';

/**
 * The one local error type of the runtime. `code` is stable (AAOS_ERR_*); `details`
 * is plain JSON-able data that names what was wrong and where (file, line, field,
 * agent, tool...). Kept apart from wire errors (JSON-RPC codes), see src/daemon.
 */
export class AaosError extends Error {
  override readonly name = 'AaosError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

/** What crosses a thread or a socket: plain data, rebuilt on the other side. */
export interface PlainError {
  name: string;
  message: string;
  code: string;
  details?: Record<string, unknown> | undefined;
}

export function toPlainError(err: unknown): PlainError {
  if (err instanceof AaosError) {
    const plain: PlainError = { name: err.name, message: err.message, code: err.code };
    if (err.details !== undefined) plain.details = err.details;
    return plain;
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, code: isErrorCode(code) ? code : ErrorCode.INTERNAL };
  }
  return { name: 'Error', message: String(err), code: ErrorCode.INTERNAL };
}

export function fromPlainError(plain: PlainError): AaosError {
  const code = isErrorCode(plain.code) ? plain.code : ErrorCode.INTERNAL;
  return new AaosError(code, plain.message, plain.details);
}

export function isAaosError(err: unknown, code?: ErrorCode): err is AaosError {
  return err instanceof AaosError && (code === undefined || err.code === code);
}
