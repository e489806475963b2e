/**
 * Audit events. Every event has the common header; the rest is per type.
 * Type names follow aaOS (PascalCase). Adding a type: add it to AuditFields.
 */
export interface AuditHeader {
  id: string;
  /** ISO-8601 timestamp */
  ts: string;
  agent_id: string;
  agent_name: string;
  parent_id?: string;
  run_id?: string;
  trace_id?: string;
  /** the span this event opens, closes or happens in (see src/audit/trace-ids.ts) */
  span_id?: string;
  /** the span that caused it: a delivery's caller, a model or tool call's delivery */
  parent_span_id?: string;
}

export interface AuditFields {
  AgentSpawned: { manifest_name: string; model: string; depth: number; lifecycle: string };
  AgentStateChanged: { from: string; to: string };
  /**
   * `from`: the state it was stopped in. A stop (running → stopping → stopped) is this one
   * event, not two AgentStateChanged besides it.
   */
  AgentStopped: { reason: string; from?: string };
  AgentFailed: { reason: string; code: string };
  AgentParked: { idle_ms: number };
  AgentReactivated: { reason: string };
  /** a persistent agent's worker died; it restarts on its next message, not before `delay_ms` */
  AgentRestartPending: { failures: number; window_ms: number; delay_ms: number; reason: string };
  CapabilityGranted: { token_id: string; capability: string; constraints?: Record<string, unknown> };
  CapabilityDenied: { capability: string; reason: string; code: string; tool?: string };
  CapabilityRevoked: { token_id: string; capability: string; reason: string };
  /** `call_id`: the model's id for this tool call, when it gave one */
  ToolInvoked: { tool: string; input_hash: string; args_preview: string; call_id?: string };
  /** a tool call refused before it ran for a reason other than a capability (those are CapabilityDenied) */
  ToolRefused: { tool: string; code: string; reason: string };
  ToolResult: {
    tool: string;
    success: boolean;
    duration_ms: number;
    result_preview: string;
    error_code?: string;
    call_id?: string;
  };
  MessageSent: { from: string; to: string; method: string; envelope_id: string };
  MessageDelivered: { from: string; to: string; method: string; envelope_id: string };
  MessageFailed: { from: string; to: string; method: string; envelope_id: string; reason: string };
  /** refused before delivery: too large (recipient not yet known) or the recipient's mailbox is full */
  MessageRefused: {
    from: string;
    to?: string;
    method?: string;
    code: string;
    reason: string;
    size_bytes?: number;
    max_bytes?: number;
    queued?: number;
    max_queued?: number;
  };
  AgentExecutionStarted: { message_preview: string };
  AgentExecutionCompleted: {
    stop_reason: string;
    total_iterations: number;
    response_preview: string;
    input_tokens: number;
    output_tokens: number;
    error?: string;
  };
  AgentMessageReceived: { method: string; envelope_id: string };
  /** `duration_ms`: the provider call that answered; `queue_ms`: time spent waiting in the scheduler (all attempts) */
  UsageReported: {
    model: string;
    provider: string;
    input_tokens: number;
    output_tokens: number;
    duration_ms?: number;
    queue_ms?: number;
  };
  BudgetExceeded: { max_tokens: number; used_tokens: number; requested_by: string };
  InferenceRetried: { provider: string; attempt: number; delay_ms: number; reason: string };
  ContextSummarized: { messages_summarized: number; tokens_saved_estimate: number };
  ContextSummarizationFailed: { reason: string; fallback: string; dropped_messages: number };
  MemoryStored: { memory_id: string; category: string; content_hash: string };
  MemoryQueried: { query_hash: string; results_count: number };
  MemoryDeleted: { memory_id: string };
  SessionStoreError: { operation: string; message: string };
  SkillActivated: { skill: string; allowed_tools: string[] | null };
  HumanApprovalRequested: { approval_id: string; tool: string; input_preview: string };
  HumanApprovalGranted: { approval_id: string; tool: string; scope: string };
  HumanApprovalDenied: { approval_id: string; tool: string; reason: string };
  HumanApprovalTimedOut: { approval_id: string; tool: string; timeout_ms: number };
  /** `queued`: every goal slot was taken (AAOS_MAX_CONCURRENT_GOALS), so it waits; `goals_running` then */
  RunSubmitted: { goal_preview: string; workspace: string; queued?: boolean; goals_running?: number };
  /** the run left the queue and began; `queued_ms`: how long it waited for a slot */
  RunStarted: { queued_ms: number };
  RunCompleted: { status: string; result_preview: string; elapsed_ms: number };
  RunResumed: { previous_state: string };
  /** a resumed run continues from its journal: stored model turns and tool results, calls made again or reported interrupted */
  RunReplayed: { model_turns: number; tool_results: number; calls_to_make: number; interrupted: string[] };
  /** the run passed AAOS_RUN_TIMEOUT_MS and was cancelled */
  RunTimedOut: { timeout_ms: number };
  RuntimeStarted: { version: string; pid: number; model_default: string };
  RuntimeStopping: { reason: string };
  McpServerConnected: {
    server: string;
    transport: string;
    tools: number;
    attempt: number;
    protocol_version: string | null;
  };
  McpServerFailed: { server: string; reason: string; attempt: number; retry_in_ms?: number };
  // computed orchestration (plans over roles)
  OrchestrationSelected: { mode: string; source: string; answer?: string };
  PlanProduced: {
    subtask_count: number;
    replans_used: number;
    final_output: string;
    subtasks: Array<{ id: string; role: string; depends_on: string[] }>;
  };
  PlanReplanned: { reason: string; replans_used: number; failed_subtask?: string };
  SubtaskStarted: { subtask_id: string; role: string; attempt: number; model: string };
  SubtaskCompleted: {
    subtask_id: string;
    role: string;
    success: boolean;
    attempts: number;
    elapsed_ms: number;
    response_preview: string;
    reused?: boolean;
  };
  SubtaskFailed: {
    subtask_id: string;
    role: string;
    attempt: number;
    kind: string;
    reason: string;
    will_retry: boolean;
  };
  SubtaskTtlExpired: { subtask_id: string; reason: string };
  SubtaskModelEscalated: {
    subtask_id: string;
    from_tier: number;
    to_tier: number;
    from_model: string;
    to_model: string;
    reason: string;
  };
  SubtaskOutputMissing: { subtask_id: string; declared_path: string };
  ToolRepeatGuardFired: { tool: string; input_hash: string; attempt_count: number };
  ChildRetried: { child_name: string; attempt: number; original_error: string };
}

export type AuditType = keyof AuditFields;

export type AuditEventOf<T extends AuditType> = AuditHeader & { type: T } & AuditFields[T];
export type AuditEvent = { [T in AuditType]: AuditEventOf<T> }[AuditType];

/** What an emitter supplies; the log fills `id` and `ts`. Distributes over the event types. */
export type AuditInputOf<T extends AuditType> = Omit<AuditEventOf<T>, 'id' | 'ts'>;
export type AuditInput = { [T in AuditType]: AuditInputOf<T> }[AuditType];
