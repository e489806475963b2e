import type { KV, KvEntry } from '@nats-io/kv';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';
import { ControlReply, controlSubject, isKvKeyPart, RevocationRecord, StopRecord } from './records.js';

/** What a node does to itself when a revocation or stop reaches it. */
export interface LocalControl {
  /**
   * With `agentId`: revokes the token if that agent lives here and holds it. Without (a
   * token revoked on its own node): revokes it if held here, else the tokens here that were
   * narrowed from it. How many of the named token or its narrowings were revoked.
   */
  revokeToken(tokenId: string, reason: string, agentId?: string): number;
  /** Revokes every token of the agent if it lives here (durably); how many. */
  revokeAll(agentId: string, reason: string): number;
  /** Stops the agent if it lives here (a persistent one is forgotten); false when it does not. */
  stopAgent(agentId: string, reason: string): Promise<boolean>;
}

/** The outcome of one revocation or stop as the requesting node reports it. */
export interface ControlOutcome {
  /** the node that applied it (the agent's home), when it answered */
  node_id?: string;
  /** tokens revoked there (stops: 0) */
  revoked: number;
  /** true once the home node applied it; false: recorded, applied when that node is back */
  applied: boolean;
}

const APPLY_TIMEOUT_MS = 5000;
/** results of applied records kept so the watch and a direct request apply each record once */
const APPLIED_KEEP = 10_000;

/**
 * Revocations and agent stops that reach every node: each is recorded in a JetStream
 * key-value bucket (durable: a node that was down applies it when it joins) and every
 * node watches the bucket, so it is applied within moments everywhere. The node an
 * agent lives on is also asked directly, so the requester can report the result.
 */
export class ClusterControl {
  private readonly applied = new Map<string, Promise<number>>();
  /** tokens revoked on their own node (records without an agent): a spawn carrying a narrowing of one arrives too late */
  private readonly revokedTokens = new Set<string>();
  private readonly watchers: Array<{ stop(): void }> = [];
  private sub: Subscription | undefined;

  constructor(
    private readonly nodeId: string,
    private readonly nc: NatsConnection,
    private readonly revocations: KV,
    private readonly stops: KV,
    private readonly local: LocalControl,
    private readonly log: (line: string) => void,
  ) {}

  /** Applies what is recorded (a node that was down learns it here), then follows new records; answers direct requests. */
  async start(): Promise<void> {
    for (const [bucket, kv] of [
      ['revocations', this.revocations],
      ['stops', this.stops],
    ] as const) {
      const watch = await kv.watch({ ignoreDeletes: true });
      this.watchers.push(watch);
      void (async () => {
        for await (const entry of watch) {
          void this.apply(bucket, entry).catch((err: unknown) =>
            this.log(`agentd: cluster: could not apply ${bucket} record ${entry.key}: ${toPlainError(err).message}`),
          );
        }
      })();
    }
    this.sub = this.nc.subscribe(controlSubject(this.nodeId), {
      callback: (err, msg) => {
        if (err) return;
        void this.answer(msg.data).then((reply) => msg.respond(JSON.stringify(reply)));
      },
    });
  }

  stop(): void {
    for (const w of this.watchers) w.stop();
    this.sub?.unsubscribe();
  }

  /** Records a revocation (one token, or all of an agent's) and has the agent's home node apply it. */
  async revoke(
    target: { agent_id: string; token_id?: string },
    home: string | undefined,
    reason: string,
  ): Promise<ControlOutcome> {
    const key =
      target.token_id !== undefined
        ? `t.${checkedKey(target.token_id, 'token_id')}`
        : `a.${checkedKey(target.agent_id, 'agent_id')}`;
    const record: RevocationRecord = { ...target, reason, at: new Date().toISOString(), by: this.nodeId };
    return this.record('revocations', this.revocations, key, record, home);
  }

  /** Records a stop and has the agent's home node apply it. */
  async stopAgent(agentId: string, home: string | undefined, reason: string): Promise<ControlOutcome> {
    const record: StopRecord = { agent_id: agentId, reason, at: new Date().toISOString(), by: this.nodeId };
    return this.record('stops', this.stops, checkedKey(agentId, 'agent_id'), record, home);
  }

  /** Records that a token held here was revoked, so the tokens narrowed from it on other nodes are revoked too. */
  async revokedHere(tokenId: string, reason: string): Promise<void> {
    if (!isKvKeyPart(tokenId)) return;
    const record: RevocationRecord = { token_id: tokenId, reason, at: new Date().toISOString(), by: this.nodeId };
    await this.revocations.put(`t.${tokenId}`, JSON.stringify(record));
  }

