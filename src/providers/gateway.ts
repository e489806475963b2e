import { readSetting } from '../config/config.js';
import { auditHeader, childCall, outsideRun, type CallContext } from '../audit/call-context.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { AuditFields, AuditInput, AuditInputOf, AuditType } from '../audit/event.js';
import { BudgetLedger, type TokenBudget } from './budget.js';
import { withWireToolNames } from './wire-tool-names.js';
import { configuredSecrets, scrubError } from './secret-scrub.js';
import { DEFAULT_RETRY_POLICY, retryDelayMs, withRetry, type RetryPolicy } from './retry.js';
import { providerTimeoutsFromEnv, type ProviderTimeouts } from './provider-call.js';
import { PROVIDER_KEY_ENV, ModelRoutes, type ModelRoute } from './routing.js';
import { InferenceScheduler, laneLimitsFromEnv, schedulerLimitsFromEnv, type SchedulerLimits } from './scheduler.js';
import { abortReason, sleep as realSleep } from './sleep.js';
import { estimateInputTokens } from './token-estimate.js';
import type { ModelRequest, ModelResponse, ScriptContext } from './model.js';

/** What the agent loop supplies; the gateway fills in the routed model id and the agent id. */
export type GatewayRequest = Omit<ModelRequest, 'model' | 'agent_id'>;

export interface ModelGatewayOptions {
  /** provider keys, base URLs, AAOS_MODEL_OVERRIDE, scheduler limits */
  env: NodeJS.ProcessEnv;
  emit: (event: AuditInput) => void;
  /** ms since epoch; drives budget windows and scheduler pauses */
  clock?: () => number;
  /** default: AAOS_MAX_CONCURRENT_INFERENCE / AAOS_MIN_INFERENCE_DELAY_MS from `env` */
  limits?: SchedulerLimits;
  retry?: Partial<RetryPolicy>;
  /** the wait between retries (injectable for tests) */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** jitter source in [0, 1) */
  random?: () => number;
  /** total and idle-body limits of real providers' calls (default: AAOS_MODEL_TIMEOUT_MS, AAOS_MODEL_IDLE_TIMEOUT_MS) */
  timeouts?: Partial<ProviderTimeouts>;
  /**
   * Runs a provider call with this (trace, span) as the active OpenTelemetry context, so an
   * SDK's own spans nest under the model call's span. Absent when tracing is off.
   */
  inSpan?: <T>(traceId: string, spanId: string, fn: () => Promise<T>) => Promise<T>;
}

/**
 * The supervisor's single door to models: routing, budgets, the shared scheduler,
 * retries and usage audit. Workers never hold keys; they ask the supervisor, which
 * calls `complete` here.
 */
export class ModelGateway {
  readonly routes: ModelRoutes;
  readonly scheduler: InferenceScheduler;
  readonly budgets: BudgetLedger;
  private readonly env: NodeJS.ProcessEnv;
  /** configured API keys, cut out of every provider error */
  private readonly secrets: string[];
  private readonly emit: (event: AuditInput) => void;
  private readonly clock: () => number;
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  /** registered agents (their parent and goal run fill the header of calls that do not name them) */
  private readonly agents = new Map<string, CallContext>();
  private readonly active = new Map<string, Set<CallCancel>>();
  private readonly inSpan: ModelGatewayOptions['inSpan'];

  constructor(options: ModelGatewayOptions) {
    this.inSpan = options.inSpan;
    this.env = options.env;
    this.secrets = configuredSecrets(options.env);
    this.emit = options.emit;
    this.clock = options.clock ?? Date.now;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.routes = new ModelRoutes(options.env, {
      timeouts: { ...providerTimeoutsFromEnv(options.env), ...options.timeouts },
    });
    const limits = options.limits ?? schedulerLimitsFromEnv(options.env);
    this.scheduler = new InferenceScheduler({
      limits,
      // explicit limits (tests) apply to every provider; from the environment, per provider
      ...(options.limits ? {} : { laneLimits: laneLimitsFromEnv(options.env, limits) }),
      clock: this.clock,
    });
    this.budgets = new BudgetLedger(this.clock);
  }

  registerAgent(agent: CallContext, budget?: TokenBudget): void {
    this.agents.set(agent.id, outsideRun(agent));
    this.budgets.register(agent.id, agent.parentId, budget);
  }

  /** Forget the agent: cancels its calls, drops its budget account and its scripted cursor. */
  releaseAgent(id: string): void {
    this.cancelAgent(id);
    this.agents.delete(id);
    this.budgets.release(id);
    this.routes.scripted.reset(id);
  }

