import { z } from 'zod';

/**
 * One approval as persisted. `status` stays `pending` until answered; an answer is
 * only persisted when nobody is waiting for it yet (an approval recovered after a
 * restart), so the supervisor can still collect it with `ApprovalQueue.await`.
 */
export const ApprovalRecord = z.object({
  v: z.literal(1),
  id: z.string(),
  agent_id: z.string(),
  agent_name: z.string(),
  parent_id: z.string().optional(),
  run_id: z.string().optional(),
  trace_id: z.string().optional(),
  /** the tool call's span the approval was asked in (its events are events of that span) */
  span_id: z.string().optional(),
  tool: z.string(),
  input: z.unknown(),
  /** ISO-8601 */
  requested_at: z.string(),
  timeout_ms: z.number().int().positive(),
  status: z.enum(['pending', 'approved', 'denied', 'timed_out']),
  /** why it was denied (human reason or timeout text) */
  reason: z.string().optional(),
  /** ISO-8601; set when a later process took it over with `recover()` */
  recovered_at: z.string().optional(),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecord>;

/** Storage for approval records; synchronous so the queue's state changes stay atomic. */
export interface ApprovalPersistence {
  save(record: ApprovalRecord): void;
  remove(id: string): void;
  loadAll(): ApprovalRecord[];
}
