import type { AuditEvent } from '../audit/event.js';
import { planTreeLines, type PlanTreeNode } from './plan-tree.js';

const PLAN_EVENTS = new Set<string>([
  'OrchestrationSelected',
  'PlanProduced',
  'PlanReplanned',
  'SubtaskStarted',
  'SubtaskCompleted',
  'SubtaskFailed',
  'SubtaskTtlExpired',
  'SubtaskModelEscalated',
  'SubtaskOutputMissing',
]);

/**
 * The plan part of the live view: the tree when a plan is produced, then one line per
 * subtask state change (indented as in the tree), and the whole tree again at the end.
 */
export class PlanLiveView {
  private nodes: PlanTreeNode[] = [];

  /** undefined: not a plan event; null: a plan event with nothing to print */
  format(e: AuditEvent, prefix: string): string | null | undefined {
    if (!PLAN_EVENTS.has(e.type)) return undefined;
    switch (e.type) {
      case 'OrchestrationSelected':
        return `${prefix} orchestration: ${e.mode} (${e.source})`;
      case 'PlanProduced':
        this.nodes = e.subtasks.map((s) => ({ ...s, state: 'pending' }));
        return [
          `${prefix} plan: ${e.subtask_count} subtasks${e.replans_used ? ` (replan ${e.replans_used})` : ''} → ${e.final_output}`,
          ...planTreeLines(this.nodes, ' '.repeat(11)),
        ].join('\n');
      case 'PlanReplanned':
        return `${prefix} ↻ replanning (${e.replans_used}): ${e.reason}`;
      case 'SubtaskStarted':
        this.set(e.subtask_id, { state: 'running', attempts: e.attempt });
        return `${prefix} ${this.indent(e.subtask_id)}▶ ${e.subtask_id} (${e.role}) started${e.attempt > 1 ? `, attempt ${e.attempt}` : ''} on ${e.model}`;
      case 'SubtaskCompleted':
        this.set(e.subtask_id, { state: e.reused ? 'reused' : 'completed' });
        return `${prefix} ${this.indent(e.subtask_id)}✓ ${e.subtask_id} ${e.reused ? 'reused from the previous plan' : `completed in ${(e.elapsed_ms / 1000).toFixed(2)}s`}`;
      case 'SubtaskFailed':
        this.set(e.subtask_id, { state: e.will_retry ? 'running' : 'failed', error: e.reason });
        return `${prefix} ${this.indent(e.subtask_id)}✗ ${e.subtask_id} failed (${e.kind})${e.will_retry ? ', retrying' : ''}: ${e.reason}`;
      case 'SubtaskTtlExpired':
        return `${prefix} ${this.indent(e.subtask_id)}⏱ ${e.subtask_id}: ${e.reason.replaceAll('_', ' ')}`;
      case 'SubtaskModelEscalated':
        return `${prefix} ${this.indent(e.subtask_id)}⇡ ${e.subtask_id}: ${e.from_model} → ${e.to_model} (${e.reason})`;
      case 'SubtaskOutputMissing':
        return `${prefix} ${this.indent(e.subtask_id)}? ${e.subtask_id} did not write ${e.declared_path}`;
      default:
        return null;
    }
  }

  /** The tree with final states, for the end of a run (empty when no plan ran). */
  summary(): string[] {
    return this.nodes.length > 0 ? planTreeLines(this.nodes, ' '.repeat(11)) : [];
  }

  private set(id: string, patch: Partial<PlanTreeNode>): void {
    const node = this.nodes.find((n) => n.id === id);
    if (node) Object.assign(node, patch);
  }

  private indent(id: string): string {
    let depth = 0;
    let frontier = this.nodes.find((n) => n.id === id)?.depends_on ?? [];
    const seen = new Set<string>();
    while (frontier.length > 0 && depth < this.nodes.length) {
      depth++;
      const next = frontier.flatMap((d) => {
        if (seen.has(d)) return [];
        seen.add(d);
        return this.nodes.find((n) => n.id === d)?.depends_on ?? [];
      });
      frontier = next;
    }
    return '  '.repeat(depth);
  }
}
