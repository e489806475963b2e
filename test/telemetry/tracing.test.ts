import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import {
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
} from '@opentelemetry/semantic-conventions/incubating';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Config } from '../../src/config/config.js';
import { ModelGateway } from '../../src/providers/gateway.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { AAOS_ATTR, DENIAL_EVENT } from '../../src/telemetry/span-builder.js';
import { Tracing, tracingSettings, tracesUrl } from '../../src/telemetry/tracing.js';
import { AGENTD, BOOTSTRAP, removeDir, tempDataDir } from '../daemon/daemon-process.js';
import { FakeAnthropicServer, anthropicText } from '../support/fake-anthropic-server.js';
import { COMMAND_AGENT } from '../support/kernel.js';

const CONTENT_KEYS = [ATTR_GEN_AI_INPUT_MESSAGES, ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, ATTR_GEN_AI_TOOL_CALL_RESULT];

/** A span as both the in-memory exporter and the OTLP receiver see it. */
interface SpanView {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
}

function fromReadable(s: ReadableSpan): SpanView {
  return {
    name: s.name,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId,
    attributes: { ...s.attributes },
    events: s.events.map((e) => ({ name: e.name, attributes: { ...(e.attributes ?? {}) } })),
  };
}

/** The one goal trace: a root `invoke_agent bootstrap` and everything below it. */
function checkGoalTrace(spans: SpanView[]): void {
  const roots = spans.filter((s) => s.name === 'invoke_agent bootstrap' && s.parentSpanId === undefined);
  expect(roots).toHaveLength(1);
  const root = roots[0]!;
  const inTrace = spans.filter((s) => s.traceId === root.traceId);
  // one trace per goal: every span of the run is in it
  expect(inTrace.length).toBe(spans.length);
  const byId = new Map(inTrace.map((s) => [s.spanId, s]));
  for (const s of inTrace) if (s !== root) expect(byId.has(s.parentSpanId!), `parent of ${s.name}`).toBe(true);
  const parentOf = (s: SpanView): SpanView => byId.get(s.parentSpanId!)!;

  // the span tree: bootstrap → spawn_agent → researcher → its tool calls and model calls
  const spawnTool = inTrace.find((s) => s.name === 'execute_tool spawn_agent')!;
  expect(parentOf(spawnTool)).toBe(root);
  expect(spawnTool.attributes[ATTR_GEN_AI_TOOL_NAME]).toBe('spawn_agent');
  expect(spawnTool.attributes[ATTR_GEN_AI_TOOL_CALL_ID]).toEqual(expect.any(String));
  const created = inTrace.find((s) => s.name === 'create_agent researcher')!;
  expect(parentOf(created)).toBe(spawnTool);
  const researcher = inTrace.find((s) => s.name === 'invoke_agent researcher')!;
  expect(parentOf(researcher)).toBe(spawnTool);
  expect(researcher.attributes[ATTR_GEN_AI_OPERATION_NAME]).toBe('invoke_agent');
  expect(researcher.attributes[ATTR_GEN_AI_AGENT_NAME]).toBe('researcher');
  expect(researcher.attributes[ATTR_GEN_AI_AGENT_ID]).toEqual(expect.any(String));
  const write = inTrace.find((s) => s.name === 'execute_tool file_write' && parentOf(s) === researcher)!;
  expect(write.attributes[ATTR_GEN_AI_OPERATION_NAME]).toBe('execute_tool');
  const chats = inTrace.filter((s) => s.name.startsWith('chat ') && parentOf(s) === researcher);
  expect(chats.length).toBeGreaterThan(0);
  for (const chat of chats) {
    expect(chat.attributes[ATTR_GEN_AI_OPERATION_NAME]).toBe('chat');
    expect(chat.attributes[ATTR_GEN_AI_PROVIDER_NAME]).toBe('scripted');
    expect(chat.attributes[ATTR_GEN_AI_REQUEST_MODEL]).toEqual(expect.stringContaining('researcher.yaml'));
    expect(Number(chat.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS])).toBeGreaterThan(0);
    expect(Number(chat.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS])).toBeGreaterThan(0);
  }
  // the publisher asks for a path its parent does not hold: a denial event on the spawning tool's span
  const denials = inTrace.flatMap((s) =>
    s.events.filter((e) => e.name === DENIAL_EVENT).map((e) => ({ span: s, event: e })),
  );
  const publisher = denials.find((d) => String(d.event.attributes[AAOS_ATTR.CAPABILITY]).includes('/var/www'))!;
  expect(publisher.span.name).toBe('execute_tool spawn_agents');
  expect(publisher.event.attributes[AAOS_ATTR.CAPABILITY_DECISION]).toBe('denied');
  expect(publisher.event.attributes[AAOS_ATTR.DENIAL_CODE]).toBe('AAOS_ERR_CAPABILITY_NOT_DELEGABLE');
}

