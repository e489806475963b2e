import type { ApprovalQueue } from '../approvals/approval-queue.js';
import type { AuditLog } from '../audit/audit-log.js';

/**
 * The audit log as the daemon sees it: live events and the recent in-memory ones. Emitting,
 * sinks and closing stay with the Runtime (durable history: `Runtime.auditHistory`).
 */
export type AuditFeed = Pick<AuditLog, 'subscribe' | 'recent'>;

/** The approval queue as an operator sees it: what waits, an answer, and a feed of both. */
export type ApprovalDesk = Pick<ApprovalQueue, 'list' | 'respond' | 'subscribe'>;

/** What `system.health` reports of the runtime (the daemon adds its own: connections, version, uptime). */
export interface RuntimeHealth {
  /** why the runtime is degraded, oldest first; empty when it is not */
  problems: string[];
  store: { write_failures: number; audit_events_unstored: number };
  /** live agents */
  agents: number;
  bootstrap_agent_id: string | null;
  runs: { running: number; queued: number };
  approvals_pending: number;
  /** the default model route, as `agentd run` prints it at start */
  provider: string;
}
