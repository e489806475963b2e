import type { PlainError } from '../errors/index.js';
import type { MessagePort } from 'node:worker_threads';
import type { Message, ModelResponse } from '../providers/model.js';
import type { ReplyEnvelope } from './envelopes.js';
import type { TraceParent } from '../audit/trace-ids.js';

/**
 * The typed protocol on an agent's dedicated MessagePort. One tagged union per
 * direction; requests carry `id`, answers are `res` with the same id. Errors cross
 * as plain data and are rebuilt on the other side (errors/aaos-error.ts).
 *
 * Envelopes between agents travel as JSON text: the supervisor validates the parsed
 * form and forwards the original string (cheaper than re-cloning an object graph).
 */

/** What the worker needs to know about the agent it hosts. No secrets, no handles. */
export interface AgentInit {
  agent_id: string;
  name: string;
  max_iterations: number;
}

/** Supervisor-prepared context for one run delivered with an envelope. */
interface RunContext {
  run_id: string;
  /** prior conversation (persistent agents), already context-managed */
  history: Message[];
  /** this delivery's span in its trace; requests it makes carry it (protocol/envelopes.ts) */
  trace?: TraceParent;
  /** the goal run this delivery belongs to (a routed request's: its caller's) */
  goal_run_id?: string;
  /**
   * A run resumed after a restart: its transcript so far (user turn first), rebuilt from the
   * run journal. The agent continues from there: it makes the last model turn's calls that
   * have no result yet, then asks the model again. Never repeats a completed call.
   */
  resume?: Message[];
}

export interface Delivery {
  /** JSON text of an McpEnvelope (router/envelope.ts) */
  envelope: string;
  run: RunContext;
  /** binary payloads that came with the envelope, moved (transferred), not copied */
  attachments?: ArrayBuffer[];
}

export type StopReason =
  | 'complete'
  | 'max_iterations'
  | 'max_tokens'
  | 'budget_exceeded'
  | 'cancelled'
  | 'tool_repeat'
  | 'error';

export interface RunResult {
  run_id: string;
  response: string;
  stop_reason: StopReason;
  iterations: number;
  /** the messages this run added to the conversation (user turn first) */
  transcript: Message[];
  error: PlainError | null;
}

/** A run's result as the supervisor reports it: the worker's result plus what only the supervisor knows. */
export interface RunOutcome extends RunResult {
  agent_id: string;
  usage: { input_tokens: number; output_tokens: number };
  elapsed_ms: number;
}

type Ok<T> = { t: 'res'; id: number; ok: true; value: T };
type Err = { t: 'res'; id: number; ok: false; error: PlainError };
type Response<T = unknown> = Ok<T> | Err;

/**
 * What a worker may ask the supervisor, and what each request is answered with: one map,
 * so the worker's `call<K>()` and the supervisor's handlers share one type per request.
 */
interface WorkerRequestMap {
  /** `append`: messages added since this run's previous model call (the supervisor keeps the rest) */
  model: { request: { run_id: string; append: Message[] }; response: ModelResponse };
  /** `call_id`: the model's tool_use id: journaled so a resumed run knows which calls started; traces and the console show it */
  tool: {
    request: {
      run_id: string;
      name: string;
      input: unknown;
      handle?: string | undefined;
      call_id?: string | undefined;
    };
    response: unknown;
  };
  send: {
    request: { run_id?: string | undefined; envelope: string; attachments?: ArrayBuffer[] | undefined };
    response: { status: 'delivered'; envelope_id: string };
  };
  request: {
    request: {
      run_id?: string | undefined;
      envelope: string;
      timeout_ms: number;
      attachments?: ArrayBuffer[] | undefined;
    };
    response: ReplyEnvelope;
  };
}

export type WorkerRequestKind = keyof WorkerRequestMap;
export type WorkerRequestBody<K extends WorkerRequestKind> = WorkerRequestMap[K]['request'];
export type WorkerResponseOf<K extends WorkerRequestKind> = WorkerRequestMap[K]['response'];
/** One request on the port: its kind, its correlation id and its body. */
export type WorkerRequestOf<K extends WorkerRequestKind> = { t: K; id: number } & WorkerRequestBody<K>;
export type WorkerRequest = { [K in WorkerRequestKind]: WorkerRequestOf<K> }[WorkerRequestKind];
export type WorkerResponse = WorkerResponseOf<WorkerRequestKind>;

/** What the supervisor asks a worker, and what each is answered with. */
interface SupervisorRequestMap {
  /**
   * whatever the hosted module answered: untrusted, the supervisor parses it as a RunResult before using it.
   * `init`: on the first delivery only, the agent the worker hosts (its module's `init` runs first);
   * folded in, it saves a message and a wake-up each way per agent.
   */
  deliver: { request: { delivery: Delivery; init?: AgentInit }; response: unknown };
}

// supervisor → worker
export type SupervisorToWorker =
  | ({ t: 'deliver'; id: number } & SupervisorRequestMap['deliver']['request'])
  /** `envelope`: the MCP `notifications/cancelled` text when a routed request was cancelled */
  | { t: 'cancel'; run_id: string; reason: string; envelope?: string }
  /** liveness probe of the watchdog: answered at once with `pong` by the worker host, never by the module */
  | { t: 'ping'; seq: number }
  | Response<WorkerResponse>;

// worker → supervisor, on the agent's port
export type WorkerToSupervisor =
  /** the READY handshake: the module is loaded and the host listens */
  | { t: 'ready' }
  | { t: 'pong'; seq: number }
  /** the module's `init` threw on the first delivery `id`: the agent fails (nothing it hosts can run) */
  | { t: 'init_failed'; id: number; error: PlainError }
  | WorkerRequest
  | Response<SupervisorRequestMap[keyof SupervisorRequestMap]['response']>;

/** Worker → parent on `parentPort`: the start handshake failed (the module did not load); READY comes on the agent port. */
export type WorkerToParent = { t: 'start_failed'; error: PlainError };

/** Startup message on the worker's parentPort (piscina-style): which module, which port. */
export interface StartMessage {
  t: 'start';
  module: string;
  port: MessagePort;
  /** low-rate control channel (comlink), see src/agent/control.ts */
  control: MessagePort;
  /** a pre-started worker: run the module's warm-up before answering READY */
  warm?: boolean;
  /** scheduling niceness for this thread (Linux only: per thread there, per process elsewhere) */
  nice?: number;
}
