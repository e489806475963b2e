// The fan-out workload, defined once so that the peer runtimes (suites/peers.mjs) and
// aaos itself (a future suites/fanout.mjs) run exactly the same script.
//
// A root agent fans out to N children. Each child makes CHILD_TOOL_CALLS calls to an
// `echo` tool, one per model turn, then answers. Every model call is a fake that waits
// L ms and never touches the network. Model calls:
//   root:  1 (decide the fan-out: N tool/child calls in one turn) + 1 (final answer)
//   child: CHILD_TOOL_CALLS (one tool call per turn) + 1 (final answer)
// The ideal wall time is the critical path of model latency:
//   (ROOT_MODEL_CALLS + CHILD_MODEL_CALLS) × L = (2 + 4) × L.

import { sleep } from './stats.mjs';

export const CHILD_TOOL_CALLS = 3;
const CHILD_MODEL_CALLS = CHILD_TOOL_CALLS + 1;
const ROOT_MODEL_CALLS = 2;
export const ECHO_TOOL = 'echo';

export const idealMs = (latencyMs) => (ROOT_MODEL_CALLS + CHILD_MODEL_CALLS) * latencyMs;

/**
 * Grid of (children, latency) and repetitions (fewer for the slow N ≥ 500 runs, which are
 * measured at L = 50 only: their question is whether the supervisor keeps up with N
 * children, and at L = 0 there is no ideal to compare with).
 */
export function fanoutConfig(quick) {
  return quick
    ? { children: [10, 100, 500], latenciesMs: [0, 50], reps: 2, repsLarge: 1, largeFrom: 500, warmup: 1 }
    : { children: [10, 100, 500, 1000], latenciesMs: [0, 50], reps: 5, repsLarge: 3, largeFrom: 500, warmup: 1 };
}

/** The latencies measured at n children (see fanoutConfig). */
export const latenciesFor = (cfg, n) => (n >= cfg.largeFrom ? cfg.latenciesMs.filter((l) => l > 0) : cfg.latenciesMs);

/**
 * Applies the command-line overrides every fan-out suite accepts:
 * --children 10,100  --latencies 0,50  --reps N  --warmup N
 */
export function applyFanoutFlags(cfg, flags) {
  const list = (v) => String(v).split(',').map(Number);
  if (flags.children) cfg.children = list(flags.children);
  if (flags.latencies !== undefined) {
    cfg.latenciesMs = list(flags.latencies);
    cfg.largeFrom = Number.POSITIVE_INFINITY; // explicit latencies apply to every N
  }
  if (flags.reps) cfg.reps = cfg.repsLarge = Number(flags.reps);
  if (flags.warmup !== undefined) cfg.warmup = Number(flags.warmup);
  return cfg;
}

/** Repetitions for a configuration with n children. */
export const repsFor = (cfg, n) => (n >= cfg.largeFrom ? Math.min(cfg.reps, cfg.repsLarge) : cfg.reps);

/** The text a child is asked to work on. */
export const childTask = (index) => `task ${index}`;

/** Extracts the child index back out of its task text (used to check that all N answered). */
export function childIndexOf(text) {
  const m = /task (\d+)/.exec(String(text));
  return m ? Number(m[1]) : -1;
}

/**
 * The child's scripted decision given how many tool results it has seen so far:
 * either {tool: {name, args}} or {final: text}.
 */
export function childTurn(taskText, toolResultsSoFar) {
  if (toolResultsSoFar < CHILD_TOOL_CALLS) {
    return { tool: { name: ECHO_TOOL, args: { text: `${taskText} step ${toolResultsSoFar + 1}` } } };
  }
  return { final: `done ${taskText}` };
}

/** The root's scripted decision: fan out to n children first, then answer. */
export function rootTurn(n, childResultsSoFar) {
  if (childResultsSoFar === 0) {
    return { fanout: Array.from({ length: n }, (_, i) => childTask(i)) };
  }
  return { final: `collected ${childResultsSoFar} child answers` };
}

/** The fake model's latency: L ms, or one event-loop turn for L = 0. */
const modelDelay = (latencyMs) => sleep(latencyMs);

/**
 * Counters every implementation increments, so the suite can prove the work was done
 * (and done concurrently) instead of trusting the framework.
 */
export class WorkloadCounters {
  constructor() {
    this.reset();
  }

  reset() {
    this.rootModelCalls = 0;
    this.childModelCalls = 0;
    this.toolCalls = 0;
    this.childInFlight = 0;
    this.maxChildInFlight = 0;
    this.childrenFinished = new Set();
  }

  /** Wraps one child model call so the peak number of concurrent calls is known. */
  async childModelCall(latencyMs) {
    this.childModelCalls++;
    this.childInFlight++;
    if (this.childInFlight > this.maxChildInFlight) this.maxChildInFlight = this.childInFlight;
    try {
      await modelDelay(latencyMs);
    } finally {
      this.childInFlight--;
    }
  }

  async rootModelCall(latencyMs) {
    this.rootModelCalls++;
    await modelDelay(latencyMs);
  }

  snapshot() {
    return {
      root_model_calls: this.rootModelCalls,
      child_model_calls: this.childModelCalls,
      tool_calls: this.toolCalls,
      children_finished: this.childrenFinished.size,
      max_concurrent_child_model_calls: this.maxChildInFlight,
    };
  }
}

/**
 * Throws unless the run did the whole workload: N × 3 tool calls, N × 4 child model
 * calls, 2 root calls, every child answered, and (for L > 0) children really overlapped.
 * A sequential implementation peaks at 1 concurrent child call; a concurrent one at ~N.
 */
/**
 * `minOverlap`: how many child model calls must have been in flight at once (default N/2, at
 * least 2). A runtime whose children each boot a fresh worker through a boot gate (the cold
 * runs) overlaps less on a loaded box without being sequential: it passes 2.
 */
export function verifyWorkload(label, counters, n, latencyMs, { minOverlap = Math.max(2, Math.ceil(n / 2)) } = {}) {
  const s = counters.snapshot();
  const problems = [];
  if (s.tool_calls !== n * CHILD_TOOL_CALLS) problems.push(`tool calls ${s.tool_calls} != ${n * CHILD_TOOL_CALLS}`);
  if (s.child_model_calls !== n * CHILD_MODEL_CALLS)
    problems.push(`child model calls ${s.child_model_calls} != ${n * CHILD_MODEL_CALLS}`);
  if (s.root_model_calls !== ROOT_MODEL_CALLS)
    problems.push(`root model calls ${s.root_model_calls} != ${ROOT_MODEL_CALLS}`);
  if (s.children_finished !== n) problems.push(`children finished ${s.children_finished} != ${n}`);
  if (latencyMs > 0 && n > 1 && s.max_concurrent_child_model_calls < minOverlap) {
    problems.push(
      `children did not run concurrently: peak ${s.max_concurrent_child_model_calls} concurrent child model calls < ${minOverlap}`,
    );
  }
  if (problems.length) {
    throw new Error(`${label} N=${n} L=${latencyMs}ms did not do the fan-out workload: ${problems.join('; ')}`);
  }
  return s;
}
