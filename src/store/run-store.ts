import { z } from 'zod';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { Store } from './lmdb-env.js';
import { compact, readRecord } from './record.js';

const RUN_V = 1;

export const RunState = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted']);
export type RunState = z.infer<typeof RunState>;

/** A submitted goal and what became of it. Timestamps are ISO-8601. */
export const RunRecord = z.object({
  v: z.literal(RUN_V),
  run_id: z.string().min(1),
  goal: z.string(),
  agent_id: z.string(),
  state: RunState,
  workspace: z.string(),
  created_at: z.string(),
  started_at: z.string().optional(),
  ended_at: z.string().optional(),
  result: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  usage: z.object({ input_tokens: z.number(), output_tokens: z.number() }).optional(),
  /** how the goal was asked to run (absent: the configured default) */
  orchestration: z.enum(['direct', 'plan', 'auto']).optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;

export type NewRun = Pick<RunRecord, 'run_id' | 'goal' | 'agent_id' | 'workspace'> & {
  state?: RunState;
  created_at?: string;
  orchestration?: RunRecord['orchestration'];
};
export type RunPatch = Partial<Omit<RunRecord, 'v' | 'run_id' | 'created_at'>>;

/** States a crash leaves behind that recovery must look at. */
const UNFINISHED: ReadonlySet<RunState> = new Set(['queued', 'running']);

export class RunStore {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, options: { now?: () => number } = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
  }

  /** Durable (flushed) when it returns: the daemon acknowledges a goal only after this. */
  create(input: NewRun): RunRecord {
    const record = this.#check({
      v: RUN_V,
      run_id: input.run_id,
      goal: input.goal,
      agent_id: input.agent_id,
      workspace: input.workspace,
      state: input.state ?? 'queued',
      created_at: input.created_at ?? new Date(this.#now()).toISOString(),
      ...(input.orchestration ? { orchestration: input.orchestration } : {}),
    });
    const db = this.#store.db('runs');
    this.#store.transaction(() => {
      if (db.doesExist(record.run_id)) {
        throw new AaosError(ErrorCode.STORE, `run ${record.run_id} already exists`, { run_id: record.run_id });
      }
      db.putSync(record.run_id, record);
    });
    return record;
  }

  /** Merges `patch` into the run (an `undefined` field is removed); RUN_NOT_FOUND if absent. */
  update(runId: string, patch: RunPatch): RunRecord {
    const db = this.#store.db('runs');
    return this.#store.transaction(() => {
      const current = this.get(runId);
      if (current === undefined)
        throw new AaosError(ErrorCode.RUN_NOT_FOUND, `no run with id ${runId}`, { run_id: runId });
      const next = this.#check(
        compact({ ...current, ...patch, v: RUN_V, run_id: current.run_id, created_at: current.created_at }),
      );
      db.putSync(runId, next);
      return next;
    });
  }

  /** undefined when absent; an unreadable record is reported and then treated as absent. */
  get(runId: string): RunRecord | undefined {
    const raw = this.#store.read(`get run ${runId}`, () => this.#store.db('runs').get(runId));
    if (raw === undefined) return undefined;
    return readRecord(this.#store, 'runs', runId, RunRecord, RUN_V, raw);
  }

  /** Newest first. */
  list(options: { state?: RunState | readonly RunState[]; limit?: number } = {}): RunRecord[] {
    const states =
      options.state === undefined ? undefined : new Set(Array.isArray(options.state) ? options.state : [options.state]);
    const all = this.#all().filter((r) => states === undefined || states.has(r.state));
    all.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
    return options.limit === undefined ? all : all.slice(0, Math.max(0, options.limit));
  }

  /** Queued or running runs, oldest first: what a restarted daemon must resume or mark interrupted. */
  unfinished(): RunRecord[] {
    return this.#all()
      .filter((r) => UNFINISHED.has(r.state))
      .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
  }

  #all(): RunRecord[] {
    return this.#store.read('list runs', () => {
      const out: RunRecord[] = [];
      for (const { key, value } of this.#store.db('runs').getRange()) {
        const rec = readRecord(this.#store, 'runs', key, RunRecord, RUN_V, value);
        if (rec !== undefined) out.push(rec);
      }
      return out;
    });
  }

  #check(candidate: unknown): RunRecord {
    const parsed = RunRecord.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AaosError(
        ErrorCode.STORE,
        `invalid run record: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
        {
          field: issue?.path.join('.'),
        },
      );
    }
    return parsed.data;
  }
}
