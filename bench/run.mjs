#!/usr/bin/env node
// aaos benchmark runner.
//
//   node bench/run.mjs [--quick] [--json] [--only a,b] [--timeout-s N]
//
// Discovers suites as bench/suites/*.mjs and runs each in a fresh child process
// (`node --expose-gc bench/suites/<name>.mjs [--quick]`), so one suite cannot pollute or
// crash another. Each suite prints one JSON object as its last stdout line (contract in
// lib/suite.mjs). The runner merges them into one report (schema in bench/README.md),
// computes ratios from whatever is present, prints a human table (or, with --json, the
// report as the last stdout line), and always writes bench/results/<ISO timestamp>.json.
// Exit status: 0 when every suite ran or was skipped, 1 when any suite failed.

import { spawn } from 'node:child_process';
import { readdirSync, mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, fmtSpread, sig } from './lib/stats.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const SUITES_DIR = path.join(BENCH_DIR, 'suites');
const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const SCHEMA = 'aaos-bench/1';

// Baselines a suite's figures are divided by; they must come from the same run, so
// selecting a suite with --only pulls its baselines in. Unknown (new) suites default to raw.
const BASELINES = {
  raw: [],
  peers: [],
  spawn: ['raw'],
  tool_call: ['raw'],
  router: ['raw'],
  fanout: ['peers'],
  memory_query: [],
  actors: [],
  cluster: [],
};
// [quick, full] time limits of suites that need more than the default 100 s / 1800 s.
// fanout: the pool of N pre-started workers refills between reps (after the run, no longer beside it): N = 500
// boots 500 workers per rep, over a minute on a loaded box
const SUITE_TIMEOUT_S = { cluster: [900, 3600], fanout: [300, 3600] };
// Baselines first, then everything else in name order.
const ORDER = ['raw', 'peers'];

function parseCli(argv) {
  const opts = { quick: false, json: false, only: null, timeoutS: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--json') opts.json = true;
    else if (a === '--only')
      opts.only = String(argv[++i] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a.startsWith('--only='))
      opts.only = a
        .slice(7)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a === '--timeout-s') opts.timeoutS = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node bench/run.mjs [--quick] [--json] [--only a,b] [--timeout-s N]\n');
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  return opts;
}

function discoverSuites() {
  const names = readdirSync(SUITES_DIR)
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => f.slice(0, -4));
  return names.sort((a, b) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    return a.localeCompare(b);
  });
}

function selectSuites(all, only, notes) {
  if (!only) return all;
  const unknown = only.filter((s) => !all.includes(s));
  if (unknown.length) notes.push(`--only: no such suite(s): ${unknown.join(', ')} (have: ${all.join(', ')})`);
  const want = new Set(only.filter((s) => all.includes(s)));
  for (const s of [...want]) {
    for (const base of BASELINES[s] ?? ['raw']) {
      if (!want.has(base) && all.includes(base)) {
        want.add(base);
        notes.push(`added baseline suite '${base}' for '${s}': ratios need a baseline from the same run`);
      }
    }
  }
  return all.filter((s) => want.has(s));
}

/** Busy and total jiffies from /proc/stat (null where unavailable). */
function cpuJiffies() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Busy cores over the next `ms` (from /proc/stat), or null. */
async function busyCores(ms = 500) {
  const a = cpuJiffies();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuJiffies();
  if (!a || !b || b.total === a.total) return null;
  return ((b.busy - a.busy) / (b.total - a.total)) * os.cpus().length;
}

/**
 * Waits (bounded) until the box is quiet before a suite, like the reference measurements
 * did. The box is shared with processes this one cannot see; when they do not go away the
 * suite runs anyway and the report says how busy the box was.
 */
