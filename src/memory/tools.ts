import { createHash } from 'node:crypto';
import { z } from 'zod';
import { auditHeader, type CallHeader } from '../audit/call-context.js';
import type { AuditInputOf } from '../audit/event.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import { defineTool, type Tool, type ToolContext } from '../tools/tool.js';
import type { Embedder } from './embedder.js';
import { MemoryCategory } from './memory-record.js';
import { DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT, type MemoryStore } from './memory-store.js';

/** Per-agent limits, from the agent's manifest. */
export interface MemoryLimits {
  /** `episodic_max_records`: at the cap, the least recently used memory is evicted */
  maxRecords: number;
  /** `episodic_max_content_bytes`: UTF-8 size cap of one memory */
  maxContentBytes: number;
}

export type MemoryAuditInput =
  | AuditInputOf<'MemoryStored'>
  | AuditInputOf<'MemoryQueried'>
  | AuditInputOf<'MemoryDeleted'>;

export interface MemoryToolsOptions {
  store: MemoryStore;
  /** must be the store's embedder (same vector space) */
  embedder: Embedder;
  emit: (event: MemoryAuditInput) => void;
  limitsFor: (agentId: string) => MemoryLimits;
}

const MemoryStoreInput = z.object({
  content: z.string().min(1, 'content must not be empty'),
  category: MemoryCategory,
  replaces: z.uuid().optional(),
});

const MemoryQueryInput = z.object({
  query: z.string().min(1, 'query must not be empty'),
  limit: z.number().int().min(1).max(MAX_QUERY_LIMIT).optional(),
  category: MemoryCategory.optional(),
});

const MemoryDeleteInput = z.object({ memory_id: z.uuid() });

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function header(ctx: ToolContext): CallHeader {
  return auditHeader(ctx.call);
}

async function embedOne(embedder: Embedder, text: string): Promise<Float32Array> {
  const [vector] = await embedder.embed([text]);
  if (vector === undefined)
    throw new AaosError(ErrorCode.EMBEDDING_FAILED, `${embedder.model} returned no embedding`, {
      model: embedder.model,
    });
  return vector;
}

/** memory_store, memory_query and memory_delete, acting on the calling agent's own memories. */
export function createMemoryTools(options: MemoryToolsOptions): Tool[] {
  const { store, embedder, emit, limitsFor } = options;
  if (store.embedder.model !== embedder.model) {
    throw new AaosError(
      ErrorCode.CONFIG_INVALID,
      `memory tools use embedder ${embedder.model} but the memory store uses ${store.embedder.model}`,
      { tools_model: embedder.model, store_model: store.embedder.model },
    );
  }

  const memoryStore = defineTool({
    name: 'memory_store',
    description:
      'Remember something for later runs: a fact, observation, decision or preference. ' +
      'Use `replaces` with a memory_id to supersede an outdated memory.',
    input: MemoryStoreInput,
    async run(input, ctx) {
      const limits = limitsFor(ctx.call.id);
      const size = Buffer.byteLength(input.content, 'utf8');
      if (size > limits.maxContentBytes) {
        throw new AaosError(
          ErrorCode.MEMORY_TOO_LARGE,
          `memory content is ${size} bytes; agent ${ctx.call.name} may store at most ${limits.maxContentBytes}`,
          { size, max: limits.maxContentBytes, agent_id: ctx.call.id },
        );
      }
      const embedding = await embedOne(embedder, input.content);
      const { id } = store.store(
        ctx.call.id,
        {
          content: input.content,
          category: input.category,
          embedding,
          ...(input.replaces !== undefined ? { replaces: input.replaces } : {}),
        },
        { maxRecords: limits.maxRecords },
      );
      emit({
        ...header(ctx),
        type: 'MemoryStored',
        memory_id: id,
        category: input.category,
        content_hash: sha256(input.content),
      });
      return { memory_id: id, status: 'stored' };
    },
  });

  const memoryQuery = defineTool({
    name: 'memory_query',
    idempotent: true,
    description: 'Search your stored memories by meaning; returns the most relevant ones first.',
    input: MemoryQueryInput,
    async run(input, ctx) {
      const embedding = await embedOne(embedder, input.query);
      const { results, skipped } = await store.query(ctx.call.id, embedding, {
        limit: input.limit ?? DEFAULT_QUERY_LIMIT,
        ...(input.category !== undefined ? { category: input.category } : {}),
      });
      emit({ ...header(ctx), type: 'MemoryQueried', query_hash: sha256(input.query), results_count: results.length });
      return {
        results: results.map((r) => ({
          memory_id: r.id,
          content: r.content,
          category: r.category,
          relevance_score: r.relevance_score,
          created_at: r.created_at,
        })),
        count: results.length,
        ...(skipped.length > 0 ? { skipped } : {}),
      };
    },
  });

  const memoryDelete = defineTool({
    name: 'memory_delete',
    description: 'Delete one of your stored memories by its memory_id.',
    input: MemoryDeleteInput,
    async run(input, ctx) {
      store.delete(ctx.call.id, input.memory_id);
      emit({ ...header(ctx), type: 'MemoryDeleted', memory_id: input.memory_id });
      return { memory_id: input.memory_id, status: 'deleted' };
    },
  });

  return [memoryStore, memoryQuery, memoryDelete];
}
