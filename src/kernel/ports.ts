import type { CallContext } from '../audit/call-context.js';
import type { AuditInput } from '../audit/event.js';
import type { AgentManifest } from '../manifest/schema.js';
import type { ModelRequest, ModelResponse, Message, ScriptContext } from '../providers/model.js';
import type { JournalEntry } from '../store/run-journal.js';

/**
 * What the supervisor needs from its collaborators, as narrow interfaces, so the
 * kernel does not depend on how providers, stores, skills or approvals are built.
 */
export interface ModelPort {
  registerAgent(agent: CallContext, budget?: { max_tokens: number; reset_period_seconds: number }): void;
  releaseAgent(agentId: string): void;
  /** `agent`: the caller in the span the call is made in (a delivery's) */
  complete(
    agent: CallContext,
    modelSpec: string,
    request: Omit<ModelRequest, 'model' | 'agent_id'>,
    ctx: ScriptContext,
  ): Promise<ModelResponse>;
  cancelAgent(agentId: string): void;
  maxContextTokens(modelSpec: string): number;
}

/** A persistent agent's delivery, as its history sees it: who, in which goal run, with which manifest. */
export interface HistoryAgent {
  call: CallContext;
  manifest: AgentManifest;
}

export interface PreparedHistory {
  /** prior turns to send, fitted into the context window */
  messages: Message[];
  /** the system prompt with any summary of older turns folded in */
  system: string;
}

/** Conversation history of persistent agents (sessions, context window management). */
export interface HistoryPort {
  prepare(
    agent: HistoryAgent,
    systemPrompt: string,
    reserve: { message: string; toolsJson: string },
  ): Promise<PreparedHistory>;
  commit(agent: HistoryAgent, transcript: Message[]): void;
  release(agentId: string): void;
}

export interface ApprovalPort {
  request(args: { agent: CallContext; tool: string; input: unknown; signal?: AbortSignal }): Promise<void>;
}

export interface SkillsPort {
  /** catalog text for the system prompt of agents that hold `tool: skill_read` ('' when no skills) */
  catalog(): string;
  /** throws when the tool is outside the allowed-tools of a skill active in this run */
  check(agentId: string, runId: string, tool: string): void;
  endRun(agentId: string, runId: string): void;
  endAgent(agentId: string): void;
}

/** The run journal (store/run-journal.ts): what a goal run did so far, durable as it happens. */
export interface RunJournalPort {
  append(runId: string, entry: JournalEntry): void;
  load(runId: string): JournalEntry[];
}

export type Emit = (event: AuditInput) => void;
