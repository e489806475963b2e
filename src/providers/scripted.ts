import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { parseJsonText } from './json-text.js';
import { z } from 'zod';
import { AaosError, ErrorCode } from '../errors/index.js';
import { sleep } from './sleep.js';
import { estimateInputTokens, estimateOutputTokens } from './token-estimate.js';
import type { ContentBlock, Message, ModelProvider, ModelRequest, ModelResponse, ScriptContext } from './model.js';

const ScriptToolCall = z.strictObject({
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()).default({}),
});

/** A precondition of a turn: the run stops with `error` when it does not hold (no invented answer). */
const ScriptCheck = z
  .strictObject({
    /** must fill to a non-empty string */
    present: z.string().optional(),
    /** must fill to an empty string */
    absent: z.string().optional(),
    error: z.string().min(1),
  })
  .refine((c) => (c.present === undefined) !== (c.absent === undefined), {
    message: 'a check has exactly one of `present` or `absent`',
  });
type ScriptCheck = z.infer<typeof ScriptCheck>;

export const ScriptTurn = z
  .strictObject({
    check: z.array(ScriptCheck).optional(),
    text: z.string().optional(),
    tool_calls: z.array(ScriptToolCall).optional(),
    usage: z.strictObject({ input_tokens: z.int().min(0), output_tokens: z.int().min(0) }).optional(),
    stop_reason: z.enum(['end_turn', 'tool_use', 'max_tokens', 'stop_sequence']).optional(),
  })
  .refine((turn) => turn.text !== undefined || (turn.tool_calls !== undefined && turn.tool_calls.length > 0), {
    message: 'a turn needs `text` or a non-empty `tool_calls`',
  });
export type ScriptTurn = z.infer<typeof ScriptTurn>;

/** The long form of a script file; a bare YAML list is the same with defaults. */
const ScriptHeader = z.strictObject({
  turns: z.array(z.unknown()).min(1),
  latency_ms: z.int().min(0).optional(),
  when_exhausted: z.enum(['restart', 'error']).optional(),
  /** per_agent (default): one position per agent across all its runs; per_run: each run starts at turn 0 */
  cursor: z.enum(['per_agent', 'per_run']).optional(),
});

export interface Script {
  file: string;
  turns: ScriptTurn[];
  latency_ms: number;
  when_exhausted: 'restart' | 'error';
  cursor: 'per_agent' | 'per_run';
}

function invalid(file: string, message: string, details: Record<string, unknown> = {}): AaosError {
  return new AaosError(ErrorCode.SCRIPT_INVALID, `invalid scripted model file ${file}: ${message}`, {
    file,
    ...details,
  });
}

