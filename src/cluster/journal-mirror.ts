import type { KV } from '@nats-io/kv';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';
import { JournalEntry, type JournalListener } from '../store/run-journal.js';
import { JournalHead, JournalPart } from './records.js';
import { recordMac, recordMacMatches } from './signed.js';

/** What the mirror needs of this node's run journal. */
export interface LocalJournal {
  observe(listener: JournalListener | undefined): void;
  replace(runId: string, entries: readonly JournalEntry[]): void;
  load(runId: string): JournalEntry[];
}

/** A run's copy may not grow past this: beyond it the copy stops (a taking node resumes from what was copied). */
const MAX_RUN_COPY_BYTES = 64 * 1024 * 1024;
/** Raw bytes of one part at most (the server's max payload may lower it). */
const MAX_PART_BYTES = 256 * 1024;
/** A failed put is tried this often before the run's copy stops. */
const PUT_ATTEMPTS = 3;

interface Tracked {
  epoch: number;
  bytes: number;
  /** the run's puts, in journal order */
  chain: Promise<void>;
  /** why the copy stopped (no further entry is put: the copy stays a prefix) */
  stopped?: string;
}

/** What a node taking a run finds in the cluster: the entries to resume from, and whose they were. */
export interface ClaimedJournal {
  epoch: number;
  entries: JournalEntry[];
  /** the node that held the run before (undefined: no node had copied anything) */
  from?: string;
}

