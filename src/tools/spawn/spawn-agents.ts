import { z } from 'zod';
import { toPlainError } from '../../errors/index.js';
import { type ChildRunResult, defineTool, type Tool } from '../tool.js';
import { PriorFindings } from './prior-findings.js';
import { childMessage } from './spawn-agent.js';

/** Spawn several children in parallel; one child's failure is reported in its slot and never aborts its siblings. */
export function createSpawnAgentsTool(fileRead: Tool, maxBatch = 16): Tool {
  return defineTool({
    name: 'spawn_agents',
    description: `Spawn up to ${maxBatch} child agents in parallel, each from a YAML manifest with its own task message; returns every child's answer (or its error) in input order.`,
    input: z.object({
      children: z
        .array(
          z.object({
            manifest: z.string().min(1),
            message: z.string().min(1),
            prior_findings: PriorFindings.optional(),
          }),
        )
        .min(1)
        .max(maxBatch),
    }),
    async run(input, ctx) {
      const settled: PromiseSettledResult<ChildRunResult>[] = [];
      const runs: Promise<void>[] = [];
      for (const [i, c] of input.children.entries()) {
        let spawned!: () => void;
        const exists = new Promise<void>((resolve) => {
          spawned = resolve;
        });
        // settled as it ends: a child failing while later siblings are still being started is no unhandled rejection
        const run = childMessage(c.message, c.prior_findings, ctx, fileRead)
          .then((message) => ctx.spawnAndRun(c.manifest, message, spawned))
          .then(
            (value) => {
              settled[i] = { status: 'fulfilled', value };
            },
            (reason: unknown) => {
              settled[i] = { status: 'rejected', reason };
            },
          );
        runs.push(run);
        // Children are started one after another: each spawn is a chain of awaits, and started all
        // at once every child passed each step before any ran, so the whole batch began working
        // only after the last spawn. The next starts once this one exists (its worker takes the
        // delivery while the rest are spawned), or after a turn of the event loop when its spawn
        // waits for I/O (a worker booting), so boots still overlap.
        if (i < input.children.length - 1)
          await Promise.race([exists, run, new Promise<void>((resolve) => setImmediate(resolve))]);
      }
      await Promise.all(runs);
      const children = settled.map((s, index) =>
        s.status === 'fulfilled' ? { index, ...s.value } : { index, error: toPlainError(s.reason) },
      );
      return {
        count: children.length,
        failed: children.filter((c) => 'error' in c && c.error !== null).length,
        children,
      };
    },
  });
}
