// Helpers shared by the runtime suites (spawn, tool_call, router, fanout, memory_query):
// a Runtime in a throw-away data dir, scripted-model files written at run time, and a
// few probes into the built runtime. Everything is imported from dist/ (importDist).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { importDist, BENCH_DIR } from './suite.mjs';
import { sleep } from './stats.mjs';

/** file URL of a bench-only agent module in bench/agents/ */
export const agentModuleUrl = (name) => pathToFileURL(path.join(BENCH_DIR, 'agents', `${name}.mjs`)).href;

/** The model port of a bare `Supervisor` whose agents never call a model (tool_call, router). */
export const stubModels = {
  registerAgent() {},
  releaseAgent() {},
  cancelAgent() {},
  maxContextTokens: () => 1000,
  complete: async () => {
    throw new Error('no model in this bench');
  },
};

/** A temp dir for one suite; `cleanup()` removes it. */
export function tempDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `aaos-bench-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Writes a scripted-model file. JSON is valid YAML, so the script is written as JSON
 * (no quoting surprises in the manifests it may carry). Returns its absolute path.
 */
export function writeScript(dir, name, script) {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, JSON.stringify(script, null, 1));
  return file;
}

/** Manifest YAML (as JSON) for a bench agent. */
export function manifestYaml({ name, model, capabilities = [], systemPrompt = 'bench agent', limits }) {
  const m = { name, model, system_prompt: systemPrompt, capabilities };
  if (limits) m.limits = limits;
  return JSON.stringify(m);
}

/**
 * Opens the real composition root (Runtime: LMDB store with the durable audit sink, model
 * gateway with its scheduler, all built-in tools) in a temp data dir.
 */
export async function openRuntime({ dataDir, env = {}, warmWorkers, maxAgents, maxDepth } = {}) {
  const { Runtime } = await importDist('src/runtime/runtime.js');
  const fullEnv = {
    PATH: process.env.PATH ?? '',
    HOME: dataDir,
    AAOS_PARK_IDLE_MS: '0',
    ...(process.env.AAOS_WORKER_NICE ? { AAOS_WORKER_NICE: process.env.AAOS_WORKER_NICE } : {}),
    ...env,
  };
  const runtime = await Runtime.open({
    dataDir,
    env: fullEnv,
    ...(warmWorkers !== undefined ? { warmWorkers } : {}),
    ...(maxAgents !== undefined ? { maxAgents } : {}),
    ...(maxDepth !== undefined ? { maxDepth } : {}),
  });
  return runtime;
}

/** Waits until the warm pool holds `n` ready workers (bounded), then lets the box settle. */
export async function waitWarm(supervisor, n, { timeoutMs = 60_000, settleMs = 150 } = {}) {
  const t0 = Date.now();
  while (supervisor.warmWorkers < n) {
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`warm pool reached only ${supervisor.warmWorkers}/${n} workers in ${timeoutMs} ms`);
    await sleep(20);
  }
  await sleep(settleMs);
  return Date.now() - t0;
}

/** Stops agents one at a time (bulk termination right after a burst can abort Node 20). */
export async function stopAll(supervisor, ids) {
  for (const id of ids) await supervisor.stop(id, 'bench done');
}

/** Process RSS in MB after a main-thread gc. */
export async function settledRssMb(settleMs = 300) {
  await sleep(settleMs);
  globalThis.gc?.();
  await sleep(20);
  globalThis.gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

/**
 * Samples how long the supervisor's event loop is blocked: a 1 ms interval timer, max lag.
 * Used to report supervisor stalls (e.g. while workers boot).
 */
export function loopLagProbe() {
  let max = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const lag = now - last - 1;
    if (lag > max) max = lag;
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return max;
    },
  };
}
