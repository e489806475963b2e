import { NoRespondersError, RequestError, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';
import type { RemoteAgentsPort, RemoteSpawn } from '../kernel/remote-agents.js';
import { TokenView } from '../capability/capability-token.js';
import type { Supervisor } from '../kernel/supervisor.js';
import { AgentManifest } from '../manifest/schema.js';
import type { RunOutcome } from '../protocol/index.js';
import { parseEnvelope } from '../router/envelope.js';
import type { CallContext } from '../audit/call-context.js';
import type { DeliveryContext } from '../router/router.js';
import type { ChildRunResult } from '../tools/tool.js';
import { placeChild, type Placement } from './placement.js';
import type { NodeBeat } from './records.js';
import { ClusterSigner } from './signed.js';

export interface RemoteAgentsOptions {
  /** the shared secret messages between nodes are signed with */
  key: string;
  placement: Placement;
  supervisor: Supervisor;
  /** how long a child or a delivery on another node may take before this node gives up on it */
  requestTimeoutMs: number;
  /** called with each token id this node revokes (audit), so narrowings of it on other nodes go too */
  onRevoked(listener: (tokenId: string, reason: string) => void): () => void;
  /** records a revocation of a token held here for every node */
  publishRevoked(tokenId: string, reason: string): Promise<void>;
  /** a token revoked on its own node, as recorded for every node */
  isRevoked(tokenId: string): boolean;
  /**
   * persistent agents no live node announces (their node is down, or another node is taking
   * them over): found by a message, which moves them to a live node or waits for the move
   */
  homeless: {
    find(ref: string): CallContext | undefined;
    /** moves it (here, or waits for the node that won the race); resolves with the node it lives on now */
    move(agentId: string, unreachable?: string): Promise<string>;
  };
  log(line: string): void;
}

type Kind = 'spawn' | 'deliver' | 'cancel' | 'operator';
const subject = (node: string, kind: Kind): string => `aaos.node.${node}.${kind}`;

const TraceParentSchema = z.strictObject({ traceId: z.string(), spanId: z.string() });
/** a message hop's span: the sender's span is its parent */
const HopSchema = z.strictObject({ traceId: z.string(), spanId: z.string(), parentSpanId: z.string().optional() });
const SpawnBody = z.object({
  spawn: z.strictObject({
    child: z.strictObject({
      id: z.string().min(1),
      name: z.string().min(1),
      parentId: z.string().optional(),
      runId: z.string().optional(),
    }),
    manifest: AgentManifest,
    depth: z.int().min(1),
    tokens: z.array(TokenView),
    message: z.string(),
    trace: TraceParentSchema.optional(),
    workspace: z.string().optional(),
  }),
});
const DeliverBody = z.object({
  recipient_id: z.string().min(1),
  envelope: z.string(),
  context: z.strictObject({
    runId: z.string(),
    goalRunId: z.string().optional(),
    hop: HopSchema.optional(),
    traceId: z.string(),
  }),
});
const CancelBody = z.object({
  agent_id: z.string().min(1),
  run_id: z.string().optional(),
  envelope: z.string().optional(),
  reason: z.string(),
});
/** An operator's request (through another node's socket) for an agent living on this node. */
export const OperatorRequest = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('tool.invoke'),
    agent_id: z.string().min(1),
    tool: z.string().min(1),
    input: z.unknown(),
  }),
  z.strictObject({ op: z.literal('capability.list'), agent_id: z.string().min(1) }),
]);
export type OperatorRequest = z.infer<typeof OperatorRequest>;
const OperatorBody = z.object({ request: OperatorRequest });
type Reply<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

interface Pending {
  node: string;
  fail(err: AaosError): void;
}

/**
 * Agents across nodes: children placed on other nodes and envelopes to agents living
 * there, over NATS request/reply on per-node subjects, every message signed with the
 * cluster key. The parent's (or sender's) node decides and authorises; the other node
 * checks the signature, issues exactly the narrowed tokens that came, and delivers.
 */
