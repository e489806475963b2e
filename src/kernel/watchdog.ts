import { readSetting, type EnvRecord } from '../config/config.js';

/** How the supervisor watches a worker while it has work, and how long one run may take. */
export interface WatchdogLimits {
  /** a worker with work that leaves a liveness ping unanswered this long is terminated; 0 = no pings */
  livenessMs: number;
  /** a run still going after this long is cancelled (AAOS_ERR_RUN_TIMEOUT); 0 = no limit */
  runTimeoutMs: number;
}

/** The defaults of the settings table (60 s, 6 h). */
export const DEFAULT_WATCHDOG_LIMITS: WatchdogLimits = watchdogLimitsFromEnv({});

/** AAOS_WORKER_LIVENESS_MS and AAOS_RUN_TIMEOUT_MS; 0 turns either off. */
export function watchdogLimitsFromEnv(env: EnvRecord): WatchdogLimits {
  return {
    livenessMs: readSetting(env, 'AAOS_WORKER_LIVENESS_MS'),
    runTimeoutMs: readSetting(env, 'AAOS_RUN_TIMEOUT_MS'),
  };
}

/**
 * Liveness of one worker: while it has work, a ping goes out every quarter of the limit
 * and each must be answered (by the worker host, whatever the hosted module is doing)
 * within `livenessMs`. A worker whose event loop does not turn — a busy loop, a
 * synchronous wait — cannot answer, and `onDead` is called once.
 */
export class LivenessWatch {
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  /** the unanswered ping: its number and when it was sent */
  private outstanding: { seq: number; sentAt: number } | undefined;
  private dead = false;

  constructor(
    private readonly livenessMs: number,
    private readonly ping: (seq: number) => void,
    private readonly onDead: (silentMs: number) => void,
  ) {}

  /** Start watching (idempotent); call when the worker gets work. */
  start(): void {
    if (this.livenessMs <= 0 || this.timer || this.dead) return;
    this.outstanding = undefined;
    this.timer = setInterval(() => this.tick(), Math.max(25, Math.floor(this.livenessMs / 4)));
    this.timer.unref();
  }

  /** Stop watching; call when the worker has no work left or is gone. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.outstanding = undefined;
  }

  pong(seq: number): void {
    if (this.outstanding?.seq === seq) this.outstanding = undefined;
  }

  private tick(): void {
    const pending = this.outstanding;
    if (!pending) {
      this.outstanding = { seq: ++this.seq, sentAt: Date.now() };
      this.ping(this.seq);
      return;
    }
    if (Date.now() - pending.sentAt < this.livenessMs) return;
    // Timers run before the poll phase: when the supervisor itself was busy, the pong may be
    // waiting in the port. Judge only after the pending messages of this turn are handled.
    setImmediate(() => {
      if (this.dead || !this.timer || this.outstanding !== pending) return;
      this.dead = true;
      const silent = Date.now() - pending.sentAt;
      this.stop();
      this.onDead(silent);
    });
  }
}
