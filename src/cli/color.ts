import { readSetting, type EnvRecord } from '../config/config.js';

/** Set by `--no-color` anywhere on the command line (agentd.ts removes the flag before parsing). */
let disabled = false;

export function disableColor(): void {
  disabled = true;
}

/** Colour only on a terminal, and never with NO_COLOR set to anything (no-color.org) or --no-color. */
export function useColor(out: { isTTY?: boolean }, env: EnvRecord = process.env): boolean {
  return !disabled && out.isTTY === true && readSetting(env, 'NO_COLOR') === undefined;
}
