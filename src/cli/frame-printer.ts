import type { AuditEvent } from '../audit/event.js';
import type { StreamFrame } from './client.js';
import { useColor } from './color.js';
import { duration, truncate } from './format.js';
import { LiveView } from './live-view.js';

/**
 * Prints stream frames: NDJSON (`--json`, one frame per line, as received) or the
 * operator live view (colour only on a TTY), with a closing summary for a run.
 */
export class FramePrinter {
  private readonly view: LiveView | undefined;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly opts: { json: boolean; verbose?: boolean; origin?: number; timestamps?: boolean },
  ) {
    this.view = opts.json
      ? undefined
      : new LiveView({
          color: useColor(out),
          verbose: opts.verbose === true,
          ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
          ...(opts.timestamps ? { timestamps: true } : {}),
        });
  }

  print(frame: StreamFrame): void {
    if (this.opts.json) {
      this.out.write(`${JSON.stringify(frame)}\n`);
      return;
    }
    if (frame.kind === 'event') {
      const line = this.view!.format(frame['event'] as AuditEvent);
      if (line) this.out.write(`${line}\n`);
    } else if (frame.kind === 'end') {
      this.out.write(`${summary(frame)}\n`);
    } else if (frame.kind === 'approval') {
      this.out.write(`${approvalLine(frame['event'])}\n`);
    }
  }
}

function summary(frame: StreamFrame): string {
  if (typeof frame['run_id'] === 'string') {
    const elapsed = typeof frame['elapsed_ms'] === 'number' ? ` in ${duration(frame['elapsed_ms'])}` : '';
    const error = frame['error'] as { code?: string; message?: string } | undefined;
    const usage = frame['usage'] as { input_tokens: number; output_tokens: number } | null;
    const tokens = usage ? `, ${usage.input_tokens + usage.output_tokens} tokens` : '';
    const head = `run ${frame['run_id']} ${String(frame['status'])}${elapsed}${tokens}`;
    return error ? `${head}\n  ${error.code}: ${error.message}` : head;
  }
  return `agent ${String(frame['agent_id'])} ${String(frame['status'])}`;
}

/** One line per approval event (for `agentd approvals --watch`). */
function approvalLine(raw: unknown): string {
  const e = raw as {
    type?: string;
    approval?: Record<string, unknown>;
    id?: string;
    tool?: string;
    outcome?: string;
    reason?: string;
  };
  if (e.type === 'requested' && e.approval) {
    const a = e.approval;
    return `? ${String(a['id'])}  ${String(a['agent_name'])} wants ${String(a['tool'])} ${truncate(JSON.stringify(a['input']), 80)}  (agentd approve ${String(a['id'])})`;
  }
  return `${e.outcome === 'approved' ? '✓' : '✗'} ${e.id ?? ''}  ${e.tool ?? ''} ${e.outcome ?? ''}${e.reason ? `: ${e.reason}` : ''}`;
}
