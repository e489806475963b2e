import type { AuditLog } from '../../audit/audit-log.js';
import type { TraceParent } from '../../audit/trace-ids.js';
import type { Tool } from '../../tools/tool.js';
import type { TokenView } from '../../capability/capability-token.js';
import type { ApprovalPort, HistoryPort, ModelPort, RunJournalPort, SkillsPort } from '../ports.js';
import type { RestartLimits } from '../restart-policy.js';
import type { WatchdogLimits } from '../watchdog.js';

export interface SupervisorOptions {
  dataDir: string;
  models: ModelPort;
  audit?: AuditLog;
  tools?: Tool[];
  maxAgents?: number;
  maxDepth?: number;
  /** workers booting at once; default: the core count */
  spawnConcurrency?: number;
  maxOutputTokens?: number;
  history?: HistoryPort;
  approvals?: ApprovalPort;
  skills?: SkillsPort;
  /** called to get a system-prompt suffix per agent (context summaries etc.) */
  promptAddenda?: (agentId: string) => string;
  /**
   * Park a persistent agent after this long without work: its worker ends, its
   * state stays in the store, and its next message starts a new worker. 0 = never.
   */
  parkIdleMs?: number;
  /** workers kept pre-started for the LLM agent module (64 MB heap), so spawns skip the boot */
  warmWorkers?: number;
  /** scheduling niceness of agent threads (Linux), so the supervisor keeps its share of the CPU */
  workerNice?: number;
  /**
   * Read-only directories whose files any agent-written manifest may name (prompts,
   * scripts); every other file such a manifest names needs the parent's `file_read`.
   * Default: the bundled `manifests/`.
   */
  promptRoots?: string[];
  /** largest message between agents, UTF-8 bytes of the envelope (default 1 MiB) */
  maxMessageBytes?: number;
  /** messages one agent may hold accepted and unfinished, queued or running (default 1000) */
  mailboxMax?: number;
  /** liveness pings and the run wall-clock limit (default: 60 s, 6 h) */
  watchdog?: Partial<WatchdogLimits>;
  /** restart backoff and intensity of persistent agents whose worker died */
  restarts?: Partial<RestartLimits>;
  /** spawn_agent runs a child that ended in error again this many times (default 1) */
  spawnRetries?: number;
  /** the tool repeat guard: the Nth identical tool call of a run stops it (default 3; 0 = off) */
  toolRepeatThreshold?: number;
  /** where journaled (goal) runs record their model turns and tool calls, for resume */
  journal?: RunJournalPort;
}

/** AAOS_MAILBOX_MAX when unset */
export const DEFAULT_MAILBOX_MAX = 1000;

export interface SpawnOptions {
  parentId?: string;
  runId?: string;
  workspace?: string;
  /** file path or URL of a built module exporting `agentModule`; default: the LLM loop */
  module?: string;
  /** deliveries processed at once (persistent bootstrap agents may take several goals) */
  concurrency?: number;
  /** keep this id (persistent agents re-created after a restart) */
  id?: string;
  /** the span (a spawn_agent tool call) the spawn happens in */
  trace?: TraceParent;
  /** the run the agent is spawned for was cancelled: its worker is not started */
  signal?: AbortSignal;
  /** a persistent agent registered without a worker: it starts on its first message, like one parked when idle */
  parked?: boolean;
  /** a child whose parent lives on another node: its depth, parent id and narrowed tokens came with the spawn */
  adopted?: { parentId: string; depth: number; tokens: TokenView[] };
}

export interface ChildRunOptions {
  /** what asked for the child (a tool name, or `plan`), named in a spawn_child denial */
  via: string;
  signal: AbortSignal;
  runId?: string;
  workspace?: string;
  /** called with the child's id once it exists (plans show it) */
  onSpawned?: (agentId: string) => void;
  /** the span the child is spawned from (a spawn_agent tool call): its spawn and run continue that trace */
  trace?: TraceParent;
}

export interface RunOptions {
  /** binary payloads handed on with the envelope (transferred, never copied) */
  attachments?: ArrayBuffer[];
  runId?: string;
  workspace?: string;
  signal?: AbortSignal;
  method?: string;
  /** the envelope's user text when the caller has already parsed it (saves a second parse) */
  messageText?: string;
  /** continue the caller's trace: the delivery's span becomes a child of this one */
  trace?: TraceParent;
  /** the goal run this delivery belongs to, when it is not the agent's own (a routed request's: its caller's) */
  goalRunId?: string;
  /** write the run's model turns and tool calls to the journal (goal runs, keyed by `runId`) */
  journal?: boolean;
  /** continue the run from its journal instead of starting it over (after a restart) */
  resume?: boolean;
}
