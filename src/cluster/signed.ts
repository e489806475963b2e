import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { AaosError, ErrorCode } from '../errors/index.js';

/** How old (or how far in the future, for clock skew) a signed message may be. */
const SIGNED_MAX_AGE_MS = 300_000;

/** What every signed message between nodes carries besides its payload. */
export interface SignedHeader {
  /** unique per message: a message seen before is refused (replay) */
  id: string;
  /** epoch ms when it was signed */
  at: number;
  /** the sending node */
  from: string;
}

/**
 * Messages between cluster nodes that carry authority (spawns with their narrowed tokens,
 * envelopes, cancellations) are signed with the cluster key: HMAC-SHA256 over the subject
 * and the body text, so a message cannot be altered, sent to another subject or node, or
 * made up by something on the NATS server that lacks the key. Each message id is accepted
 * once within the age window.
 */
export class ClusterSigner {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly key: string,
    private readonly nodeId: string,
  ) {}

  /** The wire text for `payload` sent on `subject` (a reply: `reply:<request id>`). */
  seal(subject: string, payload: object): { text: string; id: string } {
    const header: SignedHeader = { id: randomUUID(), at: Date.now(), from: this.nodeId };
    const body = JSON.stringify({ ...payload, ...header });
    return { text: JSON.stringify({ body, mac: this.mac(subject, body) }), id: header.id };
  }

  /** The payload of a message received on `subject`; throws CLUSTER_MESSAGE_REFUSED naming why. */
  open(subject: string, data: Uint8Array | string): Record<string, unknown> & SignedHeader {
    let wire: { body?: unknown; mac?: unknown };
    try {
      wire = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data)) as {
        body?: unknown;
        mac?: unknown;
      };
    } catch {
      throw refused(subject, 'it is not JSON');
    }
    if (typeof wire.body !== 'string' || typeof wire.mac !== 'string') throw refused(subject, 'it has no body and mac');
    const expected = Buffer.from(this.mac(subject, wire.body), 'hex');
    const given = Buffer.from(wire.mac, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw refused(
        subject,
        'its signature does not match (altered, sent to another subject, or signed with another cluster key)',
      );
    const body = JSON.parse(wire.body) as Record<string, unknown> & Partial<SignedHeader>;
    if (typeof body.id !== 'string' || typeof body.at !== 'number' || typeof body.from !== 'string')
      throw refused(subject, 'it lacks id, at or from');
    const now = Date.now();
    if (Math.abs(now - body.at) > SIGNED_MAX_AGE_MS)
      throw refused(
        subject,
        `it was signed ${Math.round((now - body.at) / 1000)} s ago (limit ${SIGNED_MAX_AGE_MS / 1000} s)`,
      );
    this.forgetOld(now);
    if (this.seen.has(body.id)) throw refused(subject, `message ${body.id} was received before (a replay)`);
    this.seen.set(body.id, body.at);
    return body as Record<string, unknown> & SignedHeader;
  }

  private mac(subject: string, body: string): string {
    return createHmac('sha256', this.key).update(subject).update('\n').update(body).digest('hex');
  }

  /** ids older than the window cannot come back (their age refuses them): drop them */
  private forgetOld(now: number): void {
    for (const [id, at] of this.seen) {
      if (now - at <= SIGNED_MAX_AGE_MS) break;
      this.seen.delete(id);
    }
  }
}

/**
 * The signature of a record stored in a key-value bucket (not a message: no age or replay
 * window, it is read back much later): HMAC-SHA256 over the key and the record's text, so a
 * record cannot be altered, moved to another key or made up without the cluster key.
 */
export function recordMac(key: string, name: string, text: string): string {
  return createHmac('sha256', key).update(`record\n${name}\n`).update(text).digest('hex');
}

export function recordMacMatches(key: string, name: string, text: string, mac: string): boolean {
  const expected = Buffer.from(recordMac(key, name, text), 'hex');
  const given = Buffer.from(mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function refused(subject: string, why: string): AaosError {
  return new AaosError(ErrorCode.CLUSTER_MESSAGE_REFUSED, `a message on ${subject} was refused: ${why}`, { subject });
}
