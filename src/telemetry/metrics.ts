import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEvent } from '../audit/event.js';

/** What the collector samples at scrape time (the rest comes from the audit stream). */
export interface MetricsSources {
  /** live agents with their lifecycle state (running, paused, parked, …) */
  agents(): Array<{ state: string }>;
  runs(): { queued: number; running: number };
  approvalsPending(): number;
  scheduler(): Array<{ provider: string; queued: number; inFlight: number }>;
  /** heap in use per live worker; agents that do not answer in time are left out */
  workerHeaps(): Promise<Array<{ id: string; name: string; heapBytes: number }>>;
  /** a registered tool? Names a model invents are counted as `unknown`, so it cannot grow the label set */
  isTool(name: string): boolean;
}

// Agent latencies span milliseconds (tools, queue waits) to minutes (long model calls, runs).
const MODEL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
const TOOL_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60];
const RUN_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** The `kind` of a formatted capability (`file_write: /x/*` → `file_write`). */
function capabilityKind(capability: string): string {
  const colon = capability.indexOf(':');
  return (colon > 0 ? capability.slice(0, colon) : capability).trim() || 'unknown';
}

/**
 * Prometheus metrics (`aaos_*`), made from the audit stream (tool calls, denials, model
 * usage, runs, messages) plus gauges sampled at scrape time (agents, queues, approvals,
 * event loop, worker heap). Nothing is added to the hot path: an audit subscriber only
 * bumps counters. Exists only while the HTTP listener does.
 */
export class MetricsCollector {
  readonly registry = new Registry();
  private readonly unsubscribe: () => void;
  private readonly loopDelay: IntervalHistogram;
  private lastElu: EventLoopUtilization;

  private readonly toolCalls: Counter<'tool' | 'outcome'>;
  private readonly toolDuration: Histogram<'tool'>;
  private readonly denials: Counter<'kind'>;
  private readonly modelCalls: Counter<'provider' | 'model'>;
  private readonly modelTokens: Counter<'provider' | 'model' | 'direction'>;
  private readonly modelDuration: Histogram<'provider' | 'model'>;
  private readonly schedulerWait: Histogram<'provider'>;
  private readonly runsFinished: Counter<'state'>;
  private readonly runDuration: Histogram<'state'>;
  private readonly messages: Counter<'outcome'>;
  private readonly approvals: Counter<'outcome'>;

  private readonly isTool: (name: string) => boolean;

