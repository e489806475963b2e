import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, TransactionFlags, type Database, type RootDatabase } from 'lmdb';
import { AaosError, ErrorCode, isAaosError } from '../errors/index.js';
import { spaceGuard } from './disk-space.js';
import { checkStoreFile } from './store-check.js';

/** Every named sub-database of the one LMDB environment. */
export const STORE_DBS = [
  'sessions',
  'archives',
  'memory',
  // the memory index's compact copy of each memory (src/memory/index-entry.ts)
  'memory_index',
  'runs',
  'agents',
  'audit',
  'audit_by_agent',
  'audit_by_run',
  'approvals',
  'capabilities',
  'journal',
  // bookkeeping of the store itself (the write probe)
  'meta',
] as const;
export type StoreDbName = (typeof STORE_DBS)[number];

export type StoreKey = string | number;

/** A persisted record that could not be read (unknown schema version, failed validation). */
export interface RecordIssue {
  db: StoreDbName;
  key: string;
  reason: string;
  /** the `v` found in the record, when there was one */
  v?: unknown;
}

export interface StoreOptions {
  /** Called for every unreadable record a read meets; the supervisor audits it as SessionStoreError. */
  onInvalid?: (issue: RecordIssue) => void;
  /** Called when writes start failing (degraded) and when they work again. */
  onHealthChange?: (health: StoreHealth) => void;
  /** while degraded, try a small write this often to notice that space returned (default 5000 ms) */
  probeMs?: number;
  /** writes are refused while the store's filesystem has less free space than this (default 0: off); see disk-space.ts */
  minFreeBytes?: number;
  /** how long `close` waits for lmdb's pending writes (default 5000 ms); see `close` */
  closeDeadlineMs?: number;
  /** where `close` reports writes it gave up on (default: a process warning) */
  onCloseAbandoned?: (message: string) => void;
}

/** Whether the store can write. A failed commit (full disk, I/O error) makes it degraded until a write succeeds. */
export interface StoreHealth {
  writable: boolean;
  /** why writes fail (the first failure of this episode), while degraded */
  reason?: string;
  /** ISO time the current degraded episode began */
  since?: string;
  /** failed write transactions and batches since the store was opened */
  writeFailures: number;
}

export interface TransactionOptions {
  /**
   * false: commit before returning but let the disk flush overlap the next transaction.
   * For bookkeeping writes (LRU touches, audit appends) whose loss on power failure is harmless.
   */
  flush?: boolean;
}

export interface Store {
  /** `<dataDir>/store` */
  readonly path: string;
  readonly closed: boolean;
  db<V = unknown>(name: StoreDbName): Database<V, StoreKey>;
  /**
   * Runs `fn` in one synchronous write transaction: all its writes commit together or, if it
   * throws, none do. Nested calls join the outer transaction.
   */
  transaction<T>(fn: () => T, options?: TransactionOptions): T;
  /** Wraps a read so an LMDB failure surfaces as AAOS_ERR_STORE naming the operation. */
  read<T>(operation: string, fn: () => T): T;
  reportInvalid(issue: RecordIssue): void;
  health(): StoreHealth;
  /**
   * Throws AAOS_ERR_STORE (and the store turns degraded) when the disk is too full to write:
   * called before asynchronous puts, which `transaction` does not cover.
   */
  ensureSpace(operation: string): void;
  /** Records the outcome of a write made outside `transaction` (asynchronous puts). */
  noteWrite(operation: string, err?: unknown): void;
  /**
   * Waits for pending writes, then closes. Bounded: after a failed commit (a full disk) lmdb
   * can keep a write pending forever, and an unbounded wait left the process with nothing
   * but that promise, so it ended with exit code 0 in the middle of its shutdown.
   */
  close(): Promise<void>;
}