async function waitForIdle(maxWaitS, threshold = 0.3) {
  const t0 = Date.now();
  let busy = await busyCores();
  while (busy !== null && busy > threshold && Date.now() - t0 < maxWaitS * 1000) {
    busy = await busyCores(1000);
  }
  return { busy_cores_before: busy === null ? null : sig(busy, 2), idle_wait_s: sig((Date.now() - t0) / 1000, 2) };
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? null,
    cpu_mhz: cpus[0]?.speed ?? null,
    total_mem_mb: Math.round(os.totalmem() / 2 ** 20),
    free_mem_mb: Math.round(os.freemem() / 2 ** 20),
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    node: process.version,
    v8: process.versions.v8,
    uv: process.versions.uv,
    loadavg_before: os.loadavg().map((v) => sig(v, 3)),
  };
}

function lastJsonLine(text) {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith('{')) continue;
    try {
      return JSON.parse(lines[i]);
    } catch {
      return null;
    }
  }
  return null;
}

function runSuiteProcess(name, { quick, timeoutS, echoStderr }) {
  const file = path.join(SUITES_DIR, `${name}.mjs`);
  const args = ['--expose-gc', file];
  if (quick) args.push('--quick');
  const j0 = cpuJiffies();
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: path.dirname(BENCH_DIR), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      if (echoStderr) process.stderr.write(d);
      stderrTail = (stderrTail + d).slice(-4000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const j1 = cpuJiffies();
      const out = lastJsonLine(stdout);
      const status = { suite: name, exit_code: code, signal, wall_ms: sig(wallMs) };
      if (timedOut) status.error = `timed out after ${timeoutS} s`;
      else if (!out) {
        const errLines = stderrTail.split('\n').filter((l) => /^\s*(\w*Error\b|Uncaught|FATAL|Assertion)/.test(l));
        const why = errLines.length
          ? errLines[errLines.length - 1].trim()
          : stderrTail.trim().split('\n').slice(-3).join(' | ');
        status.error = `crashed without a result line (exit ${code}${signal ? `, ${signal}` : ''}): ${why}`;
      } else if (!out.ok) status.error = out.error;
      // Foreign CPU = busy CPU of the whole box minus what the suite process itself used.
      if (j0 && j1 && out?.cpu_ms !== undefined && wallMs > 0) {
        const hz = 100; // USER_HZ is 100 on Linux
        const busyMs = ((j1.busy - j0.busy) / hz) * 1000;
        status.cpu_ms = sig(out.cpu_ms);
        status.foreign_cpu_cores = sig(Math.max(0, (busyMs - out.cpu_ms) / wallMs), 2);
      }
      resolve({ status, out: status.error ? null : out });
    });
  });
}

function rowKey(r) {
  return `${r.children}/${r.model_latency_ms}`;
}

/** Merges suite outputs into the report: objects merge by key, fanout rows by (children, L). */
function merge(report, out) {
  for (const [key, value] of Object.entries(out.results ?? {})) {
    if (key === 'fanout' && Array.isArray(value)) {
      for (const row of value) {
        const existing = report.fanout.find((r) => rowKey(r) === rowKey(row));
        if (existing) {
          for (const [k, v] of Object.entries(row)) {
            if (k === 'spread' || k === 'checks') existing[k] = { ...(existing[k] ?? {}), ...v };
            else if (v !== null || existing[k] === undefined) existing[k] = v;
          }
        } else {
          report.fanout.push({ ...row });
        }
      }
    } else if (value && typeof value === 'object' && !Array.isArray(value)) {
      report[key] = { ...(report[key] ?? {}), ...value };
    } else if (value !== null || report[key] === undefined) {
      report[key] = value;
    }
  }
  Object.assign(report.spread, out.spread ?? {});
  // Suites key their details by report group already (details.raw, details.peers, …).
  for (const [k, v] of Object.entries(out.details ?? {})) report.details[k] = { ...(report.details[k] ?? {}), ...v };
  for (const n of out.notes ?? []) report.notes.push(`${out.suite}: ${n}`);
}

