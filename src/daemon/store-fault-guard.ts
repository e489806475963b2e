import { ErrorCode, isAaosError } from '../errors/index.js';

const STORE_FAULTS = new Set<string>([ErrorCode.STORE, ErrorCode.STORE_DEGRADED]);
const LOG_EVERY_MS = 10_000;

/** lmdb's failed asynchronous commit: every write promise of the batch, some made inside lmdb itself, rejects with it. */
function isFailedCommit(err: unknown): err is Error & { commitError: Promise<unknown> } {
  return err instanceof Error && 'commitError' in err && err.commitError instanceof Promise;
}

/**
 * The daemon's last line against a full disk: a store write that fails outside any
 * request (a timer, a background flush, a write lmdb makes on its own) surfaces as an
 * uncaught error or an unhandled rejection. A store failure is logged (at most every 10 s)
 * and the daemon goes on: the store reports itself degraded and recovers on its own.
 * Anything else still ends the process, with its stack, as Node would.
 */
export function guardStoreFaults(log: (line: string) => void): void {
  let lastLog = 0;
  let quiet = 0;
  const onError = (err: unknown): void => {
    if (isFailedCommit(err) || (isAaosError(err) && STORE_FAULTS.has(err.code))) {
      if (isFailedCommit(err)) err.commitError.catch(() => {});
      const now = Date.now();
      if (now - lastLog < LOG_EVERY_MS) {
        quiet += 1;
        return;
      }
      lastLog = now;
      const more = quiet > 0 ? ` (${quiet} more since the last report)` : '';
      quiet = 0;
      log(`agentd: a store write failed outside any request: ${err.message}${more}; the daemon goes on`);
      return;
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
}
