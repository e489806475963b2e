// CPU time of the calling process's main thread (the supervisor thread), in ns.
//
// process.cpuUsage() counts every thread of the process, workers included, so it cannot
// say what the supervisor alone spent. Linux keeps per-thread scheduler statistics in
// /proc/self/task/<tid>/schedstat (first field: ns spent on a CPU); the main thread's tid
// is the pid. Returns null where that file does not exist (not Linux, /proc not mounted).

import { readFileSync } from 'node:fs';

const FILE = `/proc/self/task/${process.pid}/schedstat`;

export function mainThreadCpuNs() {
  try {
    const first = readFileSync(FILE, 'utf8').split(' ', 1)[0];
    const ns = Number(first);
    return Number.isFinite(ns) ? ns : null;
  } catch {
    return null;
  }
}