const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? sig(a / b, 3) : null);

function computeRatios(report) {
  const g = (obj, k) => (obj && typeof obj[k] === 'number' ? obj[k] : null);
  const r = {
    tool_call_rtt_over_port_rtt: ratio(g(report.tool_call, 'rtt_us_p50'), g(report.raw, 'port_rtt_us_p50')),
    tool_call_p99_over_port_p99: ratio(g(report.tool_call, 'rtt_us_p99'), g(report.raw, 'port_rtt_us_p99')),
    router_rtt_over_relay_rtt: ratio(g(report.router, 'rtt_us_p50'), g(report.raw, 'relay_rtt_us_p50')),
    router_p99_over_relay_p99: ratio(g(report.router, 'rtt_us_p99'), g(report.raw, 'relay_rtt_us_p99')),
    router_envelopes_over_port_flood: ratio(
      g(report.router, 'envelopes_per_s'),
      g(report.raw, 'port_flood_msgs_per_s'),
    ),
    spawn_rate_over_raw: ratio(g(report.spawn, 'agents_per_s'), g(report.raw, 'worker_spawns_per_s')),
    spawn_p50_over_raw: ratio(g(report.spawn, 'p50_ms'), g(report.raw, 'worker_spawn_ms_p50')),
    fanout_wall_over_ideal: {},
    fanout_over_faster_peer: {},
    peer_wall_over_ideal: {},
  };
  for (const row of report.fanout) {
    const k = `n${row.children}_l${row.model_latency_ms}`;
    // At L = 0 the ideal is 0 ms, so the ratio is undefined; absolute ms are in the row.
    if (row.ideal_ms > 0) {
      r.fanout_wall_over_ideal[k] = ratio(row.wall_ms, row.ideal_ms);
      r.peer_wall_over_ideal[k] = {
        openai_agents: ratio(row.openai_agents_ms, row.ideal_ms),
        langgraph: ratio(row.langgraph_ms, row.ideal_ms),
      };
    }
    const peers = [row.openai_agents_ms, row.langgraph_ms].filter((v) => typeof v === 'number');
    r.fanout_over_faster_peer[k] = peers.length ? ratio(row.wall_ms, Math.min(...peers)) : null;
  }
  return r;
}

/** The suites each ratio is computed from (a ratio is only as good as both of its sides). */
const RATIO_SUITES = {
  tool_call_rtt_over_port_rtt: ['tool_call', 'raw'],
  tool_call_p99_over_port_p99: ['tool_call', 'raw'],
  router_rtt_over_relay_rtt: ['router', 'raw'],
  router_p99_over_relay_p99: ['router', 'raw'],
  router_envelopes_over_port_flood: ['router', 'raw'],
  spawn_rate_over_raw: ['spawn', 'raw'],
  spawn_p50_over_raw: ['spawn', 'raw'],
  fanout_wall_over_ideal: ['fanout'],
  fanout_over_faster_peer: ['fanout', 'peers'],
  peer_wall_over_ideal: ['peers'],
};

/** Foreign CPU above which a suite's figures (and every ratio using them) are marked disturbed. */
const DISTURBED_CORES = 0.2;

/** ratio key → why it is suspect, for every ratio one of whose suites ran on a busy box. */
function disturbedRatios(report) {
  const out = {};
  for (const [key, suites] of Object.entries(RATIO_SUITES)) {
    const busy = suites.filter((s) => report.suites[s]?.foreign_cpu_cores > DISTURBED_CORES);
    if (busy.length)
      out[key] = busy.map((s) => `${s}: foreign CPU ${report.suites[s].foreign_cpu_cores} cores`).join('; ');
  }
  return out;
}

