import { randomUUID } from 'node:crypto';
import type { AuditInput } from '../audit/event.js';
import {
  auditHeader,
  childCall,
  traceParentOf,
  type CallContext,
  type CallHeader,
  type SpanContext,
} from '../audit/call-context.js';
import { AaosError, ErrorCode, toPlainError, type PlainError } from '../errors/index.js';
import { rpcCodeFor } from '../errors/rpc-code.js';
import type { CapabilityRequest } from '../capability/capability.js';
import {
  CANCELLED_METHOD,
  cancelledEnvelope,
  errorReply,
  resultReply,
  type EnvelopeId,
  type ReplyEnvelope,
} from '../protocol/envelopes.js';
import type { RunOutcome } from '../protocol/index.js';
import { runSummary } from '../protocol/run-summary.js';
import { parseEnvelope, type McpEnvelope } from './envelope.js';

/** What the recipient's delivery is part of: the caller's goal run, and the hop span it is a child of. */
export interface DeliveryContext {
  /** the recipient's delivery (run) id, chosen by the router so it can cancel it */
  runId: string;
  goalRunId?: string;
  /** the message hop's span in the sender's trace (a child of the sender's span); absent when the sender is not in a run */
  hop?: SpanContext;
  /** the trace the message events carry: the hop's, else the envelope's own id */
  traceId: string;
}

export interface RouterDeps {
  /** agent id, or the name of exactly one live agent */
  resolve(ref: string): CallContext | undefined;
  /** throws when the sender may not do this (message_send) */
  authorize(sender: CallContext, request: CapabilityRequest): void;
  /** put the envelope in the recipient's mailbox; resolves with the delivery's outcome */
  deliver(
    recipient: CallContext,
    envelopeText: string,
    envelope: McpEnvelope,
    context: DeliveryContext,
    attachments?: ArrayBuffer[],
  ): Promise<RunOutcome>;
  /** cancel the recipient's delivery (queued or running), handing it the cancellation envelope */
  cancel(recipient: CallContext, runId: string, envelopeText: string, reason: string): void;
  /** throws MAILBOX_FULL (already audited) when the recipient holds its limit of unfinished messages */
  checkMailbox(sender: CallContext, recipient: CallContext, method: string): void;
  emit(event: AuditInput): void;
}

export interface RouterOptions {
  /** largest envelope text, in UTF-8 bytes (attachments are moved, not copied, and not counted) */
  maxMessageBytes: number;
}

/** AAOS_MESSAGE_MAX_BYTES when unset: 1 MiB */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

interface Pending {
  sender: CallContext;
  recipient: CallContext;
  id: EnvelopeId;
  method: string;
  context: DeliveryContext;
  settle(reply: ReplyEnvelope): void;
}

let notificationSeq = 0;

/**
 * Routes MCP envelopes between agents through the supervisor. The sender is taken
 * from the calling agent, never trusted from the envelope; `message_send` for the
 * recipient is required; every send is audited. A routed request is always answered
 * with a JSON-RPC response envelope (result, or error with `data.code`); when it times
 * out or its caller is cancelled, the recipient is sent `notifications/cancelled` and
 * its delivery is cancelled, so a late answer has no side effects.
 */
export class Router {
  /** by the recipient's delivery run id */
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly deps: RouterDeps,
    private readonly options: RouterOptions = { maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES },
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Fire and forget: resolves once the envelope is in the recipient's mailbox. */
  async send(
    sender: CallContext,
    envelopeText: string,
    attachments?: ArrayBuffer[],
  ): Promise<{ status: 'delivered'; envelope_id: string }> {
    const { envelope, recipient, text, context, envelopeId } = this.admit(sender, envelopeText);
    if (envelope.method === CANCELLED_METHOD) {
      // the sender cancels one of its own requests: end that delivery, do not start a new one
      const requestId = (envelope.params as { requestId?: unknown } | undefined)?.requestId;
      const reason = (envelope.params as { reason?: unknown } | undefined)?.reason;
      for (const p of this.pending.values()) {
        if (p.sender.id === sender.id && p.recipient.id === recipient.id && p.id === requestId) {
          this.cancelPending(
            p,
            new AaosError(
              ErrorCode.CANCELLED,
              `request '${p.method}' cancelled by its sender: ${typeof reason === 'string' ? reason : 'no reason given'}`,
            ),
            text,
          );
          break;
        }
      }
      // the notice has arrived (MCP: one for an unknown or finished request is ignored): its hop ends here
      this.delivered(sender, recipient, envelope, context, envelopeId);
      return { status: 'delivered', envelope_id: envelopeId };
    }
    this.delivered(sender, recipient, envelope, context, envelopeId);
    void this.deps.deliver(recipient, text, envelope, context, attachments).catch((err: unknown) => {
      this.deps.emit({
        type: 'MessageFailed',
        ...hopHeader(sender, context),
        from: sender.id,
        to: recipient.id,
        method: envelope.method,
        envelope_id: envelopeId,
        reason: toPlainError(err).message,
      });
    });
    return { status: 'delivered', envelope_id: envelopeId };
  }

