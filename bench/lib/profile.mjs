// CPU profile of the supervisor thread around chosen stretches only (the measured runs),
// not the whole suite process, so pool refills and set-up do not drown the hot path.
// Used by suites given `--profile <base>` (one `<base>.<i>.cpuprofile` per measured run); open
// them in Chrome DevTools or
// summarise them with `node bench/lib/profile.mjs <files…> [top]`.

import { Session } from 'node:inspector/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function startProfiler() {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  const profiles = [];
  return {
    /** profiles `fn` (one profile per call: node ids are not stable across profiles) */
    async around(fn) {
      await session.post('Profiler.start');
      try {
        return await fn();
      } finally {
        const { profile } = await session.post('Profiler.stop');
        profiles.push(profile);
      }
    },
    /** writes `<base>.<i>.cpuprofile` per profiled stretch; returns the file names */
    async save(base) {
      session.disconnect();
      const stem = base.replace(/\.cpuprofile$/, '');
      return profiles.map((profile, i) => {
        const file = `${stem}.${i + 1}.cpuprofile`;
        writeFileSync(file, JSON.stringify(profile));
        return file;
      });
    },
  };
}

/** Self time per function over several profiles, heaviest first (idle and GC included, as the profiler saw them). */
export function summarise(profiles, top = 40) {
  const time = new Map();
  let total = 0;
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0;
      total += dt;
      const cf = byId.get(id)?.callFrame;
      const key = cf
        ? `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`
        : '?';
      time.set(key, (time.get(key) ?? 0) + dt);
    });
  }
  const rows = [...time].sort((x, y) => y[1] - x[1]).slice(0, top);
  return { total_ms: total / 1000, rows: rows.map(([fn, us]) => ({ fn, ms: us / 1000, share: us / total })) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2).filter((a) => !/^\d+$/.test(a));
  const top = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 40);
  const s = summarise(
    files.map((f) => JSON.parse(readFileSync(f, 'utf8'))),
    top,
  );
  console.log(`total ${s.total_ms.toFixed(0)} ms`);
  for (const r of s.rows)
    console.log(`${r.ms.toFixed(1).padStart(8)} ${(100 * r.share).toFixed(1).padStart(5)}%  ${r.fn}`);
}
