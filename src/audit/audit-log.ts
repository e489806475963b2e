import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditInput } from './event.js';

export type AuditListener = (event: AuditEvent) => void;

/** Somewhere events are written (NDJSON stream, LMDB...). `close` flushes. */
export interface AuditSink {
  write(event: AuditEvent): void;
  close?(): Promise<void>;
}

/**
 * The supervisor's audit log: stamps events, keeps a bounded in-memory ring (a
 * churn of short-lived agents must not grow memory without bound), fans out to
 * sinks and live subscribers. A failing subscriber never breaks the emitter.
 */
export class AuditLog {
  private readonly ring: AuditEvent[] = [];
  private ringStart = 0;
  private readonly listeners = new Set<AuditListener>();
  private readonly sinks: AuditSink[] = [];
  private seq = 0;
  /** ids are `<log prefix>-<sequence>`: unique without a random draw per event */
  private readonly prefix = `${Date.now().toString(36)}${randomUUID().slice(0, 6)}`;

  constructor(private readonly capacity = 50_000) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`audit capacity must be a positive integer, got ${capacity}`);
  }

  /** the last stamp made, and the millisecond it is for: bursts of events share one string */
  private stampMs = -1;
  private stamp = '';

  emit<E extends AuditInput>(input: E): AuditEvent {
    const now = Date.now();
    if (now !== this.stampMs) {
      this.stampMs = now;
      this.stamp = new Date(now).toISOString();
    }
    const event = {
      id: `${this.prefix}-${(this.seq++).toString(36)}`,
      ts: this.stamp,
      ...input,
    } as unknown as AuditEvent;
    if (this.ring.length < this.capacity) this.ring.push(event);
    else {
      this.ring[this.ringStart] = event;
      this.ringStart = (this.ringStart + 1) % this.capacity;
    }
    for (const sink of this.sinks) {
      try {
        sink.write(event);
      } catch {
        // a broken sink must not take the runtime down; it is reported by its owner
      }
    }
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // ditto for subscribers (e.g. a socket client that went away)
      }
    }
    return event;
  }

  subscribe(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  addSink(sink: AuditSink): void {
    this.sinks.push(sink);
  }

  /** Events still in memory, oldest first, optionally filtered. */
  recent(filter?: (e: AuditEvent) => boolean): AuditEvent[] {
    const ordered = this.ring.slice(this.ringStart).concat(this.ring.slice(0, this.ringStart));
    return filter ? ordered.filter(filter) : ordered;
  }

  async close(): Promise<void> {
    for (const sink of this.sinks) await sink.close?.();
    this.listeners.clear();
  }
}
