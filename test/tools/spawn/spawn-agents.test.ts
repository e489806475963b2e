import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AaosError, ErrorCode } from '../../../src/errors/index.js';
import { createSpawnAgentsTool } from '../../../src/tools/spawn/spawn-agents.js';
import type { ChildRunResult, Tool, ToolContext } from '../../../src/tools/tool.js';

/** How one fake child behaves: when it comes to exist (or fails to), and how its run ends. */
type Plan =
  | { kind: 'ok'; spawnAfter: 'microtasks' | 'io'; runFor: number }
  | { kind: 'spawn_fails'; after: 'sync' | 'microtasks' | 'io' }
  | { kind: 'run_fails'; runFor: number };

const plan: fc.Arbitrary<Plan> = fc.oneof(
  fc.record({
    kind: fc.constant('ok' as const),
    spawnAfter: fc.constantFrom('microtasks' as const, 'io' as const),
    runFor: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({
    kind: fc.constant('spawn_fails' as const),
    after: fc.constantFrom('sync' as const, 'microtasks' as const, 'io' as const),
  }),
  fc.record({ kind: fc.constant('run_fails' as const), runFor: fc.integer({ min: 0, max: 3 }) }),
);

const ticks = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};
const loopTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const unusedFileRead = {} as Tool;

function fakeContext(plans: Plan[], log: string[]): ToolContext {
  return {
    call: { id: 'parent', name: 'parent' },
    workspace: undefined,
    dataDir: '/nonexistent',
    signal: new AbortController().signal,
    authorize() {},
    spawnAndRun(_manifest, message, onSpawned): Promise<ChildRunResult> {
      const i = Number(message);
      const p = plans[i]!;
      log.push(`start ${i}`);
      if (p.kind === 'spawn_fails' && p.after === 'sync')
        throw new AaosError(ErrorCode.MANIFEST_INVALID, `child ${i} bad`);
      return (async () => {
        if ((p.kind === 'ok' && p.spawnAfter === 'io') || (p.kind === 'spawn_fails' && p.after === 'io'))
          await loopTurn();
        else await ticks(3);
        if (p.kind === 'spawn_fails') throw new AaosError(ErrorCode.MANIFEST_INVALID, `child ${i} bad`);
        log.push(`spawned ${i}`);
        onSpawned?.(`child-${i}`);
        for (let t = 0; t < p.runFor; t++) await loopTurn();
        if (p.kind === 'run_fails') throw new AaosError(ErrorCode.AGENT_FAILED, `child ${i} failed`);
        return {
          agent_id: `child-${i}`,
          name: `c${i}`,
          response: `answer ${i}`,
          stop_reason: 'complete',
          iterations: 1,
          usage: { input_tokens: 1, output_tokens: 1 },
          error: null,
        };
      })();
    },
  };
}

describe('spawn_agents', () => {
  it('answers every child in input order, each failure in its own slot, whatever order they end in and however their spawns wait', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(plan, { minLength: 1, maxLength: 12 }), async (plans) => {
          const log: string[] = [];
          const tool = createSpawnAgentsTool(unusedFileRead, 16);
          const out = (await tool.invoke(
            { children: plans.map((_, i) => ({ manifest: 'name: x', message: String(i) })) },
            fakeContext(plans, log),
          )) as { count: number; failed: number; children: { index: number; response?: string; error?: unknown }[] };
          expect(out.count).toBe(plans.length);
          expect(out.children.map((c) => c.index)).toEqual(plans.map((_, i) => i));
          plans.forEach((p, i) => {
            const slot = out.children[i]!;
            if (p.kind === 'ok') expect(slot.response).toBe(`answer ${i}`);
            else
              expect(slot.error).toMatchObject({
                code: p.kind === 'run_fails' ? 'AAOS_ERR_AGENT_FAILED' : 'AAOS_ERR_MANIFEST_INVALID',
              });
          });
          expect(out.failed).toBe(plans.filter((p) => p.kind !== 'ok').length);
          // one after another: a child whose spawn needs no I/O exists before the next one starts
          plans.forEach((p, i) => {
            if (i + 1 < plans.length && p.kind === 'ok' && p.spawnAfter === 'microtasks')
              expect(log.indexOf(`spawned ${i}`)).toBeLessThan(log.indexOf(`start ${i + 1}`));
          });
        }),
        { numRuns: 150 },
      );
      await loopTurn();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('does not hold the batch behind a child whose spawn waits for I/O (a booting worker)', async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ctx = fakeContext([], log);
    ctx.spawnAndRun = async (_m, message, onSpawned) => {
      log.push(`start ${message}`);
      if (message === '0') await gate; // child 0's worker is still booting
      onSpawned?.(`child-${message}`);
      return {
        agent_id: `child-${message}`,
        name: 'c',
        response: message,
        stop_reason: 'complete',
        iterations: 1,
        usage: { input_tokens: 1, output_tokens: 1 },
        error: null,
      };
    };
    const tool = createSpawnAgentsTool(unusedFileRead, 16);
    const done = tool.invoke({ children: ['0', '1', '2'].map((m) => ({ manifest: 'name: x', message: m })) }, ctx);
    for (let i = 0; i < 5 && !log.includes('start 2'); i++) await loopTurn();
    expect(log).toEqual(['start 0', 'start 1', 'start 2']);
    release();
    const out = (await done) as { count: number; failed: number };
    expect(out).toMatchObject({ count: 3, failed: 0 });
  });
});