export class RemoteAgents implements RemoteAgentsPort {
  private readonly signer: ClusterSigner;
  private beats = new Map<string, NodeBeat>();
  /** children placed per node since that node's last heartbeat (the beat lags a burst of spawns) */
  private readonly placedSinceBeat = new Map<string, number>();
  private readonly pending = new Set<Pending>();
  /** tokens held here whose narrowed copies live on another node: token id -> that node */
  private readonly narrowedAway = new Map<string, string>();
  /** children running here for a parent on another node: child id -> its abort */
  private readonly adopted = new Map<string, AbortController>();
  private readonly subs: Subscription[] = [];
  private unsubscribeRevoked: (() => void) | undefined;

  constructor(
    private readonly nodeId: string,
    private readonly nc: NatsConnection,
    private readonly opts: RemoteAgentsOptions,
  ) {
    this.signer = new ClusterSigner(opts.key, nodeId);
  }

  start(): void {
    for (const kind of ['spawn', 'deliver', 'cancel', 'operator'] as const) {
      const subj = subject(this.nodeId, kind);
      this.subs.push(
        this.nc.subscribe(subj, {
          callback: (err, msg) => {
            if (err) return;
            void this.intake(kind, subj, msg.data).then((reply) => {
              if (msg.reply) msg.respond(reply);
            });
          },
        }),
      );
    }
    this.unsubscribeRevoked = this.opts.onRevoked((tokenId, reason) => {
      if (!this.narrowedAway.has(tokenId)) return;
      this.narrowedAway.delete(tokenId);
      void this.opts
        .publishRevoked(tokenId, reason)
        .catch((e: unknown) =>
          this.opts.log(
            `agentd: cluster: could not record the revocation of ${tokenId} for other nodes: ${toPlainError(e).message}`,
          ),
        );
    });
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.unsubscribeRevoked?.();
    for (const c of this.adopted.values())
      c.abort(new AaosError(ErrorCode.SHUTTING_DOWN, `node ${this.nodeId} is leaving the cluster`));
    for (const p of this.pending)
      p.fail(new AaosError(ErrorCode.SHUTTING_DOWN, `node ${this.nodeId} is leaving the cluster`));
  }

  /** The cluster's latest heartbeats: placement reads them, and waits on a node that stopped beating end. */
  onBeats(beats: NodeBeat[]): void {
    const next = new Map(beats.map((b) => [b.node_id, b]));
    for (const b of beats) if (this.beats.get(b.node_id)?.at !== b.at) this.placedSinceBeat.delete(b.node_id);
    this.beats = next;
    for (const p of [...this.pending]) {
      if (p.node !== this.nodeId && !next.has(p.node))
        p.fail(
          new AaosError(
            ErrorCode.CLUSTER_UNAVAILABLE,
            `node ${p.node} stopped heartbeating while it worked for this node`,
            { node_id: p.node },
          ),
        );
    }
  }

  // ── the parent's / sender's side ───────────────────────────────────────────

  placeChild(manifest: AgentManifest): string | undefined {
    const node = placeChild(manifest, {
      self: this.nodeId,
      selfAgents: this.opts.supervisor.liveCount,
      beats: [...this.beats.values()],
      placedSinceBeat: this.placedSinceBeat,
      policy: this.opts.placement,
    });
    if (node === undefined || node === this.nodeId) return undefined;
    this.placedSinceBeat.set(node, (this.placedSinceBeat.get(node) ?? 0) + 1);
    return node;
  }

