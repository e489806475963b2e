// The load driver shared by the bench agents: one operation (a tool call, a routed request)
// run sequentially for round-trip samples, or pipelined for throughput. Both phases stop
// early after cfg.maxMs so a slow path cannot stall a suite.

/** A RunResult carrying the measurement in an extra `bench` field. */
export const benchResult = (runId, bench) => ({
  run_id: runId,
  response: 'ok',
  stop_reason: 'complete',
  iterations: 0,
  transcript: [],
  error: null,
  bench,
});

/** `warm` unmeasured calls, then at most `n` timed ones; returns RTT samples in µs. */
export async function sequential(cfg, op) {
  for (let i = 0; i < cfg.warm; i++) await op();
  const samples = [];
  const deadline = performance.now() + (cfg.maxMs ?? Infinity);
  for (let i = 0; i < cfg.n && performance.now() < deadline; i++) {
    const t0 = process.hrtime.bigint();
    await op();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  return samples;
}

/** `n` calls with `depth` in flight; returns {done, ms}. */
export async function pipelined(cfg, op) {
  let n = cfg.n;
  let started = 0;
  let done = 0;
  const t0 = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    const deadline = performance.now() + (cfg.maxMs ?? Infinity);
    const next = () => {
      // past the time bound: stop issuing; finish with what has been started
      if (started < n && performance.now() > deadline) n = started;
      if (started >= n) {
        if (done >= n) resolve();
        return;
      }
      started++;
      op().then(() => {
        done++;
        if (done >= n) resolve();
        else next();
      }, reject);
    };
    for (let i = 0; i < Math.min(cfg.depth, n); i++) next();
  });
  return { done, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}
