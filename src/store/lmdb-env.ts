import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, TransactionFlags, type Database, type RootDatabase } from 'lmdb';
import { AaosError, ErrorCode, isAaosError } from '../errors/index.js';

/** Every named sub-database of the one LMDB environment. */
export const STORE_DBS = [
  'sessions',
  'archives',
  'memory',
  'runs',
  'agents',
  'audit',
  'audit_by_agent',
  'audit_by_run',
  'approvals',
  'capabilities',
  'journal',
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
  let root: RootDatabase<unknown, StoreKey>;
  try {
    mkdirSync(path, { recursive: true });
    root = open<unknown, StoreKey>({ path, maxDbs: STORE_DBS.length + 4 });
  } catch (err) {
    throw new AaosError(ErrorCode.STORE, `cannot open the store at ${path}: ${err instanceof Error ? err.message : String(err)}`, { path }, { cause: err });
  }
  const dbs = new Map<StoreDbName, Database<unknown, StoreKey>>();
  for (const name of STORE_DBS) dbs.set(name, root.openDB<unknown, StoreKey>({ name }));
  let closed = false;
  const onInvalid =
    options.onInvalid ??
    ((issue: RecordIssue) => process.emitWarning(`unreadable ${issue.db} record ${issue.key}: ${issue.reason}`, 'AaosStoreWarning'));

  const ensureOpen = (operation: string): void => {
    if (closed) throw new AaosError(ErrorCode.STORE, `store ${operation} failed: the store at ${path} is closed`, { operation, path });
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
      const flags =
        txOptions.flush === false
          ? TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT | TransactionFlags.NO_SYNC_FLUSH
          : TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT;
      try {
        return root.transactionSync(fn, flags);
      } catch (err) {
        throw storeFailure('write', err);
      }
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
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await root.close();
    },
  };
}
