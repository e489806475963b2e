import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditHeader, childCall, outsideRun, traceParentOf, type CallContext } from '../../src/audit/call-context.js';
import { goalTraceId } from '../../src/audit/trace-ids.js';

const delivery: CallContext = {
  id: 'a1',
  name: 'helper',
  parentId: 'p1',
  runId: 'goal-1',
  deliveryRunId: 'd1',
  trace: { traceId: 'f'.repeat(32), spanId: '1'.repeat(16), parentSpanId: '2'.repeat(16) },
};

describe('CallContext', () => {
  it('makes the audit header of an event in its span', () => {
    expect(auditHeader(delivery)).toEqual({
      agent_id: 'a1',
      agent_name: 'helper',
      parent_id: 'p1',
      run_id: 'goal-1',
      trace_id: 'f'.repeat(32),
      span_id: '1'.repeat(16),
      parent_span_id: '2'.repeat(16),
    });
  });

  it('a call made from it is a child span in the same trace, goal run and delivery', () => {
    const call = childCall(delivery);
    expect(call.trace).toEqual({
      traceId: 'f'.repeat(32),
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
      parentSpanId: '1'.repeat(16),
    });
    expect(call.trace!.spanId).not.toBe(delivery.trace!.spanId);
    expect(call).toMatchObject({ id: 'a1', runId: 'goal-1', deliveryRunId: 'd1' });
    expect(traceParentOf(call)).toEqual({ traceId: 'f'.repeat(32), spanId: call.trace!.spanId });
  });

  it('outside any span, an event of a goal run carries the goal trace; outside a run, no trace', () => {
    const agent = outsideRun(delivery);
    expect(agent).toEqual({ id: 'a1', name: 'helper', parentId: 'p1', runId: 'goal-1' });
    expect(auditHeader(agent)).toEqual({
      agent_id: 'a1',
      agent_name: 'helper',
      parent_id: 'p1',
      run_id: 'goal-1',
      trace_id: goalTraceId('goal-1'),
    });
    expect(auditHeader({ id: 'a2', name: 'x' })).toEqual({ agent_id: 'a2', agent_name: 'x' });
  });

  it('a goal trace id is a W3C trace id, the run id itself for a UUID, stable for any run id', () => {
    expect(goalTraceId('0F8FAD5B-D9CB-469F-A165-70867728950E')).toBe('0f8fad5bd9cb469fa16570867728950e');
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (runId) => {
        const id = goalTraceId(runId);
        expect(id).toMatch(/^[0-9a-f]{32}$/);
        expect(goalTraceId(runId)).toBe(id);
      }),
    );
  });
});
