import { z } from 'zod';

/** Subtask ids become file and agent-facing names: keep them short and plain. */
const SUBTASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const SubtaskTtl = z.strictObject({
  /** plan depth a subtask may sit at (its longest chain of dependencies counts against it) */
  max_hops: z.int().min(0).optional(),
  /** wall-clock limit of one attempt, in seconds (≤ 30 days) */
  max_wall_clock_s: z
    .number()
    .positive()
    .max(30 * 86_400)
    .optional(),
});

export const Subtask = z.strictObject({
  id: z.string().regex(SUBTASK_ID_PATTERN, { error: "an id is 1-64 characters: letters, digits, '_', '.', '-'" }),
  role: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  depends_on: z.array(z.string()).default([]),
  ttl: SubtaskTtl.optional(),
});
export type Subtask = z.infer<typeof Subtask>;

/** The planner's output (aaOS plan format): subtasks over the role catalog, and the run's final output. */
export const Plan = z.strictObject({
  subtasks: z.array(Subtask).min(1, 'a plan needs at least one subtask').max(64, 'a plan has at most 64 subtasks'),
  final_output: z.string().trim().min(1, 'must name the file the run produces'),
});
export type Plan = z.infer<typeof Plan>;
