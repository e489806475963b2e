import * as crypto from 'node:crypto';
import { auditHeader, childCall, type CallContext, type SpanContext } from '../audit/call-context.js';
import { preview } from '../audit/preview.js';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { ChildRunResult, Tool, ToolContext } from '../tools/tool.js';
import type { LiveAgent } from './agent-table.js';
import type { CapabilityRequest } from '../capability/capability.js';
import type { CapabilityTable } from '../capability/capability-table.js';
import type { InflightCalls } from './inflight-calls.js';
import type { ApprovalPort, Emit, SkillsPort } from './ports.js';

export interface ToolCall {
  agent: LiveAgent;
  /**
   * Who calls, from which delivery, in which span (the delivery's). `runId` is always set
   * here: the goal run, or for an API call (`tool.invoke`) outside any run a synthetic one.
   */
  from: CallContext & { runId: string; trace: SpanContext };
  /** the model's id for this tool call */
  callId?: string;
  workspace: string | undefined;
  signal: AbortSignal;
  name: string;
  input: unknown;
  handle?: string;
  /** called once every check and approval passed, right before the tool runs (the run journal's mark) */
  beforeInvoke?: () => void;
}

export interface ToolDispatchDeps {
  registry: ToolRegistry;
  capabilities: CapabilityTable;
  emit: Emit;
  dataDir: string;
  approvals: ApprovalPort | undefined;
  skills: SkillsPort | undefined;
  /** tool calls running now (from right before the tool runs until it ends), for shutdown */
  inflight: InflightCalls;
  /** `inCall`: the tool call's context, whose span the child's spawn and run continue */
  spawnAndRun(
    parent: LiveAgent,
    call: ToolCall,
    manifestYaml: string,
    message: string,
    inCall: CallContext,
    onSpawned?: (agentId: string) => void,
  ): Promise<ChildRunResult>;
}

/** node ≥ 20.12: a one-shot digest without a Hash object per call */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function hashInput(input: unknown): string {
  const text = JSON.stringify(input) ?? '';
  const hex = oneShotHash ? oneShotHash('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
  return hex.slice(0, 16);
}

/**
 * The one path every tool call takes, from a worker or from the socket API:
 * level 1 (`tool: X`, charged) → known tool → skill allowed-tools → human approval
 * → the tool, whose own level-2 checks go through `ctx.authorize`. Capability is
 * checked before approval so a human is never asked about a call that would be denied.
 */
export async function dispatchTool(deps: ToolDispatchDeps, call: ToolCall): Promise<unknown> {
  const rec = call.agent;
  // the tool call's own span; a denial of `tool:` before it starts happens in the delivery's span
  const inCall = childCall(call.from);
  const header = auditHeader(inCall);
  const callId = call.callId !== undefined ? { call_id: call.callId } : {};

  const toolRequest: CapabilityRequest = { kind: 'tool', name: call.name };
  const toolToken = deps.capabilities.authorize(call.from, toolRequest, {
    tool: call.name,
    ...(call.handle ? { handle: call.handle } : {}),
  });
  // every token this call has used, so a wait can be followed by a re-check of all of them
  const used: { request: CapabilityRequest; handle: string }[] = [{ request: toolRequest, handle: toolToken.id }];
  const recheck = (): void => {
    for (const u of used)
      deps.capabilities.authorize(inCall, u.request, {
        tool: call.name,
        handle: u.handle,
        charge: false,
        alreadyCharged: true,
      });
  };
  // every refusal leaves an audit event: an unknown tool (under `tool: *`), a skill's allowed-tools
  const refused = (err: unknown): never => {
    const plain = toPlainError(err);
    deps.emit({ type: 'ToolRefused', ...header, tool: call.name, code: plain.code, reason: plain.message });
    throw err;
  };
  let tool: Tool;
  try {
    tool = deps.registry.require(call.name);
    // skills are active per agent and goal run, the same scope skill_read activates them in
    deps.skills?.check(rec.id, call.from.runId, call.name);
  } catch (err) {
    return refused(err);
  }
  if (deps.approvals && rec.manifest.approval_required.includes(call.name)) {
    await deps.approvals.request({ agent: inCall, tool: call.name, input: call.input, signal: call.signal });
    // the wait may have been long: the token must not have been revoked or expired meanwhile
    recheck();
  }

  deps.emit({
    type: 'ToolInvoked',
    ...header,
    tool: call.name,
    input_hash: hashInput(call.input),
    args_preview: preview(call.input),
    ...callId,
  });
  const started = performance.now();
  const ctx: ToolContext = {
    call: inCall,
    workspace: call.workspace,
    dataDir: deps.dataDir,
    signal: call.signal,
    authorize: (request) => {
      const token = deps.capabilities.authorize(inCall, request, { tool: call.name });
      used.push({ request, handle: token.id });
    },
    recheck,
    spawnAndRun: (manifestYaml, message, onSpawned) =>
      deps.spawnAndRun(rec, call, manifestYaml, message, inCall, onSpawned),
  };
  try {
    if (call.signal.aborted)
      throw new AaosError(
        ErrorCode.CANCELLED,
        `run ${call.from.deliveryRunId ?? call.from.runId} was cancelled before tool '${call.name}' ran`,
      );
    call.beforeInvoke?.();
    const out = await deps.inflight.track(tool.invoke(call.input, ctx));
    // revoked while the tool worked (a read queued on the pool, a slow fetch): the result is withheld
    recheck();
    deps.emit({
      type: 'ToolResult',
      ...header,
      tool: call.name,
      success: true,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      result_preview: preview(out),
      ...callId,
    });
    return out;
  } catch (err) {
    const plain = toPlainError(err);
    deps.emit({
      type: 'ToolResult',
      ...header,
      tool: call.name,
      success: false,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      result_preview: preview(plain.message),
      error_code: plain.code,
      ...callId,
    });
    throw err;
  }
}