  /** Request/reply with a timeout: always answered with a response envelope carrying the request's id. */
  request(
    sender: CallContext,
    envelopeText: string,
    timeoutMs: number,
    attachments?: ArrayBuffer[],
  ): Promise<ReplyEnvelope> {
    const { envelope, recipient, text, context, envelopeId } = this.admit(sender, envelopeText, true);
    const id = envelope.id!;
    return new Promise<ReplyEnvelope>((resolve) => {
      let done = false;
      const entry: Pending = {
        sender,
        recipient,
        id,
        method: envelope.method,
        context,
        settle: (reply) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.pending.delete(context.runId);
          resolve(reply);
        },
      };
      const timer = setTimeout(() => {
        this.cancelPending(
          entry,
          new AaosError(
            ErrorCode.MESSAGE_TIMEOUT,
            `request '${envelope.method}' to ${recipient.name} (${recipient.id}) got no reply within ${timeoutMs} ms`,
            {
              recipient: recipient.id,
              timeout_ms: timeoutMs,
            },
          ),
        );
      }, timeoutMs);
      this.pending.set(context.runId, entry);
      this.delivered(sender, recipient, envelope, context, envelopeId);
      this.deps.deliver(recipient, text, envelope, context, attachments).then(
        (outcome) => entry.settle(this.replyFor(entry, outcome)),
        (err: unknown) => entry.settle(this.errorFor(entry, toPlainError(err))),
      );
    });
  }

  /**
   * The caller's run (or, without a run id, the whole caller) was cancelled or stopped:
   * its pending requests are answered with a cancellation and their recipients cancelled.
   */
  cancelFrom(senderId: string, senderRunId: string | undefined, reason: string): void {
    if (this.pending.size === 0) return;
    for (const p of [...this.pending.values()]) {
      if (p.sender.id !== senderId) continue;
      if (senderRunId !== undefined && p.sender.deliveryRunId !== senderRunId) continue;
      this.cancelPending(
        p,
        new AaosError(ErrorCode.CANCELLED, `request '${p.method}' to ${p.recipient.name} cancelled: ${reason}`, {
          recipient: p.recipient.id,
        }),
      );
    }
  }

  /** Tell the recipient (MCP `notifications/cancelled`), cancel its delivery, answer the caller with the error. */
  private cancelPending(p: Pending, err: AaosError, noticeText?: string): void {
    if (!this.pending.has(p.context.runId)) return;
    const notice =
      noticeText ??
      JSON.stringify(
        cancelledEnvelope({
          sender: p.sender.id,
          recipient: p.recipient.id,
          requestId: p.id,
          reason: err.message,
          ...(p.sender.trace ? { trace: traceParentOf(p.sender)! } : {}),
        }),
      );
    // a notice the router makes is a hop of its own in the sender's trace (one the sender sent was audited as it came in)
    const hop = p.context.hop ? childCall(p.sender).trace : undefined;
    const noticeContext: DeliveryContext = { ...p.context, ...(hop ? { hop } : {}) };
    const fields = { from: p.sender.id, to: p.recipient.id, method: CANCELLED_METHOD, envelope_id: String(p.id) };
    if (noticeText === undefined)
      this.deps.emit({ type: 'MessageSent', ...hopHeader(p.sender, noticeContext), ...fields });
    p.settle(this.errorFor(p, toPlainError(err)));
    this.deps.cancel(p.recipient, p.context.runId, notice, err.message);
    if (noticeText === undefined)
      this.deps.emit({ type: 'MessageDelivered', ...hopHeader(p.recipient, noticeContext), ...fields });
  }

  private meta(p: Pending) {
    return { responder: p.recipient.id, trace_id: p.context.traceId, timestamp: new Date().toISOString() };
  }

  private replyFor(p: Pending, outcome: RunOutcome): ReplyEnvelope {
    // a recipient that failed answers with its error, not an empty result
    if ((outcome.stop_reason === 'error' || outcome.stop_reason === 'cancelled') && outcome.error)
      return this.errorFor(p, outcome.error);
    return resultReply(p.id, runSummary(outcome), this.meta(p));
  }

  private errorFor(p: Pending, plain: PlainError): ReplyEnvelope {
    return errorReply(
      p.id,
      {
        code: rpcCodeFor(plain.code),
        message: plain.message,
        data: { code: plain.code, ...(plain.details ? { details: plain.details } : {}) },
      },
      this.meta(p),
    );
  }

  private admit(
    sender: CallContext,
    envelopeText: string,
    needsId = false,
  ): { envelope: McpEnvelope; recipient: CallContext; text: string; context: DeliveryContext; envelopeId: string } {
    // before parsing: an oversized message costs nothing more than its length check
    this.checkSize(sender, envelopeText);
    const envelope = parseEnvelope(envelopeText);
    if (envelope.metadata.sender !== sender.id) {
      throw new AaosError(
        ErrorCode.MESSAGE_INVALID,
        `envelope sender '${envelope.metadata.sender}' is not the sending agent ${sender.name} (${sender.id})`,
        { field: 'metadata.sender' },
      );
    }
    if (needsId && envelope.id === undefined) {
      throw new AaosError(ErrorCode.MESSAGE_INVALID, 'a request envelope needs an id', { field: 'id' });
    }
    const recipient = this.deps.resolve(envelope.metadata.recipient);
    if (!recipient) {
      throw new AaosError(
        ErrorCode.AGENT_NOT_FOUND,
        `no live agent '${envelope.metadata.recipient}' to receive '${envelope.method}'`,
        {
          recipient: envelope.metadata.recipient,
        },
      );
    }
    this.deps.authorize(sender, { kind: 'message_send', targetId: recipient.id, targetName: recipient.name });
    // a cancellation always gets through: it frees the mailbox it would otherwise queue in
    if (envelope.method !== CANCELLED_METHOD) this.deps.checkMailbox(sender, recipient, envelope.method);
    // the supervisor's view of the caller's trace wins over what the envelope says:
    // the hop is a span in the sender's trace; the recipient's delivery is its child
    const hop = sender.trace ? childCall(sender).trace : undefined;
    const context: DeliveryContext = { runId: randomUUID(), traceId: hop?.traceId ?? envelope.metadata.trace_id };
    if (hop) context.hop = hop;
    if (sender.runId) context.goalRunId = sender.runId;
    const envelopeId = envelope.id !== undefined ? String(envelope.id) : `n-${++notificationSeq}`;
    this.deps.emit({
      type: 'MessageSent',
      ...hopHeader(sender, context),
      from: sender.id,
      to: recipient.id,
      method: envelope.method,
      envelope_id: envelopeId,
    });
    return { envelope, recipient, text: envelopeText, context, envelopeId };
  }

  private checkSize(sender: CallContext, envelopeText: string): void {
    const max = this.options.maxMessageBytes;
    // a UTF-8 byte is at least a third of a UTF-16 unit: short texts skip the exact count
    if (envelopeText.length * 3 <= max) return;
    const size = Buffer.byteLength(envelopeText, 'utf8');
    if (size <= max) return;
    const message = `message from ${sender.name} (${sender.id}) is ${size} bytes; the limit is ${max} (AAOS_MESSAGE_MAX_BYTES)`;
    this.deps.emit({
      type: 'MessageRefused',
      ...auditHeader(sender),
      from: sender.id,
      code: ErrorCode.MESSAGE_TOO_LARGE,
      reason: message,
      size_bytes: size,
      max_bytes: max,
    });
    throw new AaosError(ErrorCode.MESSAGE_TOO_LARGE, message, { sender: sender.id, size_bytes: size, max_bytes: max });
  }

  private delivered(
    sender: CallContext,
    recipient: CallContext,
    envelope: McpEnvelope,
    context: DeliveryContext,
    envelopeId: string,
  ): void {
    this.deps.emit({
      type: 'MessageDelivered',
      ...hopHeader(recipient, context),
      from: sender.id,
      to: recipient.id,
      method: envelope.method,
      envelope_id: envelopeId,
    });
  }
}

/**
 * A message event's header: `agent` (the sender or the recipient) in the caller's goal run and
 * the hop's span; a sender outside any run has no span, only the envelope's own trace id.
 */
function hopHeader(agent: CallContext, context: DeliveryContext): CallHeader {
  // the header's context field by field: a literal with conditional spreads cost more than the event itself
  const call: CallContext = { id: agent.id, name: agent.name };
  if (agent.parentId !== undefined) call.parentId = agent.parentId;
  if (context.hop) {
    if (context.goalRunId !== undefined) call.runId = context.goalRunId;
    call.trace = context.hop;
    return auditHeader(call);
  }
  // no span: the envelope's own trace id (not the goal's, which auditHeader would hash for nothing)
  const h = auditHeader(call);
  if (context.goalRunId !== undefined) h.run_id = context.goalRunId;
  h.trace_id = context.traceId;
  return h;
}
