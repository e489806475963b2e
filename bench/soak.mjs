#!/usr/bin/env node
// kill -9 soak: K cycles of load + `kill -9` + restart against the built daemon (dist/).
//
//   npm run soak -- [--cycles K] [--goals N] [--min-kill-ms A] [--max-kill-ms B] [--latency-ms L] [--json]
//
// Each cycle starts `agentd run` on one data dir, submits N goals (each acknowledged only
// once it is in the run store), waits a random A..B ms, and kills the daemon with SIGKILL.
// After the last cycle the daemon starts once more and every acknowledged run must end.
// Each goal run inserts one line naming its run into a ledger file (bench/lib/ledger-agent.mjs),
// so a side effect that happened twice is counted. Reported: goals acknowledged, completed,
// failed, lost (acknowledged, but unknown or unfinished at the end), runs whose side effect
// was repeated, and completed runs without it (a call the kill cut off, reported to the
// model as interrupted, per its RunReplayed event). Exit status 1 when a goal was lost, a
// side effect repeated, or a completed run lacks its side effect without such a report.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ledgerCounts, writeLedgerBootstrap } from './lib/ledger-agent.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const AGENTD = path.join(ROOT, 'dist', 'src', 'cli', 'agentd.js');

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`--${name} needs a number ≥ 0, got ${JSON.stringify(process.argv[at + 1])}`);
    process.exit(2);
  }
  return value;
}

const CYCLES = option('cycles', 10);
const GOALS = option('goals', 8);
const MIN_KILL_MS = option('min-kill-ms', 500);
const MAX_KILL_MS = option('max-kill-ms', 3000);
const LATENCY_MS = option('latency-ms', 150);
const JSON_OUT = process.argv.includes('--json');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts the daemon; resolves once it listens. */
async function startDaemon(dataDir, manifest) {
  const socket = path.join(dataDir, 'run', 'agentd.sock');
  const child = spawn(
    process.execPath,
    [AGENTD, 'run', '--data-dir', dataDir, '--socket', socket, '--bootstrap', manifest],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, AAOS_MAX_CONCURRENT_GOALS: '4', AAOS_PARK_IDLE_MS: '0' },
    },
  );
  let stderr = '';
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) resolve();
    });
    void exited.then(({ code }) => reject(new Error(`agentd exited with ${code} before listening:\n${stderr}`)));
  });
  return { child, socket, exited, stderr: () => stderr };
}

/** A minimal JSON-RPC client: call() resolves with the result or rejects with the error. */
async function client(socketPath) {
  const sock = connect({ path: socketPath });
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.on('error', () => {});
  const pending = new Map();
  const streams = new Map();
  let nextId = 1;
  createInterface({ input: sock }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.kind) {
      const stream = streams.get(msg.stream);
      if (msg.kind === 'event') stream?.events.push(msg.event);
      if (msg.kind === 'end') stream?.done(stream.events);
      return;
    }
    const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(Object.assign(new Error(msg.error.message), { data: msg.error.data }));
    else p.resolve(msg.result);
  });
  sock.on('close', () => {
    for (const p of pending.values()) p.reject(new Error('connection closed'));
    pending.clear();
  });
  return {
    call(method, params) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        sock.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
      });
    },
    /** every stored audit event of a run, oldest first */
    logs(runId) {
      const id = nextId;
      const events = new Promise((resolve) => streams.set(id, { events: [], done: resolve }));
      return this.call('agent.logs_streaming', { run_id: runId }).then(() => events);
    },
    close: () => sock.destroy(),
  };
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'interrupted']);

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'aaos-soak-'));
  const { manifest, ledger } = writeLedgerBootstrap(dataDir, LATENCY_MS);
  const acknowledged = [];
  const started = Date.now();
  let killedMidRun = 0;
  try {
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const daemon = await startDaemon(dataDir, manifest);
      const rpc = await client(daemon.socket);
      // goals are submitted one by one; each counts once the daemon acknowledged it
      for (let i = 0; i < GOALS; i++) {
        try {
          const ack = await rpc.call('agent.submit_streaming', { goal: `soak cycle ${cycle} goal ${i}` });
          acknowledged.push(ack.run_id);
        } catch (err) {
          console.error(`cycle ${cycle}: goal ${i} not acknowledged: ${err.message}`);
        }
      }
      await sleep(MIN_KILL_MS + Math.random() * (MAX_KILL_MS - MIN_KILL_MS));
      const runs = await rpc.call('run.list', { state: 'running', limit: 1000 }).catch(() => ({ runs: [] }));
      killedMidRun += (runs.runs ?? []).filter((r) => r.state === 'running').length;
      daemon.child.kill('SIGKILL');
      await daemon.exited;
      rpc.close();
      if (!JSON_OUT) process.stderr.write(`cycle ${cycle}/${CYCLES}: ${acknowledged.length} acknowledged so far\n`);
    }

    // the last start: every acknowledged run must end
    const daemon = await startDaemon(dataDir, manifest);
    const rpc = await client(daemon.socket);
    const final = new Map();
    const deadline = Date.now() + Math.max(120_000, acknowledged.length * 2_000);
    for (const runId of acknowledged) {
      for (;;) {
        const status = await rpc
          .call('run.status', { run_id: runId })
          .catch((err) => ({ state: `unknown (${err.message})` }));
        if (TERMINAL.has(status.state) || Date.now() > deadline) {
          final.set(runId, status.state);
          break;
        }
        await sleep(200);
      }
    }
    // a completed run without its side effect must be one whose call the kill cut off
    const counts = ledgerCounts(ledger);
    let unexplained = 0;
    for (const id of acknowledged.filter((r) => final.get(r) === 'completed' && (counts.get(r) ?? 0) === 0)) {
      const events = await rpc.logs(id);
      if (!events.some((e) => e.type === 'RunReplayed' && e.interrupted.length > 0)) unexplained++;
    }
    rpc.close();
    daemon.child.kill('SIGTERM');
    await daemon.exited;

    const states = [...final.values()];
    const report = {
      cycles: CYCLES,
      goals_per_cycle: GOALS,
      kill_after_ms: [MIN_KILL_MS, MAX_KILL_MS],
      model_latency_ms: LATENCY_MS,
      acknowledged: acknowledged.length,
      running_when_killed: killedMidRun,
      completed: states.filter((s) => s === 'completed').length,
      failed: states.filter((s) => s !== 'completed' && TERMINAL.has(s)).length,
      lost: states.filter((s) => !TERMINAL.has(s)).length,
      side_effects_repeated: acknowledged.filter((id) => (counts.get(id) ?? 0) > 1).length,
      // a non-idempotent call cut off by the kill is reported to the model as interrupted and not re-made
      completed_without_side_effect: acknowledged.filter(
        (id) => final.get(id) === 'completed' && (counts.get(id) ?? 0) === 0,
      ).length,
      // …and of those, runs with no call reported as interrupted (a bug if ever above 0)
      without_side_effect_unexplained: unexplained,
      elapsed_s: Math.round((Date.now() - started) / 1000),
    };
    if (JSON_OUT) console.log(JSON.stringify(report));
    else {
      console.log(
        `kill -9 soak: ${report.cycles} cycles × ${report.goals_per_cycle} goals, kill after ${MIN_KILL_MS}-${MAX_KILL_MS} ms`,
      );
      for (const [k, v] of Object.entries(report))
        console.log(`  ${k.padEnd(32)} ${Array.isArray(v) ? v.join('-') : v}`);
    }
    return report.lost === 0 && report.side_effects_repeated === 0 && report.without_side_effect_unexplained === 0
      ? 0
      : 1;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
