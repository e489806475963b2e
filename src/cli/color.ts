/** Set by `--no-color` anywhere on the command line (agentd.ts removes the flag before parsing). */
let disabled = false;

export function disableColor(): void {
  disabled = true;
}

/** Colour only on a terminal, and never with NO_COLOR set to anything (no-color.org) or --no-color. */
export function useColor(out: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return !disabled && out.isTTY === true && (env['NO_COLOR'] ?? '') === '';
}
