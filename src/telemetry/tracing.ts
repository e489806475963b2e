import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { AuditLog } from '../audit/audit-log.js';
import type { Config } from '../config/config.js';
import { PresetIdGenerator } from './preset-ids.js';
import { SpanBuilder } from './span-builder.js';

const TRACER_NAME = 'aaos';

/** The OpenTelemetry settings (from the one configuration table, or an env record). */
export interface TracingSettings {
  disabled: boolean;
  endpoint: string | undefined;
  tracesEndpoint: string | undefined;
  serviceName: string | undefined;
  captureContent: boolean;
}

export function tracingSettings(config: Config): TracingSettings {
  return {
    disabled: config.get('OTEL_SDK_DISABLED'),
    endpoint: config.get('OTEL_EXPORTER_OTLP_ENDPOINT'),
    tracesEndpoint: config.get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
    serviceName: config.get('OTEL_SERVICE_NAME'),
    captureContent: config.get('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT'),
  };
}

export interface TracingOptions {
  settings: TracingSettings;
  audit: AuditLog;
  version: string;
  /** export here instead of OTLP (tests: an in-memory exporter); spans go out one by one */
  exporter?: SpanExporter;
}

/** Where OTLP/HTTP traces go: the traces endpoint as given, else `<endpoint>/v1/traces`. */
export function tracesUrl(settings: TracingSettings): string | undefined {
  if (settings.tracesEndpoint) return settings.tracesEndpoint;
  if (settings.endpoint) return `${settings.endpoint.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

/**
 * Traces, when asked for: a span builder subscribed to the audit log, an OTLP/HTTP exporter
 * and a tracer provider registered globally (so an SDK's own spans, e.g. Anthropic's, land in
 * our trace under the model call's span). Returns undefined — nothing made, nothing
 * exported, no work per event — when OTEL_SDK_DISABLED is set or no endpoint is.
 */
export class Tracing {
  private constructor(
    private readonly provider: TracerProvider,
    private readonly builder: SpanBuilder,
    private readonly unsubscribe: () => void,
    readonly url: string | undefined,
  ) {}

  static start(opts: TracingOptions): Tracing | undefined {
    const { settings } = opts;
    if (settings.disabled) return undefined;
    const url = tracesUrl(settings);
    if (!opts.exporter && !url) return undefined;
    const exporter = opts.exporter ?? new OTLPTraceExporter({ url: url! });
    const ids = new PresetIdGenerator();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: settings.serviceName ?? 'aaos',
        [ATTR_SERVICE_VERSION]: opts.version,
      }),
      idGenerator: ids,
      spanProcessors: [opts.exporter ? new SimpleSpanProcessor({ exporter }) : new BatchSpanProcessor({ exporter })],
    });
    // global: SDKs find the provider and the active context there (one per process)
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const builder = new SpanBuilder(provider.getTracer(TRACER_NAME, opts.version), ids, settings.captureContent);
    const unsubscribe = opts.audit.subscribe((e) => builder.observe(e));
    return new Tracing(provider, builder, unsubscribe, opts.exporter ? undefined : url);
  }

  /** Runs `fn` with (traceId, spanId) as the active span context: the model gateway's hook. */
  inSpan = <T>(traceId: string, spanId: string, fn: () => Promise<T>): Promise<T> =>
    context.with(
      trace.setSpanContext(context.active(), { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false }),
      fn,
    );

  /** Spans not yet exported go out now. */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** Ends open spans, exports what is left, and unregisters the globals. */
  async shutdown(): Promise<void> {
    this.unsubscribe();
    this.builder.endAll();
    try {
      await this.provider.shutdown();
    } finally {
      trace.disable();
      context.disable();
      propagation.disable();
    }
  }
}
