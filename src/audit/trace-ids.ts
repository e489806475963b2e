import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Trace and span ids in the W3C / OpenTelemetry format, carried by audit events so that
 * traces, the console and `logs` all see one tree: a trace per goal (32 hex digits), a span
 * per delivery, model call, tool call, spawn and message hop (16 hex digits).
 */
export interface TraceParent {
  traceId: string;
  /** the span the new work is a child of */
  spanId: string;
}

export function newTraceId(): string {
  return randomUUID().replaceAll('-', '');
}

// a random per-process prefix and a counter: unique without a random draw per span
const PREFIX = randomBytes(4).toString('hex');
let counter = 0;

export function newSpanId(): string {
  counter = counter >= 0xffffffff ? 1 : counter + 1;
  return `${PREFIX}${counter.toString(16).padStart(8, '0')}`;
}