  /** Queued calls are rejected with CANCELLED at once; in-flight ones are aborted. */
  cancelAgent(id: string): void {
    // every retiring agent passes here: the error (and its stack) only when something is cancelled
    const active = this.active.get(id);
    if (!this.scheduler.hasQueued(id) && !active?.size) return;
    const reason = new AaosError(ErrorCode.CANCELLED, `model calls of agent ${id} were cancelled`, { agent_id: id });
    this.scheduler.cancelAgent(id, reason);
    for (const controller of active ?? []) controller.abort(reason);
  }

  /** Throws MODEL_UNKNOWN for a model string that routes nowhere (useful when validating a manifest). */
  route(modelSpec: string): ModelRoute {
    return this.routes.route(modelSpec);
  }

  maxContextTokens(modelSpec: string): number {
    return this.routes.maxContextTokens(modelSpec);
  }

  /** `agent`: the caller, in the span the call is made in (the call gets a span of its own below it). */
  async complete(
    agent: CallContext,
    modelSpec: string,
    request: GatewayRequest,
    ctx: ScriptContext,
  ): Promise<ModelResponse> {
    const { route, provider } = this.routes.resolve(modelSpec);
    if (!this.budgets.has(agent.id)) this.registerAgent(agent);

    const estimate = estimateInputTokens(request);
    // the worst case (input + max output) is held against the chain until the call settles
    const admission = this.budgets.admit(agent.id, estimate, request.max_tokens);
    if (!admission.ok) throw this.refuse(agent, admission.refusal);
    const reservation = admission.reservation;

    const outer = request.signal;
    const cancel = new CallCancel(outer);
    this.track(agent.id, cancel);

    // scheduler wait (summed over attempts) and the answering call's duration, for metrics and spans
    let queueMs = 0;
    let callMs = 0;
    const modelCall = childCall(agent);
    const inSpan = this.inSpan;
    const call = (signal: AbortSignal): Promise<ModelResponse> => {
      const wire = route.provider === 'scripted' ? undefined : withWireToolNames(request);
      const sent = wire ? wire.request : request;
      return provider
        .complete({ ...sent, model: route.model, agent_id: agent.id, signal }, ctx)
        .then((r) => (wire ? wire.restore(r) : r));
    };
    try {
      const response = await withRetry(
        () => {
          // cancelled (cancelAgent) after an attempt failed: no further attempt
          if (cancel.aborted) return Promise.reject(cancel.reason);
          const queuedAt = performance.now();
          return this.scheduler
            .run(
              route.provider,
              agent.id,
              // MCP tool names (mcp.<server>.<tool>) are not valid provider tool names: spelled for the wire and back (call);
              // errors scrubbed where they enter: an error body echoing a key never reaches an agent, a log or a client
              async (signal) => {
                const startedAt = performance.now();
                queueMs += startedAt - queuedAt;
                const out = await (inSpan && modelCall.trace
                  ? inSpan(modelCall.trace.traceId, modelCall.trace.spanId, () => call(signal))
                  : call(signal)
                ).catch((err: unknown) => {
                  throw scrubError(err, this.secrets);
                });
                callMs = performance.now() - startedAt;
                return out;
              },
              outer,
            )
            .catch((err: unknown) => {
              this.shareRateLimit(route, err);
              throw err;
            });
        },
        this.policy,
        {
          // the wait between attempts is the only part that needs its own abortable signal
          sleep: (ms) => cancel.during((signal) => this.sleep(ms, signal)),
          random: this.random,
          onRetry: (notice) => {
            if (notice.error.code === ErrorCode.MODEL_RATE_LIMITED)
              this.scheduler.pause(route.provider, this.clock() + notice.delay_ms);
            this.emit(
              this.event(agent, 'InferenceRetried', {
                provider: route.provider,
                attempt: notice.attempt,
                delay_ms: notice.delay_ms,
                reason: notice.reason,
              }),
            );
          },
        },
      );
      this.budgets.settle(reservation, response.usage.input_tokens + response.usage.output_tokens);
      this.emit(
        this.event(modelCall, 'UsageReported', {
          model: route.model,
          provider: route.provider,
          input_tokens: response.usage.input_tokens,
          output_tokens: response.usage.output_tokens,
          duration_ms: Math.round(callMs * 1000) / 1000,
          queue_ms: Math.round(queueMs * 1000) / 1000,
        }),
      );
      return response;
    } catch (err) {
      this.budgets.cancel(reservation);
      throw err;
    } finally {
      this.untrack(agent.id, cancel);
    }
  }

