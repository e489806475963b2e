import { z } from 'zod';
import type { DurableTokenState, TokenStatePersistence } from '../capability/capability-table.js';
import type { Store } from './lmdb-env.js';
import { compact, readRecord } from './record.js';

const CAPABILITY_STATE_V = 1;

/** The durable token states of one persistent agent: explicit revocations and max_invocations counters. */
export const CapabilityStateRecord = z.object({
  v: z.literal(CAPABILITY_STATE_V),
  agent_id: z.string().min(1),
  tokens: z.array(
    z.object({
      key: z.string(),
      invocation_count: z.number().int().nonnegative(),
      revoked_at: z.number().optional(),
      reason: z.string().optional(),
    }),
  ),
});
export type CapabilityStateRecord = z.infer<typeof CapabilityStateRecord>;

export class CapabilityStore implements TokenStatePersistence {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  load(agentId: string): DurableTokenState[] {
    const raw = this.#store.read(`load capabilities of ${agentId}`, () => this.#store.db('capabilities').get(agentId));
    if (raw === undefined) return [];
    return (
      readRecord(this.#store, 'capabilities', agentId, CapabilityStateRecord, CAPABILITY_STATE_V, raw)?.tokens ?? []
    );
  }

  /** Written before the revocation or the charge is acted on, like every acknowledged state. */
  save(agentId: string, states: DurableTokenState[]): void {
    const value: CapabilityStateRecord = {
      v: CAPABILITY_STATE_V,
      agent_id: agentId,
      tokens: states.map((s) => compact(s)),
    };
    this.#store.transaction(() => this.#store.db('capabilities').putSync(agentId, value));
  }

  /** The agent is gone for good (stopped by the operator). */
  remove(agentId: string): void {
    this.#store.transaction(() => this.#store.db('capabilities').removeSync(agentId));
  }
}
