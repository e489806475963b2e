import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isAaosError } from '../../src/errors/index.js';
import { RoleCatalog } from '../../src/orchestration/role-catalog.js';
import { parseRole } from '../../src/orchestration/role-parse.js';
import { renderRole } from '../../src/orchestration/role-render.js';
import { tempDir } from '../support/kernel.js';

// Role files written in aaOS's format (packaging/roles/*.yaml): its field names and placeholders.
const AAOS_FETCHER = `name: fetcher
model: deepseek-chat
parameters:
  url:
    type: string
    required: true
    description: "URL to fetch"
  workspace:
    type: path
    required: true
    description: "file to write"
capabilities:
  - "tool: web_fetch"
  - "tool: file_write"
  - "file_write: {workspace}"
  - "network: {url}"
system_prompt: "You fetch one URL."
message_template: "Fetch {url} and write the body to {workspace}."
budget:
  max_input_tokens: 60000
  max_output_tokens: 200
retry:
  max_attempts: 2
  on: [web_fetch_5xx, timeout]
priority: 128
scaffold:
  kind: fetcher
orchestration:
  max_iterations: 10
require_declared_output: true
`;

const AAOS_ANALYZER = `name: analyzer
model: deepseek-chat
model_ladder: [deepseek-chat, deepseek-reasoner]
parameters:
  inputs: {type: string_list, required: true, description: "files"}
  question: {type: string, required: true, description: "what to answer"}
capabilities:
  - "tool: file_read"
  - "file_read: {inputs.*}"
system_prompt: "Read only the listed inputs."
message_template: "Answer {question} from {inputs}."
budget: {max_input_tokens: 80000, max_output_tokens: 4000}
retry: {max_attempts: 2, on: [timeout]}
escalate_on: [replan_retry, tool_repeat_guard, max_tokens]
orchestration: {max_iterations: 30, commit_nudges: 0}
`;

const ctx = { subtaskId: 's1', run: '/runs/r1' };

