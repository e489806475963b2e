import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isAaosError } from '../../src/errors/index.js';
import { AgentManifest, loadManifestFile, parseManifest } from '../../src/manifest/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aaos-manifest-'));
  mkdirSync(path.join(dir, 'prompts'));
  mkdirSync(path.join(dir, 'agents'));
  writeFileSync(path.join(dir, 'prompts', 'helper.md'), 'You help.\nBe brief.\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseManifest: good manifests', () => {
  it('parses a minimal manifest and fills every default', () => {
    const manifest = parseManifest('name: hello\nmodel: claude-haiku-4-5\n', { baseDir: dir });
    expect(manifest).toEqual({
      name: 'hello',
      model: 'claude-haiku-4-5',
      system_prompt: '',
      capabilities: [],
      lifecycle: 'on-demand',
      approval_required: [],
      memory: {
        context_window: '128k',
        context_window_tokens: 131072,
        max_history_messages: 100,
        summarization_threshold: 0.7,
        episodic_enabled: false,
        episodic_max_records: 10000,
        episodic_max_content_bytes: 4096,
      },
      metadata: {},
      limits: { max_heap_mb: 64, max_iterations: 50 },
      source: { file: '<inline>', base_dir: dir },
    });
    // the result is the documented output shape, and plain data
    expect(AgentManifest.parse(manifest)).toEqual(manifest);
    expect(JSON.parse(JSON.stringify(manifest))).toEqual(manifest);
  });

  it('parses a full manifest with every field', () => {
    const yaml = [
      'name: full.agent-1',
      'model: gpt-4.1',
      'system_prompt: |',
      '  Line one.',
      '  Line two.',
      'capabilities:',
      '  - "file_read: /data/*"',
      '  - web_search',
      '  - capability: "tool: web_fetch"',
      '    max_invocations: 3',
      '    expires_in_seconds: 600',
      '  - "spawn_child: [helper]"',
      '  - message_send: [helper]',
      'lifecycle: persistent',
      'approval_required: [file_write, file_write, web_fetch]',
      'memory:',
      '  context_window: 50000',
      '  max_history_messages: 2',
      '  summarization_model: claude-haiku-4-5',
      '  summarization_threshold: 0.5',
      '  archive_ttl_days: 0',
      '  episodic_enabled: true',
      '  episodic_max_records: 50',
      '  episodic_max_content_bytes: 1024',
      'budget_config:',
      '  max_tokens: 100000',
      '  reset_period_seconds: 0',
      'metadata:',
      '  team: core',
      '  tags: [a, b]',
      'limits:',
      '  max_heap_mb: 4096',
      '  max_iterations: 1',
      '',
    ].join('\n');
    const manifest = parseManifest(yaml, { file: 'full.yaml', baseDir: dir });
    expect(manifest.name).toBe('full.agent-1');
    expect(manifest.system_prompt).toBe('Line one.\nLine two.\n');
    expect(manifest.lifecycle).toBe('persistent');
    expect(manifest.approval_required).toEqual(['file_write', 'web_fetch']);
    expect(manifest.memory).toEqual({
      context_window: '50000',
      context_window_tokens: 50000,
      max_history_messages: 2,
      summarization_model: 'claude-haiku-4-5',
      summarization_threshold: 0.5,
      archive_ttl_days: 0,
      episodic_enabled: true,
      episodic_max_records: 50,
      episodic_max_content_bytes: 1024,
    });
    expect(manifest.budget_config).toEqual({ max_tokens: 100000, reset_period_seconds: 0 });
    expect(manifest.metadata).toEqual({ team: 'core', tags: ['a', 'b'] });
    expect(manifest.limits).toEqual({ max_heap_mb: 4096, max_iterations: 1 });
    expect(manifest.capabilities).toEqual([
      {
        source: 'file_read: /data/*',
        line: 7,
        column: 5,
        grant: { capability: { kind: 'file_read', glob: '/data/*' }, constraints: {} },
      },
      {
        source: 'web_search',
        line: 8,
        column: 5,
        grant: { capability: { kind: 'network', hosts: ['*'] }, constraints: {} },
      },
      {
        source: 'tool: web_fetch',
        line: 9,
        column: 5,
        grant: { capability: { kind: 'tool', name: 'web_fetch' }, constraints: { max_invocations: 3 } },
        expires_in_seconds: 600,
      },
      {
        source: 'spawn_child: [helper]',
        line: 12,
        column: 5,
        grant: { capability: { kind: 'spawn_child', agents: ['helper'] }, constraints: {} },
      },
      {
        source: 'message_send: [helper]',
        line: 13,
        column: 5,
        grant: { capability: { kind: 'message_send', targets: ['helper'] }, constraints: {} },
      },
    ]);
  });

  it('fills budget_config.reset_period_seconds and partial memory defaults', () => {
    const manifest = parseManifest(
      'name: a\nmodel: m\nbudget_config:\n  max_tokens: 5\nmemory:\n  context_window: 4K\n',
    );
    expect(manifest.budget_config).toEqual({ max_tokens: 5, reset_period_seconds: 3600 });
    expect(manifest.memory.context_window).toBe('4K');
    expect(manifest.memory.context_window_tokens).toBe(4096);
    expect(manifest.memory.max_history_messages).toBe(100);
    expect(manifest.limits).toEqual({ max_heap_mb: 64, max_iterations: 50 });
  });

  it('reads system_prompt: {file} relative to the manifest directory', async () => {
    const file = path.join(dir, 'agents', 'helper.yaml');
    writeFileSync(file, 'name: helper\nmodel: m\nsystem_prompt:\n  file: ../prompts/helper.md\n');
    const manifest = await loadManifestFile(file);
    expect(manifest.system_prompt).toBe('You help.\nBe brief.\n');
    expect(manifest.system_prompt_file).toBe(path.join(dir, 'prompts', 'helper.md'));
    expect(manifest.source).toEqual({ file, base_dir: path.join(dir, 'agents') });
  });

  it('reads system_prompt: {file} against baseDir for inline manifests', () => {
    const manifest = parseManifest('name: a\nmodel: m\nsystem_prompt: {file: prompts/helper.md}\n', { baseDir: dir });
    expect(manifest.system_prompt).toBe('You help.\nBe brief.\n');
  });

  it('resolves a scripted model path against the manifest directory', async () => {
    const file = path.join(dir, 'agents', 'scripted.yaml');
    writeFileSync(file, 'name: s\nmodel: "scripted: ../scripts/s1.yaml"\n');
    expect((await loadManifestFile(file)).model).toBe(`scripted:${path.join(dir, 'scripts', 's1.yaml')}`);
    expect(parseManifest('name: s\nmodel: scripted:/abs/x.yaml\n').model).toBe('scripted:/abs/x.yaml');
    expect(parseManifest('name: s\nmodel: scripted:x.yaml\n', { baseDir: '/base' }).model).toBe(
      'scripted:/base/x.yaml',
    );
    expect(parseManifest('name: s\nmodel: scripted:x.yaml\n').model).toBe(`scripted:${path.resolve('x.yaml')}`);
  });

  it('maps web_search to network: * and reduces URLs to hosts', () => {
    const manifest = parseManifest(
      'name: a\nmodel: m\ncapabilities:\n  - web_search\n  - "network: https://API.example.com/v1/, other.org:8443"\n',
    );
    expect(manifest.capabilities.map((c) => c.grant.capability)).toEqual([
      { kind: 'network', hosts: ['*'] },
      { kind: 'network', hosts: ['api.example.com', 'other.org'] },
    ]);
    expect(manifest.capabilities.map((c) => c.source)).toEqual([
      'web_search',
      'network: https://API.example.com/v1/, other.org:8443',
    ]);
  });

  it('accepts unquoted capability entries that YAML reads as mappings', () => {
    const manifest = parseManifest(
      'name: a\nmodel: m\ncapabilities:\n  - file_read: /data/*\n  - spawn_child: [a, b]\n  - tool: echo\n',
    );
    expect(manifest.capabilities.map((c) => [c.line, c.source, c.grant.capability])).toEqual([
      [4, 'file_read: /data/*', { kind: 'file_read', glob: '/data/*' }],
      [5, 'spawn_child: [a, b]', { kind: 'spawn_child', agents: ['a', 'b'] }],
      [6, 'tool: echo', { kind: 'tool', name: 'echo' }],
    ]);
  });

  it('treats YAML 1.1 words like "on" and "yes" as strings, not booleans', () => {
    const manifest = parseManifest('name: a\nmodel: m\nmetadata:\n  switch: on\n  answer: yes\n');
    expect(manifest.metadata).toEqual({ switch: 'on', answer: 'yes' });
  });
});