  private async record(
    bucket: Bucket,
    kv: KV,
    key: string,
    record: RevocationRecord | StopRecord,
    home: string | undefined,
  ): Promise<ControlOutcome> {
    let revision: number;
    try {
      revision = await kv.put(key, JSON.stringify(record));
    } catch (err) {
      throw new AaosError(
        ErrorCode.CLUSTER_UNAVAILABLE,
        `the ${bucket === 'stops' ? 'stop' : 'revocation'} could not be recorded in the cluster: ${toPlainError(err).message}`,
        { key },
      );
    }
    if (home === undefined) return { revoked: 0, applied: false };
    if (home === this.nodeId) {
      const entry = await kv.get(key, { revision });
      if (!entry) return { revoked: 0, applied: false };
      return { node_id: this.nodeId, revoked: await this.apply(bucket, entry), applied: true };
    }
    let reply: ControlReply;
    try {
      const msg = await this.nc.request(controlSubject(home), JSON.stringify({ bucket, key, revision }), {
        timeout: APPLY_TIMEOUT_MS,
      });
      reply = ControlReply.parse(msg.json());
    } catch (err) {
      // recorded: the home node applies it from the bucket when it answers again
      this.log(`agentd: cluster: node ${home} did not confirm ${bucket} record ${key}: ${toPlainError(err).message}`);
      return { node_id: home, revoked: 0, applied: false };
    }
    if (!reply.ok)
      throw new AaosError(reply.error.code as ErrorCode, `node ${home}: ${reply.error.message}`, { node_id: home });
    return { node_id: reply.node_id, revoked: reply.revoked, applied: true };
  }

  /** A direct request from another node: apply the named record now. */
  private async answer(data: Uint8Array): Promise<ControlReply> {
    try {
      const req = JSON.parse(new TextDecoder().decode(data)) as { bucket?: unknown; key?: unknown; revision?: unknown };
      if (
        (req.bucket !== 'revocations' && req.bucket !== 'stops') ||
        typeof req.key !== 'string' ||
        typeof req.revision !== 'number'
      ) {
        throw new AaosError(ErrorCode.PROTOCOL, 'a control request needs bucket (revocations|stops), key and revision');
      }
      const kv = req.bucket === 'stops' ? this.stops : this.revocations;
      const entry = await kv.get(req.key, { revision: req.revision });
      if (entry?.operation !== 'PUT')
        throw new AaosError(ErrorCode.PROTOCOL, `no ${req.bucket} record ${req.key} at revision ${req.revision}`);
      return { ok: true, revoked: await this.apply(req.bucket, entry), node_id: this.nodeId };
    } catch (err) {
      const plain = toPlainError(err);
      return { ok: false, error: { code: plain.code, message: plain.message } };
    }
  }

  /** Applies one record once (the watch and a direct request may both bring it). */
  private apply(bucket: Bucket, entry: KvEntry): Promise<number> {
    const id = `${bucket}/${entry.key}@${entry.revision}`;
    let done = this.applied.get(id);
    if (done) return done;
    done =
      bucket === 'stops'
        ? this.applyStop(StopRecord.parse(entry.json()))
        : Promise.resolve(this.applyRevocation(RevocationRecord.parse(entry.json())));
    this.applied.set(id, done);
    if (this.applied.size > APPLIED_KEEP) this.applied.delete(this.applied.keys().next().value as string);
    return done;
  }

  /** Was this token revoked on its node (as far as this node has heard)? */
  isRevoked(tokenId: string): boolean {
    return this.revokedTokens.has(tokenId);
  }

  private applyRevocation(rec: RevocationRecord): number {
    const reason = `${rec.reason} (recorded by node ${rec.by})`;
    if (rec.token_id !== undefined && rec.agent_id === undefined) this.revokedTokens.add(rec.token_id);
    if (rec.token_id !== undefined) return this.local.revokeToken(rec.token_id, reason, rec.agent_id);
    return rec.agent_id !== undefined ? this.local.revokeAll(rec.agent_id, reason) : 0;
  }

  private async applyStop(rec: StopRecord): Promise<number> {
    await this.local.stopAgent(rec.agent_id, `${rec.reason} (recorded by node ${rec.by})`);
    return 0;
  }
}

type Bucket = 'revocations' | 'stops';

function checkedKey(part: string, field: string): string {
  if (!isKvKeyPart(part))
    throw new AaosError(
      ErrorCode.TOOL_INPUT_INVALID,
      `${field} '${part}' cannot name a cluster record (letters, digits, - and _ only)`,
      { field },
    );
  return part;
}
