import { z } from 'zod';
import { AaosError, ErrorCode } from '../errors/index.js';
import { Message } from '../providers/model.js';
import type { RunResult, WorkerRequest, WorkerRequestKind, WorkerRequestOf } from './messages.js';

/**
 * What a worker sends is untrusted (a module may be hostile or broken): every request and
 * every run result is parsed here, on the supervisor, before anything of it is used or stored.
 * The worker side stays zod-free; these schemas never load in a worker.
 */

const Id = z.number().int().nonnegative();
const RunId = z.string().min(1).max(256);
const Name = z.string().min(1).max(256);
const Attachments = z.array(z.instanceof(ArrayBuffer)).max(64);
/** setTimeout's limit: a longer timeout would fire at once */
const MAX_TIMEOUT_MS = 2_147_483_647;

const WorkerRequestSchemas = {
  model: z.strictObject({ t: z.literal('model'), id: Id, run_id: RunId, append: z.array(Message) }),
  tool: z.strictObject({
    t: z.literal('tool'),
    id: Id,
    run_id: RunId,
    name: Name,
    input: z.unknown(),
    handle: Name.optional(),
    call_id: Name.optional(),
  }),
  send: z.strictObject({
    t: z.literal('send'),
    id: Id,
    run_id: RunId.optional(),
    envelope: z.string(),
    attachments: Attachments.optional(),
  }),
  request: z.strictObject({
    t: z.literal('request'),
    id: Id,
    run_id: RunId.optional(),
    envelope: z.string(),
    timeout_ms: z.number().int().positive().max(MAX_TIMEOUT_MS),
    attachments: Attachments.optional(),
  }),
} satisfies { [K in WorkerRequestKind]: z.ZodType<WorkerRequestOf<K>> };

const PlainErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

// loose: a module may add fields of its own for its caller (bench figures); the ones the supervisor uses are checked
const RunResultSchema = z.looseObject({
  run_id: z.string(),
  response: z.string(),
  stop_reason: z.enum([
    'complete',
    'max_iterations',
    'max_tokens',
    'budget_exceeded',
    'cancelled',
    'tool_repeat',
    'error',
  ]),
  iterations: z.number().int().nonnegative(),
  transcript: z.array(Message),
  error: PlainErrorSchema.nullable(),
}) satisfies z.ZodType<RunResult>;

/** The request, checked field by field; PROTOCOL naming the agent, the request and the field otherwise. */
export function parseWorkerRequest<K extends WorkerRequestKind>(
  msg: WorkerRequestOf<K>,
  agent: string,
): WorkerRequestOf<K>;
export function parseWorkerRequest(msg: WorkerRequest, agent: string): WorkerRequest {
  const schema = WorkerRequestSchemas[msg.t] as z.ZodType<WorkerRequest> | undefined;
  if (!schema)
    throw new AaosError(
      ErrorCode.PROTOCOL,
      `agent ${agent} sent an unknown request type ${JSON.stringify((msg as { t?: unknown }).t)}`,
      { agent },
    );
  const parsed = schema.safeParse(msg);
  if (!parsed.success) throw refusal(agent, `its '${msg.t}' request`, parsed.error);
  return parsed.data;
}

/** A delivery's answer from the worker, checked before its transcript is kept or its response passed on. */
export function parseRunResult(value: unknown, agent: string, runId: string): RunResult {
  const parsed = RunResultSchema.safeParse(value);
  if (!parsed.success) throw refusal(agent, `its result of run ${runId}`, parsed.error);
  if (parsed.data.run_id !== runId) {
    throw new AaosError(
      ErrorCode.PROTOCOL,
      `agent ${agent} answered run ${runId} with the result of run ${JSON.stringify(parsed.data.run_id)}; refused, nothing of it was kept`,
      {
        agent,
        field: 'run_id',
      },
    );
  }
  return parsed.data;
}

function refusal(agent: string, what: string, error: z.ZodError): AaosError {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(message)';
  return new AaosError(
    ErrorCode.PROTOCOL,
    `agent ${agent} sent a malformed message: ${what}, field ${field}: ${issue?.message ?? 'invalid'}; refused, nothing of it was kept`,
    {
      agent,
      field,
    },
  );
}
