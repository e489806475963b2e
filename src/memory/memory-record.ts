import { z } from 'zod';

export const MEMORY_RECORD_V = 1;

export const MemoryCategory = z.enum(['fact', 'observation', 'decision', 'preference']);
export type MemoryCategory = z.infer<typeof MemoryCategory>;

/**
 * One episodic memory as persisted, private to `agent_id`. The embedding is stored as the raw
 * little-endian float32 bytes of the vector; `embedding_model` + `dims` name its vector space.
 */
export const MemoryRecord = z
  .object({
    v: z.literal(MEMORY_RECORD_V),
    id: z.string().min(1),
    agent_id: z.string().min(1),
    content: z.string(),
    category: MemoryCategory,
    /** ISO-8601 */
    created_at: z.string(),
    /** ISO-8601; a query hit refreshes it (least-recently-used eviction) */
    last_used_at: z.string(),
    embedding: z.instanceof(Uint8Array),
    embedding_model: z.string(),
    dims: z.number().int().positive(),
    /** id of the memory this one superseded */
    replaces: z.string().optional(),
  })
  .refine((r) => r.embedding.byteLength === r.dims * 4, {
    message: 'embedding size does not match dims',
    path: ['embedding'],
  });
export type MemoryRecord = z.infer<typeof MemoryRecord>;

/** A memory as callers see it: everything but the vector. */
export type MemoryView = Omit<MemoryRecord, 'v' | 'embedding'>;

export function encodeEmbedding(vector: Float32Array): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < vector.length; i++) view.setFloat32(i * 4, vector[i] ?? 0, true);
  return bytes;
}

/** Decodes into `target` at `offset` (floats), so loading fills a matrix without a temporary. */
export function decodeEmbeddingInto(bytes: Uint8Array, target: Float32Array, offset: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength >>> 2;
  for (let i = 0; i < n; i++) target[offset + i] = view.getFloat32(i * 4, true);
}

export function toView(record: MemoryRecord): MemoryView {
  const { v: _v, embedding: _embedding, ...view } = record;
  return view;
}
