import type { z } from 'zod';
import type { Store, StoreDbName } from './lmdb-env.js';

/**
 * Reads one persisted record: the version is checked first (a record written by a newer
 * runtime must be reported as such, not as "invalid"), then the zod schema.
 */
export type RecordCheck<T> = { ok: true; value: T } | { ok: false; reason: string; v?: unknown };

export function checkRecord<S extends z.ZodType>(schema: S, version: number, raw: unknown): RecordCheck<z.output<S>> {
  if (typeof raw !== 'object' || raw === null) return { ok: false, reason: 'not a record object' };
  const v = (raw as { v?: unknown }).v;
  if (v !== version) {
    return {
      ok: false,
      reason: `unsupported schema version ${JSON.stringify(v) ?? 'undefined'} (this runtime reads v${version})`,
      v,
    };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(record)';
    return { ok: false, reason: `invalid record: ${field}: ${issue?.message ?? 'invalid'}`, v };
  }
  return { ok: true, value: parsed.data };
}

/** Like checkRecord, but reports a bad record to the store and returns undefined. */
export function readRecord<S extends z.ZodType>(
  store: Store,
  db: StoreDbName,
  key: string | number,
  schema: S,
  version: number,
  raw: unknown,
): z.output<S> | undefined {
  const checked = checkRecord(schema, version, raw);
  if (checked.ok) return checked.value;
  store.reportInvalid({
    db,
    key: String(key),
    reason: checked.reason,
    ...(checked.v !== undefined ? { v: checked.v } : {}),
  });
  return undefined;
}

/** msgpack keeps `undefined` properties; strip them so optional fields round-trip as absent. */
export function compact<T extends object>(record: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(record)) if (value !== undefined) out[k] = value;
  return out as T;
}