  async runChild(node: string, spawn: RemoteSpawn, signal: AbortSignal): Promise<ChildRunResult> {
    for (const t of spawn.tokens) this.narrowedAway.set(t.id, node);
    const onAbort = (): void => this.cancelOn(node, { agent_id: spawn.child.id, reason: reasonOf(signal.reason) });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.request<ChildRunResult>(node, 'spawn', { spawn });
    } catch (err) {
      const plain = toPlainError(err);
      return {
        agent_id: spawn.child.id,
        name: spawn.child.name,
        response: '',
        stop_reason: 'error',
        iterations: 0,
        usage: { input_tokens: 0, output_tokens: 0 },
        error: `${plain.code}: ${plain.message}`,
        error_code: plain.code,
      };
    } finally {
      signal.removeEventListener('abort', onAbort);
      // ended: its tokens here are revoked next, which must not reach out any more
      for (const t of spawn.tokens) this.narrowedAway.delete(t.id);
    }
  }

  resolve(ref: string): CallContext | undefined {
    const found = this.locate(ref);
    if (!found) return this.opts.homeless.find(ref);
    return {
      id: found.agent.id,
      name: found.agent.name,
      ...(found.agent.parent_id ? { parentId: found.agent.parent_id } : {}),
    };
  }

  async deliver(recipient: CallContext, envelopeText: string, context: DeliveryContext): Promise<RunOutcome> {
    let node = this.locate(recipient.id)?.node;
    // a persistent agent whose node is down: the message moves it to a live node first
    if (!node && this.opts.homeless.find(recipient.id)) node = await this.opts.homeless.move(recipient.id);
    if (!node)
      throw new AaosError(
        ErrorCode.AGENT_NOT_FOUND,
        `agent ${recipient.name} (${recipient.id}) no longer lives on any node`,
        {
          agent_id: recipient.id,
        },
      );
    try {
      return await this.deliverOn(node, recipient, envelopeText, context);
    } catch (err) {
      // nobody listens on that node's subject: it died (its last heartbeat has not expired here
      // yet) and nothing was delivered; a persistent agent of it is moved by this message
      if (!(err instanceof AaosError && err.details?.no_responders) || !this.opts.homeless.find(recipient.id))
        throw err;
      return this.deliverOn(await this.opts.homeless.move(recipient.id, node), recipient, envelopeText, context);
    }
  }

  private deliverOn(
    node: string,
    recipient: CallContext,
    envelopeText: string,
    context: DeliveryContext,
  ): Promise<RunOutcome> {
    // moved here: delivered as a message from another node would be (authorised and audited on the sender's side already)
    if (node === this.nodeId)
      return this.opts.supervisor.deliverRouted(recipient.id, envelopeText, parseEnvelope(envelopeText), context);
    return this.request<RunOutcome>(node, 'deliver', { recipient_id: recipient.id, envelope: envelopeText, context });
  }

  cancel(recipient: CallContext, runId: string, envelopeText: string, reason: string): void {
    const node = this.locate(recipient.id)?.node;
    if (node) this.cancelOn(node, { agent_id: recipient.id, run_id: runId, envelope: envelopeText, reason });
  }

  private locate(ref: string): { node: string; agent: NodeBeat['agents'][number] } | undefined {
    const all = [...this.beats.values()]
      .filter((b) => b.node_id !== this.nodeId)
      .flatMap((b) => b.agents.map((agent) => ({ node: b.node_id, agent })));
    const byId = all.find((a) => a.agent.id === ref);
    if (byId) return byId;
    const named = all.filter((a) => a.agent.name === ref);
    return named.length === 1 ? named[0] : undefined;
  }

  private cancelOn(node: string, body: z.infer<typeof CancelBody>): void {
    const subj = subject(node, 'cancel');
    this.nc.publish(subj, this.signer.seal(subj, body).text);
  }

  /** A signed request to `node`; fails when the node stops heartbeating or the reply is not properly signed. */
  /**
   * An operator's `tool.invoke` or `capability.list` for an agent on `node`: done there,
   * checked against the agent's tokens there and audited there, as through that node's socket.
   */
  operator(node: string, request: OperatorRequest): Promise<unknown> {
    return this.request(node, 'operator', { request });
  }

  private request<T>(node: string, kind: Exclude<Kind, 'cancel'>, body: object): Promise<T> {
    const subj = subject(node, kind);
    const sealed = this.signer.seal(subj, body);
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { node, fail: (err) => settle(() => reject(err)) };
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        this.pending.delete(entry);
        fn();
      };
      this.pending.add(entry);
      this.nc.request(subj, sealed.text, { timeout: this.opts.requestTimeoutMs }).then(
        (msg) => {
          try {
            const reply = this.signer.open(`reply:${sealed.id}`, msg.data) as unknown as Reply<T>;
            if (reply.ok) settle(() => resolve(reply.value));
            else
              settle(() =>
                reject(
                  new AaosError(reply.error.code as ErrorCode, `node ${node}: ${reply.error.message}`, {
                    node_id: node,
                  }),
                ),
              );
          } catch (err) {
            settle(() => reject(err));
          }
        },
        (err: unknown) =>
          settle(() =>
            reject(
              new AaosError(
                ErrorCode.CLUSTER_UNAVAILABLE,
                `node ${node} did not answer a ${kind} request: ${toPlainError(err).message}`,
                { node_id: node, ...(isNoResponders(err) ? { no_responders: true } : {}) },
              ),
            ),
          ),
      );
    });
  }

  // ── the child's / recipient's side ─────────────────────────────────────────

  /** One message from another node: checked, then acted on; the reply (if any) is signed for the request's id. */
  private async intake(kind: Kind, subj: string, data: Uint8Array): Promise<string> {
    let requestId = 'unknown';
    let reply: Reply<unknown>;
    try {
      const body = this.signer.open(subj, data);
      requestId = body.id;
      reply = { ok: true, value: await this.act(kind, body) };
    } catch (err) {
      const plain = toPlainError(err);
      if (plain.code === ErrorCode.CLUSTER_MESSAGE_REFUSED) this.opts.log(`agentd: cluster: ${plain.message}`);
      reply = { ok: false, error: { code: plain.code, message: plain.message } };
    }
    return this.signer.seal(`reply:${requestId}`, reply).text;
  }

  private async act(kind: Kind, body: Record<string, unknown>): Promise<unknown> {
    const sup = this.opts.supervisor;
    switch (kind) {
      case 'spawn': {
        const { spawn } = parseBody(SpawnBody, body, kind);
        if (spawn.tokens.some((t) => t.owner !== spawn.child.id))
          throw new AaosError(
            ErrorCode.CLUSTER_MESSAGE_REFUSED,
            `a spawn of ${spawn.child.name} carried tokens of another agent`,
          );
        // revoked on the parent's node while the spawn was on its way
        const revoked = spawn.tokens.find((t) => this.opts.isRevoked(t.id));
        if (revoked)
          throw new AaosError(
            ErrorCode.CAPABILITY_REVOKED,
            `child ${spawn.child.name} (${spawn.child.id}) is not started: its token ${revoked.id} was revoked on node ${String(body.from)} before the spawn arrived`,
            { agent_id: spawn.child.id },
          );
        const controller = new AbortController();
        this.adopted.set(spawn.child.id, controller);
        try {
          return await sup.runAdoptedChild(spawn as RemoteSpawn, controller.signal);
        } finally {
          this.adopted.delete(spawn.child.id);
        }
      }
      case 'deliver': {
        const d = parseBody(DeliverBody, body, kind);
        const context: DeliveryContext = {
          runId: d.context.runId,
          traceId: d.context.traceId,
          ...(d.context.goalRunId ? { goalRunId: d.context.goalRunId } : {}),
          ...(d.context.hop
            ? {
                hop: {
                  traceId: d.context.hop.traceId,
                  spanId: d.context.hop.spanId,
                  ...(d.context.hop.parentSpanId ? { parentSpanId: d.context.hop.parentSpanId } : {}),
                },
              }
            : {}),
        };
        return sup.deliverRouted(d.recipient_id, d.envelope, parseEnvelope(d.envelope), context);
      }
      case 'operator': {
        const { request } = parseBody(OperatorBody, body, kind);
        if (!sup.isLive(request.agent_id))
          throw new AaosError(
            ErrorCode.AGENT_NOT_FOUND,
            `agent ${request.agent_id} does not live on node ${this.nodeId}`,
            {
              agent_id: request.agent_id,
              node_id: this.nodeId,
            },
          );
        if (request.op === 'capability.list') return sup.tokens(request.agent_id);
        return (await sup.invokeTool(request.agent_id, request.tool, request.input)) ?? null;
      }
      case 'cancel': {
        const c = parseBody(CancelBody, body, kind);
        const child = this.adopted.get(c.agent_id);
        if (child && c.run_id === undefined) child.abort(new AaosError(ErrorCode.CANCELLED, c.reason));
        else if (c.run_id !== undefined) sup.cancelRun(c.agent_id, c.run_id, c.reason, c.envelope);
        return null;
      }
    }
  }
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown, kind: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AaosError(
      ErrorCode.CLUSTER_MESSAGE_REFUSED,
      `a ${kind} message is malformed at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

function reasonOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : 'cancelled';
}

/** NATS found no subscriber for the request's subject: the message reached no one. */
function isNoResponders(err: unknown): boolean {
  return err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders());
}
