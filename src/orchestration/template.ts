/**
 * Role template placeholders (aaOS syntax): `{param}` is replaced by a parameter's
 * value; in capabilities `{param.*}` makes one capability per element of a list.
 */

/** Placeholders a capability template may use without a parameter of that name: the manifest's own. */
export const PATH_BUILTINS = ['data_dir', 'workspace'] as const;
/** Placeholders a message template may use without a parameter: the run's root directory. */
export const MESSAGE_BUILTINS = ['run'] as const;

export interface CapabilityPlaceholder {
  /** as written, e.g. `{inputs.*}` */
  text: string;
  name: string;
  /** `{name.*}`: one capability per list element */
  each: boolean;
}

const CAPABILITY_PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(\.\*)?\}/g;
// identifiers only, so JSON-like text such as {"a": 1} in a message is left alone
const MESSAGE_PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function capabilityPlaceholders(template: string): CapabilityPlaceholder[] {
  return [...template.matchAll(CAPABILITY_PLACEHOLDER)].map((m) => ({
    text: m[0],
    name: m[1]!,
    each: m[2] !== undefined,
  }));
}

export function messagePlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(MESSAGE_PLACEHOLDER)].map((m) => m[1]!))];
}

/** Replaces `{name}` tokens whose name is in `values`; others are left as written. */
export function fillMessage(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(MESSAGE_PLACEHOLDER, (whole, name: string) =>
    Object.hasOwn(values, name) ? values[name]! : whole,
  );
}
