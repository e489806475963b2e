import { z } from 'zod';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { Store } from './lmdb-env.js';
import { compact, readRecord } from './record.js';

const AGENT_V = 1;

/** A persistent agent, kept so it comes back with the same id after a restart. */
export const AgentRecord = z.object({
  v: z.literal(AGENT_V),
  id: z.string().min(1),
  name: z.string(),
  manifest_yaml: z.string(),
  manifest_path: z.string().optional(),
  /** lifecycle state at the last write (the kernel owns the state machine) */
  state: z.string(),
  /** ISO-8601 */
  created_at: z.string(),
  parked: z.boolean().optional(),
  /** the model its manifest resolved to (shown for agents that are not live) */
  model: z.string().optional(),
  /** 'bootstrap': the agent that takes goals; only `startBootstrap` brings it back */
  role: z.literal('bootstrap').optional(),
  /** what the manifest made the agent be (src/runtime/bootstrap-succession.ts), to tell a changed manifest */
  manifest_digest: z.string().optional(),
  /** set with state 'stopped': kept (history, memory) but never restored */
  stopped_at: z.string().optional(),
  stop_reason: z.string().optional(),
  /** the bootstrap agent that took over from this one */
  replaced_by: z.string().optional(),
});
export type AgentRecord = z.infer<typeof AgentRecord>;

export type AgentPatch = Partial<
  Pick<
    AgentRecord,
    'name' | 'manifest_yaml' | 'manifest_path' | 'state' | 'parked' | 'stopped_at' | 'stop_reason' | 'replaced_by'
  >
>;

export class AgentStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Inserts or overwrites the agent. */
  put(record: Omit<AgentRecord, 'v'> & { v?: typeof AGENT_V }): AgentRecord {
    const parsed = AgentRecord.safeParse({ ...record, v: AGENT_V });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AaosError(
        ErrorCode.STORE,
        `invalid agent record ${record.id}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
        {
          agent_id: record.id,
        },
      );
    }
    const value = compact(parsed.data);
    this.#store.transaction(() => this.#store.db('agents').putSync(value.id, value));
    return value;
  }

  /** AGENT_NOT_FOUND when absent. */
  update(id: string, patch: AgentPatch): AgentRecord {
    return this.#store.transaction(() => {
      const current = this.get(id);
      if (current === undefined)
        throw new AaosError(ErrorCode.AGENT_NOT_FOUND, `no stored agent with id ${id}`, { agent_id: id });
      return this.put({ ...current, ...patch, id: current.id, created_at: current.created_at });
    });
  }

  get(id: string): AgentRecord | undefined {
    const raw = this.#store.read(`get agent ${id}`, () => this.#store.db('agents').get(id));
    if (raw === undefined) return undefined;
    return readRecord(this.#store, 'agents', id, AgentRecord, AGENT_V, raw);
  }

  /** Returns whether a record was removed. */
  remove(id: string): boolean {
    return this.#store.transaction(() => this.#store.db('agents').removeSync(id));
  }

  /** Oldest first; unreadable records are reported and skipped. */
  list(): AgentRecord[] {
    return this.#store.read('list agents', () => {
      const out: AgentRecord[] = [];
      for (const { key, value } of this.#store.db('agents').getRange()) {
        const rec = readRecord(this.#store, 'agents', key, AgentRecord, AGENT_V, value);
        if (rec !== undefined) out.push(rec);
      }
      return out.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
    });
  }
}