/** `tool_calls[0].name` style path of the first issue. */
function issueText(issues: z.core.$ZodIssue[]): { field: string; message: string } {
  const issue = issues[0];
  if (!issue) return { field: '', message: 'invalid' };
  const field = issue.path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`))
    .join('');
  return { field, message: issue.message };
}

/** Parses and validates script text; errors name the file and the turn index (0-based). */
export function parseScript(file: string, text: string): Script {
  let doc: unknown;
  try {
    const json = parseJsonText(text);
    doc = json ? json.value : parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const line = err.linePos?.[0]?.line;
      // the yaml message continues with a source excerpt; the first line is the reason
      const reason = err.message.split('\n')[0] ?? err.message;
      throw invalid(
        file,
        `YAML syntax error${line !== undefined ? ` at line ${line}` : ''}: ${reason}`,
        line !== undefined ? { line } : {},
      );
    }
    throw invalid(file, `YAML syntax error: ${err instanceof Error ? err.message : String(err)}`);
  }
  let rawTurns: unknown[];
  let latency = 0;
  let whenExhausted: 'restart' | 'error' = 'restart';
  let cursor: 'per_agent' | 'per_run' = 'per_agent';
  if (Array.isArray(doc)) {
    if (doc.length === 0) throw invalid(file, 'the list of turns is empty');
    rawTurns = doc;
  } else {
    const header = ScriptHeader.safeParse(doc);
    if (!header.success) {
      const { field, message } = issueText(header.error.issues);
      throw invalid(
        file,
        `expected a list of turns or {turns, latency_ms?, when_exhausted?}: ${field ? `${field}: ` : ''}${message}`,
        { field },
      );
    }
    rawTurns = header.data.turns;
    latency = header.data.latency_ms ?? 0;
    whenExhausted = header.data.when_exhausted ?? 'restart';
    cursor = header.data.cursor ?? 'per_agent';
  }
  const turns = rawTurns.map((raw, index) => {
    const turn = ScriptTurn.safeParse(raw);
    if (!turn.success) {
      const { field, message } = issueText(turn.error.issues);
      const where = field === '' ? '' : field.startsWith('[') ? field : `.${field}`;
      throw invalid(file, `turns[${index}]${where}: ${message}`, { turn: index, field });
    }
    return turn.data;
  });
  return { file, turns, latency_ms: latency, when_exhausted: whenExhausted, cursor };
}

// `{last_tool_result:files.0.content}` picks a field out of a JSON tool result; `*` maps over a list
const PLACEHOLDER =
  /\{(agent_id|agent_name|run_id|workspace|data_dir|message|last_tool_result|metadata)(?::([A-Za-z0-9_.*-]+))?\}/g;
// a string that is exactly one `{metadata:…}` takes the picked value itself, so a list stays a list
const WHOLE_METADATA = /^\{metadata:([A-Za-z0-9_.-]+)\}$/;

function pick(json: string, path: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  return walk(value, path.split('.'));
}

function walk(value: unknown, keys: string[]): unknown {
  if (keys.length === 0) return value;
  const [key, ...rest] = keys as [string, ...string[]];
  if (key === '*')
    return Array.isArray(value)
      ? value.map((item) => walk(item, rest)).filter((v) => v !== undefined && v !== null)
      : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  return walk((value as Record<string, unknown>)[key], rest);
}

/** A picked value as text: lists become their items separated by a blank line. */
function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(asText).join('\n\n');
  return JSON.stringify(value);
}

function placeholderValue(vars: Record<string, string>, name: string, path: string | undefined): unknown {
  const raw = vars[name] ?? '';
  return path === undefined ? raw : pick(raw, path);
}

function fillText(text: string, vars: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (_match, name: string, path: string | undefined) =>
    asText(placeholderValue(vars, name, path)),
  );
}

/**
 * A list item whose placeholder has a `*` becomes one item per element of that list
 * (`"{data_dir}/inbox/{last_tool_result:entries.*.name}"` → one path per entry).
 */
function fillListItem(item: string, vars: Record<string, string>): string[] {
  for (const m of item.matchAll(PLACEHOLDER)) {
    if (!m[2]?.includes('*')) continue;
    const list = placeholderValue(vars, m[1]!, m[2]);
    const elements = Array.isArray(list) ? list : [];
    const [before, after] = [item.slice(0, m.index), item.slice(m.index + m[0].length)];
    return elements.map((element) => `${fillText(before, vars)}${asText(element)}${fillText(after, vars)}`);
  }
  return [fillText(item, vars)];
}

function fill(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_METADATA.exec(value);
    if (whole) return pick(vars['metadata'] ?? '{}', whole[1]!) ?? '';
    return fillText(value, vars);
  }
  if (Array.isArray(value))
    return value.flatMap((item) => (typeof item === 'string' ? fillListItem(item, vars) : [fill(item, vars)]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = fill(item, vars);
    return out;
  }
  return value;
}

function latestOf(messages: Message[], role: 'user' | 'tool_result'): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message && message.role === role) return message.content;
  }
  return '';
}

/** The first failed check of a turn, as the error that stops the run. */
function failedCheck(
  script: Script,
  turnIndex: number,
  checks: ScriptCheck[],
  vars: Record<string, string>,
): AaosError | undefined {
  for (const check of checks) {
    const holds =
      check.present !== undefined
        ? fillText(check.present, vars).trim() !== ''
        : fillText(check.absent ?? '', vars).trim() === '';
    if (!holds) {
      return new AaosError(ErrorCode.SCRIPT_CHECK_FAILED, fillText(check.error, vars), {
        file: script.file,
        turn: turnIndex,
      });
    }
  }
  return undefined;
}

interface CachedScript {
  script: Script;
  mtimeMs: number;
  size: number;
  /** when the file was last compared with the disk (ms) */
  checkedAt: number;
}

/** how long a parsed script is used without looking at the file again */
const FRESH_MS = 1000;

interface AgentCursor {
  /** next turn index per script file */
  next: Map<string, number>;
}

/**
 * The offline model: answers from a YAML file of turns, consumed in order per agent.
 * Files are parsed once and re-read only when their mtime or size changes.
 */
export class ScriptedProvider implements ModelProvider {
  readonly id = 'scripted';

  constructor(options: { freshMs?: number } = {}) {
    this.freshMs = options.freshMs ?? FRESH_MS;
  }

  private readonly cache = new Map<string, CachedScript>();
  private readonly loading = new Map<string, Promise<Script>>();
  private readonly freshMs: number;
  private readonly cursors = new Map<string, AgentCursor>();
  /**
   * Tool-call ids are `toolu_scripted_<process nonce>_<call number>_<index>`: unique across agents,
   * runs and restarts, as a real model's are. Reused ids would make a persistent agent's older
   * tool results look like answers to its newest calls, and history trimming would keep only its
   * newest goal.
   */
  private readonly idNonce = randomBytes(4).toString('hex');
  private callSeq = 0;

  /**
   * The parsed script. A file checked within the last `freshMs` is not looked at again, and
   * concurrent first calls share one read: a fan-out of a hundred children on one script
   * parses it once, not a hundred times.
   */
  load(file: string): Promise<Script> {
    if (!isAbsolute(file)) return Promise.reject(invalid(file, 'the path after `scripted:` must be absolute'));
    const cached = this.cache.get(file);
    if (cached && Date.now() - cached.checkedAt < this.freshMs) return Promise.resolve(cached.script);
    let loading = this.loading.get(file);
    if (!loading) {
      loading = this.refresh(file, cached).finally(() => this.loading.delete(file));
      this.loading.set(file, loading);
    }
    return loading;
  }

  private async refresh(file: string, cached: CachedScript | undefined): Promise<Script> {
    let info: { mtimeMs: number; size: number };
    try {
      info = await stat(file);
    } catch (err) {
      throw invalid(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) {
      cached.checkedAt = Date.now();
      return cached.script;
    }
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw invalid(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    const script = parseScript(file, text);
    this.cache.set(file, { script, mtimeMs: info.mtimeMs, size: info.size, checkedAt: Date.now() });
    return script;
  }

  /** Forget an agent's position in every script (its next call starts at turn 0). */
  reset(agentId: string): void {
    // one cursor per agent (its positions in every script): no scan of the other agents' cursors
    this.cursors.delete(agentId);
  }

  async complete(request: ModelRequest, context: ScriptContext): Promise<ModelResponse> {
    const script = await this.load(request.model);
    // per_run: the position is the run's own model turns so far (after its user turn), as a
    // real model answers the conversation it is shown: a run resumed after a restart continues
    // where it was. per_agent: taken synchronously, so concurrent calls get distinct turns in order
    const turn = script.cursor === 'per_run' ? this.turnOfRun(script, request) : this.take(script, request.agent_id);
    const callNo = this.callSeq++;
    const vars: Record<string, string> = {
      agent_id: context.agent_id,
      agent_name: context.agent_name,
      run_id: context.run_id ?? '',
      workspace: context.workspace ?? '',
      data_dir: context.data_dir ?? '',
      message: latestOf(request.messages, 'user'),
      last_tool_result: latestOf(request.messages, 'tool_result'),
      metadata: JSON.stringify(context.metadata ?? {}),
    };
    const failed = turn.check ? failedCheck(script, script.turns.indexOf(turn), turn.check, vars) : undefined;
    if (failed) throw failed;
    const content: ContentBlock[] = [];
    const calls = turn.tool_calls ?? [];
    if (turn.text !== undefined && (turn.text !== '' || calls.length === 0))
      content.push({ type: 'text', text: fill(turn.text, vars) as string });
    calls.forEach((call, i) => {
      content.push({
        type: 'tool_use',
        id: `toolu_scripted_${this.idNonce}_${callNo}_${i}`,
        name: call.name,
        input: fill(call.input, vars),
      });
    });
    if (script.latency_ms > 0) await sleep(script.latency_ms, request.signal);
    return {
      content,
      stop_reason: turn.stop_reason ?? (calls.length > 0 ? 'tool_use' : 'end_turn'),
      usage: turn.usage ?? { input_tokens: estimateInputTokens(request), output_tokens: estimateOutputTokens(content) },
      model: request.model,
    };
  }

  maxContextTokens(_model: string): number {
    return 200_000;
  }

  private cursorOf(agentId: string): AgentCursor {
    let cursor = this.cursors.get(agentId);
    if (!cursor) {
      cursor = { next: new Map() };
      this.cursors.set(agentId, cursor);
    }
    return cursor;
  }

  private turnOfRun(script: Script, request: ModelRequest): ScriptTurn {
    let index = 0;
    for (let i = request.messages.length - 1; i >= 0 && request.messages[i]?.role !== 'user'; i--) {
      if (request.messages[i]?.role === 'assistant') index++;
    }
    if (index >= script.turns.length) {
      if (script.when_exhausted === 'error') {
        throw new AaosError(
          ErrorCode.SCRIPT_EXHAUSTED,
          `scripted model ${script.file} has no turn left for this run of agent ${request.agent_id} (all ${script.turns.length} used, when_exhausted: error)`,
          { file: script.file, agent_id: request.agent_id, turns: script.turns.length },
        );
      }
      index %= script.turns.length;
    }
    return script.turns[index] as ScriptTurn;
  }

  private take(script: Script, agentId: string): ScriptTurn {
    const cursor = this.cursorOf(agentId);
    let index = cursor.next.get(script.file) ?? 0;
    if (index >= script.turns.length) {
      if (script.when_exhausted === 'error') {
        throw new AaosError(
          ErrorCode.SCRIPT_EXHAUSTED,
          `scripted model ${script.file} has no turn left for agent ${agentId} (all ${script.turns.length} used, when_exhausted: error)`,
          { file: script.file, agent_id: agentId, turns: script.turns.length },
        );
      }
      index = 0;
    }
    cursor.next.set(script.file, index + 1);
    return script.turns[index] as ScriptTurn;
  }
}
