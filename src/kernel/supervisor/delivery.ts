import { randomUUID } from 'node:crypto';
import { auditHeader, traceParentOf, type CallContext, type CallHeader } from '../../audit/call-context.js';
import { goalTraceId, newSpanId } from '../../audit/trace-ids.js';
import { AaosError, ErrorCode, isAaosError, toPlainError } from '../../errors/index.js';
import type { Delivery, RunOutcome, RunResult } from '../../protocol/index.js';
import { parseRunResult } from '../../protocol/worker-input.js';
import { makeEnvelope, type McpEnvelope } from '../../router/envelope.js';
import type { DeliveryContext } from '../../router/router.js';
import type { LiveAgent } from '../agent-table.js';
import { closedTranscript, type Conversation } from '../conversation.js';
import { LazyAbort } from '../lazy-abort.js';
import { AgentState } from '../lifecycle.js';
import { resumeTranscript } from '../resume-transcript.js';
import { DEFAULT_WATCHDOG_LIMITS } from '../watchdog.js';
import { preview } from '../../audit/preview.js';
import type { SupervisorCore } from './core.js';
import type { ModelRequests } from './model-requests.js';
import { DEFAULT_MAILBOX_MAX, type RunOptions } from './options.js';
import type { Parking } from './parking.js';
import { cancelledBeforeStart } from './worker-start.js';

/**
 * Delivery: a message becomes a run of an agent. The mailbox bound, the run's context (its
 * goal run, its span, its history), the worker's answer, the run's deadline and its outcome.
 */
export class Deliveries {
  /** per agent: messages accepted and not yet finished (queued, preparing or running) */
  private readonly mailboxes = new Map<string, number>();

  constructor(
    private readonly core: SupervisorCore,
    private readonly models: ModelRequests,
    private readonly parking: Parking,
  ) {}

  /** Deliver `message` to an agent as an `agent.run` envelope and wait for the run's result. */
  async run(agentId: string, message: string, options: RunOptions = {}): Promise<RunOutcome> {
    const rec = this.core.agents.require(agentId);
    const envelope = makeEnvelope({
      sender: 'supervisor',
      recipient: rec.id,
      method: options.method ?? 'agent.run',
      params: { message },
      request: true,
    });
    return this.deliverEnvelope(rec, JSON.stringify(envelope), { messageText: message, ...options });
  }

  /** An envelope the router (here, or the sender's node) authorised, into the recipient's mailbox. */
  deliverRouted(
    recipientId: string,
    text: string,
    envelope: McpEnvelope,
    context: DeliveryContext,
    attachments?: ArrayBuffer[],
  ): Promise<RunOutcome> {
    const message = (envelope.params as { message?: unknown } | undefined)?.message;
    return this.deliverEnvelope(this.core.agents.require(recipientId), text, {
      runId: context.runId,
      ...(context.goalRunId ? { goalRunId: context.goalRunId } : {}),
      ...(context.hop ? { trace: context.hop } : {}),
      ...(attachments ? { attachments } : {}),
      ...(typeof message === 'string' ? { messageText: message } : {}),
      method: envelope.method,
    });
  }

  /** Cancel a run wherever it is: queued in a mailbox, waiting on a model, or running tools. */
  cancelRun(agentId: string, runId: string, reason = 'cancelled', envelope?: string): boolean {
    const rec = this.core.agents.get(agentId);
    if (!rec) return false;
    const state = this.core.conversations.get(agentId, runId);
    state?.controller.abort(new AaosError(ErrorCode.CANCELLED, reason));
    rec.actor.cancelRun(runId, reason, envelope);
    // requests this run is waiting on are cancelled at their recipients too
    this.core.router.cancelFrom(agentId, runId, `the calling run was cancelled: ${reason}`);
    return state !== undefined;
  }

  /**
   * The mailbox bound: MAILBOX_FULL, audited, when `rec` already holds its limit of
   * accepted, unfinished messages. `from` is the sending agent, or undefined for the operator.
   */
  mailboxRefusal(rec: LiveAgent, from: CallContext | undefined, method: string): AaosError | undefined {
    const max = this.core.opts.mailboxMax ?? DEFAULT_MAILBOX_MAX;
    const queued = this.mailboxes.get(rec.id) ?? 0;
    if (queued < max) return undefined;
    const message = `the mailbox of agent ${rec.name} (${rec.id}) is full: ${queued} messages not yet finished (AAOS_MAILBOX_MAX=${max})`;
    this.core.emit({
      type: 'MessageRefused',
      ...auditHeader(from ?? rec.identity),
      from: from?.id ?? 'supervisor',
      to: rec.id,
      method,
      code: ErrorCode.MAILBOX_FULL,
      reason: message,
      queued,
      max_queued: max,
    });
    return new AaosError(ErrorCode.MAILBOX_FULL, message, { agent_id: rec.id, queued, max_queued: max });
  }

