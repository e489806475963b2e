import { AaosError, ErrorCode } from '../errors/index.js';
import { readSetting, type EnvRecord } from '../config/config.js';
import { abortReason } from './sleep.js';

export interface SchedulerLimits {
  /** calls in flight at once, per provider */
  maxConcurrent: number;
  /** minimum gap between two call starts, per provider */
  minDelayMs: number;
}

const DEFAULT_SCHEDULER_LIMITS: SchedulerLimits = schedulerLimitsFromEnv({});

/** AAOS_MAX_CONCURRENT_INFERENCE and AAOS_MIN_INFERENCE_DELAY_MS (defaults in the settings table); bad values are CONFIG_INVALID. */
export function schedulerLimitsFromEnv(env: EnvRecord): SchedulerLimits {
  return {
    maxConcurrent: readSetting(env, 'AAOS_MAX_CONCURRENT_INFERENCE'),
    minDelayMs: readSetting(env, 'AAOS_MIN_INFERENCE_DELAY_MS'),
  };
}

export interface SchedulerOptions {
  limits?: SchedulerLimits;
  /** per-provider overrides of `limits` (e.g. the local scripted model needs no rate limit) */
  laneLimits?: Record<string, SchedulerLimits>;
  clock?: () => number;
}

/**
 * Per-provider overrides from `AAOS_MAX_CONCURRENT_INFERENCE_<PROVIDER>` (e.g. _ANTHROPIC).
 * The offline scripted model is local and free, so its default is high (256); the others
 * inherit AAOS_MAX_CONCURRENT_INFERENCE.
 */
export function laneLimitsFromEnv(env: EnvRecord, base: SchedulerLimits): Record<string, SchedulerLimits> {
  const out: Record<string, SchedulerLimits> = {};
  for (const provider of ['anthropic', 'openai', 'deepseek', 'ollama', 'scripted'] as const) {
    const maxConcurrent =
      readSetting(env, `AAOS_MAX_CONCURRENT_INFERENCE_${provider.toUpperCase() as Uppercase<typeof provider>}`) ??
      base.maxConcurrent;
    out[provider] = { maxConcurrent, minDelayMs: provider === 'scripted' ? 0 : base.minDelayMs };
  }
  return out;
}

interface Job {
  providerId: string;
  agentId: string;
  task: (signal: AbortSignal) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  controller: AbortController;
  settled: boolean;
  detach: () => void;
}

interface ProviderLane {
  inFlight: Set<Job>;
  /** per-agent FIFO queues; Map order is the round-robin ring (served agent moves to the back) */
  queues: Map<string, Job[]>;
  pausedUntil: number;
  lastStart: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

export interface LaneStats {
  inFlight: number;
  queued: number;
  pausedUntil: number;
}

/**
 * One inference queue for the whole runtime. Per provider: at most `maxConcurrent`
 * calls in flight, starts at least `minDelayMs` apart, and a shared pause after a
 * rate limit. Agents are served round-robin from their own FIFO queues, so an agent
 * with fifty queued calls delays each other agent by at most one call per turn.
 */
export class InferenceScheduler {
  private readonly limits: SchedulerLimits;
  private readonly laneLimits: Record<string, SchedulerLimits>;
  private readonly clock: () => number;
  private readonly lanes = new Map<string, ProviderLane>();
  /** unsettled jobs (queued or in flight) per agent: every retiring agent asks, N children at once */
  private readonly unsettled = new Map<string, number>();

  constructor(options: SchedulerOptions = {}) {
    this.limits = options.limits ?? DEFAULT_SCHEDULER_LIMITS;
    this.laneLimits = options.laneLimits ?? {};
    this.clock = options.clock ?? Date.now;
    if (!(this.limits.maxConcurrent >= 1))
      throw new AaosError(ErrorCode.CONFIG_INVALID, 'scheduler maxConcurrent must be at least 1');
  }

  /**
   * Queue `task` for `agentId` on `providerId`. The task gets a signal that aborts when
   * the agent is cancelled or `signal` aborts; either rejects the returned promise with
   * CANCELLED at once (a queued task then never starts).
   */
  run<T>(
    providerId: string,
    agentId: string,
    task: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const controller = new AbortController();
      const job: Job = {
        providerId,
        agentId,
        task,
        resolve: resolve as (value: unknown) => void,
        reject,
        controller,
        settled: false,
        detach: () => {},
      };
      if (signal) {
        if (signal.aborted) {
          reject(abortReason(signal, `inference for agent ${agentId}`));
          return;
        }
        const onAbort = (): void => this.abortJob(job, abortReason(signal, `inference for agent ${agentId}`));
        signal.addEventListener('abort', onAbort, { once: true });
        job.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.unsettled.set(agentId, (this.unsettled.get(agentId) ?? 0) + 1);
      const lane = this.lane(providerId);
      const queue = lane.queues.get(agentId);
      if (queue) queue.push(job);
      else lane.queues.set(agentId, [job]);
      this.pump(providerId);
    });
  }

