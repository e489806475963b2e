// The contract between a suite file and bench/run.mjs.
//
// A suite is `bench/suites/<name>.mjs`, run as its own process:
//   node --expose-gc bench/suites/<name>.mjs [--quick]
// It prints progress to stderr and exactly one JSON object as the LAST line of
// stdout:
//   { suite, ok: true, results, spread, details, notes, cpu_ms, wall_ms }
//   { suite, ok: true, skipped: "<reason>", results: {}, ... }   (cannot run here)
//   { suite, ok: false, error: "<message>", stack }               (failed)
// `results` holds partial report objects keyed like the final report
// (raw.*, spawn.*, tool_call.*, router.*, fanout[], memory_query.*). Numbers
// in `results` are medians across repetitions; `spread` maps the same dotted
// keys ("raw.port_rtt_us_p50") to {median, min, max, n}. Fan-out rows carry
// their own `spread` field instead.

import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { nowNs, msSince } from './stats.mjs';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROOT_DIR = path.resolve(BENCH_DIR, '..');
// AAOS_BENCH_DIST points the suites at another build of the runtime (a directory named `dist`
// holding src/ and workers/, e.g. a snapshot made with `npx tsc -p tsconfig.json --outDir
// bench/.snap/dist` while dist/ is being rebuilt by someone else). Default: the project's dist/.
export const DIST_DIR = process.env.AAOS_BENCH_DIST
  ? path.resolve(process.env.AAOS_BENCH_DIST)
  : path.join(ROOT_DIR, 'dist');

/** Thrown by a suite (or importDist) when it cannot run on this checkout; reported, not failed. */
export class SkipSuite extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'SkipSuite';
  }
}

function parseArgs(argv = process.argv.slice(2)) {
  const args = { quick: false, flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a.startsWith('--')) {
      const [k, inline] = a.slice(2).split('=', 2);
      if (inline !== undefined) args.flags[k] = inline;
      else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) args.flags[k] = argv[++i];
      else args.flags[k] = true;
    }
  }
  return args;
}

/** Progress line on stderr, prefixed with the suite name. */
function log(suite, ...parts) {
  process.stderr.write(`[${suite}] ${parts.join(' ')}\n`);
}

/**
 * Imports a module from the built runtime (`dist/`), e.g. importDist('src/kernel/supervisor.js').
 * Benchmarks never import TS sources. Throws SkipSuite when the build output is missing so a
 * suite for a not-yet-written part of the runtime is reported as skipped.
 */
export async function importDist(rel) {
  const file = path.join(DIST_DIR, rel);
  if (!existsSync(file)) {
    throw new SkipSuite(
      `dist/${rel} not found (run \`npm run build\`, or that part of the runtime is not written yet)`,
    );
  }
  return import(pathToFileURL(file).href);
}

/**
 * Runs a suite body and prints its result line. `body({quick, flags, log})` returns
 * {results, spread?, details?, notes?}.
 */
export async function runSuite(name, body) {
  const args = parseArgs();
  const t0 = nowNs();
  const cpu0 = process.cpuUsage();
  let out;
  try {
    const r = await body({ ...args, log: (...p) => log(name, ...p) });
    out = {
      suite: name,
      ok: true,
      quick: args.quick,
      results: r.results ?? {},
      spread: r.spread ?? {},
      details: r.details ?? {},
      notes: r.notes ?? [],
    };
    if (r.skipped) out.skipped = r.skipped;
  } catch (err) {
    if (err instanceof SkipSuite) {
      out = {
        suite: name,
        ok: true,
        quick: args.quick,
        skipped: err.message,
        results: {},
        spread: {},
        details: {},
        notes: [],
      };
    } else {
      out = {
        suite: name,
        ok: false,
        quick: args.quick,
        error: String(err?.message ?? err),
        stack: err?.stack ?? null,
      };
    }
  }
  const cpu = process.cpuUsage(cpu0);
  out.cpu_ms = (cpu.user + cpu.system) / 1000;
  out.wall_ms = msSince(t0);
  // Exactly one JSON object on the last stdout line; the runner reads only that line.
  process.stdout.write(`\n${JSON.stringify(out)}\n`, () => process.exit(out.ok ? 0 : 1));
}