  constructor(audit: Pick<AuditLog, 'subscribe'>, sources: MetricsSources) {
    this.isTool = (name) => sources.isTool(name);
    const registers = [this.registry];
    this.toolCalls = new Counter({
      name: 'aaos_tool_calls_total',
      help: 'Tool calls by tool and outcome (ok, error, denied)',
      labelNames: ['tool', 'outcome'],
      registers,
    });
    this.toolDuration = new Histogram({
      name: 'aaos_tool_call_duration_seconds',
      help: 'Tool call duration',
      labelNames: ['tool'],
      buckets: TOOL_BUCKETS,
      registers,
    });
    this.denials = new Counter({
      name: 'aaos_capability_denials_total',
      help: 'Capability denials by capability kind',
      labelNames: ['kind'],
      registers,
    });
    this.modelCalls = new Counter({
      name: 'aaos_model_calls_total',
      help: 'Model calls answered, by provider and model',
      labelNames: ['provider', 'model'],
      registers,
    });
    this.modelTokens = new Counter({
      name: 'aaos_model_tokens_total',
      help: 'Tokens by provider, model and direction (input, output)',
      labelNames: ['provider', 'model', 'direction'],
      registers,
    });
    this.modelDuration = new Histogram({
      name: 'aaos_model_call_duration_seconds',
      help: 'Model call latency (the answering attempt)',
      labelNames: ['provider', 'model'],
      buckets: MODEL_BUCKETS,
      registers,
    });
    this.schedulerWait = new Histogram({
      name: 'aaos_scheduler_wait_seconds',
      help: 'Time a model call waited in the inference scheduler',
      labelNames: ['provider'],
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.runsFinished = new Counter({
      name: 'aaos_runs_finished_total',
      help: 'Goal runs that ended, by final state',
      labelNames: ['state'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'aaos_run_duration_seconds',
      help: 'Goal run duration by final state',
      labelNames: ['state'],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.messages = new Counter({
      name: 'aaos_messages_total',
      help: 'Agent-to-agent messages by outcome (sent, delivered, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.approvals = new Counter({
      name: 'aaos_approvals_total',
      help: 'Human approvals by outcome (requested, granted, denied, timed_out)',
      labelNames: ['outcome'],
      registers,
    });

    new Gauge({
      name: 'aaos_agents',
      help: 'Live agents by lifecycle state (running, paused, parked, …)',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        for (const state of ['running', 'parked']) this.set({ state }, 0);
        for (const a of sources.agents()) this.inc({ state: a.state });
      },
    });
    new Gauge({
      name: 'aaos_runs',
      help: 'Goal runs now queued or running',
      labelNames: ['state'],
      registers,
      collect() {
        const r = sources.runs();
        this.set({ state: 'queued' }, r.queued);
        this.set({ state: 'running' }, r.running);
      },
    });
    new Gauge({
      name: 'aaos_approvals_pending',
      help: 'Tool calls waiting for a human',
      registers,
      collect() {
        this.set(sources.approvalsPending());
      },
    });
    new Gauge({
      name: 'aaos_scheduler_queue_depth',
      help: 'Model calls waiting in the inference scheduler, by provider',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.scheduler()) this.set({ provider: s.provider }, s.queued);
      },
    });
    new Gauge({
      name: 'aaos_scheduler_in_flight',
      help: 'Model calls in flight, by provider',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.scheduler()) this.set({ provider: s.provider }, s.inFlight);
      },
    });
    this.lastElu = performance.eventLoopUtilization();
    const collector = this;
    new Gauge({
      name: 'aaos_event_loop_utilization',
      help: 'Supervisor event-loop utilisation (0..1) since the previous scrape',
      registers,
      collect() {
        const now = performance.eventLoopUtilization();
        this.set(performance.eventLoopUtilization(now, collector.lastElu).utilization);
        collector.lastElu = now;
      },
    });
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
    new Gauge({
      name: 'aaos_event_loop_lag_seconds',
      help: 'Supervisor event-loop delay since the previous scrape (mean, p99, max)',
      labelNames: ['stat'],
      registers,
      collect() {
        const h = collector.loopDelay;
        const ns = (v: number): number => (Number.isFinite(v) ? v / 1e9 : 0);
        this.set({ stat: 'mean' }, ns(h.mean));
        this.set({ stat: 'p99' }, ns(h.percentile(99)));
        this.set({ stat: 'max' }, ns(h.max));
        h.reset();
      },
    });
    new Gauge({
      name: 'aaos_worker_heap_used_bytes',
      help: 'V8 heap in use per agent worker',
      labelNames: ['agent_id', 'agent_name'],
      registers,
      async collect() {
        const heaps = await sources.workerHeaps();
        this.reset();
        for (const h of heaps) this.set({ agent_id: h.id, agent_name: h.name }, h.heapBytes);
      },
    });

    this.unsubscribe = audit.subscribe((e) => this.observe(e));
  }

  /** Prometheus text exposition of every metric. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.unsubscribe();
    this.loopDelay.disable();
  }

  private toolLabel(name: string): string {
    return this.isTool(name) ? name : 'unknown';
  }

  private observe(e: AuditEvent): void {
    switch (e.type) {
      case 'ToolResult':
        this.toolCalls.inc({ tool: this.toolLabel(e.tool), outcome: e.success ? 'ok' : 'error' });
        this.toolDuration.observe({ tool: this.toolLabel(e.tool) }, e.duration_ms / 1000);
        break;
      case 'CapabilityDenied':
        this.denials.inc({ kind: capabilityKind(e.capability) });
        // a `tool:` denial stops the call before it starts: count it as a call that was denied
        if (e.tool !== undefined && capabilityKind(e.capability) === 'tool')
          this.toolCalls.inc({ tool: this.toolLabel(e.tool), outcome: 'denied' });
        break;
      case 'UsageReported': {
        const labels = { provider: e.provider, model: e.model };
        this.modelCalls.inc(labels);
        this.modelTokens.inc({ ...labels, direction: 'input' }, e.input_tokens);
        this.modelTokens.inc({ ...labels, direction: 'output' }, e.output_tokens);
        if (e.duration_ms !== undefined) this.modelDuration.observe(labels, e.duration_ms / 1000);
        if (e.queue_ms !== undefined) this.schedulerWait.observe({ provider: e.provider }, e.queue_ms / 1000);
        break;
      }
      case 'RunCompleted':
        this.runsFinished.inc({ state: e.status });
        this.runDuration.observe({ state: e.status }, e.elapsed_ms / 1000);
        break;
      case 'MessageSent':
        this.messages.inc({ outcome: 'sent' });
        break;
      case 'MessageDelivered':
        this.messages.inc({ outcome: 'delivered' });
        break;
      case 'MessageFailed':
        this.messages.inc({ outcome: 'failed' });
        break;
      case 'HumanApprovalRequested':
        this.approvals.inc({ outcome: 'requested' });
        break;
      case 'HumanApprovalGranted':
        this.approvals.inc({ outcome: 'granted' });
        break;
      case 'HumanApprovalDenied':
        this.approvals.inc({ outcome: 'denied' });
        break;
      case 'HumanApprovalTimedOut':
        this.approvals.inc({ outcome: 'timed_out' });
        break;
      default:
        break;
    }
  }
}
