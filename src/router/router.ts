import type { AuditInput } from '../audit/event.js';
import { newSpanId, type TraceParent } from '../audit/trace-ids.js';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';
import type { CapabilityRequest } from '../kernel/capability.js';
import { parseEnvelope, type McpEnvelope } from './envelope.js';

export interface RouterAgent {
  id: string;
  name: string;
  parentId?: string;
  runId?: string;
  /** the sender's delivery span: the message hop continues its trace */
  trace?: TraceParent;
}

export interface RouterDeps {
  /** agent id, or the name of exactly one live agent */
  resolve(ref: string): RouterAgent | undefined;
  /** throws when the sender may not do this (message_send) */
  authorize(sender: RouterAgent, request: CapabilityRequest): void;
  /** put the envelope in the recipient's mailbox; resolves with its handler's result */
  deliver(recipient: RouterAgent, envelopeText: string, envelope: McpEnvelope, attachments?: ArrayBuffer[], trace?: TraceParent): Promise<unknown>;
  /** throws MAILBOX_FULL (already audited) when the recipient holds its limit of unfinished messages */
  checkMailbox(sender: RouterAgent, recipient: RouterAgent, method: string): void;
  emit(event: AuditInput): void;
}

export interface RouterOptions {
  /** largest envelope text, in UTF-8 bytes (attachments are moved, not copied, and not counted) */
  maxMessageBytes: number;
}

/** AAOS_MESSAGE_MAX_BYTES when unset: 1 MiB */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Routes MCP envelopes between agents through the supervisor. The sender is taken
 * from the calling agent, never trusted from the envelope; `message_send` for the
 * recipient is required; every send is audited. `request` keeps a pending entry
 * that is always removed: on reply, on timeout, or when the recipient fails.
 */
export class Router {
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; recipient: string }>();

  constructor(
    private readonly deps: RouterDeps,
    private readonly options: RouterOptions = { maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES },
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Fire and forget: resolves once the envelope is in the recipient's mailbox. */
  async send(sender: RouterAgent, envelopeText: string, attachments?: ArrayBuffer[]): Promise<{ status: 'delivered'; envelope_id: string }> {
    const { envelope, recipient, text, hop } = this.admit(sender, envelopeText);
    const envelopeId = envelope.metadata.trace_id;
    void this.deps.deliver(recipient, text, envelope, attachments, hop).catch((err: unknown) => {
      this.deps.emit({
        type: 'MessageFailed',
        agent_id: sender.id,
        agent_name: sender.name,
        ...hopHeader(envelope, hop),
        from: sender.id,
        to: recipient.id,
        method: envelope.method,
        envelope_id: envelopeId,
        reason: toPlainError(err).message,
      });
    });
    this.delivered(sender, recipient, envelope, hop);
    return { status: 'delivered', envelope_id: envelopeId };
  }

  /** Request/reply with a timeout. */
  async request(sender: RouterAgent, envelopeText: string, timeoutMs: number, attachments?: ArrayBuffer[]): Promise<unknown> {
    const { envelope, recipient, text, hop } = this.admit(sender, envelopeText, true);
    const key = `${envelope.metadata.trace_id}:${String(envelope.id)}`;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new AaosError(ErrorCode.MESSAGE_TIMEOUT, `request '${envelope.method}' to ${recipient.name} (${recipient.id}) got no reply within ${timeoutMs} ms`, {
            recipient: recipient.id,
            timeout_ms: timeoutMs,
          }),
        );
      }, timeoutMs);
    });
    this.pending.set(key, { timer: timer!, recipient: recipient.id });
    try {
      const reply = this.deps.deliver(recipient, text, envelope, attachments, hop);
      this.delivered(sender, recipient, envelope, hop);
      return await Promise.race([reply, timeout]);
    } finally {
      clearTimeout(timer);
      this.pending.delete(key);
    }
  }

  private admit(
    sender: RouterAgent,
    envelopeText: string,
    needsId = false,
  ): { envelope: McpEnvelope; recipient: RouterAgent; text: string; hop: TraceParent | undefined } {
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
      throw new AaosError(ErrorCode.AGENT_NOT_FOUND, `no live agent '${envelope.metadata.recipient}' to receive '${envelope.method}'`, {
        recipient: envelope.metadata.recipient,
      });
    }
    this.deps.authorize(sender, { kind: 'message_send', targetId: recipient.id, targetName: recipient.name });
    this.deps.checkMailbox(sender, recipient, envelope.method);
    // the hop is a span in the sender's trace; the recipient's delivery is its child
    const hop = sender.trace ? { traceId: sender.trace.traceId, spanId: newSpanId() } : undefined;
    this.deps.emit({
      type: 'MessageSent',
      agent_id: sender.id,
      agent_name: sender.name,
      ...hopHeader(envelope, hop),
      ...(sender.trace ? { parent_span_id: sender.trace.spanId } : {}),
      ...(sender.runId ? { run_id: sender.runId } : {}),
      from: sender.id,
      to: recipient.id,
      method: envelope.method,
      envelope_id: envelope.metadata.trace_id,
    });
    return { envelope, recipient, text: envelopeText, hop };
  }

  private checkSize(sender: RouterAgent, envelopeText: string): void {
    const max = this.options.maxMessageBytes;
    // a UTF-8 byte is at least a third of a UTF-16 unit: short texts skip the exact count
    if (envelopeText.length * 3 <= max) return;
    const size = Buffer.byteLength(envelopeText, 'utf8');
    if (size <= max) return;
    const message = `message from ${sender.name} (${sender.id}) is ${size} bytes; the limit is ${max} (AAOS_MESSAGE_MAX_BYTES)`;
    this.deps.emit({
      type: 'MessageRefused',
      agent_id: sender.id,
      agent_name: sender.name,
      ...(sender.runId ? { run_id: sender.runId } : {}),
      from: sender.id,
      code: ErrorCode.MESSAGE_TOO_LARGE,
      reason: message,
      size_bytes: size,
      max_bytes: max,
    });
    throw new AaosError(ErrorCode.MESSAGE_TOO_LARGE, message, { sender: sender.id, size_bytes: size, max_bytes: max });
  }

  private delivered(sender: RouterAgent, recipient: RouterAgent, envelope: McpEnvelope, hop: TraceParent | undefined): void {
    this.deps.emit({
      type: 'MessageDelivered',
      agent_id: recipient.id,
      agent_name: recipient.name,
      ...hopHeader(envelope, hop),
      from: sender.id,
      to: recipient.id,
      method: envelope.method,
      envelope_id: envelope.metadata.trace_id,
    });
  }
}

/** A message event's trace fields: the sender's trace and the hop's span, else the envelope's own id. */
function hopHeader(envelope: McpEnvelope, hop: TraceParent | undefined): { trace_id: string; span_id?: string } {
  return hop ? { trace_id: hop.traceId, span_id: hop.spanId } : { trace_id: envelope.metadata.trace_id };
}