const headKey = (runId: string): string => `${runId}.head`;
const partKey = (runId: string, seq: number, part: number): string => `${runId}.e.${seq}.${part}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Goal runs outlive their node: while this node runs a goal it took from the work queue,
 * each entry of the run's journal (model turns, tool calls started, tool results) is copied,
 * in order, to the `aaos_journals` bucket; a node that takes the goal after this one died
 * claims the run (raising the head's epoch by compare-and-set), reads the copy and resumes
 * from it exactly as a restarted node resumes from its own journal. Entries are written
 * create-if-absent; only a node with a higher epoch overwrites one (by revision), so a stale
 * node that comes back can add nothing after a newer node's entries that a reader accepts.
 * With the cluster key every part is signed, and a part that does not verify ends the copy
 * there. The copy of a run is purged when its completion is recorded (and expires with the
 * bucket's age limit otherwise).
 */
export class JournalMirror {
  private readonly tracked = new Map<string, Tracked>();
  private readonly partBytes: number;

  constructor(
    private readonly nodeId: string,
    private readonly kv: KV,
    private readonly purgeRun: (runId: string) => Promise<void>,
    private readonly opts: {
      key?: string;
      maxPayload: number;
      log: (line: string) => void;
      /** default MAX_RUN_COPY_BYTES */
      maxRunBytes?: number;
    },
  ) {
    // base64 grows a part by 4/3; leave room for the record's other fields
    this.partBytes = Math.max(1024, Math.min(MAX_PART_BYTES, Math.floor(((opts.maxPayload - 2048) * 3) / 4)));
  }

  /** Copies the appends of the runs this node tracks from now on. */
  attach(journal: LocalJournal): void {
    journal.observe((runId, seq, entry) => this.append(runId, seq, entry));
  }

  /**
   * Makes this node the run's holder (epoch + 1, compare-and-set on the head) and returns
   * the copied entries, oldest first, up to the first missing, unverifiable or stale one.
   */
  async claim(runId: string): Promise<ClaimedJournal> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.kv.get(headKey(runId));
      const prev = entry?.operation === 'PUT' ? JournalHead.safeParse(entry.json()).data : undefined;
      const head: JournalHead = {
        v: 1,
        run_id: runId,
        epoch: (prev?.epoch ?? 0) + 1,
        node_id: this.nodeId,
        at: new Date().toISOString(),
      };
      try {
        if (entry?.operation === 'PUT') await this.kv.update(headKey(runId), JSON.stringify(head), entry.revision);
        else await this.kv.create(headKey(runId), JSON.stringify(head));
      } catch {
        continue; // another node moved the head meanwhile: read it again
      }
      return {
        epoch: head.epoch,
        entries: await this.read(runId, head.epoch),
        ...(prev ? { from: prev.node_id } : {}),
      };
    }
    throw new AaosError(
      ErrorCode.CLUSTER_UNAVAILABLE,
      `run ${runId}: could not claim its journal copy (its head kept changing)`,
      { run_id: runId },
    );
  }

  /**
   * Copies the run's appends from now on under `epoch`, after the local entries the copy
   * lacks (`copied` of them are in the cluster already).
   */
  track(runId: string, epoch: number, local: readonly JournalEntry[], copied: number): void {
    const t: Tracked = { epoch, bytes: 0, chain: Promise.resolve() };
    this.tracked.set(runId, t);
    local.forEach((entry, seq) => {
      if (seq >= copied) this.enqueue(runId, t, seq, entry);
    });
  }

  /** The run ended and its completion is recorded: its copy is no longer needed. */
  async finish(runId: string): Promise<void> {
    const t = this.tracked.get(runId);
    this.tracked.delete(runId);
    await t?.chain;
    await this.purgeRun(runId).catch((err: unknown) =>
      this.opts.log(`agentd: cluster: could not purge the journal copy of run ${runId}: ${toPlainError(err).message}`),
    );
  }

  /**
   * Waits for the puts under way (leaving: the next node should find them), at most `waitMs`
   * (NATS may be gone: a shutdown does not wait out every retry), then copies nothing more.
   */
  async release(waitMs: number): Promise<void> {
    const chains = [...this.tracked.values()].map((t) => t.chain);
    this.tracked.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(chains),
      new Promise<void>((r) => {
        timer = setTimeout(r, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private append(runId: string, seq: number, entry: JournalEntry): void {
    const t = this.tracked.get(runId);
    if (t) this.enqueue(runId, t, seq, entry);
  }

  private enqueue(runId: string, t: Tracked, seq: number, entry: JournalEntry): void {
    t.chain = t.chain.then(() => this.write(runId, t, seq, entry));
  }

  private async write(runId: string, t: Tracked, seq: number, entry: JournalEntry): Promise<void> {
    if (t.stopped) return;
    const bytes = Buffer.from(JSON.stringify(entry));
    const limit = this.opts.maxRunBytes ?? MAX_RUN_COPY_BYTES;
    if (t.bytes + bytes.length > limit) {
      this.stop(
        runId,
        t,
        `its journal passed ${limit} bytes at entry ${seq}; a node taking the run over resumes from before entry ${seq}`,
      );
      return;
    }
    t.bytes += bytes.length;
    const parts = Math.max(1, Math.ceil(bytes.length / this.partBytes));
    for (let part = 0; part < parts && !t.stopped; part++) {
      const fields: JournalPart = {
        v: 1,
        run_id: runId,
        seq,
        part,
        parts,
        epoch: t.epoch,
        node_id: this.nodeId,
        data: bytes.subarray(part * this.partBytes, (part + 1) * this.partBytes).toString('base64'),
      };
      const key = partKey(runId, seq, part);
      const body = JSON.stringify(fields);
      await this.put(
        runId,
        t,
        key,
        JSON.stringify(this.opts.key ? { body, mac: recordMac(this.opts.key, key, body) } : { body }),
      );
    }
  }

  /** Create-if-absent; over an existing part only when it has a lower epoch (a stale node's). */
  private async put(runId: string, t: Tracked, key: string, text: string): Promise<void> {
    let last: unknown;
    for (let attempt = 0; attempt < PUT_ATTEMPTS; attempt++) {
      try {
        await this.kv.create(key, text);
        return;
      } catch (err) {
        last = err;
      }
      try {
        const current = await this.kv.get(key);
        if (current?.operation === 'PUT') {
          const held = this.decode(key, current.string());
          if (held && typeof held !== 'string' && held.epoch >= t.epoch) {
            this.stop(runId, t, `node ${held.node_id} holds the run now (epoch ${held.epoch}, this node's ${t.epoch})`);
            return;
          }
          await this.kv.update(key, text, current.revision);
          return;
        }
      } catch (err) {
        last = err;
      }
      await sleep(500 * (attempt + 1));
    }
    this.stop(runId, t, `a put failed ${PUT_ATTEMPTS} times (${toPlainError(last).message})`);
  }

  private stop(runId: string, t: Tracked, why: string): void {
    t.stopped = why;
    this.opts.log(`agentd: cluster: the journal copy of run ${runId} stops here: ${why}`);
  }

  /** The copied entries of a run, oldest first, up to the first gap, bad part or stale entry. */
  private async read(runId: string, epoch: number): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    let highest = 0;
    for (let seq = 0; ; seq++) {
      const first = await this.part(runId, seq, 0);
      // an entry below the epoch of those before it was written by a stale node after a newer one took over
      if (!first || first.epoch < highest || first.epoch >= epoch) break;
      const chunks = [Buffer.from(first.data, 'base64')];
      for (let p = 1; p < first.parts; p++) {
        const next = await this.part(runId, seq, p);
        if (!next || next.epoch !== first.epoch || next.parts !== first.parts) return out;
        chunks.push(Buffer.from(next.data, 'base64'));
      }
      let parsed: JournalEntry | undefined;
      try {
        parsed = JournalEntry.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8'))).data;
      } catch {
        parsed = undefined;
      }
      if (!parsed) {
        this.opts.log(`agentd: cluster: run ${runId}: journal copy entry ${seq} is malformed; resuming from before it`);
        break;
      }
      highest = first.epoch;
      out.push(parsed);
    }
    return out;
  }

  private async part(runId: string, seq: number, part: number): Promise<JournalPart | undefined> {
    const key = partKey(runId, seq, part);
    const entry = await this.kv.get(key);
    if (entry?.operation !== 'PUT') return undefined;
    const rec = this.decode(key, entry.string());
    if (!rec || typeof rec === 'string' || rec.run_id !== runId || rec.seq !== seq || rec.part !== part) {
      this.opts.log(
        `agentd: cluster: run ${runId}: journal copy part ${key} is ${typeof rec === 'string' ? `refused: ${rec}` : 'malformed'}; resuming from before it`,
      );
      return undefined;
    }
    return rec;
  }

  /** A stored part, or why it is refused (a string), or undefined when it is not a part at all. */
  private decode(key: string, text: string): JournalPart | string | undefined {
    let wire: { body?: unknown; mac?: unknown };
    try {
      wire = JSON.parse(text) as { body?: unknown; mac?: unknown };
    } catch {
      return undefined;
    }
    if (typeof wire.body !== 'string') return undefined;
    if (this.opts.key && (typeof wire.mac !== 'string' || !recordMacMatches(this.opts.key, key, wire.body, wire.mac)))
      return 'its signature does not match (altered, moved to another key, or written without the cluster key)';
    try {
      return JournalPart.safeParse(JSON.parse(wire.body)).data;
    } catch {
      return undefined;
    }
  }
}
