import { z } from 'zod';
import { agentKey, isKeyableId, padNumber } from './keys.js';
import type { Store } from './lmdb-env.js';
import { checkRecord } from './record.js';

/**
 * One stored audit batch: the events appended together, with consecutive keys starting at
 * `first` (the record's own key). v3 keeps the events as one JSON text, made by one native
 * `JSON.stringify` per batch (v2 held an msgpack array of event objects, whose packing was
 * the largest audit cost on the supervisor thread).
 */
export const AUDIT_V = 3;
/** batches written by earlier versions stay readable */
const AUDIT_V2 = 2;

export const AuditRecord = z.object({
  v: z.literal(AUDIT_V),
  /** epoch ms when the batch was handed to the writer; age bounds use it */
  at: z.number(),
  first: z.number().int().positive(),
  count: z.number().int().positive(),
  /** JSON text of the events array */
  events: z.string(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

const AuditRecordV2 = z.object({
  v: z.literal(AUDIT_V2),
  at: z.number(),
  first: z.number().int().positive(),
  events: z.array(z.record(z.string(), z.unknown())).min(1),
});

/** A stored batch, decoded. */
export interface AuditBatch {
  at: number;
  first: number;
  events: Record<string, unknown>[];
}

/** Decodes a stored batch of either version; a bad one is reported to the store and skipped (undefined). */
export function readAuditBatch(store: Store, key: number, raw: unknown): AuditBatch | undefined {
  const v = (raw as { v?: unknown } | null)?.v;
  if (v === AUDIT_V2) {
    const old = checkRecord(AuditRecordV2, AUDIT_V2, raw);
    if (old.ok) return old.value;
    return invalid(store, key, old.reason, v);
  }
  const checked = checkRecord(AuditRecord, AUDIT_V, raw);
  if (!checked.ok) return invalid(store, key, checked.reason, checked.v);
  let events: unknown;
  try {
    events = JSON.parse(checked.value.events);
  } catch (err) {
    return invalid(
      store,
      key,
      `invalid record: events: not JSON (${err instanceof Error ? err.message : String(err)})`,
      v,
    );
  }
  if (
    !Array.isArray(events) ||
    events.length !== checked.value.count ||
    !events.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e))
  ) {
    return invalid(store, key, `invalid record: events: expected an array of ${checked.value.count} event objects`, v);
  }
  return { at: checked.value.at, first: checked.value.first, events: events as Record<string, unknown>[] };
}

function invalid(store: Store, key: number, reason: string, v: unknown): undefined {
  store.reportInvalid({ db: 'audit', key: String(key), reason, ...(v !== undefined ? { v } : {}) });
  return undefined;
}

export type AuditIndexDb = 'audit_by_agent' | 'audit_by_run';

/** Index entries of one batch: one per agent and per run that has events in it. */
export function auditIndexKeys(
  events: readonly Record<string, unknown>[],
  batchKey: number,
): Array<[AuditIndexDb, string]> {
  const agents = new Set<string>();
  const runs = new Set<string>();
  for (const event of events) {
    const agent = event['agent_id'];
    const run = event['run_id'];
    if (typeof agent === 'string') agents.add(agent);
    if (typeof run === 'string') runs.add(run);
  }
  const suffix = padNumber(batchKey);
  const out: Array<[AuditIndexDb, string]> = [];
  for (const id of agents) if (isKeyableId(id)) out.push(['audit_by_agent', agentKey(id, suffix)]);
  for (const id of runs) if (isKeyableId(id)) out.push(['audit_by_run', agentKey(id, suffix)]);
  return out;
}