function emptyReport(opts, machine, startedAt) {
  return {
    schema: SCHEMA,
    started_at: startedAt,
    finished_at: null,
    quick: opts.quick,
    only: opts.only,
    machine,
    suites: {},
    raw: {},
    spawn: null,
    tool_call: null,
    router: null,
    fanout: [],
    memory_query: null,
    actors: null,
    peers_skipped_reason: null,
    ratios: {},
    ratios_disturbed: {},
    spread: {},
    details: {},
    notes: [],
  };
}

function finalizeFanout(report) {
  report.fanout.sort((a, b) => a.children - b.children || a.model_latency_ms - b.model_latency_ms);
  for (const row of report.fanout) {
    // Keep the documented key set on every row; runtime columns stay null until its suite exists.
    row.ideal_ms ??= null;
    row.wall_ms ??= null;
    row.supervisor_cpu_ms_per_child ??= null;
    row.openai_agents_ms ??= null;
    row.langgraph_ms ??= null;
  }
}

function printTable(report) {
  const w = (s, n) => String(s).padEnd(n);
  const lines = [];
  const m = report.machine;
  lines.push(`aaos bench ${report.quick ? '(quick) ' : ''}${report.started_at}`);
  lines.push(`machine: ${m.cpus}× ${m.cpu_model}, node ${m.node}, load before ${m.loadavg_before.join(' ')}`);
  lines.push('');
  lines.push('suites:');
  for (const s of Object.values(report.suites)) {
    const state = s.error ? `FAILED: ${s.error}` : s.skipped ? `skipped: ${s.skipped}` : 'ok';
    const foreign = s.foreign_cpu_cores !== undefined ? `, foreign CPU ${s.foreign_cpu_cores} cores` : '';
    lines.push(`  ${w(s.suite, 14)} ${w(`${fmt(s.wall_ms / 1000)} s`, 9)} ${state}${foreign}`);
  }
  lines.push('');
  lines.push('figures (median (min–max) across repetitions):');
  for (const group of ['raw', 'spawn', 'tool_call', 'router', 'memory_query', 'actors']) {
    const obj = report[group];
    if (!obj || !Object.keys(obj).length) {
      lines.push(`  ${w(group, 40)} –`);
      continue;
    }
    for (const [k, v] of Object.entries(obj)) {
      if (Array.isArray(v)) {
        // per-size rows (memory_query.sizes): one line each
        for (const row of v)
          lines.push(
            `  ${w(`${group}.${k}[${row.records ?? ''}]`, 40)} ${Object.entries(row)
              .map(([rk, rv]) => `${rk} ${fmt(rv)}`)
              .join(', ')}`,
          );
        continue;
      }
      const s = report.spread[`${group}.${k}`];
      lines.push(`  ${w(`${group}.${k}`, 40)} ${s ? fmtSpread(s) : fmt(v)}`);
    }
  }
  if (report.fanout.length) {
    lines.push('');
    lines.push('fan-out (ms, median (min–max)):');
    lines.push(
      `  ${w('N', 5)} ${w('L', 4)} ${w('ideal', 7)} ${w('aaos', 20)} ${w('sup CPU ms/child', 18)} ${w('openai_agents', 24)} ${w('langgraph', 24)}`,
    );
    for (const r of report.fanout) {
      const cell = (k) => (r.spread?.[k] ? fmtSpread(r.spread[k]) : fmt(r[k]));
      lines.push(
        `  ${w(r.children, 5)} ${w(r.model_latency_ms, 4)} ${w(fmt(r.ideal_ms), 7)} ${w(cell('wall_ms'), 20)} ${w(fmt(r.supervisor_cpu_ms_per_child), 18)} ${w(cell('openai_agents_ms'), 24)} ${w(cell('langgraph_ms'), 24)}`,
      );
    }
    if (report.peers_skipped_reason) lines.push(`  peers skipped: ${report.peers_skipped_reason}`);
  }
  if (Array.isArray(report.cluster) && report.cluster.length) {
    lines.push('');
    lines.push('cluster (fan-out of N children at L = 50 ms; goals per second over G goals):');
    lines.push(`  ${w('nodes', 10)} ${w('fan-out ms', 12)} ${w('G goals ms', 12)} goals/s`);
    for (const r of report.cluster)
      lines.push(
        `  ${w(r.nodes, 10)} ${w(fmt(r.fanout_wall_ms), 12)} ${w(fmt(r.goals_wall_ms), 12)} ${fmt(r.goals_per_s)}`,
      );
  }
  lines.push('');
  lines.push('ratios (same run; ! = a suite behind it ran on a busy box, see the notes):');
  const mark = (k) => (report.ratios_disturbed[k] ? ' !' : '');
  for (const [k, v] of Object.entries(report.ratios)) {
    if (v && typeof v === 'object') {
      const entries = Object.entries(v);
      if (!entries.length) lines.push(`  ${w(k, 40)} –`);
      for (const [kk, vv] of entries) {
        const val =
          vv && typeof vv === 'object'
            ? Object.entries(vv)
                .map(([a, b]) => `${a} ${fmt(b)}`)
                .join(', ')
            : fmt(vv);
        lines.push(`  ${w(`${k}.${kk}`, 40)} ${val}${mark(k)}`);
      }
    } else lines.push(`  ${w(k, 40)} ${fmt(v)}${mark(k)}`);
  }
  if (report.notes.length) {
    lines.push('');
    lines.push('notes:');
    for (const n of report.notes) lines.push(`  - ${n}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  const opts = parseCli(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const report = emptyReport(opts, machine, startedAt);
  const suites = selectSuites(discoverSuites(), opts.only, report.notes);
  const timeoutS = opts.timeoutS ?? (opts.quick ? 100 : 1800);
  // suites that start several processes per configuration need longer (a per-suite default; --timeout-s wins)
  const timeoutFor = (name) => opts.timeoutS ?? SUITE_TIMEOUT_S[name]?.[opts.quick ? 0 : 1] ?? timeoutS;
  if (!existsSync(path.join(path.dirname(BENCH_DIR), 'dist'))) {
    report.notes.push('dist/ not found: runtime suites will skip (run `npm run build`)');
  }

  for (const name of suites) {
    const idle = await waitForIdle(opts.quick ? 5 : 60);
    process.stderr.write(
      `== suite ${name} (busy cores before: ${idle.busy_cores_before}, waited ${idle.idle_wait_s} s)\n`,
    );
    const { status, out } = await runSuiteProcess(name, {
      quick: opts.quick,
      timeoutS: timeoutFor(name),
      echoStderr: true,
    });
    if (out?.skipped) status.skipped = out.skipped;
    Object.assign(status, idle);
    report.suites[name] = status;
    if (status.error) process.stderr.write(`== suite ${name} FAILED: ${status.error}\n`);
    if (status.foreign_cpu_cores > DISTURBED_CORES) {
      report.notes.push(
        `${name}: other processes used ${status.foreign_cpu_cores} cores during the suite; its figures may be low`,
      );
    }
    if (out) merge(report, out);
  }

  finalizeFanout(report);
  report.ratios = computeRatios(report);
  report.ratios_disturbed = disturbedRatios(report);
  report.machine.loadavg_after = os.loadavg().map((v) => sig(v, 3));
  report.finished_at = new Date().toISOString();

  mkdirSync(RESULTS_DIR, { recursive: true });
  // ISO 8601 basic format: sortable and free of ':' (which some filesystems refuse).
  const stamp = startedAt.replace(/[-:]/g, '');
  const file = path.join(RESULTS_DIR, `${stamp}${opts.quick ? '-quick' : ''}.json`);
  report.results_file = path.relative(path.dirname(BENCH_DIR), file);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    printTable(report);
    process.stdout.write(`\nwritten: ${report.results_file}\n`);
  }
  process.exitCode = Object.values(report.suites).some((s) => s.error) ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`bench runner failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
