import { randomUUID } from 'node:crypto';
import { auditHeader, type CallContext } from '../../audit/call-context.js';
import type { AuditInput } from '../../audit/event.js';
import { goalTraceId, newSpanId } from '../../audit/trace-ids.js';
import { AaosError, ErrorCode, isAaosError } from '../../errors/index.js';
import type { WorkerRequestKind, WorkerRequestOf, WorkerResponseOf } from '../../protocol/index.js';
import { parseWorkerRequest } from '../../protocol/worker-input.js';
import type { AgentActor } from '../actor.js';
import type { LiveAgent } from '../agent-table.js';
import type { Conversation } from '../conversation.js';
import { AgentState, isTerminal } from '../lifecycle.js';
import { dispatchTool, hashInput, type ToolCall, type ToolDispatchDeps } from '../tool-dispatch.js';
import type { SupervisorCore } from './core.js';
import type { ModelRequests } from './model-requests.js';
import type { Spawning } from './spawning.js';

/**
 * What a worker asks for (model, tool, send, request), checked against its live run and
 * answered; and `tool.invoke` from the socket API, which takes the same tool path.
 */
export class WorkerRequests {
  constructor(
    private readonly core: SupervisorCore,
    private readonly models: ModelRequests,
    private readonly spawning: Spawning,
  ) {}

  /** One typed handler per request kind: what it answers is that kind's response (protocol/messages.ts). */
  private readonly handlers: {
    [K in WorkerRequestKind]: (
      rec: LiveAgent,
      state: Conversation | undefined,
      msg: WorkerRequestOf<K>,
    ) => Promise<WorkerResponseOf<K>>;
  } = {
    model: (rec, _state, msg) => this.models.complete(rec, msg.run_id, msg.append),
    tool: (rec, state, msg) => this.tool(rec, state, msg),
    send: (rec, state, msg) => this.core.router.send(state?.call ?? rec.identity, msg.envelope, msg.attachments),
    request: (rec, state, msg) =>
      this.core.router.request(state?.call ?? rec.identity, msg.envelope, msg.timeout_ms, msg.attachments),
  };

  /**
   * The actor's hook: one request of a worker, validated (a malformed one is refused with
   * PROTOCOL and nothing of it is kept), checked against its live run and answered.
   */
  async handle<K extends WorkerRequestKind>(actor: AgentActor, raw: WorkerRequestOf<K>): Promise<WorkerResponseOf<K>> {
    const rec = this.core.agents.get(actor.id);
    if (!rec || isTerminal(actor.state))
      throw new AaosError(ErrorCode.AGENT_STOPPED, `agent ${actor.name} is no longer live`);
    const msg = parseWorkerRequest(raw, `${rec.name} (${rec.id})`);
    const state = msg.run_id !== undefined ? this.core.conversations.get(rec.id, msg.run_id) : undefined;
    // a cancelled run has no further effects, whatever its worker still asks for
    if (state?.controller.isAborted) {
      // the reason it was cancelled (a signal, a timeout, an operator) is what the run reports
      const reason: unknown = state.controller.signal.reason;
      throw isAaosError(reason)
        ? reason
        : new AaosError(
            ErrorCode.CANCELLED,
            `run ${state.runId} of agent ${rec.name} was cancelled; its '${msg.t}' request was refused`,
            { run_id: state.runId },
          );
    }
    // the table's type pairs each kind with its handler; TS cannot follow that through a union key
    const handler = this.handlers[msg.t] as (
      rec: LiveAgent,
      state: Conversation | undefined,
      msg: WorkerRequestOf<K>,
    ) => Promise<WorkerResponseOf<K>>;
    return handler(rec, state, msg);
  }

