import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_CREATE_AGENT,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
} from '@opentelemetry/semantic-conventions/incubating';
import type { AuditEvent, AuditEventOf } from '../audit/event.js';
import type { PresetIdGenerator } from './preset-ids.js';

/** aaos's own span attributes (capability decisions, runs, hops). */
export const AAOS_ATTR = {
  RUN_ID: 'aaos.run.id',
  STOP_REASON: 'aaos.stop_reason',
  ITERATIONS: 'aaos.iterations',
  QUEUE_MS: 'aaos.scheduler.wait_ms',
  CAPABILITY: 'aaos.capability',
  CAPABILITY_DECISION: 'aaos.capability.decision',
  DENIAL_CODE: 'aaos.capability.denial_code',
  DENIAL_REASON: 'aaos.capability.denial_reason',
  DENIALS: 'aaos.capability.denials',
  SPAWN_DEPTH: 'aaos.spawn.depth',
  MESSAGE_METHOD: 'aaos.message.method',
  MESSAGE_FROM: 'aaos.message.from',
  MESSAGE_TO: 'aaos.message.to',
} as const;

/** The span event a capability denial becomes. */
export const DENIAL_EVENT = 'aaos.capability.denied';

// spans a crash or a lost event left open are ended rather than kept for ever
const MAX_OPEN = 10_000;

const ms = (iso: string): number => Date.parse(iso);

function textMessages(role: string, text: string): string {
  return JSON.stringify([{ role, parts: [{ type: 'text', content: text }] }]);
}

/**
 * Turns the audit stream into OpenTelemetry spans. Events carry the W3C ids the
 * supervisor minted (trace per goal, span per delivery, model call, tool call, spawn and
 * message hop), so spans keep those ids: the preset id generator hands them to the SDK.
 * Content (message and tool previews) is recorded only when `captureContent` is on.
 */
export class SpanBuilder {
  private readonly open = new Map<string, { span: Span; denials: number }>();

  constructor(
    private readonly tracer: Tracer,
    private readonly ids: PresetIdGenerator,
    private readonly captureContent: boolean,
  ) {}

