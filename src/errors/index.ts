export { ErrorCode, isErrorCode } from './codes.js';
export { AaosError, toPlainError, fromPlainError, isAaosError } from './aaos-error.js';
export type { PlainError } from './aaos-error.js';
