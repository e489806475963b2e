import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * One setting: how its text (from the environment) or YAML value (from `agentd.yaml`)
 * is parsed, its default, and one line for the docs and `agentd config`.
 */
export interface Setting<T> {
  schema: z.ZodType<T>;
  /** undefined: unset unless given */
  default: T | undefined;
  /** the documented default when it is not a constant (e.g. derived from another variable) */
  defaultText?: string;
  doc: string;
  /** never printed by `agentd config` */
  secret?: boolean;
}

/** A raw value: environment text, or what YAML gave for the key. */
const raw = z.union([z.string(), z.number(), z.boolean()]);

function wholeNumber(min: number, max: number | undefined): z.ZodType<number> {
  const range = max === undefined ? `≥ ${min}` : `from ${min} to ${max}`;
  const message = `expected a whole number ${range}`;
  return raw.transform((v, ctx) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return n;
  });
}

/** A whole number in [min, max]; accepts "42" and 42. */
export function int(def: number, min: number, doc: string, max?: number): Setting<number> {
  return { schema: wholeNumber(min, max), default: def, doc };
}

/** A whole number that is unset unless given (`defaultText` says what applies then). */
export function optionalInt(min: number, doc: string, defaultText?: string): Setting<number | undefined> {
  return { schema: wholeNumber(min, undefined), default: undefined, doc, ...(defaultText ? { defaultText } : {}) };
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** 1/0, true/false, yes/no, on/off (any case); anything else is an error, not "yes". */
export function bool(def: boolean, doc: string): Setting<boolean> {
  return {
    schema: raw.transform((v, ctx) => {
      if (typeof v === 'boolean') return v;
      const text = String(v).trim().toLowerCase();
      if (TRUE.has(text)) return true;
      if (FALSE.has(text)) return false;
      ctx.addIssue({ code: 'custom', message: 'expected 1/0, true/false, yes/no or on/off' });
      return z.NEVER;
    }),
    default: def,
    doc,
  };
}

/** Free text (model names, keys). */
export function text(doc: string, extra: { secret?: boolean; defaultText?: string } = {}): Setting<string | undefined> {
  return { schema: z.string().trim().min(1), default: undefined, doc, ...extra };
}

/** An http(s) URL; checked at start so a typo is not found at the first request. */
export function url(doc: string, def?: string, defaultText?: string): Setting<string | undefined> {
  return {
    schema: z
      .string()
      .trim()
      .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'expected an http:// or https:// URL'),
    default: def,
    doc,
    ...(defaultText ? { defaultText } : {}),
  };
}

/** A nats:// URL (the cluster's NATS server); checked at start. */
export function natsUrl(doc: string): Setting<string | undefined> {
  return {
    schema: z
      .string()
      .trim()
      .refine(
        (v) => URL.canParse(v) && new URL(v).protocol === 'nats:' && new URL(v).port !== '',
        'expected nats://HOST:PORT',
      ),
    default: undefined,
    doc,
  };
}

/** A file or directory path, made absolute against the working directory. */
export function path(doc: string, defaultText?: string): Setting<string | undefined> {
  return {
    schema: z
      .string()
      .trim()
      .min(1)
      .transform((v) => resolve(v)),
    default: undefined,
    doc,
    ...(defaultText ? { defaultText } : {}),
  };
}

/** `:`-separated paths (or a YAML list); empty entries are dropped. */
export function pathList(doc: string): Setting<string[]> {
  return {
    schema: z
      .union([z.string(), z.array(z.string())])
      .transform((v) =>
        (Array.isArray(v) ? v : v.split(':')).map((entry) => entry.trim()).filter((entry) => entry !== ''),
      ),
    default: [],
    doc,
  };
}

/** One of a fixed set of words (any case); anything else is an error naming the choices. */
export function oneOf<const T extends readonly [string, ...string[]]>(
  choices: T,
  def: T[number],
  doc: string,
): Setting<T[number]> {
  return {
    schema: z
      .string()
      .trim()
      .toLowerCase()
      .refine(
        (v): v is T[number] => (choices as readonly string[]).includes(v),
        `expected one of ${choices.join(', ')}`,
      )
      .transform((v) => v as T[number]),
    default: def,
    doc,
  };
}
