import type { AgentInit, Delivery, ReplyEnvelope } from '../protocol/index.js';
import type { Message, ModelResponse } from '../providers/model.js';

/**
 * What a worker can ask of the supervisor. Every call is a request over the port;
 * the worker itself holds no capability, secret or I/O handle.
 */
export interface AgentApi {
  complete(runId: string, append: Message[]): Promise<ModelResponse>;
  callTool(runId: string, name: string, input: unknown, handle?: string, callId?: string): Promise<unknown>;
  /** `attachments` are transferred: they are unusable (detached) here afterwards */
  send(envelope: string, runId?: string, attachments?: ArrayBuffer[]): Promise<void>;
  /** resolves with the JSON-RPC response envelope (protocol/envelopes.ts `replyResult` reads it) */
  request(envelope: string, timeoutMs: number, runId?: string, attachments?: ArrayBuffer[]): Promise<ReplyEnvelope>;
}

/**
 * A module the generic worker entry can host. The LLM loop (llm-agent.ts) is the
 * default; tests and benchmarks load their own modules through the same entry.
 */
export interface AgentModule {
  init(agent: AgentInit, api: AgentApi): void | Promise<void>;
  handle(delivery: Delivery, api: AgentApi): Promise<unknown>;
  /** `envelope`: the `notifications/cancelled` text when a routed request to this agent was cancelled */
  cancel?(runId: string, reason: string, envelope?: string): void;
  /**
   * Run the module's hot code once against a local stand-in, before any agent is bound.
   * Every worker is a separate V8 isolate with its own cold JIT; a pre-started worker can
   * pay that cost while it waits instead of during its first real run.
   */
  warmup?(): Promise<void>;
}
