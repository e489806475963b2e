import { createHash, randomBytes } from 'node:crypto';

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

// a random per-process prefix and a counter: unique without a random draw per span
const PREFIX = randomBytes(4).toString('hex');
let counter = 0;

export function newSpanId(): string {
  counter = counter >= 0xffffffff ? 1 : counter + 1;
  return `${PREFIX}${counter.toString(16).padStart(8, '0')}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The trace of a goal run: one per goal, whatever part of it an event comes from (the
 * goal's own events, its deliveries, plan subtasks, children and the agents they ask),
 * also across a restart that resumes it. A UUID run id is its trace id as is.
 */
export function goalTraceId(goalRunId: string): string {
  if (UUID.test(goalRunId)) return goalRunId.replaceAll('-', '').toLowerCase();
  return createHash('sha256').update(goalRunId).digest('hex').slice(0, 32);
}
