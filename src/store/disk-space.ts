import { statfsSync } from 'node:fs';

/** With less headroom than this over the reserve, every write reads the free space afresh. */
const NEAR_FULL_BYTES = 256 * 1024 * 1024;
/** With more, a reading is reused for this long (a statfs costs a few microseconds). */
const REUSE_MS = 50;

/** Whether the store's filesystem has room for another write. */
export interface SpaceGuard {
  /** undefined when a write may go ahead; otherwise why not */
  shortage(): string | undefined;
}

const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);

/**
 * Keeps writes away from a full disk. lmdb's native out-of-space path is not safe: on a
 * failed page write it formats its error message into a buffer too small for it, which
 * corrupts the heap and aborts the process at some later allocation (seen as
 * `corrupted size vs. prev_size` after `Write error: No space left on device`). So the
 * store refuses a write itself while free space is below `reserveBytes`, and LMDB never
 * meets ENOSPC unless something else fills the disk between our check and its commit.
 * A reserve of 0 turns the guard off.
 */
export function spaceGuard(path: string, reserveBytes: number, now: () => number = Date.now): SpaceGuard {
  let free = Number.POSITIVE_INFINITY;
  let readAt = Number.NEGATIVE_INFINITY;
  return {
    shortage(): string | undefined {
      if (reserveBytes <= 0) return undefined;
      const t = now();
      if (free - reserveBytes < NEAR_FULL_BYTES || t - readAt >= REUSE_MS) {
        try {
          const s = statfsSync(path);
          free = s.bavail * s.bsize;
          readAt = t;
        } catch {
          // the size cannot be read (an exotic filesystem): let LMDB find out
          return undefined;
        }
      }
      if (free >= reserveBytes) return undefined;
      return `only ${mib(free)} MiB free on the filesystem of ${path}, below the reserve of ${mib(reserveBytes)} MiB (AAOS_STORE_MIN_FREE_MB)`;
    },
  };
}
