import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { commandManifest, testSupervisor } from '../../support/kernel.js';

const EXTRAS = fileURLToPath(new URL('../../fixtures/agents/extras-agent.mjs', import.meta.url));

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

describe("a run's outcome", () => {
  it("keeps the fields a module added, as data, between the worker's and the supervisor's", async () => {
    const t = testSupervisor();
    closers.push(t.close);
    const a = await t.sup.spawn(commandManifest('extras'), { module: EXTRAS });
    const out = await t.sup.run(a.id, 'go');
    expect(out).toMatchObject({ response: 'with extras', stop_reason: 'complete', agent_id: a.id });
    const extra = out as unknown as Record<string, unknown>;
    expect(extra.bench).toEqual({ n: 1 });
    // a key named like an Object.prototype member is the module's value, not the inherited one
    expect(Object.hasOwn(out, 'constructor')).toBe(true);
    expect(extra.constructor).toBe('mine');
    // never a prototype: the outcome is a plain object and nothing was polluted
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(out.usage)).toBe(Object.prototype);
    expect((out as unknown as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(out).slice(0, 6)).toEqual([
      'run_id',
      'response',
      'stop_reason',
      'iterations',
      'transcript',
      'error',
    ]);
    expect(Object.keys(out).slice(-3)).toEqual(['agent_id', 'usage', 'elapsed_ms']);
  });
});
