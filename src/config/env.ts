import { AaosError, ErrorCode } from '../errors/index.js';

/** An integer setting from the environment; a present but invalid value is an error, never ignored. */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new AaosError(ErrorCode.CONFIG_INVALID, `${name}=${JSON.stringify(raw)} is invalid: expected a whole number ≥ ${min}`, {
      variable: name,
      value: raw,
    });
  }
  return value;
}