  observe(e: AuditEvent): void {
    if (e.trace_id === undefined || e.span_id === undefined || !/^[0-9a-f]{32}$/.test(e.trace_id)) {
      if (e.type === 'CapabilityDenied') this.denied(e);
      return;
    }
    switch (e.type) {
      case 'AgentExecutionStarted':
        this.start(e, `${GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT} ${e.agent_name}`, SpanKind.INTERNAL, {
          [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
          [ATTR_GEN_AI_AGENT_NAME]: e.agent_name,
          [ATTR_GEN_AI_AGENT_ID]: e.agent_id,
          ...(e.run_id !== undefined ? { [ATTR_GEN_AI_CONVERSATION_ID]: e.run_id, [AAOS_ATTR.RUN_ID]: e.run_id } : {}),
          ...(this.captureContent ? { [ATTR_GEN_AI_INPUT_MESSAGES]: textMessages('user', e.message_preview) } : {}),
        });
        break;
      case 'AgentExecutionCompleted':
        this.end(
          e,
          {
            [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: e.input_tokens,
            [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: e.output_tokens,
            [AAOS_ATTR.STOP_REASON]: e.stop_reason,
            [AAOS_ATTR.ITERATIONS]: e.total_iterations,
            ...(this.captureContent
              ? { [ATTR_GEN_AI_OUTPUT_MESSAGES]: textMessages('assistant', e.response_preview) }
              : {}),
          },
          e.stop_reason === 'error' || e.stop_reason === 'budget_exceeded' ? e.stop_reason : undefined,
        );
        break;
      case 'UsageReported': {
        // made when the call has answered: it started duration_ms before this event
        const end = ms(e.ts);
        const span = this.startSpan(
          e,
          `${GEN_AI_OPERATION_NAME_VALUE_CHAT} ${e.model}`,
          SpanKind.CLIENT,
          end - (e.duration_ms ?? 0),
          {
            [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
            [ATTR_GEN_AI_PROVIDER_NAME]: e.provider,
            [ATTR_GEN_AI_REQUEST_MODEL]: e.model,
            [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: e.input_tokens,
            [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: e.output_tokens,
            [ATTR_GEN_AI_AGENT_NAME]: e.agent_name,
            [ATTR_GEN_AI_AGENT_ID]: e.agent_id,
            ...(e.queue_ms !== undefined ? { [AAOS_ATTR.QUEUE_MS]: e.queue_ms } : {}),
          },
        );
        span.end(end);
        break;
      }
      case 'ToolInvoked':
        this.start(e, `${GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL} ${e.tool}`, SpanKind.INTERNAL, {
          [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
          [ATTR_GEN_AI_TOOL_NAME]: e.tool,
          [ATTR_GEN_AI_AGENT_NAME]: e.agent_name,
          [ATTR_GEN_AI_AGENT_ID]: e.agent_id,
          ...(e.call_id !== undefined ? { [ATTR_GEN_AI_TOOL_CALL_ID]: e.call_id } : {}),
          ...(this.captureContent ? { [ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: e.args_preview } : {}),
        });
        break;
      case 'ToolResult':
        this.end(
          e,
          {
            ...(e.error_code !== undefined ? { [ATTR_ERROR_TYPE]: e.error_code } : {}),
            ...(this.captureContent ? { [ATTR_GEN_AI_TOOL_CALL_RESULT]: e.result_preview } : {}),
          },
          e.success ? undefined : (e.error_code ?? 'error'),
        );
        break;
      case 'AgentSpawned':
        this.startSpan(e, `${GEN_AI_OPERATION_NAME_VALUE_CREATE_AGENT} ${e.agent_name}`, SpanKind.INTERNAL, ms(e.ts), {
          [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CREATE_AGENT,
          [ATTR_GEN_AI_AGENT_NAME]: e.agent_name,
          [ATTR_GEN_AI_AGENT_ID]: e.agent_id,
          [ATTR_GEN_AI_REQUEST_MODEL]: e.model,
          [AAOS_ATTR.SPAWN_DEPTH]: e.depth,
        }).end(ms(e.ts));
        break;
      case 'MessageSent':
        this.start(e, `send_message ${e.method}`, SpanKind.PRODUCER, {
          [AAOS_ATTR.MESSAGE_METHOD]: e.method,
          [AAOS_ATTR.MESSAGE_FROM]: e.from,
          [AAOS_ATTR.MESSAGE_TO]: e.to,
        });
        break;
      case 'MessageDelivered':
        this.end(e, {});
        break;
      case 'MessageFailed':
        this.end(e, {}, e.reason);
        break;
      case 'CapabilityDenied':
        this.denied(e);
        break;
      default:
        break;
    }
  }

  /** Ends what is still open (shutdown). */
  endAll(): void {
    for (const { span } of this.open.values()) span.end();
    this.open.clear();
  }

  private parentContext(e: AuditEvent): Context {
    if (e.parent_span_id === undefined) return ROOT_CONTEXT;
    return trace.setSpanContext(ROOT_CONTEXT, {
      traceId: e.trace_id!,
      spanId: e.parent_span_id,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: false,
    });
  }

  private startSpan(e: AuditEvent, name: string, kind: SpanKind, startTime: number, attributes: Attributes): Span {
    this.ids.preset(e.trace_id!, e.span_id!);
    try {
      return this.tracer.startSpan(name, { kind, startTime, attributes }, this.parentContext(e));
    } finally {
      this.ids.clear();
    }
  }

  private start(e: AuditEvent, name: string, kind: SpanKind, attributes: Attributes): void {
    if (this.open.size >= MAX_OPEN) {
      const [oldest] = this.open.keys();
      this.open.get(oldest!)!.span.end();
      this.open.delete(oldest!);
    }
    this.open.set(e.span_id!, { span: this.startSpan(e, name, kind, ms(e.ts), attributes), denials: 0 });
  }

  private end(e: AuditEvent, attributes: Attributes, error?: string): void {
    const entry = this.open.get(e.span_id!);
    if (!entry) return;
    this.open.delete(e.span_id!);
    entry.span.setAttributes(attributes);
    if (error !== undefined) entry.span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    entry.span.end(ms(e.ts));
  }

  /** A denial is an event of the span the request was made in, naming the capability asked for. */
  private denied(e: AuditEventOf<'CapabilityDenied'>): void {
    const entry = e.span_id !== undefined ? this.open.get(e.span_id) : undefined;
    if (!entry) return;
    entry.denials += 1;
    entry.span.setAttribute(AAOS_ATTR.DENIALS, entry.denials);
    entry.span.addEvent(
      DENIAL_EVENT,
      {
        [AAOS_ATTR.CAPABILITY]: e.capability,
        [AAOS_ATTR.CAPABILITY_DECISION]: 'denied',
        [AAOS_ATTR.DENIAL_CODE]: e.code,
        [AAOS_ATTR.DENIAL_REASON]: e.reason,
        ...(e.tool !== undefined ? { [ATTR_GEN_AI_TOOL_NAME]: e.tool } : {}),
      },
      ms(e.ts),
    );
  }
}
