import type { MemoryCategory } from './memory-record.js';
import { categoryCode, categoryOfCode } from './memory-index.js';

/**
 * The compact copy of one memory that the index is loaded from on a cold start (db
 * `memory_index`, same key as the record, written in the same transaction): category, use
 * times and the vector's non-zero entries, without content or JSON-ish decoding. Layout
 * (little-endian): u8 version, u8 category, u8 flags (bit 0: dense values), u8 0,
 * u32 space tag, u32 dims, u32 count, f64 created ms, f64 last-used ms, then count × f32
 * values and, when sparse, count × u16 dimension indices.
 */
const INDEX_ENTRY_V = 1;
const HEADER = 32;
const DENSE = 1;

export interface IndexEntry {
  category: MemoryCategory;
  createdMs: number;
  lastUsedMs: number;
  /** tag of the vector space (model + dims) the vector belongs to */
  space: number;
  dims: number;
  /** dimension indices (undefined: dense, one value per dimension) */
  index: Uint16Array | undefined;
  value: Float32Array;
}

/** A 32-bit tag of a vector space, so a load can tell stale entries without the record. */
export function spaceTag(model: string, dims: number): number {
  let h = 0x811c9dc5;
  const text = `${model}\u0000${dims}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function encodeIndexEntry(
  category: MemoryCategory,
  createdMs: number,
  lastUsedMs: number,
  space: number,
  vector: Float32Array,
): Uint8Array<ArrayBuffer> {
  const dims = vector.length;
  let nnz = 0;
  for (let j = 0; j < dims; j++) if (vector[j] !== 0) nnz++;
  // sparse costs 6 bytes per non-zero, dense 4 per dimension
  const dense = dims > 0xffff || nnz * 6 >= dims * 4;
  const count = dense ? dims : nnz;
  const bytes = new Uint8Array(HEADER + count * (dense ? 4 : 6));
  const view = new DataView(bytes.buffer);
  view.setUint8(0, INDEX_ENTRY_V);
  view.setUint8(1, categoryCode(category));
  view.setUint8(2, dense ? DENSE : 0);
  view.setUint32(4, space, true);
  view.setUint32(8, dims, true);
  view.setUint32(12, count, true);
  view.setFloat64(16, createdMs, true);
  view.setFloat64(24, lastUsedMs, true);
  let k = 0;
  for (let j = 0; j < dims; j++) {
    const x = vector[j] as number;
    if (!dense && x === 0) continue;
    view.setFloat32(HEADER + k * 4, x, true);
    if (!dense) view.setUint16(HEADER + count * 4 + k * 2, j, true);
    k++;
  }
  return bytes;
}

/** The entry with its last-used time replaced (a copy). */
export function withLastUsed(entry: Uint8Array, lastUsedMs: number): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(entry.byteLength);
  copy.set(entry);
  new DataView(copy.buffer).setFloat64(24, lastUsedMs, true);
  return copy;
}

/**
 * Decodes and checks an entry; a string says what is wrong with it. The typed arrays returned
 * are views of `scratch` (grown as needed), valid until the next call with it.
 */
export function decodeIndexEntry(bytes: unknown, scratch: { buffer: ArrayBuffer }): IndexEntry | string {
  if (!(bytes instanceof Uint8Array)) return 'not a byte string';
  if (bytes.byteLength < HEADER) return `${bytes.byteLength} bytes, shorter than the ${HEADER}-byte header`;
  if (scratch.buffer.byteLength < bytes.byteLength) scratch.buffer = new ArrayBuffer(bytes.byteLength * 2);
  // an aligned copy, so the arrays can be typed views instead of per-value reads
  const raw = new Uint8Array(scratch.buffer, 0, bytes.byteLength);
  raw.set(bytes);
  const view = new DataView(scratch.buffer, 0, bytes.byteLength);
  const version = view.getUint8(0);
  if (version !== INDEX_ENTRY_V) return `version ${version}, expected ${INDEX_ENTRY_V}`;
  const category = categoryOfCode(view.getUint8(1));
  if (category === undefined) return `unknown category code ${view.getUint8(1)}`;
  const dense = (view.getUint8(2) & DENSE) !== 0;
  const dims = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  if (dims === 0 || (dense ? count !== dims : count > dims || dims > 0xffff))
    return `count ${count} does not fit ${dims} dimensions`;
  const expected = HEADER + count * (dense ? 4 : 6);
  if (bytes.byteLength !== expected) return `${bytes.byteLength} bytes, expected ${expected}`;
  const createdMs = view.getFloat64(16, true);
  const lastUsedMs = view.getFloat64(24, true);
  if (!Number.isFinite(createdMs) || !Number.isFinite(lastUsedMs)) return 'use times are not finite';
  const value = new Float32Array(scratch.buffer, HEADER, count);
  for (let k = 0; k < count; k++) if (!Number.isFinite(value[k] as number)) return `value ${k} is not finite`;
  let index: Uint16Array | undefined;
  if (!dense) {
    index = new Uint16Array(scratch.buffer, HEADER + count * 4, count);
    for (let k = 0; k < count; k++) if ((index[k] as number) >= dims) return `dimension ${index[k]} ≥ ${dims}`;
  }
  return { category, createdMs, lastUsedMs, space: view.getUint32(4, true), dims, index, value };
}
