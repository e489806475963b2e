import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AaosError, ErrorCode } from '../errors/index.js';

/** LMDB's meta-page magic number (little-endian on disk). */
const LMDB_MAGIC = 0xbeefc0de;
/** page header sizes of the LMDB formats lmdb-js may write (0.9: 16 bytes; 1.0: 24 bytes) */
const HEADER_SIZES = [16, 24];

interface MetaPage {
  page: 0 | 1;
  version: number;
  pageSize: number;
  lastPage: number;
  txnId: bigint;
}

export interface StoreFileReport {
  /** `<store dir>/data.mdb` */
  path: string;
  state: 'missing' | 'empty' | 'ok';
  size: number;
  /** the meta page LMDB will use (the newer one) */
  meta?: MetaPage;
}

/**
 * Does the data dir show that a store existed before? Then a missing or empty data file
 * is a lost store, not a fresh start. LMDB leaves `lock.mdb` beside its data file, and
 * every goal ever run leaves a workspace directory.
 */
function dataDirHasHistory(dataDir: string, storeDir: string): boolean {
  if (existsSync(join(storeDir, 'lock.mdb'))) return true;
  try {
    return readdirSync(join(dataDir, 'workspace')).length > 0;
  } catch {
    return false;
  }
}

function corrupt(path: string, problem: string): AaosError {
  return new AaosError(
    ErrorCode.STORE_CORRUPT,
    `the store ${path} ${problem}; refusing to start on it. Restore it from a backup (agentd store backup), or move the store directory away to start empty`,
    { path, problem },
  );
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, position);
  return buf.subarray(0, n);
}

function parseMeta(fd: number, page: 0 | 1, pageSize: number | undefined, header: number): MetaPage | undefined {
  const base = page === 0 ? 0 : pageSize!;
  const buf = readAt(fd, base, header + 136);
  if (buf.length < header + 136 || buf.readUInt32LE(header) !== LMDB_MAGIC) return undefined;
  return {
    page,
    version: buf.readUInt32LE(header + 4),
    // the free-page DB's md_pad holds the page size
    pageSize: buf.readUInt32LE(header + 24),
    lastPage: Number(buf.readBigUInt64LE(header + 120)),
    txnId: buf.readBigUInt64LE(header + 128),
  };
}

/**
 * Checks LMDB's data file before anything maps it (a mapped file that is shorter than its
 * meta pages say kills the process with SIGBUS): its size, both meta pages (magic
 * 0xBEEFC0DE, version, page size) and that the newer meta's last page lies inside the
 * file. Throws STORE_CORRUPT naming the path and the problem: a truncated or garbage file,
 * or a missing or empty one when the data dir has history. Reads only; never writes.
 */
export function checkStoreFile(dataDir: string, storeDir: string): StoreFileReport {
  const path = join(storeDir, 'data.mdb');
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    if (dataDirHasHistory(dataDir, storeDir))
      throw corrupt(path, 'is missing although the data dir has history (lock.mdb or run workspaces)');
    return { path, state: 'missing', size: 0 };
  }
  if (size === 0) {
    if (dataDirHasHistory(dataDir, storeDir))
      throw corrupt(path, 'is empty (0 bytes) although the data dir has history (lock.mdb or run workspaces)');
    return { path, state: 'empty', size: 0 };
  }
  const fd = openSync(path, 'r');
  try {
    let header: number | undefined;
    let first: MetaPage | undefined;
    for (const h of HEADER_SIZES) {
      first = parseMeta(fd, 0, undefined, h);
      if (first) {
        header = h;
        break;
      }
    }
    if (!first || header === undefined)
      throw corrupt(path, `is not an LMDB data file (no meta page with magic 0xBEEFC0DE at its start; ${size} bytes)`);
    const pageSize = first.pageSize;
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
      throw corrupt(path, `has a damaged meta page 0 (page size ${pageSize})`);
    if (size < 2 * pageSize)
      throw corrupt(path, `is truncated (${size} bytes, shorter than its two ${pageSize}-byte meta pages)`);
    const second = parseMeta(fd, 1, pageSize, header);
    if (!second) throw corrupt(path, 'has a damaged meta page 1 (no magic 0xBEEFC0DE)');
    if (second.version !== first.version || second.pageSize !== pageSize)
      throw corrupt(path, 'has meta pages that disagree on version or page size');
    const meta = second.txnId > first.txnId ? second : first;
    const needed = (meta.lastPage + 1) * pageSize;
    if (size < needed) {
      throw corrupt(
        path,
        `is truncated (${size} bytes; its meta page ${meta.page}, transaction ${meta.txnId}, uses pages up to ${meta.lastPage}: ${needed} bytes)`,
      );
    }
    return { path, state: 'ok', size, meta };
  } finally {
    closeSync(fd);
  }
}