  /** Shared backoff: no call to `providerId` starts before `untilMs` (never shortens a pause). */
  pause(providerId: string, untilMs: number): void {
    const lane = this.lane(providerId);
    if (untilMs > lane.pausedUntil) {
      lane.pausedUntil = untilMs;
      this.disarm(lane);
      this.pump(providerId);
    }
  }

  /** Whether the agent has calls queued or in flight (on any provider). */
  hasQueued(agentId: string): boolean {
    return this.unsettled.has(agentId);
  }

  /** Rejects the agent's queued calls with CANCELLED now and aborts its in-flight ones; returns how many were hit. */
  cancelAgent(agentId: string, reason?: AaosError): number {
    const error =
      reason ??
      new AaosError(ErrorCode.CANCELLED, `inference for agent ${agentId} was cancelled`, { agent_id: agentId });
    let count = 0;
    for (const lane of this.lanes.values()) {
      const queue = lane.queues.get(agentId);
      if (queue) {
        lane.queues.delete(agentId);
        for (const job of queue) {
          this.settle(job, () => job.reject(error));
          count++;
        }
      }
      for (const job of [...lane.inFlight]) {
        if (job.agentId === agentId && !job.settled) {
          this.abortJob(job, error);
          count++;
        }
      }
    }
    return count;
  }

  stats(providerId: string): LaneStats {
    const lane = this.lanes.get(providerId);
    if (!lane) return { inFlight: 0, queued: 0, pausedUntil: 0 };
    let queued = 0;
    for (const queue of lane.queues.values()) queued += queue.length;
    return { inFlight: lane.inFlight.size, queued, pausedUntil: lane.pausedUntil };
  }

  private lane(providerId: string): ProviderLane {
    let lane = this.lanes.get(providerId);
    if (!lane) {
      lane = { inFlight: new Set(), queues: new Map(), pausedUntil: 0, lastStart: undefined, timer: undefined };
      this.lanes.set(providerId, lane);
    }
    return lane;
  }

  private settle(job: Job, action: () => void): void {
    if (job.settled) return;
    job.settled = true;
    const left = (this.unsettled.get(job.agentId) ?? 1) - 1;
    if (left > 0) this.unsettled.set(job.agentId, left);
    else this.unsettled.delete(job.agentId);
    job.detach();
    action();
  }

  private abortJob(job: Job, error: AaosError): void {
    if (job.settled) return;
    const lane = this.lanes.get(job.providerId);
    const queue = lane?.queues.get(job.agentId);
    const at = queue ? queue.indexOf(job) : -1;
    if (queue && at >= 0) {
      queue.splice(at, 1);
      if (queue.length === 0) lane?.queues.delete(job.agentId);
    }
    // in flight: the slot stays taken until the task really settles; the caller is released now
    job.controller.abort(error);
    this.settle(job, () => job.reject(error));
  }

  private disarm(lane: ProviderLane): void {
    if (lane.timer) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
    }
  }

  private pump(providerId: string): void {
    const lane = this.lane(providerId);
    const limits = this.laneLimits[providerId] ?? this.limits;
    while (lane.inFlight.size < limits.maxConcurrent && lane.queues.size > 0) {
      const now = this.clock();
      const gapEnd = lane.lastStart === undefined ? 0 : lane.lastStart + limits.minDelayMs;
      const readyAt = Math.max(lane.pausedUntil, gapEnd);
      if (now < readyAt) {
        if (!lane.timer) {
          // re-checked against the clock when it fires, so an early timer cannot start a call too soon
          lane.timer = setTimeout(
            () => {
              lane.timer = undefined;
              this.pump(providerId);
            },
            Math.max(1, readyAt - now),
          );
        }
        return;
      }
      const next = lane.queues.entries().next();
      if (next.done) return;
      const [agentId, queue] = next.value;
      const job = queue.shift();
      lane.queues.delete(agentId);
      if (queue.length > 0) lane.queues.set(agentId, queue);
      if (!job || job.settled) continue;
      this.start(lane, job, now);
    }
  }

  private start(lane: ProviderLane, job: Job, now: number): void {
    lane.inFlight.add(job);
    lane.lastStart = now;
    let promise: Promise<unknown>;
    try {
      promise = job.task(job.controller.signal);
    } catch (err) {
      promise = Promise.reject(err);
    }
    promise
      .then(
        (value) => this.settle(job, () => job.resolve(value)),
        (err: unknown) => this.settle(job, () => job.reject(err)),
      )
      .finally(() => {
        lane.inFlight.delete(job);
        this.pump(job.providerId);
      });
  }
}