  private tool(rec: LiveAgent, state: Conversation | undefined, msg: WorkerRequestOf<'tool'>): Promise<unknown> {
    if (!state) throw new AaosError(ErrorCode.PROTOCOL, `agent ${rec.name} referred to unknown run ${msg.run_id}`);
    if (state.stop) throw state.stop;
    const journal = state.journaled && msg.call_id ? this.core.opts.journal : undefined;
    const callId = msg.call_id;
    const call = dispatchTool(this.toolDeps(), {
      agent: rec,
      from: state.call,
      workspace: state.workspace,
      signal: state.controller.signal,
      name: msg.name,
      input: msg.input,
      ...(msg.handle ? { handle: msg.handle } : {}),
      ...(msg.call_id ? { callId: msg.call_id } : {}),
      // durable before the tool runs (after its approval): a restart must know this call may have taken effect
      ...(journal && callId
        ? {
            beforeInvoke: () =>
              journal.append(state.runId, { kind: 'tool_started', tool_use_id: callId, name: msg.name }),
          }
        : {}),
    });
    // a denied call is counted by the capability table, not by the repeat guard
    void call.then(
      () => this.countRepeat(rec, state, msg.name, msg.input),
      (err: unknown) => {
        if (!isDenial(err)) this.countRepeat(rec, state, msg.name, msg.input);
      },
    );
    return call;
  }

  /**
   * The tool repeat guard: a model that calls one tool with the same input again and again
   * is looping. When a run has made the same call (not denied) `toolRepeatThreshold` times,
   * its next tool and model calls are refused, so it ends with stop reason `tool_repeat`.
   */
  private countRepeat(rec: LiveAgent, state: Conversation, tool: string, input: unknown): void {
    const threshold = this.core.opts.toolRepeatThreshold ?? 3;
    if (threshold <= 0 || state.stop) return;
    const inputHash = hashInput(input);
    const key = `${tool}\u0000${inputHash}`;
    const count = (state.toolRepeats.get(key) ?? 0) + 1;
    state.toolRepeats.set(key, count);
    if (count < threshold) return;
    state.stop = new AaosError(
      ErrorCode.TOOL_REPEAT,
      `agent ${rec.name} called tool '${tool}' with the same input ${count} times in one run; stopped by the tool repeat guard (threshold ${threshold})`,
      { agent_id: rec.id, tool, input_hash: inputHash, attempt_count: count },
    );
    this.core.emit({
      type: 'ToolRepeatGuardFired',
      ...auditHeader(state.call),
      tool,
      input_hash: inputHash,
      attempt_count: count,
    });
  }

  private toolDeps(): ToolDispatchDeps {
    return {
      registry: this.core.tools,
      capabilities: this.core.capabilities,
      emit: (e: AuditInput) => this.core.emit(e),
      dataDir: this.core.dataDir,
      approvals: this.core.opts.approvals,
      skills: this.core.opts.skills,
      inflight: this.core.toolCalls,
      spawnAndRun: (
        parent: LiveAgent,
        call: ToolCall,
        yaml: string,
        message: string,
        inCall: CallContext,
        onSpawned?: (agentId: string) => void,
      ) => this.spawning.spawnChildAndRun(parent, call, yaml, message, inCall, onSpawned),
    };
  }

  /** `tool.invoke` from the socket API: the same path a worker's call takes, approval included. */
  async invokeTool(
    agentId: string,
    tool: string,
    input: unknown,
    options: { signal?: AbortSignal } = {},
  ): Promise<unknown> {
    const rec = this.core.agents.require(agentId);
    if (rec.actor.state !== AgentState.Running && rec.actor.state !== AgentState.Parked) {
      throw new AaosError(
        ErrorCode.AGENT_NOT_RUNNING,
        `agent ${rec.name} is ${rec.actor.state}; tools can only be invoked for a live agent`,
        {
          agent_id: rec.id,
          state: rec.actor.state,
        },
      );
    }
    const runId = `api-${randomUUID()}`;
    const goalRunId = rec.runId ?? runId;
    return dispatchTool(this.toolDeps(), {
      agent: rec,
      // outside any delivery: the call belongs to the agent's goal run, or is a goal run of its own
      from: {
        ...rec.identity,
        runId: goalRunId,
        deliveryRunId: runId,
        trace: { traceId: goalTraceId(goalRunId), spanId: newSpanId() },
      },
      workspace: rec.workspace,
      signal: options.signal ?? new AbortController().signal,
      name: tool,
      input,
    });
  }
}

/** A refusal by the capability table or a human: not the model looping on a tool. */
function isDenial(err: unknown): boolean {
  const code = isAaosError(err) ? err.code : '';
  return (
    code.startsWith('AAOS_ERR_CAPABILITY_') || code === ErrorCode.APPROVAL_DENIED || code === ErrorCode.APPROVAL_TIMEOUT
  );
}
