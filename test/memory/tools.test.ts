import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashedNgramEmbedder } from '../../src/memory/hashed-ngram-embedder.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import { createMemoryTools, type MemoryAuditInput } from '../../src/memory/tools.js';
import { openStore, type Store } from '../../src/store/lmdb-env.js';
import type { Tool, ToolContext } from '../../src/tools/tool.js';

let dir: string;
let store: Store;
let events: MemoryAuditInput[];
let tools: Map<string, Tool>;

const ctx = (agentId: string): ToolContext => ({
  call: { id: agentId, name: `${agentId}-name`, runId: 'run-1', trace: { traceId: 'trace-1', spanId: 'span-1' } },
  workspace: undefined,
  dataDir: dir,
  signal: new AbortController().signal,
  authorize: () => {},
  spawnAndRun: () => Promise.reject(new Error('not in this test')),
});

const call = (name: string, input: unknown, agent = 'agent-a') => tools.get(name)!.invoke(input, ctx(agent));
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aaos-memtools-'));
  store = openStore(dir);
  events = [];
  const embedder = new HashedNgramEmbedder();
  const memory = new MemoryStore(store, embedder);
  const list = createMemoryTools({
    store: memory,
    embedder,
    emit: (e) => events.push(e),
    limitsFor: (agentId) =>
      agentId === 'tiny' ? { maxRecords: 2, maxContentBytes: 8 } : { maxRecords: 100, maxContentBytes: 1024 },
  });
  tools = new Map(list.map((t) => [t.definition.name, t]));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('memory tools', () => {
  it('exposes three tools with JSON schemas', () => {
    expect([...tools.keys()]).toEqual(['memory_store', 'memory_query', 'memory_delete']);
    expect(tools.get('memory_store')!.definition.input_schema).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['content', 'category']),
    });
  });

  it('stores, queries and deletes for the calling agent, and audits each with hashes', async () => {
    const stored = (await call('memory_store', { content: 'Bob likes oolong tea', category: 'preference' })) as {
      memory_id: string;
      status: string;
    };
    expect(stored.status).toBe('stored');
    const other = (await call(
      'memory_store',
      { content: 'Bob likes oolong tea too', category: 'fact' },
      'agent-b',
    )) as { memory_id: string };

    const found = (await call('memory_query', { query: 'what tea does Bob like?' })) as {
      results: Array<Record<string, unknown>>;
      count: number;
      skipped?: unknown;
    };
    expect(found.count).toBe(1);
    expect(Object.keys(found.results[0]!).sort()).toEqual([
      'category',
      'content',
      'created_at',
      'memory_id',
      'relevance_score',
    ]);
    expect(found.results[0]).toMatchObject({
      memory_id: stored.memory_id,
      content: 'Bob likes oolong tea',
      category: 'preference',
    });
    expect(found).not.toHaveProperty('skipped');

    await expect(call('memory_delete', { memory_id: other.memory_id })).rejects.toMatchObject({
      code: 'AAOS_ERR_MEMORY_NOT_FOUND',
    });
    expect(await call('memory_delete', { memory_id: stored.memory_id })).toEqual({
      memory_id: stored.memory_id,
      status: 'deleted',
    });
    expect(((await call('memory_query', { query: 'tea' })) as { count: number }).count).toBe(0);

    expect(events.map((e) => e.type)).toEqual([
      'MemoryStored',
      'MemoryStored',
      'MemoryQueried',
      'MemoryDeleted',
      'MemoryQueried',
    ]);
    expect(events[0]).toEqual({
      type: 'MemoryStored',
      agent_id: 'agent-a',
      agent_name: 'agent-a-name',
      run_id: 'run-1',
      trace_id: 'trace-1',
      span_id: 'span-1',
      memory_id: stored.memory_id,
      category: 'preference',
      content_hash: sha('Bob likes oolong tea'),
    });
    expect(events[2]).toMatchObject({ query_hash: sha('what tea does Bob like?'), results_count: 1 });
  });

  it('replaces through the tool', async () => {
    const first = (await call('memory_store', { content: 'deadline is May', category: 'fact' })) as {
      memory_id: string;
    };
    const second = (await call('memory_store', {
      content: 'deadline is June',
      category: 'fact',
      replaces: first.memory_id,
    })) as { memory_id: string };
    const found = (await call('memory_query', { query: 'deadline', limit: 20 })) as {
      results: Array<{ memory_id: string }>;
    };
    expect(found.results.map((r) => r.memory_id)).toEqual([second.memory_id]);
  });

  it('applies the per-agent content cap and record cap from limitsFor', async () => {
    await expect(
      call('memory_store', { content: 'way more than eight bytes', category: 'fact' }, 'tiny'),
    ).rejects.toMatchObject({
      code: 'AAOS_ERR_MEMORY_TOO_LARGE',
      details: { size: 25, max: 8 },
    });
    // bytes, not characters
    await expect(call('memory_store', { content: 'ééééé', category: 'fact' }, 'tiny')).rejects.toMatchObject({
      code: 'AAOS_ERR_MEMORY_TOO_LARGE',
    });
    for (const c of ['one', 'two', 'three']) await call('memory_store', { content: c, category: 'fact' }, 'tiny');
    const all = (await call('memory_query', { query: 'one two three', limit: 20 }, 'tiny')) as { count: number };
    expect(all.count).toBeLessThanOrEqual(2);
  });

  it.each([
    ['memory_store', {}, 'content'],
    ['memory_store', { content: '', category: 'fact' }, 'content'],
    ['memory_store', { content: 'x', category: 'gossip' }, 'category'],
    ['memory_store', { content: 'x', category: 'fact', replaces: 'not-a-uuid' }, 'replaces'],
    ['memory_query', {}, 'query'],
    ['memory_query', { query: 'x', limit: 0 }, 'limit'],
    ['memory_query', { query: 'x', limit: 21 }, 'limit'],
    ['memory_query', { query: 'x', category: 'rumour' }, 'category'],
    ['memory_delete', {}, 'memory_id'],
    ['memory_delete', { memory_id: 'abc' }, 'memory_id'],
  ])('%s rejects %j naming %s', async (tool, input, field) => {
    await expect(call(tool, input)).rejects.toMatchObject({ code: 'AAOS_ERR_TOOL_INPUT_INVALID', details: { field } });
    expect(events).toEqual([]);
  });

  it('refuses an embedder that differs from the store', () => {
    const memory = new MemoryStore(store, new HashedNgramEmbedder());
    expect(() =>
      createMemoryTools({
        store: memory,
        embedder: new HashedNgramEmbedder({ dims: 64 }),
        emit: () => {},
        limitsFor: () => ({ maxRecords: 1, maxContentBytes: 1 }),
      }),
    ).toThrow(expect.objectContaining({ code: 'AAOS_ERR_CONFIG_INVALID' }));
  });
});
