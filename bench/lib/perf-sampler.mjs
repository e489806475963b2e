// On-CPU samples of the supervisor (main) thread with Linux `perf`, around chosen stretches.
//
// The inspector's profiler (lib/profile.mjs) samples wall time: on a shared 2-core box a
// thread descheduled inside postMessage is charged to postMessage. `perf record -t <tid>`
// samples only while the thread is on a CPU, so its shares add up to the thread's CPU time
// (the same quantity as supervisor_cpu_ms_per_child). JS frames get names when node runs
// with --perf-basic-prof-only-functions. Summarise with `node bench/lib/perf-sampler.mjs
// <files…> [top]` (self time by nearest JS frame, and inclusive time per JS function).

import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * null when perf is not installed or not allowed. `all`: every thread of the process (the
 * supervisor and the agents' workers), to see where a fan-out's CPU goes beyond the supervisor.
 */
export function startPerfSampler(base, { hz = 1999, all = false } = {}) {
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  let i = 0;
  const files = [];
  return {
    files,
    async around(fn) {
      const file = `${base}.${++i}.perf.data`;
      const child = spawn(
        'perf',
        ['record', '-q', '-F', String(hz), '-g', all ? '-p' : '-t', String(process.pid), '-o', file],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, 300)); // perf attaches
      try {
        return await fn();
      } finally {
        child.kill('SIGINT');
        await exited;
        files.push(file);
      }
    },
  };
}

const clean = (sym) =>
  sym
    .replace(/\+0x[0-9a-f]+$/, '')
    .replace(/^JS:[\^*~+]?/, '')
    .replace(/file:\/\/\/\S*?\/(dist\/src\/|node_modules\/|bench\/)/, '$1')
    .replace(/^dist\/src\//, '');

/** Aggregates `perf script` text: self share by nearest JS frame, inclusive share per JS function. */
function summarisePerfScript(text, top = 40) {
  const self = new Map();
  const incl = new Map();
  const threads = new Map();
  let total = 0;
  for (const sample of text.split('\n\n')) {
    const frames = [];
    // header: `<comm> <pid>/<tid> …`; the supervisor is the thread whose tid is the pid
    const head = sample.match(/^\s*\S.*?\s(\d+)\/(\d+)\s/);
    const thread = head
      ? head[1] === head[2]
        ? 'supervisor (main thread)'
        : 'other threads (agents, V8, libuv)'
      : '?';
    for (const line of sample.split('\n')) {
      const m = line.match(/^\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)$/);
      if (m) frames.push(m[1]);
    }
    if (frames.length === 0) continue;
    total++;
    threads.set(thread, (threads.get(thread) ?? 0) + 1);
    const js = frames.filter((f) => f.startsWith('JS:'));
    const key = js.length ? clean(js[0]) : `(native) ${clean(frames[0])}`;
    self.set(key, (self.get(key) ?? 0) + 1);
    for (const name of new Set(js.map(clean))) incl.set(name, (incl.get(name) ?? 0) + 1);
  }
  const rows = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, n]) => ({ fn, share: n / total }));
  return { samples: total, threads: rows(threads), self: rows(self), inclusive: rows(incl) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2).filter((a) => !/^\d+$/.test(a));
  const top = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 40);
  const text = files
    .map((f) =>
      execFileSync('perf', ['script', '-F', 'comm,pid,tid,ip,sym,dso', '-i', f], {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    )
    .join('\n\n');
  const s = summarisePerfScript(text, top);
  for (const [title, rows] of [
    ['threads', s.threads],
    ['self (nearest JS frame)', s.self],
    ['inclusive', s.inclusive],
  ]) {
    console.log(`== ${title}, ${s.samples} on-CPU samples`);
    for (const r of rows) console.log(`${(100 * r.share).toFixed(1).padStart(5)}%  ${r.fn.slice(0, 140)}`);
  }
}
