import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isAaosError } from '../../src/errors/index.js';
import type { WorkerRequest } from '../../src/protocol/index.js';
import { parseRunResult, parseWorkerRequest } from '../../src/protocol/worker-input.js';

describe('worker input validation', () => {
  it('any value a worker posts is either a well-formed request or refused with PROTOCOL, never anything else', () => {
    const kind = fc.constantFrom('model', 'tool', 'send', 'request');
    const loose = fc.record(
      {
        t: kind,
        id: fc.anything(),
        run_id: fc.anything(),
        append: fc.anything(),
        name: fc.anything(),
        envelope: fc.anything(),
        timeout_ms: fc.anything(),
      },
      { requiredKeys: ['t'] },
    );
    fc.assert(
      fc.property(loose, (msg) => {
        try {
          const parsed = parseWorkerRequest(msg as unknown as WorkerRequest, 'prop');
          expect(parsed.t).toBe(msg.t);
          expect(Number.isInteger(parsed.id)).toBe(true);
        } catch (err) {
          expect(isAaosError(err, ErrorCode.PROTOCOL)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a well-formed request passes unchanged; an unknown field or request type is refused', () => {
    const tool = { t: 'tool', id: 3, run_id: 'r1', name: 'echo', input: { message: 'x' }, call_id: 'c1' } as const;
    expect(parseWorkerRequest(tool, 'a')).toEqual(tool);
    expect(() => parseWorkerRequest({ ...tool, sneaky: true } as never, 'a')).toThrow(/field \(message\)|sneaky/);
    expect(() => parseWorkerRequest({ t: 'spawn', id: 1 } as never, 'a')).toThrow(/unknown request type "spawn"/);
  });

  it('a run result keeps the fields a module adds for its caller, and must be the run it answers', () => {
    const result = {
      run_id: 'r1',
      response: 'ok',
      stop_reason: 'complete',
      iterations: 0,
      transcript: [],
      error: null,
      bench: { n: 1 },
    };
    expect(parseRunResult(result, 'a', 'r1')).toEqual(result);
    expect(() => parseRunResult(result, 'a', 'r2')).toThrow(/answered run r2 with the result of run "r1"/);
    expect(() => parseRunResult({ ...result, stop_reason: 'done' }, 'a', 'r1')).toThrow(/field stop_reason/);
  });
});
