// Small statistics and timing helpers shared by every suite.
// Percentiles use linear interpolation between closest ranks (type 7), which
// is stable for the small repetition counts benchmarks use (3–10 reps).

/** Current monotonic time in nanoseconds (bigint). */
export const nowNs = () => process.hrtime.bigint();

/** Milliseconds elapsed since `startNs` (a value from nowNs()). */
export const msSince = (startNs) => Number(process.hrtime.bigint() - startNs) / 1e6;

function sortedCopy(values) {
  const out = Float64Array.from(values);
  out.sort();
  return out;
}

/** p in [0, 100]. Returns NaN for an empty sample. */
function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = sortedCopy(values);
  return percentileSorted(s, p);
}

function percentileSorted(s, p) {
  if (s.length === 1) return s[0];
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

const median = (values) => percentile(values, 50);

/** Several percentiles in one sort: percentiles(samples, [50, 99]) → {p50, p99}. */
export function percentiles(values, ps) {
  const s = sortedCopy(values);
  const out = {};
  for (const p of ps) out[`p${p}`] = s.length ? percentileSorted(s, p) : NaN;
  return out;
}

/**
 * The headline form used in every report: median across repetitions plus the
 * min–max spread. `n` is the number of repetitions.
 */
export function spread(values) {
  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (finite.length === 0) return { median: null, min: null, max: null, n: 0 };
  let min = Infinity;
  let max = -Infinity;
  for (const v of finite) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { median: median(finite), min, max, n: finite.length };
}

/**
 * Runs `fn(i)` n times sequentially (awaiting each) and returns the results.
 * Sequential on purpose: concurrent repetitions would measure each other.
 */
export async function repeat(n, fn) {
  const results = [];
  for (let i = 0; i < n; i++) results.push(await fn(i));
  return results;
}

/**
 * Collapses a list of per-repetition result objects (same numeric keys) into
 * {key: spread}. Non-numeric keys are ignored.
 */
function spreadByKey(reps) {
  const keys = new Set();
  for (const r of reps) for (const [k, v] of Object.entries(r)) if (typeof v === 'number') keys.add(k);
  const out = {};
  for (const k of keys) out[k] = spread(reps.map((r) => r[k]));
  return out;
}

/** Rounds to `digits` significant digits, leaving null/NaN as null. For JSON output. */
export function sig(v, digits = 4) {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  if (v === 0) return 0;
  return Number(v.toPrecision(digits));
}

/** Human format: 3 significant digits with k/M suffixes. */
export function fmt(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (a >= 100) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}

/** "median (min–max)" for a spread object. */
export function fmtSpread(s) {
  if (!s || s.median === null) return '–';
  if (s.n <= 1) return fmt(s.median);
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

/** Promise-based sleep. Zero means "yield once to the event loop" (setImmediate). */
export function sleep(ms) {
  if (ms <= 0) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The report form of per-repetition results: the median of every numeric key, and
 * `spread["<group>.<key>"] = {median, min, max, n}` beside it.
 */
export function mediansOf(reps, group) {
  const results = {};
  const spreads = {};
  for (const [key, s] of Object.entries(spreadByKey(reps))) {
    results[key] = sig(s.median);
    spreads[`${group}.${key}`] = { median: sig(s.median), min: sig(s.min), max: sig(s.max), n: s.n };
  }
  return { results, spreads };
}

/**
 * The share of `withPart` that `withoutPart` does not explain: 1 − without / with, kept within
 * [0, 1]. Two medians measured apart can cross by noise (the bare path measured slower than the
 * full one), which would print a negative share; the clamped value comes with a note saying so.
 */
export function shareOf(withoutPart, withPart, label) {
  const raw = 1 - withoutPart / withPart;
  const share = sig(Math.min(1, Math.max(0, raw)), 3);
  const note =
    raw < 0 || raw > 1
      ? `${label}: raw share ${sig(raw, 3)} lies outside [0, 1] (the two medians crossed within their spread); reported as ${share}`
      : null;
  return { share, note };
}
