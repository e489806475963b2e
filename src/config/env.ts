import { AaosError, ErrorCode } from '../errors/index.js';
import { readSetting } from './config.js';
import { isSettingName } from './settings.js';

/**
 * An integer setting from the environment; a present but invalid value is an error, never ignored.
 * A variable defined in `SETTINGS` (src/config/settings.ts) is read through its schema there
 * (its default and bounds win); new settings belong in that table, this stays for code not moved yet.
 */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  if (isSettingName(name)) {
    const value = readSetting(env, name);
    if (typeof value === 'number') return value;
  }
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new AaosError(
      ErrorCode.CONFIG_INVALID,
      `${name}=${JSON.stringify(raw)} is invalid: expected a whole number ≥ ${min}`,
      {
        variable: name,
        value: raw,
      },
    );
  }
  return value;
}