  async deliverEnvelope(rec: LiveAgent, envelopeText: string, options: RunOptions): Promise<RunOutcome> {
    if (this.core.shuttingDown) throw new AaosError(ErrorCode.SHUTTING_DOWN, 'the supervisor is shutting down');
    // counted before the first await, so the router's check and this one see the same number
    const refused = this.mailboxRefusal(rec, undefined, options.method ?? 'agent.run');
    if (refused) throw refused;
    this.mailboxes.set(rec.id, (this.mailboxes.get(rec.id) ?? 0) + 1);
    try {
      return await this.deliverAccepted(rec, envelopeText, options);
    } finally {
      const left = (this.mailboxes.get(rec.id) ?? 1) - 1;
      if (left > 0) this.mailboxes.set(rec.id, left);
      else this.mailboxes.delete(rec.id);
    }
  }

  private async deliverAccepted(rec: LiveAgent, envelopeText: string, options: RunOptions): Promise<RunOutcome> {
    const runId = options.runId ?? randomUUID();
    if (this.core.conversations.get(rec.id, runId)) {
      throw new AaosError(ErrorCode.PROTOCOL, `agent ${rec.name} already has a run ${runId}`);
    }
    const persistent = rec.manifest.lifecycle === 'persistent';
    const controller = new LazyAbort();
    const onOuterAbort = (): void => {
      controller.abort(options.signal?.reason);
      rec.actor.cancelRun(runId, 'cancelled by caller');
      this.core.router.cancelFrom(rec.id, runId, 'the calling run was cancelled');
    };
    // a signal that is already aborted never fires: check it, or a cancelled run's child would start
    if (options.signal?.aborted) throw cancelledBeforeStart(rec, options.signal.reason);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const goalRunId = options.goalRunId ?? rec.runId ?? runId;
    // the delivery's context, built once: every model, tool and message request of this run carries it
    // (field by field: `{...identity, more}` left V8 a new object shape per delivery, and every
    // read of the context elsewhere a cache miss)
    const call = { id: rec.identity.id, name: rec.identity.name } as Conversation['call'];
    if (rec.identity.parentId !== undefined) call.parentId = rec.identity.parentId;
    call.runId = goalRunId;
    call.deliveryRunId = runId;
    // a delivery that continues no caller's span is a root of its goal run's trace
    call.trace = { traceId: options.trace?.traceId ?? goalTraceId(goalRunId), spanId: newSpanId() };
    if (options.trace) call.trace.parentSpanId = options.trace.spanId;
    const state: Conversation = {
      agentId: rec.id,
      runId,
      system: undefined,
      messages: [],
      historyLength: 0,
      workspace: options.workspace ?? rec.workspace,
      call,
      controller,
      startedAt: performance.now(),
      usage: { input_tokens: 0, output_tokens: 0 },
      toolRepeats: new Map(),
      ...(options.journal && this.core.opts.journal ? { journaled: true } : {}),
    };
    this.core.conversations.open(state);
    const header = auditHeader(call);
    const userText = options.messageText ?? messageOf(envelopeText);
    const historyAgent = { call, manifest: rec.manifest };
    this.core.emit({ type: 'AgentExecutionStarted', ...header, message_preview: preview(userText) });
    const deadline = this.armRunDeadline(rec, state, header);
    let result: RunResult;
    try {
      let history: Conversation['messages'] = [];
      if (persistent && this.core.opts.history) {
        const toolsJson = JSON.stringify(this.models.visibleTools(rec));
        const prepared = await this.core.opts.history.prepare(historyAgent, this.models.systemPrompt(rec), {
          message: userText,
          toolsJson,
        });
        history = prepared.messages;
        state.system = prepared.system;
        state.messages.push(...history);
        state.historyLength = history.length;
      }
      const resume = options.resume ? this.replayJournal(rec, state, userText, header) : undefined;
      if (resume) state.messages.push(...resume);
      if (rec.actor.state === AgentState.Parked) await this.parking.reactivate(rec);
      // cancelled while history was loading or the worker was starting: the mailbox had nothing to drop yet
      if (controller.isAborted) throw cancelledBeforeStart(rec, options.signal?.reason);
      const delivery: Delivery = {
        envelope: envelopeText,
        run: {
          run_id: runId,
          history,
          trace: traceParentOf(call)!,
          goal_run_id: goalRunId,
          ...(resume ? { resume } : {}),
        },
        ...(options.attachments?.length ? { attachments: options.attachments } : {}),
      };
      // the worker's answer is untrusted: checked before its transcript is kept or its response passed on
      result = parseRunResult(await rec.actor.deliver(delivery), `${rec.name} (${rec.id})`, runId);
      // cancelled while it ran: whatever it answered, nothing it asked for after the cancel happened
      if (controller.isAborted && result.stop_reason !== 'cancelled' && result.stop_reason !== 'error') {
        const reason: unknown = controller.signal.reason;
        result = {
          ...result,
          stop_reason: 'cancelled',
          error: toPlainError(
            isAaosError(reason) ? reason : new AaosError(ErrorCode.CANCELLED, `run ${runId} was cancelled`),
          ),
        };
      }
    } catch (err) {
      result = {
        run_id: runId,
        response: '',
        stop_reason: isAaosError(err, ErrorCode.CANCELLED) ? 'cancelled' : 'error',
        iterations: 0,
        transcript: [],
        error: toPlainError(err),
      };
    } finally {
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onOuterAbort);
      this.core.conversations.close(rec.id, runId);
      this.core.opts.skills?.endRun(rec.id, goalRunId);
    }
    if (persistent && this.core.opts.history && result.stop_reason !== 'error' && result.transcript.length > 0) {
      this.core.opts.history.commit(historyAgent, closedTranscript(result.transcript));
    }
    const usage = state.usage;
    this.core.emit({
      type: 'AgentExecutionCompleted',
      ...header,
      stop_reason: result.stop_reason,
      total_iterations: result.iterations,
      response_preview: preview(result.response),
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      ...(result.error ? { error: `${result.error.code}: ${result.error.message}` } : {}),
    });
    if (persistent) this.parking.schedule(rec);
    // A failed run leaves the agent alive; the error travels in the result.
    return runOutcome(result, rec.id, { ...usage }, Math.round(performance.now() - state.startedAt));
  }

  /**
   * A journaled run that a previous process left unfinished: its transcript so far, with
   * results made up (and journaled) for non-idempotent calls a restart cut off. Undefined
   * when nothing was journaled (the run starts over: it had not reached its first model turn).
   */
  private replayJournal(
    _rec: LiveAgent,
    state: Conversation,
    userText: string,
    header: CallHeader,
  ): Conversation['messages'] | undefined {
    const journal = this.core.opts.journal;
    if (!journal || !state.journaled) return undefined;
    const entries = journal.load(state.runId);
    if (entries.length === 0) return undefined;
    const plan = resumeTranscript(userText, entries, (name) => this.core.tools.get(name)?.idempotent === true);
    for (const result of plan.interrupted) {
      journal.append(state.runId, {
        kind: 'tool_result',
        tool_use_id: result.tool_use_id,
        content: result.content,
        is_error: result.is_error,
      });
    }
    this.core.emit({
      type: 'RunReplayed',
      ...header,
      model_turns: plan.modelTurns,
      tool_results: plan.messages.filter((m) => m.role === 'tool_result').length,
      calls_to_make: plan.pending.length,
      interrupted: plan.interrupted.map((r) => r.tool_use_id),
    });
    return plan.messages;
  }

  /** The run's wall-clock limit: past it, the run is cancelled with RUN_TIMEOUT and a worker that holds on is terminated. */
  private armRunDeadline(rec: LiveAgent, state: Conversation, header: CallHeader): NodeJS.Timeout | undefined {
    const limitMs = this.core.watchdog.runTimeoutMs;
    if (limitMs <= 0) return undefined;
    const timer = setTimeout(() => {
      const err = new AaosError(
        ErrorCode.RUN_TIMEOUT,
        `run ${state.runId} of agent ${rec.name} (${rec.id}) passed its wall-clock limit of ${limitMs} ms (AAOS_RUN_TIMEOUT_MS) and was cancelled`,
        { agent_id: rec.id, run_id: state.runId, timeout_ms: limitMs },
      );
      this.core.emit({ type: 'RunTimedOut', ...header, timeout_ms: limitMs });
      state.controller.abort(err);
      // the worker has as long to let go of the run as it has to answer a ping
      rec.actor.expireRun(
        state.runId,
        err,
        this.core.watchdog.livenessMs > 0 ? this.core.watchdog.livenessMs : DEFAULT_WATCHDOG_LIMITS.livenessMs,
      );
    }, limitMs);
    timer.unref();
    return timer;
  }
}

/**
 * The worker's result and what only the supervisor knows, in one shape whatever the module
 * added (kept, for its caller, before the supervisor's fields as before): a spread of the
 * result gave V8 a new shape per run, so every later read of the outcome missed its caches.
 */
function runOutcome(result: RunResult, agentId: string, usage: RunOutcome['usage'], elapsedMs: number): RunOutcome {
  const out = {
    run_id: result.run_id,
    response: result.response,
    stop_reason: result.stop_reason,
    iterations: result.iterations,
    transcript: result.transcript,
    error: result.error,
  } as RunOutcome;
  // defined, never assigned: a key named `__proto__` stays data, as in a spread
  for (const key of Object.keys(result))
    if (!Object.hasOwn(out, key))
      Object.defineProperty(out, key, {
        value: (result as unknown as Record<string, unknown>)[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
  out.agent_id = agentId;
  out.usage = usage;
  out.elapsed_ms = elapsedMs;
  return out;
}

function messageOf(envelopeText: string): string {
  try {
    const env = JSON.parse(envelopeText) as { params?: { message?: unknown } };
    const m = env.params?.message;
    return typeof m === 'string' ? m : envelopeText;
  } catch {
    return envelopeText;
  }
}
