import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { ScriptedProvider, parseScript } from '../../src/providers/scripted.js';
import { trimHistory } from '../../src/store/trim-history.js';
import type { Message, ModelRequest, ScriptContext } from '../../src/providers/model.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aaos-scripted-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function script(name: string, yaml: string): string {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

function request(
  file: string,
  agentId: string,
  messages: Message[] = [{ role: 'user', content: 'hello' }],
  signal?: AbortSignal,
): ModelRequest {
  return {
    model: file,
    agent_id: agentId,
    system: '',
    messages,
    tools: [],
    max_tokens: 100,
    ...(signal ? { signal } : {}),
  };
}

const ctx = (agentId: string, extra: Partial<ScriptContext> = {}): ScriptContext => ({
  agent_id: agentId,
  agent_name: `name-${agentId}`,
  ...extra,
});

const texts = (r: { content: Array<{ type: string; text?: string }> }) =>
  r.content.filter((b) => b.type === 'text').map((b) => b.text);
const toolUseIds = (r: { content: Array<{ type: string; id?: string }> }) =>
  r.content.filter((b) => b.type === 'tool_use').map((b) => b.id);

describe('ScriptedProvider', () => {
  it('keeps one cursor per agent and restarts by default', async () => {
    const file = script('s.yaml', '- text: one\n- text: two\n');
    const p = new ScriptedProvider();
    const a1 = await p.complete(request(file, 'a'), ctx('a'));
    const a2 = await p.complete(request(file, 'a'), ctx('a'));
    const b1 = await p.complete(request(file, 'b'), ctx('b'));
    const a3 = await p.complete(request(file, 'a'), ctx('a'));
    expect([texts(a1), texts(a2), texts(b1), texts(a3)]).toEqual([['one'], ['two'], ['one'], ['one']]);
    expect(a1.stop_reason).toBe('end_turn');
    p.reset('b');
    expect(texts(await p.complete(request(file, 'b'), ctx('b')))).toEqual(['one']);
  });

  it('fills placeholders in text and (nested) tool inputs', async () => {
    const file = script(
      'p.yaml',
      [
        'turns:',
        '  - text: "I am {agent_name} ({agent_id}) in run {run_id}"',
        '    tool_calls:',
        '      - name: file_write',
        '        input: {path: "{workspace}/out-{agent_id}.txt", content: "{message}", meta: {dir: "{data_dir}", list: ["{agent_name}", 3]}}',
        '  - text: "tool said: {last_tool_result}; unknown {nope} stays"',
      ].join('\n'),
    );
    const p = new ScriptedProvider();
    const c = ctx('ag-7', { run_id: 'run-9', workspace: '/ws', data_dir: '/data' });
    const first = await p.complete(request(file, 'ag-7', [{ role: 'user', content: 'write this' }]), c);
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content).toEqual([
      { type: 'text', text: 'I am name-ag-7 (ag-7) in run run-9' },
      {
        type: 'tool_use',
        id: expect.stringMatching(/^toolu_scripted_[0-9a-f]{8}_\d+_0$/),
        name: 'file_write',
        input: { path: '/ws/out-ag-7.txt', content: 'write this', meta: { dir: '/data', list: ['name-ag-7', 3] } },
      },
    ]);
    const second = await p.complete(
      request(file, 'ag-7', [
        { role: 'user', content: 'write this' },
        { role: 'assistant', content: first.content },
        {
          role: 'tool_result',
          tool_use_id: toolUseIds(first)[0] as string,
          content: 'wrote 10 bytes',
          is_error: false,
        },
      ]),
      c,
    );
    expect(texts(second)).toEqual(['tool said: wrote 10 bytes; unknown {nope} stays']);
  });

  it('uses scripted usage, or estimates chars/4 of input and output', async () => {
    const file = script('u.yaml', '- text: abcdefgh\n  usage: {input_tokens: 7, output_tokens: 3}\n- text: abcdefgh\n');
    const p = new ScriptedProvider();
    expect((await p.complete(request(file, 'a'), ctx('a'))).usage).toEqual({ input_tokens: 7, output_tokens: 3 });
    // input "hello" = 5 chars → 2; output 8 chars → 2
    expect((await p.complete(request(file, 'a'), ctx('a'))).usage).toEqual({ input_tokens: 2, output_tokens: 2 });
  });

  it('when_exhausted: error → SCRIPT_EXHAUSTED', async () => {
    const file = script('e.yaml', 'turns:\n  - text: only\nwhen_exhausted: error\n');
    const p = new ScriptedProvider();
    await p.complete(request(file, 'a'), ctx('a'));
    await expect(p.complete(request(file, 'a'), ctx('a'))).rejects.toMatchObject({
      code: ErrorCode.SCRIPT_EXHAUSTED,
      message: expect.stringContaining(file),
    });
  });

  it('an explicit stop_reason wins', async () => {
    const file = script('s.yaml', '- text: partial\n  stop_reason: max_tokens\n');
    expect((await new ScriptedProvider().complete(request(file, 'a'), ctx('a'))).stop_reason).toBe('max_tokens');
  });

  it.each([
    [
      'bad turn field',
      '- text: ok\n- text: fine\n- tool_calls: [{input: {}}]\n',
      /turns\[2\]\.tool_calls\[0\]\.name: /,
    ],
    ['unknown key', '- text: ok\n- txt: typo\n', /turns\[1\]: Unrecognized key/],
    ['empty turn', '- text: ok\n- {}\n', /turns\[1\]: a turn needs `text`/],
    [
      'long form',
      'turns:\n  - text: a\n  - usage: {input_tokens: -1, output_tokens: 0}\n    text: b\n',
      /turns\[1\]\.usage\.input_tokens/,
    ],
    ['bad header', 'turns: []\n', /expected a list of turns/],
    ['bad when_exhausted', 'turns: [{text: a}]\nwhen_exhausted: loop\n', /when_exhausted/],
    ['empty list', '[]\n', /empty/],
    ['yaml syntax', '- text: "unclosed\n- text: b\n', /YAML syntax error at line \d+: [^\n]+$/],
  ])('%s → SCRIPT_INVALID naming file and turn', async (_label, yaml, pattern) => {
    const file = script('bad.yaml', yaml);
    const p = new ScriptedProvider();
    const failure = p.complete(request(file, 'a'), ctx('a'));
    await expect(failure).rejects.toMatchObject({
      code: ErrorCode.SCRIPT_INVALID,
      details: expect.objectContaining({ file }),
    });
    await expect(p.complete(request(file, 'a'), ctx('a'))).rejects.toThrow(pattern);
    await expect(p.complete(request(file, 'a'), ctx('a'))).rejects.toThrow(file);
  });

  it('missing file or relative path → SCRIPT_INVALID', async () => {
    const p = new ScriptedProvider();
    await expect(p.complete(request(join(dir, 'none.yaml'), 'a'), ctx('a'))).rejects.toMatchObject({
      code: ErrorCode.SCRIPT_INVALID,
      message: expect.stringContaining('ENOENT'),
    });
    await expect(p.complete(request('rel/x.yaml', 'a'), ctx('a'))).rejects.toMatchObject({
      code: ErrorCode.SCRIPT_INVALID,
      message: expect.stringContaining('absolute'),
    });
  });

  it('parses a script once for concurrent first calls', async () => {
    const file = script('shared.yaml', '- text: shared\n');
    const p = new ScriptedProvider();
    const loads = await Promise.all(Array.from({ length: 50 }, () => p.load(file)));
    expect(new Set(loads).size).toBe(1);
  });

  it('caches parsed files and re-reads a changed one', async () => {
    const file = script('c.yaml', '- text: v1\n');
    const p = new ScriptedProvider({ freshMs: 0 });
    const first = await p.load(file);
    expect(await p.load(file)).toBe(first);
    writeFileSync(file, '- text: version2\n');
    const second = await p.load(file);
    expect(second).not.toBe(first);
    expect(second.turns[0]?.text).toBe('version2');
    expect(parseScript('/x.yaml', '[{text: a}]').when_exhausted).toBe('restart');
  });

  it('latency_ms delays the answer and the wait is abortable', async () => {
    const file = script('l.yaml', 'turns: [{text: slow}]\nlatency_ms: 60000\n');
    const p = new ScriptedProvider();
    const controller = new AbortController();
    let settled = false;
    const pending = p.complete(request(file, 'a', undefined, controller.signal), ctx('a'));
    pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.CANCELLED });

    const quick = script('q.yaml', 'turns: [{text: soon}]\nlatency_ms: 5\n');
    expect(texts(await p.complete(request(quick, 'a'), ctx('a')))).toEqual(['soon']);
  });

  it("a per_run script answers from the run's own turns so far: a run resumed by a new process continues where it was", async () => {
    const file = script('resume.yaml', 'cursor: per_run\nturns:\n  - text: one\n  - text: two\n  - text: three\n');
    const prior: Message[] = [
      { role: 'user', content: 'an older goal' },
      { role: 'assistant', content: [{ type: 'text', text: 'one' }] },
      { role: 'user', content: 'this goal' },
      { role: 'assistant', content: [{ type: 'text', text: 'one' }] },
    ];
    // a fresh provider (a restarted daemon) shown the run so far gives the run's next turn
    expect(texts(await new ScriptedProvider().complete(request(file, 'a', prior), ctx('a', { run_id: 'r' })))).toEqual([
      'two',
    ]);
    expect(
      texts(await new ScriptedProvider().complete(request(file, 'a', prior.slice(0, 3)), ctx('a', { run_id: 'r' }))),
    ).toEqual(['one']);
  });

  it('tool-call ids are unique per run, per agent and across restarts, so trimming keeps every goal of a persistent agent', async () => {
    const file = script(
      'ids.yaml',
      'cursor: per_run\nturns:\n  - tool_calls: [{name: echo, input: {}}, {name: echo, input: {}}]\n  - text: done\n',
    );
    const seen: string[] = [];
    const history: Message[] = [];
    // two goals of one persistent agent, then the same agent after a supervisor restart (a new provider)
    const before = new ScriptedProvider();
    const after = new ScriptedProvider();
    for (const [p, runId] of [
      [before, 'run-1'],
      [before, 'run-2'],
      [after, 'run-3'],
    ] as const) {
      history.push({ role: 'user', content: `goal of ${runId}` });
      const call = await p.complete(request(file, 'keeper', [...history]), ctx('keeper', { run_id: runId }));
      history.push({ role: 'assistant', content: call.content });
      for (const id of toolUseIds(call))
        history.push({ role: 'tool_result', tool_use_id: id as string, content: 'ok', is_error: false });
      const answer = await p.complete(request(file, 'keeper', [...history]), ctx('keeper', { run_id: runId }));
      history.push({ role: 'assistant', content: answer.content });
      seen.push(...(toolUseIds(call) as string[]));
    }
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    // room for everything: nothing is cut (reused ids pinned every cut after the newest goal's calls)
    expect(trimHistory(history, history.length)).toEqual(history);
    // room for two goals: the two newest are kept whole
    const kept = trimHistory(history, 10);
    expect(kept.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['goal of run-2', 'goal of run-3']);
  });
});