function roleError(text: string): { code: string; message: string } {
  try {
    parseRole(text, { file: '/roles/x.yaml' });
  } catch (err) {
    if (isAaosError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected the role to be refused');
}

describe('roles in aaOS format', () => {
  it('load with their field names and placeholders', () => {
    const fetcher = parseRole(AAOS_FETCHER, { file: '/roles/fetcher.yaml' });
    expect(fetcher.name).toBe('fetcher');
    expect(fetcher.parameters['url']).toEqual({ type: 'string', required: true, description: 'URL to fetch' });
    expect(fetcher.retry).toEqual({ max_attempts: 2, on: ['web_fetch_5xx', 'timeout'] });
    expect(fetcher.scaffold).toEqual({ kind: 'fetcher' });
    expect(fetcher.model_ladder).toEqual(['deepseek-chat']);
    expect(fetcher.escalate_on).toEqual(['replan_retry', 'tool_repeat_guard', 'max_tokens']);
    const analyzer = parseRole(AAOS_ANALYZER, { file: '/roles/analyzer.yaml' });
    expect(analyzer.model_ladder).toEqual(['deepseek-chat', 'deepseek-reasoner']);
    expect(analyzer.orchestration).toEqual({ max_iterations: 30, commit_nudges: 0 });
  });

  it('render: {p} is replaced, {p.*} gives one capability per element, lists join with ", " in the message', () => {
    const analyzer = parseRole(AAOS_ANALYZER, { file: '/roles/analyzer.yaml' });
    const out = renderRole(analyzer, { inputs: ['{run}/a.md', '/data/b.md'], question: 'why?' }, ctx);
    expect(out.manifest.capabilities.map((c) => c.source)).toEqual([
      'tool: file_read',
      'file_read: /runs/r1/a.md',
      'file_read: /data/b.md',
    ]);
    expect(out.message).toBe('Answer why? from /runs/r1/a.md, /data/b.md.');
    expect(out.manifest.limits.max_iterations).toBe(30);
    expect(out.manifest.budget_config?.max_tokens).toBe(84000);
    expect(renderRole(analyzer, { inputs: ['/a'], question: 'q' }, { ...ctx, tier: 1 }).manifest.model).toBe(
      'deepseek-reasoner',
    );
    expect(renderRole(analyzer, { inputs: ['/a'], question: 'q' }, { ...ctx, tier: 9 }).model).toBe(
      'deepseek-reasoner',
    );
    const fetcher = parseRole(AAOS_FETCHER, { file: '/roles/fetcher.yaml' });
    const f = renderRole(fetcher, { url: 'https://example.org/x', workspace: '{run}/page.html' }, ctx);
    expect(f.manifest.capabilities.map((c) => c.source)).toContain('network: https://example.org/x');
    expect(f.declaredOutputs).toEqual(['/runs/r1/page.html']);
  });
});

describe('role validation', () => {
  it('an unknown field is an error with did-you-mean, located', () => {
    const e = roleError(AAOS_ANALYZER.replace('message_template:', 'mesage_template:'));
    expect(e.code).toBe(ErrorCode.ROLE_INVALID);
    expect(e.message).toMatch(
      /x\.yaml:\d+:\d+: mesage_template: unknown field 'mesage_template' \(did you mean 'message_template'\?\)/,
    );
    expect(roleError(AAOS_ANALYZER.replace('required: true, description: "files"', 'requird: true')).message).toMatch(
      /did you mean 'required'/,
    );
  });

  it('an unresolved placeholder in a capability or message template is an error naming the field', () => {
    expect(roleError(AAOS_ANALYZER.replace('file_read: {inputs.*}', 'file_read: {input.*}')).message).toMatch(
      /capabilities\[1\]: unresolved placeholder '\{input\}' \(did you mean '\{inputs\}'\?\)/,
    );
    expect(roleError(AAOS_ANALYZER.replace('Answer {question}', 'Answer {questoin}')).message).toMatch(
      /message_template: unresolved placeholder '\{questoin\}'/,
    );
    expect(roleError(AAOS_ANALYZER.replace('file_read: {inputs.*}', 'file_read: {inputs}')).message).toMatch(
      /string_list: write '\{inputs\.\*\}'/,
    );
    expect(roleError(AAOS_ANALYZER.replace('file_read: {inputs.*}', 'file_read: {question.*}')).message).toMatch(
      /needs a string_list parameter/,
    );
  });

  it('a capability template that would not parse, a wrong type, a bad ladder are errors', () => {
    expect(roleError(AAOS_ANALYZER.replace('"tool: file_read"', '"tol: file_read"')).message).toMatch(
      /capabilities\[0\]/,
    );
    expect(roleError(AAOS_ANALYZER.replace('max_attempts: 2', 'max_attempts: two')).message).toMatch(
      /retry\.max_attempts: expected/,
    );
    expect(
      roleError(AAOS_ANALYZER.replace('[deepseek-chat, deepseek-reasoner]', '[deepseek-reasoner]')).message,
    ).toMatch(/model_ladder/);
  });
});

describe('role parameters at render time', () => {
  const analyzer = () => parseRole(AAOS_ANALYZER, { file: '/roles/analyzer.yaml' });
  const refused = (params: Record<string, unknown>) => {
    try {
      renderRole(analyzer(), params, ctx);
    } catch (err) {
      if (isAaosError(err, ErrorCode.ROLE_PARAMS_INVALID)) return err;
      throw err;
    }
    throw new Error('expected a refusal');
  };

  it('missing, unknown and wrongly typed parameters are refused naming the field', () => {
    const missing = refused({ inputs: ['/a'] });
    expect(missing.message).toMatch(/subtask 's1' \(role analyzer\): params\.question: missing required parameter/);
    expect(missing.details?.['field']).toBe('params.question');
    expect(refused({ inputs: ['/a'], question: 'q', questoin: 'x' }).message).toMatch(
      /params\.questoin: unknown parameter \(did you mean 'question'\?\)/,
    );
    expect(refused({ inputs: '/a', question: 'q' }).message).toMatch(/params\.inputs: expected a list of strings/);
    expect(refused({ inputs: ['/a'], question: 42 }).message).toMatch(/params\.question: expected a string/);
  });

  it('a wildcard smuggled in through a parameter never widens a grant', () => {
    expect(refused({ inputs: ['/data/*'], question: 'q' }).message).toMatch(/may not contain '\*'/);
    const fetcher = parseRole(AAOS_FETCHER, { file: '/roles/fetcher.yaml' });
    expect(() => renderRole(fetcher, { url: '*', workspace: '/w/x' }, ctx)).toThrow(/may not contain '\*'/);
    expect(() => renderRole(fetcher, { url: 'https://a', workspace: 'relative/x' }, ctx)).toThrow(
      /params\.workspace: a path must be absolute/,
    );
    expect(() => renderRole(fetcher, { url: 'https://a', workspace: '/w/{x}' }, ctx)).toThrow(/params\.workspace/);
  });
});

describe('the role catalog', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('has the bundled roles, and a configured directory adds and overrides roles; broken files are problems', async () => {
    const extra = join(dir, 'roles');
    mkdirSync(extra);
    writeFileSync(join(extra, 'analyzer.yaml'), AAOS_ANALYZER);
    writeFileSync(join(extra, 'broken.yaml'), 'name: broken\nmodel: m\nmessage_template: "{nope}"\n');
    const bundled = await RoleCatalog.load();
    expect(bundled.names()).toEqual(
      expect.arrayContaining(['analyzer', 'fetcher', 'generalist', 'reviewer', 'writer']),
    );
    expect(bundled.problems).toEqual([]);
    const both = await RoleCatalog.load([
      ...(await import('../../src/orchestration/role-catalog.js')).roleDirs({}),
      extra,
    ]);
    expect(both.require('analyzer').model).toBe('deepseek-chat');
    expect(both.problems).toHaveLength(1);
    expect(both.problems[0]!.message).toMatch(
      /broken\.yaml:3:\d+: message_template: unresolved placeholder '\{nope\}'/,
    );
    expect(() => both.require('analyser')).toThrow(/unknown role 'analyser' \(did you mean 'analyzer'\?\)/);
  });
});
