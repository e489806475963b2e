import { z } from 'zod';

/**
 * The one NDJSON line shape every `--json` stream of agentd writes (`run --json`,
 * `submit --json`, `logs --json`, `approvals --watch --json`) and every stream frame on
 * the socket has (docs/api.md, "Streams"): `v`, `kind`, `stream`, then the kind's fields.
 */
const Stream = z.union([z.number(), z.string(), z.null()]);
const head = { v: z.literal(1), stream: Stream };

export const StreamFrameLine = z.discriminatedUnion('kind', [
  z
    .object({
      ...head,
      kind: z.literal('event'),
      event: z
        .object({ id: z.string(), ts: z.string(), type: z.string(), agent_id: z.string(), agent_name: z.string() })
        .loose(),
    })
    .strict(),
  z
    .object({
      ...head,
      kind: z.literal('end'),
      status: z.string(),
      exit_code: z.union([z.literal(0), z.literal(1), z.null()]),
      run_id: z.string().optional(),
      agent_id: z.string().optional(),
      final_text: z.string().nullable().optional(),
      result: z.string().nullable().optional(),
      usage: z.object({ input_tokens: z.number(), output_tokens: z.number() }).nullable().optional(),
      elapsed_ms: z.number().nullable().optional(),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    })
    .strict()
    .refine((f) => (f.run_id === undefined) !== (f.agent_id === undefined), {
      message: 'an end frame names exactly one of run_id or agent_id',
    }),
  z.object({ ...head, kind: z.literal('lag'), missed: z.number().int().positive() }).strict(),
  z.object({ ...head, kind: z.literal('approval'), event: z.object({ type: z.string() }).loose() }).strict(),
  /** `approvals --watch --json` only: the method's answer (the pending approvals) as its first line */
  z.object({ ...head, kind: z.literal('snapshot'), pending: z.array(z.unknown()) }).strict(),
]);
export type StreamFrameLine = z.infer<typeof StreamFrameLine>;
