import type { ApprovalQueue } from '../../approvals/approval-queue.js';
import type { ApprovalRecord } from '../../approvals/approval-record.js';
import type { ApprovalPort } from '../../kernel/ports.js';

/**
 * The supervisor's approval port over the approval queue. A restart may have left this exact
 * call waiting for a human: the old request is answered rather than asked twice. Matching is
 * bound to the agent id (persistent agents keep theirs): another agent reusing a name gets nothing.
 */
export class QueueApprovalPort implements ApprovalPort {
  constructor(
    private readonly queue: ApprovalQueue,
    /** pending approvals a previous process left (taken one by one as their calls come again) */
    private readonly recovered: ApprovalRecord[],
  ) {}

  request(args: Parameters<ApprovalPort['request']>[0]): Promise<void> {
    const idx = this.recovered.findIndex(
      (r) =>
        r.agent_id === args.agent.id && r.tool === args.tool && JSON.stringify(r.input) === JSON.stringify(args.input),
    );
    if (idx >= 0) {
      const [rec] = this.recovered.splice(idx, 1);
      return this.queue.await(rec!.id, args.signal);
    }
    return this.queue.request(args);
  }
}