describe('traces from the audit stream (in-memory exporter)', { timeout: 120_000 }, () => {
  let dir: string | undefined;
  afterEach(() => dir && removeDir(dir));

  async function runGoal(env: Record<string, string>): Promise<SpanView[]> {
    dir = tempDataDir();
    const exporter = new InMemorySpanExporter();
    const runtime = await Runtime.open({ dataDir: dir, env, traceExporter: exporter });
    // whether tracing was set up at all is internal: the test-only accessor
    expect(runtime.internalsForTests().tracing).toBeDefined();
    await runtime.startBootstrap(BOOTSTRAP);
    const done = await runtime.submitGoal('Report on the bike-share pilot.').done;
    expect(done.state).toBe('completed');
    await runtime.internalsForTests().tracing!.flush();
    // read before close: shutting the exporter down empties it
    const spans = exporter.getFinishedSpans().map(fromReadable);
    await runtime.close();
    return spans;
  }

  it('one goal with children and tool calls is one trace: invoke_agent, chat, execute_tool, create_agent, with GenAI attributes and no content', async () => {
    const spans = await runGoal({});
    checkGoalTrace(spans);
    for (const s of spans)
      for (const key of CONTENT_KEYS) expect(s.attributes[key], `${key} on ${s.name}`).toBeUndefined();
  });

  it('records message and tool content when the switch is on', async () => {
    const spans = await runGoal({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' });
    const write = spans.find((s) => s.name === 'execute_tool file_write')!;
    expect(String(write.attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS])).toContain('notes.md');
    expect(write.attributes[ATTR_GEN_AI_TOOL_CALL_RESULT]).toEqual(expect.any(String));
    const root = spans.find((s) => s.name === 'invoke_agent bootstrap')!;
    expect(String(root.attributes[ATTR_GEN_AI_INPUT_MESSAGES])).toContain('bike-share');
  });

  it('makes nothing when no endpoint is set, or when OTEL_SDK_DISABLED is', async () => {
    dir = tempDataDir();
    for (const env of [{}, { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }]) {
      const runtime = await Runtime.open({ dataDir: dir, env });
      expect(runtime.internalsForTests().tracing).toBeUndefined();
      // no tracer provider was registered: the API still hands out its no-op one
      expect((trace.getTracerProvider() as ProxyTracerProvider).getDelegate().constructor.name).toBe(
        'NoopTracerProvider',
      );
      await runtime.close();
    }
    expect(
      Tracing.start({
        settings: tracingSettings(Config.load({ env: { OTEL_SDK_DISABLED: '1' } })),
        audit: new AuditLog(),
        version: 't',
        exporter: new InMemorySpanExporter(),
      }),
    ).toBeUndefined();
    expect(
      tracesUrl({
        disabled: false,
        endpoint: 'http://c:4318/',
        tracesEndpoint: undefined,
        serviceName: undefined,
        captureContent: false,
      }),
    ).toBe('http://c:4318/v1/traces');
    expect(
      tracesUrl({
        disabled: false,
        endpoint: 'http://c:4318',
        tracesEndpoint: 'http://t/x',
        serviceName: undefined,
        captureContent: false,
      }),
    ).toBe('http://t/x');
  });

  it("a message hop continues the sender's trace, and a missing tool: capability is a denial event on the delivery span", async () => {
    dir = tempDataDir();
    const exporter = new InMemorySpanExporter();
    const runtime = await Runtime.open({ dataDir: dir, env: {}, traceExporter: exporter });
    try {
      const responder = await runtime.spawnAgent(
        { yaml: 'name: responder\nmodel: fixture\n' },
        { module: COMMAND_AGENT },
      );
      const asker = await runtime.spawnAgent(
        { yaml: 'name: asker\nmodel: fixture\ncapabilities:\n  - "message_send: [responder]"\n' },
        { module: COMMAND_AGENT },
      );
      expect((await runtime.runAgent(asker.id, 'ask responder echo hi')).response).toBe('hi');
      expect((await runtime.runAgent(responder.id, 'tool file_read {"path":"/etc/passwd"}')).stop_reason).toBe('error');
      await runtime.internalsForTests().tracing!.flush();
      const spans = exporter.getFinishedSpans().map(fromReadable);
      const root = spans.find((s) => s.name === 'invoke_agent asker')!;
      expect(root.parentSpanId).toBeUndefined();
      const hop = spans.find((s) => s.name === 'send_message agent.run')!;
      expect(hop).toMatchObject({ traceId: root.traceId, parentSpanId: root.spanId });
      expect(hop.attributes[AAOS_ATTR.MESSAGE_TO]).toBe(responder.id);
      const answered = spans.find((s) => s.name === 'invoke_agent responder' && s.traceId === root.traceId)!;
      expect(answered.parentSpanId).toBe(hop.spanId);
      const refused = spans.find((s) => s.name === 'invoke_agent responder' && s.traceId !== root.traceId)!;
      expect(refused.parentSpanId).toBeUndefined();
      expect(refused.events).toEqual([
        expect.objectContaining({
          name: DENIAL_EVENT,
          attributes: expect.objectContaining({
            [AAOS_ATTR.CAPABILITY]: 'tool: file_read',
            [ATTR_GEN_AI_TOOL_NAME]: 'file_read',
          }),
        }),
      ]);
      expect(refused.attributes[AAOS_ATTR.DENIALS]).toBe(1);
    } finally {
      await runtime.close();
    }
  });

  it("the Anthropic SDK's own span is a child of our chat span, in our trace", async () => {
    const server = await FakeAnthropicServer.start();
    const audit = new AuditLog();
    const exporter = new InMemorySpanExporter();
    const tracing = Tracing.start({
      settings: tracingSettings(Config.load({ env: {} })),
      audit,
      version: 't',
      exporter,
    })!;
    try {
      const gateway = new ModelGateway({
        env: { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: server.baseUrl },
        emit: (e) => void audit.emit(e),
        retry: { maxAttempts: 1 },
        inSpan: tracing.inSpan,
      });
      server.reply(anthropicText('hello'));
      const traceId = 'a'.repeat(32);
      await gateway.complete(
        { id: 'a1', name: 'asker', trace: { traceId, spanId: 'b'.repeat(16) } },
        'claude-test-1',
        { system: '', messages: [{ role: 'user', content: 'hi' }], tools: [], max_tokens: 10 },
        { agent_id: 'a1', agent_name: 'asker' },
      );
      const usage = audit.recent((e) => e.type === 'UsageReported')[0]!;
      await tracing.flush();
      const spans = exporter.getFinishedSpans();
      const chat = spans.find((s) => s.name === 'chat claude-test-1')!;
      expect(chat.spanContext().spanId).toBe(usage.span_id);
      expect(chat.parentSpanContext?.spanId).toBe('b'.repeat(16));
      const sdk = spans.find((s) => s.instrumentationScope.name.startsWith('com.anthropic'))!;
      expect(sdk, `spans: ${spans.map((s) => s.name).join(', ')}`).toBeDefined();
      expect(sdk.spanContext().traceId).toBe(traceId);
      expect(sdk.parentSpanContext?.spanId).toBe(usage.span_id);
      // and the trace context went out on the wire
      expect(server.requests[0]?.headers['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    } finally {
      await tracing.shutdown();
      await server.close();
    }
  });
});

/** A loopback OTLP/HTTP receiver: decodes the JSON the exporter posts to /v1/traces. */
async function otlpReceiver(): Promise<{
  url: string;
  spans: SpanView[];
  posts: Array<{ path: string; contentType: string }>;
  close(): Promise<void>;
}> {
  const spans: SpanView[] = [];
  const posts: Array<{ path: string; contentType: string }> = [];
  type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
  const attrs = (list: Array<{ key: string; value: OtlpValue }> | undefined): Record<string, unknown> =>
    Object.fromEntries(
      (list ?? []).map((a) => [
        a.key,
        a.value.stringValue ?? a.value.intValue ?? a.value.boolValue ?? a.value.doubleValue,
      ]),
    );
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '' });
      const payload = JSON.parse(body) as {
        resourceSpans: Array<{
          scopeSpans: Array<{
            spans: Array<{
              name: string;
              traceId: string;
              spanId: string;
              parentSpanId?: string;
              attributes?: Array<{ key: string; value: OtlpValue }>;
              events?: Array<{ name: string; attributes?: Array<{ key: string; value: OtlpValue }> }>;
            }>;
          }>;
        }>;
      };
      for (const rs of payload.resourceSpans) {
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            spans.push({
              name: s.name,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ? s.parentSpanId : undefined,
              attributes: attrs(s.attributes),
              events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, posts, close: () => new Promise((r) => server.close(() => r())) };
}

/** `agentd run --stdin` with one goal, as a child process; resolves with its exit code and stderr. */
function runOneGoal(dataDir: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [AGENTD, 'run', '--bootstrap', BOOTSTRAP, '--data-dir', dataDir, '--stdin'], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, AAOS_SOCKET: '', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
    child.stdin.end('Report on the bike-share pilot.\n');
  });
}

describe('traces over OTLP/HTTP from the built daemon', { timeout: 180_000 }, () => {
  let dir: string | undefined;
  afterEach(() => dir && removeDir(dir));

  it('sends the goal trace to OTEL_EXPORTER_OTLP_ENDPOINT, and nothing when OTEL_SDK_DISABLED is set', async () => {
    const receiver = await otlpReceiver();
    try {
      dir = tempDataDir();
      const disabled = await runOneGoal(dir, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' });
      expect(disabled.code, disabled.stderr).toBe(0);
      expect(receiver.posts).toHaveLength(0);

      removeDir(dir);
      dir = tempDataDir();
      const sent = await runOneGoal(dir, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      expect(sent.code, sent.stderr).toBe(0);
      expect(receiver.posts.length).toBeGreaterThan(0);
      for (const p of receiver.posts) expect(p).toEqual({ path: '/v1/traces', contentType: 'application/json' });
      checkGoalTrace(receiver.spans);
      for (const s of receiver.spans) for (const key of CONTENT_KEYS) expect(s.attributes[key]).toBeUndefined();
    } finally {
      await receiver.close();
    }
  });
});
