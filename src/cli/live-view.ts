import type { AuditEvent } from '../audit/event.js';
import { PlanLiveView } from './plan-live.js';

export interface LiveViewOptions {
  color: boolean;
  /** show every event, not just the operator view */
  verbose?: boolean;
  /** epoch ms that times count from (a run's submission); default: the first event shown */
  origin?: number;
  /** absolute ISO times instead of seconds since the origin */
  timestamps?: boolean;
}

const C = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, dim: 2, bold: 1 } as const;

/**
 * The readable live view: one line per event that an operator cares about —
 * the agent tree, tool calls, denials, failures, elapsed time.
 */
export class LiveView {
  private origin: number | undefined;
  private readonly depth = new Map<string, number>();
  private readonly plan = new PlanLiveView();
  /** runs shown as queued, not yet started */
  private readonly queuedRuns = new Set<string>();

  constructor(private readonly opts: LiveViewOptions) {
    this.origin = opts.origin;
  }

  /** Seconds since the origin (never negative: an event from before it shows 0.00s), or the ISO time. */
  private time(e: AuditEvent): string {
    if (this.opts.timestamps) return e.ts;
    const at = Date.parse(e.ts);
    this.origin ??= at;
    return `${(Math.max(0, at - this.origin) / 1000).toFixed(2).padStart(7)}s`;
  }

  private paint(code: number, text: string): string {
    return this.opts.color ? `\u001b[${code}m${text}\u001b[0m` : text;
  }

  private prefix(e: AuditEvent): string {
    const depth = this.depth.get(e.agent_id) ?? 0;
    return `${this.paint(C.dim, this.time(e))} ${'  '.repeat(depth)}${this.paint(C.cyan, e.agent_name)}`;
  }

  format(e: AuditEvent): string | null {
    const planLine = this.plan.format(e, this.prefix(e));
    if (planLine !== undefined) return planLine;
    switch (e.type) {
      case 'RunSubmitted': {
        const head = `${this.prefix(e)} ${this.paint(C.bold, '▶ run')} ${e.run_id ?? ''} ${this.paint(C.dim, e.goal_preview)}\n${' '.repeat(9)}workspace ${e.workspace}`;
        if (!e.queued) return head;
        if (e.run_id) this.queuedRuns.add(e.run_id);
        return `${head}\n${this.prefix(e)} ${this.paint(C.yellow, '⧗ queued')} ${this.paint(C.dim, `waiting for a goal slot (${e.goals_running ?? '?'} running; AAOS_MAX_CONCURRENT_GOALS)`)}`;
      }
      case 'RunStarted': {
        const wasQueued = e.run_id !== undefined && this.queuedRuns.delete(e.run_id);
        if (!wasQueued && !this.opts.verbose) return null;
        return `${this.prefix(e)} ${this.paint(C.bold, '▶ running')}${wasQueued ? ` ${this.paint(C.dim, `after ${(e.queued_ms / 1000).toFixed(2)}s queued`)}` : ''}`;
      }
      case 'AgentSpawned':
        this.depth.set(e.agent_id, e.depth);
        return `${this.prefix(e)} ${this.paint(C.green, '+ spawned')} ${this.paint(C.dim, `(${e.model}, depth ${e.depth}, ${e.lifecycle})`)}`;
      case 'ToolInvoked':
        return `${this.prefix(e)} → ${this.paint(C.blue, e.tool)} ${this.paint(C.dim, e.args_preview)}`;
      case 'ToolResult':
        return e.success
          ? this.opts.verbose
            ? `${this.prefix(e)} ← ${e.tool} ok ${this.paint(C.dim, `${e.duration_ms} ms`)}`
            : null
          : `${this.prefix(e)} ${this.paint(C.yellow, `✗ ${e.tool} failed`)} ${this.paint(C.dim, e.result_preview)}`;
      case 'CapabilityDenied':
        return `${this.prefix(e)} ${this.paint(C.red, '⛔ DENIED')} ${e.capability} — ${e.reason}`;
      case 'CapabilityGranted':
        return this.opts.verbose ? `${this.prefix(e)} ${this.paint(C.dim, `grant ${e.capability}`)}` : null;
      case 'CapabilityRevoked':
        return this.opts.verbose
          ? `${this.prefix(e)} ${this.paint(C.dim, `revoke ${e.capability} (${e.reason})`)}`
          : null;
      case 'AgentFailed':
        return `${this.prefix(e)} ${this.paint(C.red, '✗ FAILED')} ${e.reason}`;
      case 'AgentStopped':
        return this.opts.verbose ? `${this.prefix(e)} ${this.paint(C.dim, `stopped (${e.reason})`)}` : null;
      case 'AgentExecutionCompleted':
        return `${this.prefix(e)} ${e.stop_reason === 'complete' ? this.paint(C.green, '✓ answered') : this.paint(C.yellow, `■ ${e.stop_reason}`)}${e.error ? ` ${this.paint(C.red, e.error)}` : ''} ${this.paint(C.dim, `${e.total_iterations} iterations, ${e.input_tokens + e.output_tokens} tokens`)}`;
      case 'MessageSent':
        return `${this.prefix(e)} ✉ ${e.method} → ${e.to}`;
      case 'ToolRepeatGuardFired':
        return `${this.prefix(e)} ${this.paint(C.red, '⟳ stopped: tool repeat guard')} ${e.tool} called ${e.attempt_count} times with the same input`;
      case 'ChildRetried':
        return `${this.prefix(e)} ${this.paint(C.yellow, `↻ retrying child ${e.child_name}`)} ${this.paint(C.dim, e.original_error)}`;
      case 'BudgetExceeded':
        return `${this.prefix(e)} ${this.paint(C.red, '$ budget exceeded')} ${e.used_tokens}/${e.max_tokens} tokens`;
      case 'HumanApprovalRequested':
        return `${this.prefix(e)} ${this.paint(C.magenta, '? approval needed')} ${e.tool} (id ${e.approval_id}) ${this.paint(C.dim, e.input_preview)}`;
      case 'HumanApprovalGranted':
        return `${this.prefix(e)} ${this.paint(C.green, '✓ approved')} ${e.tool}`;
      case 'HumanApprovalDenied':
        return `${this.prefix(e)} ${this.paint(C.red, '✗ approval denied')} ${e.tool}: ${e.reason}`;
      case 'HumanApprovalTimedOut':
        return `${this.prefix(e)} ${this.paint(C.red, '✗ approval timed out')} ${e.tool}`;
      case 'InferenceRetried':
        return `${this.prefix(e)} ${this.paint(C.yellow, `↻ ${e.provider} retry ${e.attempt}`)} in ${e.delay_ms} ms (${e.reason})`;
      case 'ContextSummarized':
        return `${this.prefix(e)} ${this.paint(C.dim, `context summarised (${e.messages_summarized} messages)`)}`;
      case 'RunCompleted': {
        const ok = e.status === 'completed';
        return [
          `${this.prefix(e)} ${ok ? this.paint(C.green, '■ run completed') : this.paint(C.red, `■ run ${e.status}`)} ${e.run_id ?? ''} in ${(e.elapsed_ms / 1000).toFixed(2)}s`,
          ...this.plan.summary(),
          `${' '.repeat(9)}${e.result_preview}`,
        ].join('\n');
      }
      default:
        return this.opts.verbose ? `${this.prefix(e)} ${this.paint(C.dim, e.type)}` : null;
    }
  }
}
