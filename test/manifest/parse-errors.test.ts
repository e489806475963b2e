import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, isAaosError } from '../../src/errors/index.js';
import type { ManifestIssue } from '../../src/manifest/index.js';
import { parseManifest } from '../../src/manifest/index.js';

const FILE = 'manifests/bad.yaml';
const emptyDir = mkdtempSync(path.join(tmpdir(), 'aaos-manifest-errors-'));
afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

/** The smallest valid manifest; rows append to or replace parts of it. */
const BASE = 'name: agent\nmodel: test-model\n';

interface Row {
  name: string;
  yaml: string;
  line: number;
  column?: number;
  field: string;
  message: RegExp;
  code?: ErrorCode;
}

const rows: Row[] = [
  { name: 'missing name', yaml: 'model: m\n', line: 1, field: 'name', message: /required field is missing/ },
  {
    name: 'name of the wrong type',
    yaml: 'name: 42\nmodel: m\n',
    line: 1,
    column: 7,
    field: 'name',
    message: /expected a string, got 42/,
  },
  {
    name: 'bad name characters',
    yaml: 'name: my agent!\nmodel: m\n',
    line: 1,
    column: 7,
    field: 'name',
    message: /letters, digits.*got 'my agent!'/,
  },
  {
    name: 'name too long',
    yaml: `name: ${'a'.repeat(65)}\nmodel: m\n`,
    line: 1,
    field: 'name',
    message: /1-64 characters/,
  },
  { name: 'missing model', yaml: 'name: a\n', line: 1, field: 'model', message: /required field is missing/ },
  {
    name: 'empty model',
    yaml: 'name: a\nmodel: "  "\n',
    line: 2,
    column: 8,
    field: 'model',
    message: /must not be empty/,
  },
  {
    name: 'scripted model without a path',
    yaml: 'name: a\nmodel: "scripted:"\n',
    line: 2,
    field: 'model',
    message: /needs a script path/,
  },
  {
    name: 'unknown top-level key with a hint',
    yaml: `${BASE}capabilites:\n  - web_search\n`,
    line: 3,
    column: 1,
    field: 'capabilites',
    message: /unknown field 'capabilites' \(did you mean 'capabilities'\?\)/,
  },
  {
    name: 'unknown top-level key without a close match lists the known fields',
    yaml: `${BASE}flavour: vanilla\n`,
    line: 3,
    field: 'flavour',
    message: /unknown field 'flavour' \(known: name, model, system_prompt/,
  },
  {
    name: 'unknown memory key',
    yaml: `${BASE}memory:\n  context_windw: 8k\n`,
    line: 4,
    column: 3,
    field: 'memory.context_windw',
    message: /did you mean 'context_window'/,
  },
  {
    name: 'unknown limits key',
    yaml: `${BASE}limits:\n  max_heap: 64\n`,
    line: 4,
    field: 'limits.max_heap',
    message: /did you mean 'max_heap_mb'/,
  },
  {
    name: 'unknown budget_config key',
    yaml: `${BASE}budget_config:\n  max_tokens: 10\n  reset_period: 60\n`,
    line: 5,
    field: 'budget_config.reset_period',
    message: /did you mean 'reset_period_seconds'/,
  },
  {
    name: 'wrong type for lifecycle',
    yaml: `${BASE}lifecycle: true\n`,
    line: 3,
    column: 12,
    field: 'lifecycle',
    message: /expected one of 'on-demand', 'persistent', got true/,
  },
  {
    name: 'unknown lifecycle value',
    yaml: `${BASE}lifecycle: always\n`,
    line: 3,
    field: 'lifecycle',
    message: /got 'always'/,
  },
  {
    name: 'memory not a mapping',
    yaml: `${BASE}memory: big\n`,
    line: 3,
    field: 'memory',
    message: /expected a mapping, got 'big'/,
  },
  {
    name: 'bad context_window 1.5k',
    yaml: `${BASE}memory:\n  context_window: 1.5k\n`,
    line: 4,
    column: 19,
    field: 'memory.context_window',
    message: /'1\.5k' is not a token count/,
  },
  {
    name: 'context_window of the wrong type',
    yaml: `${BASE}memory:\n  context_window: [1]\n`,
    line: 4,
    field: 'memory.context_window',
    message: /expected a string or a number, got a list/,
  },
  {
    name: 'summarization_threshold 1.2',
    yaml: `${BASE}memory:\n  summarization_threshold: 1.2\n`,
    line: 4,
    field: 'memory.summarization_threshold',
    message: /must be less than 1, got 1\.2/,
  },
  {
    name: 'summarization_threshold 0',
    yaml: `${BASE}memory:\n  summarization_threshold: 0\n`,
    line: 4,
    field: 'memory.summarization_threshold',
    message: /must be greater than 0/,
  },
  {
    name: 'max_history_messages 0',
    yaml: `${BASE}memory:\n  max_history_messages: 0\n`,
    line: 4,
    field: 'memory.max_history_messages',
    message: /must be at least 2, got 0/,
  },
  {
    name: 'max_history_messages not an integer',
    yaml: `${BASE}memory:\n  max_history_messages: 2.5\n`,
    line: 4,
    field: 'memory.max_history_messages',
    message: /expected an integer, got 2\.5/,
  },
  {
    name: 'episodic_enabled not a boolean',
    yaml: `${BASE}memory:\n  episodic_enabled: "yes"\n`,
    line: 4,
    field: 'memory.episodic_enabled',
    message: /expected true or false, got 'yes'/,
  },
  {
    name: 'max_heap_mb below 16',
    yaml: `${BASE}limits:\n  max_heap_mb: 8\n`,
    line: 4,
    field: 'limits.max_heap_mb',
    message: /at least 16, got 8/,
  },
  {
    name: 'max_iterations above 1000',
    yaml: `${BASE}limits:\n  max_iterations: 5000\n`,
    line: 4,
    field: 'limits.max_iterations',
    message: /at most 1000, got 5000/,
  },
  {
    name: 'budget max_tokens 0',
    yaml: `${BASE}budget_config:\n  max_tokens: 0\n`,
    line: 4,
    field: 'budget_config.max_tokens',
    message: /greater than 0, got 0/,
  },
  {
    name: 'budget without max_tokens',
    yaml: `${BASE}budget_config:\n  reset_period_seconds: 5\n`,
    line: 4,
    field: 'budget_config.max_tokens',
    message: /required field is missing/,
  },
  {
    name: 'bad capability kind with a hint',
    yaml: `${BASE}capabilities:\n  - "tool: x"\n  - "file_raed: /x"\n`,
    line: 5,
    column: 5,
    field: 'capabilities[1]',
    message: /unknown capability kind 'file_raed' \(did you mean 'file_read'\?\)/,
  },
  {
    name: 'bad capability kind written as a YAML mapping',
    yaml: `${BASE}capabilities:\n  - file_raed: /x\n`,
    line: 4,
    field: 'capabilities[0].file_raed',
    message: /unknown capability kind 'file_raed' \(did you mean 'file_read'\?\)/,
  },
  {
    name: 'unparseable capability string',
    yaml: `${BASE}capabilities:\n  - "read files in /data"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /cannot parse capability/,
  },
  {
    name: 'capability kind without value',
    yaml: `${BASE}capabilities:\n  - "file_read"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /file_read needs a value/,
  },
  {
    name: 'capability of the wrong type',
    yaml: `${BASE}capabilities:\n  - 17\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /expected a capability string .* got a number/,
  },
  {
    name: 'capabilities not a list',
    yaml: `${BASE}capabilities: "tool: x"\n`,
    line: 3,
    field: 'capabilities',
    message: /expected a list/,
  },
  {
    name: 'relative path glob',
    yaml: `${BASE}capabilities:\n  - "file_read: data/*"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /path must be absolute: 'data\/\*'/,
  },
  {
    name: '* mid-path',
    yaml: `${BASE}capabilities:\n  - "file_read: /data/*/x"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /only a trailing \/\* is a wildcard/,
  },
  {
    name: '* inside a file name',
    yaml: `${BASE}capabilities:\n  - "file_write: /data/*.txt"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /only a trailing \/\* is a wildcard/,
  },
  {
    name: 'bare * path',
    yaml: `${BASE}capabilities:\n  - "file_read: *"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /use \/\* for every path/,
  },
  {
    name: '.. in a grant',
    yaml: `${BASE}capabilities:\n  - "file_write: /data/../etc/*"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /'\.\.' is not allowed/,
  },
  {
    name: 'unknown placeholder',
    yaml: `${BASE}capabilities:\n  - "file_read: {home}/x"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /unknown placeholder '\{home\}'/,
  },
  {
    name: 'misspelled placeholder gets a hint',
    yaml: `${BASE}capabilities:\n  - "file_read: {workspce}/*"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /did you mean '\{workspace\}'/,
  },
  {
    name: 'placeholder in the middle of a path',
    yaml: `${BASE}capabilities:\n  - "file_read: /x/{data_dir}"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /may only begin a path/,
  },
  {
    name: 'empty spawn_child list',
    yaml: `${BASE}capabilities:\n  - "spawn_child: []"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /spawn_child needs at least one entry/,
  },
  {
    name: 'empty message_send list',
    yaml: `${BASE}capabilities:\n  - message_send: []\n`,
    line: 4,
    field: 'capabilities[0].message_send',
    message: /needs at least one entry/,
  },
  {
    name: 'stray comma in a list',
    yaml: `${BASE}capabilities:\n  - "spawn_child: a,,b"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /stray comma/,
  },
  {
    name: 'invalid child name',
    yaml: `${BASE}capabilities:\n  - "spawn_child: [a, b c]"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /'b c' is not a valid agent name/,
  },
  {
    name: 'tool with two names',
    yaml: `${BASE}capabilities:\n  - "tool: a, b"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /one 'tool: <name>' entry per tool/,
  },
  {
    name: 'web_search with a value',
    yaml: `${BASE}capabilities:\n  - "web_search: x.com"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /web_search takes no value/,
  },
  {
    name: 'host wildcard',
    yaml: `${BASE}capabilities:\n  - "network: *.example.com"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /host wildcard must be the whole entry/,
  },
  {
    name: 'invalid host',
    yaml: `${BASE}capabilities:\n  - "network: exa mple.com"\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /not a host name or URL/,
  },
  {
    name: 'map capability with an unknown key',
    yaml: `${BASE}capabilities:\n  - capability: "tool: web_fetch"\n    max_invocation: 3\n`,
    line: 5,
    column: 5,
    field: 'capabilities[0].max_invocation',
    message: /unknown key 'max_invocation' \(did you mean 'max_invocations'\?\)/,
  },
  {
    name: 'negative max_invocations',
    yaml: `${BASE}capabilities:\n  - capability: "tool: web_fetch"\n    max_invocations: -1\n`,
    line: 5,
    column: 22,
    field: 'capabilities[0].max_invocations',
    message: /expected a positive integer, got -1/,
  },
  {
    name: 'zero expires_in_seconds',
    yaml: `${BASE}capabilities:\n  - capability: "tool: web_fetch"\n    expires_in_seconds: 0\n`,
    line: 5,
    field: 'capabilities[0].expires_in_seconds',
    message: /expected a positive integer, got 0/,
  },
  {
    name: 'bad capability string inside the map form',
    yaml: `${BASE}capabilities:\n  - capability: "file_read: rel/*"\n    max_invocations: 2\n`,
    line: 4,
    column: 17,
    field: 'capabilities[0].capability',
    message: /path must be absolute/,
  },
  {
    name: 'map form without capability',
    yaml: `${BASE}capabilities:\n  - max_invocations: 2\n`,
    line: 4,
    field: 'capabilities[0]',
    message: /missing 'capability'/,
  },
  {
    name: 'map form naming two capabilities',
    yaml: `${BASE}capabilities:\n  - tool: a\n    network: x.com\n`,
    line: 5,
    field: 'capabilities[0].network',
    message: /exactly one capability/,
  },
  {
    name: 'YAML syntax error',
    yaml: `${BASE}capabilities: [a, b\nlimits: {}\n`,
    line: 4,
    field: 'capabilities[1]',
    message: /YAML syntax error/,
  },
  {
    name: 'bad indentation',
    yaml: `${BASE}memory:\n  context_window: 8k\n   max_history_messages: 4\n`,
    line: 4,
    field: 'memory.context_window',
    message: /YAML syntax error/,
  },
  {
    name: 'duplicate key',
    yaml: `${BASE}lifecycle: persistent\nname: again\n`,
    line: 4,
    column: 1,
    field: 'name',
    message: /duplicate key 'name'/,
  },
  {
    name: 'duplicate nested key',
    yaml: `${BASE}memory:\n  episodic_enabled: true\n  episodic_enabled: false\n`,
    line: 5,
    column: 3,
    field: 'memory.episodic_enabled',
    message: /duplicate key 'episodic_enabled'/,
  },
  {
    name: 'unknown YAML tag',
    yaml: `${BASE}limits: !custom {max_heap_mb: 64}\n`,
    line: 3,
    field: 'limits',
    message: /YAML: .*!custom/,
  },
  {
    name: 'binary value',
    yaml: `${BASE}metadata: !!binary aGVsbG8=\n`,
    line: 3,
    field: 'metadata',
    message: /expected a mapping, got binary data/,
  },
  {
    name: 'alias bomb',
    yaml: `${BASE}a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n`,
    line: 1,
    field: '(root)',
    message: /Excessive alias count/,
  },
  {
    name: 'manifest too large',
    yaml: `${BASE}metadata:\n  blob: "${'x'.repeat(1024 * 1024)}"\n`,
    line: 1,
    field: '(root)',
    message: /larger than 1048576 bytes/,
  },
  {
    name: 'non-mapping root',
    yaml: '- name: a\n- model: b\n',
    line: 1,
    field: '(root)',
    message: /expected a mapping of manifest fields at the top level, got a list/,
  },
  { name: 'scalar root', yaml: 'just some text\n', line: 1, field: '(root)', message: /got 'just some text'/ },
  { name: 'empty file', yaml: '', line: 1, field: '(root)', message: /manifest is empty/ },
  { name: 'comments-only file', yaml: '# nothing here\n\n', line: 1, field: '(root)', message: /manifest is empty/ },
  { name: 'two YAML documents', yaml: `${BASE}---\nname: b\n`, line: 3, field: '(root)', message: /one YAML document/ },
  {
    name: 'system_prompt file missing',
    yaml: `${BASE}system_prompt:\n  file: prompts/missing.md\n`,
    line: 4,
    column: 9,
    field: 'system_prompt.file',
    message: new RegExp(
      `system_prompt file not found: ${path.join(emptyDir, 'prompts', 'missing.md').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`,
    ),
    code: ErrorCode.MANIFEST_NOT_FOUND,
  },
  {
    name: 'system_prompt mapping with a typo',
    yaml: `${BASE}system_prompt:\n  fiel: p.md\n`,
    line: 4,
    field: 'system_prompt.fiel',
    message: /did you mean 'file'/,
  },
  {
    name: 'system_prompt of the wrong type',
    yaml: `${BASE}system_prompt: 12\n`,
    line: 3,
    field: 'system_prompt',
    message: /expected a string or a mapping, got 12/,
  },
  {
    name: 'approval_required not a list',
    yaml: `${BASE}approval_required: file_write\n`,
    line: 3,
    column: 20,
    field: 'approval_required',
    message: /expected a list, got 'file_write'/,
  },
  {
    name: 'approval_required item not a tool name',
    yaml: `${BASE}approval_required:\n  - ok\n  - "not ok"\n`,
    line: 5,
    field: 'approval_required[1]',
    message: /must be a tool name/,
  },
  {
    name: 'metadata not a mapping',
    yaml: `${BASE}metadata: [a]\n`,
    line: 3,
    field: 'metadata',
    message: /expected a mapping, got a list/,
  },
  {
    name: 'empty value for a mapping field',
    yaml: `${BASE}memory:\nlimits: {}\n`,
    line: 3,
    column: 1,
    field: 'memory',
    message: /expected a mapping, got an empty value/,
  },
];

function issuesOf(yaml: string): { code: string; message: string; issues: ManifestIssue[] } {
  try {
    parseManifest(yaml, { file: FILE, baseDir: emptyDir });
  } catch (err) {
    if (!isAaosError(err)) throw err;
    return { code: err.code, message: err.message, issues: (err.details?.['issues'] ?? []) as ManifestIssue[] };
  }
  throw new Error('expected the manifest to be rejected');
}

describe('parseManifest rejects bad manifests with file, line and field', () => {
  it('has a row for each kind of mistake', () => {
    expect(rows.length).toBeGreaterThanOrEqual(20);
  });

  it.each(rows)('$name', (row) => {
    const { code, message, issues } = issuesOf(row.yaml);
    expect(code).toBe(row.code ?? ErrorCode.MANIFEST_INVALID);
    const issue = issues.find((i) => i.field === row.field && row.message.test(i.message));
    expect(issue, `issues were: ${JSON.stringify(issues, null, 2)}`).toBeDefined();
    expect(issue?.file).toBe(FILE);
    expect(issue?.line).toBe(row.line);
    if (row.column !== undefined) expect(issue?.column).toBe(row.column);
    // the thrown message carries the same located line
    expect(message).toContain(`${FILE}:${row.line}:${issue?.column}: ${row.field}: `);
  });
});

describe('issue collection', () => {
  it('reports every problem at once, sorted by position, one per message line', () => {
    const yaml = [
      'name: "bad name"',
      'model: m',
      'lifecycle: sometimes',
      'capabilities:',
      '  - "file_read: rel"',
      '  - "tool: ok"',
      '  - "spawn_child: []"',
      'memory:',
      '  max_history_messages: 1',
      'colour: red',
      '',
    ].join('\n');
    const { code, message, issues } = issuesOf(yaml);
    expect(code).toBe(ErrorCode.MANIFEST_INVALID);
    expect(issues.map((i) => [i.line, i.field])).toEqual([
      [1, 'name'],
      [3, 'lifecycle'],
      [5, 'capabilities[0]'],
      [7, 'capabilities[2]'],
      [9, 'memory.max_history_messages'],
      [10, 'colour'],
    ]);
    expect(message.split('\n')).toHaveLength(6);
    expect(message.split('\n')[0]).toMatch(/^manifests\/bad\.yaml:1:7: name: /);
  });

  it('reports a missing prompt file together with other problems as MANIFEST_INVALID', () => {
    const { code, issues } = issuesOf('name: a\nmodel: ""\nsystem_prompt: {file: nope.md}\n');
    expect(code).toBe(ErrorCode.MANIFEST_INVALID);
    expect(issues.map((i) => i.field)).toEqual(['model', 'system_prompt.file']);
  });

  it('names <inline> when no file is given', () => {
    try {
      parseManifest('name: a\n');
      expect.unreachable();
    } catch (err) {
      expect(isAaosError(err, ErrorCode.MANIFEST_INVALID)).toBe(true);
      expect((err as Error).message).toBe('<inline>:1:1: model: required field is missing');
    }
  });
});