  /** One line for the daemon's start-up notice. */
  describeDefault(): string {
    const override = readSetting(this.env, 'AAOS_MODEL_OVERRIDE');
    const prefix = override ? `AAOS_MODEL_OVERRIDE=${override}: every agent uses this model; ` : '';
    const real = this.routes.available().filter((id) => id !== 'scripted');
    if (real.length === 0) {
      return `${prefix}no provider API key set: agents with real model names will fail; scripted: models run offline; set ANTHROPIC_API_KEY, OPENAI_API_KEY, DEEPSEEK_API_KEY or OLLAMA_BASE_URL to use a real provider`;
    }
    const missing = (['anthropic', 'openai', 'deepseek'] as const)
      .filter((id) => !real.includes(id))
      .map((id) => PROVIDER_KEY_ENV[id]);
    const rest = missing.length > 0 ? `; not configured: ${missing.join(', ')}` : '';
    return `${prefix}model providers: ${real.join(', ')}; scripted: models run offline${rest}`;
  }

  /** A 429 pauses every agent of the provider, also when this call gives up. */
  private shareRateLimit(route: ModelRoute, err: unknown): void {
    if (!(err instanceof AaosError) || err.code !== ErrorCode.MODEL_RATE_LIMITED) return;
    if (typeof err.details?.['retry_after_ms'] !== 'number') return;
    this.scheduler.pause(route.provider, this.clock() + retryDelayMs(err, 1, this.policy, this.random));
  }

  private refuse(
    agent: CallContext,
    refusal: { owner: string; used: number; reserved: number; max: number; estimate: number },
  ): AaosError {
    const owner = this.agents.get(refusal.owner);
    const ownerName = owner?.name ?? refusal.owner;
    const whose =
      refusal.owner === agent.id
        ? `agent '${agent.name}' (${agent.id})`
        : `ancestor '${ownerName}' (${refusal.owner}) of agent '${agent.name}' (${agent.id})`;
    const inFlight = refusal.reserved > 0 ? ` plus ~${refusal.reserved} reserved by calls in flight` : '';
    const error = new AaosError(
      ErrorCode.BUDGET_EXCEEDED,
      `token budget of ${whose} exceeded: used ${refusal.used} of ${refusal.max} tokens${inFlight}; this call needs ~${refusal.estimate} more input tokens, so it was not made`,
      {
        budget_agent_id: refusal.owner,
        agent_id: agent.id,
        used_tokens: refusal.used,
        max_tokens: refusal.max,
        reserved_tokens: refusal.reserved,
        estimated_input_tokens: refusal.estimate,
      },
    );
    // the event is about the budget that refused, so it carries the owner's header
    const event: AuditInputOf<'BudgetExceeded'> = {
      agent_id: refusal.owner,
      agent_name: ownerName,
      ...(owner?.parentId !== undefined ? { parent_id: owner.parentId } : {}),
      ...(agent.runId !== undefined ? { run_id: agent.runId } : {}),
      ...(agent.trace ? { trace_id: agent.trace.traceId } : {}),
      type: 'BudgetExceeded',
      max_tokens: refusal.max,
      used_tokens: refusal.used,
      requested_by: agent.id,
    };
    this.emit(event);
    return error;
  }

  private event<T extends AuditType>(call: CallContext, type: T, fields: AuditFields[T]): AuditInputOf<T> {
    const known = this.agents.get(call.id);
    const full: CallContext = { ...call };
    if (full.parentId === undefined && known?.parentId !== undefined) full.parentId = known.parentId;
    if (full.runId === undefined && known?.runId !== undefined) full.runId = known.runId;
    return { ...auditHeader(full), type, ...fields } as unknown as AuditInputOf<T>;
  }

  private track(agentId: string, controller: CallCancel): void {
    let set = this.active.get(agentId);
    if (!set) {
      set = new Set();
      this.active.set(agentId, set);
    }
    set.add(controller);
  }

  private untrack(agentId: string, controller: CallCancel): void {
    const set = this.active.get(agentId);
    if (!set) return;
    set.delete(controller);
    if (set.size === 0) this.active.delete(agentId);
  }
}

/**
 * Cancellation of one model call without an AbortController per call: an attempt in the
 * scheduler is aborted there (cancelAgent, or the caller's signal it listens to); this only
 * has to stop further attempts and the waits between them, which get a real signal when a
 * retry happens at all.
 */
class CallCancel {
  aborted = false;
  reason: unknown;
  private waiting: AbortController | undefined;

  constructor(private readonly outer: AbortSignal | undefined) {}

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.waiting?.abort(reason);
  }

  /** Runs `wait` with a signal that aborts on `abort` or the caller's signal. */
  async during<T>(wait: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.aborted) throw this.reason;
    if (this.outer?.aborted) throw abortReason(this.outer, 'model call');
    const controller = new AbortController();
    this.waiting = controller;
    const onOuter = (): void => controller.abort(this.outer?.reason);
    this.outer?.addEventListener('abort', onOuter, { once: true });
    try {
      return await wait(controller.signal);
    } finally {
      this.outer?.removeEventListener('abort', onOuter);
      this.waiting = undefined;
    }
  }
}