describe('loadManifestFile', () => {
  it('reports a missing manifest file as MANIFEST_NOT_FOUND naming the path', async () => {
    const missing = path.join(dir, 'nope.yaml');
    const err = await loadManifestFile(missing).catch((e: unknown) => e);
    expect(isAaosError(err, ErrorCode.MANIFEST_NOT_FOUND)).toBe(true);
    expect((err as Error).message).toContain(missing);
  });

  it('reports a directory as MANIFEST_NOT_FOUND', async () => {
    const err = await loadManifestFile(dir).catch((e: unknown) => e);
    expect(isAaosError(err, ErrorCode.MANIFEST_NOT_FOUND)).toBe(true);
    expect((err as Error).message).toMatch(/not a regular file/);
  });

  it('names the file as given in located errors', async () => {
    const file = path.join(dir, 'agents', 'broken.yaml');
    writeFileSync(file, 'name: ok\nmodel: m\nlifecycle: weekly\n');
    const err = await loadManifestFile(file).catch((e: unknown) => e);
    expect(isAaosError(err, ErrorCode.MANIFEST_INVALID)).toBe(true);
    expect((err as Error).message).toBe(
      `${file}:3:12: lifecycle: expected one of 'on-demand', 'persistent', got 'weekly'`,
    );
  });

  it('reports a missing system_prompt file as MANIFEST_NOT_FOUND with manifest file, line and resolved path', async () => {
    const file = path.join(dir, 'agents', 'noprompt.yaml');
    writeFileSync(file, 'name: ok\nmodel: m\nsystem_prompt:\n  file: gone.md\n');
    const err = await loadManifestFile(file).catch((e: unknown) => e);
    expect(isAaosError(err, ErrorCode.MANIFEST_NOT_FOUND)).toBe(true);
    const resolved = path.join(dir, 'agents', 'gone.md');
    expect((err as Error).message).toBe(`${file}:4:9: system_prompt.file: system_prompt file not found: ${resolved}`);
    expect((err as { details?: Record<string, unknown> }).details?.['path']).toBe(resolved);
  });
});