export function storeFailure(operation: string, err: unknown): AaosError {
  if (isAaosError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AaosError(ErrorCode.STORE, `store ${operation} failed: ${message}`, { operation }, { cause: err });
}

/**
 * Opens the LMDB environment at `<dataDir>/store` (created if missing). The supervisor thread
 * is the only user, so everything here is synchronous.
 */
export function openStore(dataDir: string, options: StoreOptions = {}): Store {
  const path = join(dataDir, 'store');
  // before LMDB maps the file: a short or garbage file would kill the process with SIGBUS
  checkStoreFile(dataDir, path);
  let root: RootDatabase<unknown, StoreKey>;
  try {
    mkdirSync(path, { recursive: true });
    root = open<unknown, StoreKey>({ path, maxDbs: STORE_DBS.length + 4 });
  } catch (err) {
    throw new AaosError(
      ErrorCode.STORE,
      `cannot open the store at ${path}: ${err instanceof Error ? err.message : String(err)}`,
      { path },
      { cause: err },
    );
  }
  const dbs = new Map<StoreDbName, Database<unknown, StoreKey>>();
  for (const name of STORE_DBS) dbs.set(name, root.openDB<unknown, StoreKey>({ name }));
  let closed = false;
  const onInvalid =
    options.onInvalid ??
    ((issue: RecordIssue) =>
      process.emitWarning(`unreadable ${issue.db} record ${issue.key}: ${issue.reason}`, 'AaosStoreWarning'));

  const space = spaceGuard(path, options.minFreeBytes ?? 0);
  let health: StoreHealth = { writable: true, writeFailures: 0 };
  let probeTimer: NodeJS.Timeout | undefined;
  const probeMs = options.probeMs ?? 5000;
  const setHealth = (next: StoreHealth): void => {
    const changed = next.writable !== health.writable;
    health = next;
    if (changed) options.onHealthChange?.({ ...next });
  };
  const noteSuccess = (): void => {
    if (health.writable) return;
    clearInterval(probeTimer);
    probeTimer = undefined;
    setHealth({ writable: true, writeFailures: health.writeFailures });
  };
  const noteFailure = (operation: string, err: unknown): void => {
    const failures = health.writeFailures + 1;
    if (!health.writable) {
      health = { ...health, writeFailures: failures };
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    setHealth({
      writable: false,
      reason: `store writes to ${path} fail (${operation}: ${message}; a full disk shows as this)`,
      since: new Date().toISOString(),
      writeFailures: failures,
    });
    // nobody may write for a while: notice on our own when space returns
    probeTimer = setInterval(() => {
      if (closed || space.shortage() !== undefined) return;
      try {
        root.transactionSync(
          () => dbs.get('meta')!.putSync('write-probe', new Date().toISOString()),
          TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT,
        );
        noteSuccess();
      } catch {
        // still failing
      }
    }, probeMs);
    probeTimer.unref();
  };

  const ensureSpace = (operation: string): void => {
    const shortage = space.shortage();
    if (shortage === undefined) return;
    noteFailure(operation, new Error(shortage));
    throw new AaosError(ErrorCode.STORE, `store ${operation} refused: ${shortage}`, { operation, path });
  };

  const ensureOpen = (operation: string): void => {
    if (closed)
      throw new AaosError(ErrorCode.STORE, `store ${operation} failed: the store at ${path} is closed`, {
        operation,
        path,
      });
  };

  return {
    path,
    get closed() {
      return closed;
    },
    db<V>(name: StoreDbName): Database<V, StoreKey> {
      ensureOpen(`open ${name}`);
      const db = dbs.get(name);
      if (!db) throw new AaosError(ErrorCode.INTERNAL, `unknown store database '${name}'`, { name });
      return db as Database<V, StoreKey>;
    },
    transaction<T>(fn: () => T, txOptions: TransactionOptions = {}): T {
      ensureOpen('transaction');
      ensureSpace('write');
      const flags =
        txOptions.flush === false
          ? TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT | TransactionFlags.NO_SYNC_FLUSH
          : TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT;
      let result: T;
      try {
        result = root.transactionSync(fn, flags);
      } catch (err) {
        // a failed commit is not the caller's bug: the store is degraded until a write succeeds
        if (!isAaosError(err)) noteFailure('write', err);
        throw storeFailure('write', err);
      }
      noteSuccess();
      return result;
    },
    read<T>(operation: string, fn: () => T): T {
      ensureOpen(operation);
      try {
        return fn();
      } catch (err) {
        throw storeFailure(operation, err);
      }
    },
    reportInvalid(issue: RecordIssue): void {
      onInvalid(issue);
    },
    health(): StoreHealth {
      return { ...health };
    },
    ensureSpace(operation: string): void {
      ensureOpen(operation);
      ensureSpace(operation);
    },
    noteWrite(operation: string, err?: unknown): void {
      if (err === undefined) noteSuccess();
      else noteFailure(operation, err);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(probeTimer);
      const deadlineMs = options.closeDeadlineMs ?? 5000;
      let timer: NodeJS.Timeout | undefined;
      // a referenced timer: it also keeps the event loop alive while we wait
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), deadlineMs);
      });
      const outcome = await Promise.race([root.close().then(() => 'closed' as const), expired]);
      clearTimeout(timer);
      if (outcome === 'expired') {
        const message = `store close gave up after ${deadlineMs} ms on writes still pending at ${path} (${health.writeFailures} failed writes since open); what was committed stays, LMDB needs no repair`;
        (options.onCloseAbandoned ?? ((m: string) => process.emitWarning(m, 'AaosStoreWarning')))(message);
      }
    },
  };
}
