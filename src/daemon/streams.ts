import type { ApprovalEvent } from '../approvals/approval-queue.js';
import type { AuditEvent } from '../audit/event.js';
import type { RunRecord, RunState } from '../store/run-store.js';
import type { Connection } from './connection.js';
import type { RpcId } from './jsonrpc.js';
import type { ApprovalDesk, AuditFeed } from '../runtime/views.js';

/** The frame format's version, sent as `v` in every frame (docs/api.md, "Streams"). */
export const STREAM_FRAME_VERSION = 1;

/** Output queued for a client beyond which its stream's events are skipped and counted (a `lag` frame). */
export const STREAM_LAG_BYTES = 1024 * 1024;

/**
 * Frames a stream writes after the method's response. `stream` is the id of the request
 * that opened it (null for `agentd run --json`, which has no request).
 */
export type StreamFrame =
  | { kind: 'event'; stream: RpcId | null; event: AuditEvent }
  | {
      kind: 'end';
      stream: RpcId | null;
      run_id: string;
      status: RunState;
      /** 0 completed, 1 failed/cancelled/interrupted, null while the run has not ended */
      exit_code: 0 | 1 | null;
      /** the run's answer (null when it has none) */
      final_text: string | null;
      result: string | null;
      usage: { input_tokens: number; output_tokens: number } | null;
      elapsed_ms: number | null;
      error?: { code: string; message: string };
    }
  | { kind: 'end'; stream: RpcId | null; agent_id: string; status: string; exit_code: 0 | 1 | null }
  | { kind: 'lag'; stream: RpcId | null; missed: number }
  | { kind: 'approval'; stream: RpcId | null; event: ApprovalEvent };

/** A frame as written: with the format version first. */
export function versioned(frame: StreamFrame): StreamFrame & { v: number } {
  return { v: STREAM_FRAME_VERSION, ...frame };
}

const TERMINAL: ReadonlySet<RunState> = new Set(['completed', 'failed', 'cancelled', 'interrupted']);

export function isTerminalRun(state: RunState): boolean {
  return TERMINAL.has(state);
}

/**
 * Frames for one stream on one connection. Frames produced before `start()` are held
 * (the method's response must be the first line); after `close()` nothing is sent and
 * every subscription is released, whether the stream ended or the client went away.
 */
export class FrameStream {
  private held: StreamFrame[] | undefined = [];
  private readonly cleanups: Array<() => void> = [];
  /** no more frames are accepted (the last one was pushed, or the client left) */
  private sealed = false;
  /** nothing more is sent */
  private ended = false;
  private removeCloseHook: () => void = () => {};
  /** events skipped while the client was behind, reported by the next `lag` frame */
  private missed = 0;

  constructor(
    private readonly conn: Connection,
    readonly id: RpcId,
  ) {
    this.removeCloseHook = conn.onClose(() => {
      this.sealed = true;
      this.finalize();
    });
  }

  /** Registers something to undo when the stream ends (an unsubscribe). */
  own(cleanup: () => void): void {
    if (this.sealed) cleanup();
    else this.cleanups.push(cleanup);
  }

  push(frame: StreamFrame): void {
    if (this.sealed) return;
    if (this.held) this.held.push(frame);
    else this.send(frame);
  }

  /**
   * A client that falls behind (more than STREAM_LAG_BYTES waiting for it) misses events
   * rather than making the daemon buffer them; the next frame it gets says how many.
   * Other frames (`end`, `approval`) are always sent.
   */
  private send(frame: StreamFrame): void {
    if (frame.kind === 'event' && this.conn.queuedBytes > STREAM_LAG_BYTES) {
      this.missed++;
      return;
    }
    if (this.missed > 0) {
      this.conn.send(versioned({ kind: 'lag', stream: this.id, missed: this.missed }));
      this.missed = 0;
    }
    this.conn.send(versioned(frame));
  }

  /** The response is written: flush what was held and send live from now on. */
  start(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const frame of held) {
      if (this.ended) return;
      this.send(frame);
    }
    if (this.sealed) this.finalize();
  }

  /** The last frame was pushed: unsubscribe now; frames still held go out on start(). */
  close(): void {
    this.sealed = true;
    this.unsubscribe();
    if (!this.held) this.finalize();
  }

  get closed(): boolean {
    return this.sealed;
  }

  private unsubscribe(): void {
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch {
        // keep releasing the others
      }
    }
  }

  private finalize(): void {
    if (this.ended) return;
    this.ended = true;
    this.held = undefined;
    this.unsubscribe();
    this.removeCloseHook();
  }
}

export function endFrameForRun(stream: RpcId | null, rec: RunRecord): StreamFrame {
  const from = Date.parse(rec.started_at ?? rec.created_at);
  const to = rec.ended_at ? Date.parse(rec.ended_at) : undefined;
  return {
    kind: 'end',
    stream,
    run_id: rec.run_id,
    status: rec.state,
    exit_code: isTerminalRun(rec.state) ? (rec.state === 'completed' ? 0 : 1) : null,
    final_text: rec.result ?? null,
    result: rec.result ?? null,
    usage: rec.usage ?? null,
    elapsed_ms: to !== undefined && Number.isFinite(from) ? Math.max(0, to - from) : null,
    ...(rec.error ? { error: rec.error } : {}),
  };
}

/**
 * Replays the events still in memory that match, then (with `follow`) forwards live
 * ones. Taking the snapshot and subscribing in the same synchronous step means no
 * event can fall between them (no gap) or appear in both (no duplicate).
 */
export function replayAndFollow(
  audit: AuditFeed,
  stream: FrameStream,
  match: (e: AuditEvent) => boolean,
  follow: boolean,
  onLive?: (e: AuditEvent) => void,
  /** the durable history (survives restarts); default: what is still in memory */
  past?: () => AuditEvent[],
): void {
  const history = past ? past() : audit.recent(match);
  if (follow) {
    stream.own(
      audit.subscribe((e) => {
        if (!match(e)) return;
        stream.push({ kind: 'event', stream: stream.id, event: e });
        onLive?.(e);
      }),
    );
  }
  for (const e of history) stream.push({ kind: 'event', stream: stream.id, event: e });
}

/** Forwards approval requests and answers until the client goes away. */
export function followApprovals(approvals: ApprovalDesk, stream: FrameStream): void {
  stream.own(approvals.subscribe((event) => stream.push({ kind: 'approval', stream: stream.id, event })));
}
