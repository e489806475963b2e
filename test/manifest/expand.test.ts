import { describe, expect, it } from 'vitest';
import { ErrorCode, isAaosError } from '../../src/errors/index.js';
import { expandCapabilities, formatManifestError, parseManifest } from '../../src/manifest/index.js';

const YAML = [
  'name: writer',
  'model: m',
  'capabilities:',
  '  - "file_read: {data_dir}/*"',
  '  - "file_write: {data_dir}"',
  '  - "file_read: /etc/hosts"',
  '  - "tool: file_write"',
  '  - capability: "file_write: {workspace}/out/**"',
  '    max_invocations: 5',
  '    expires_in_seconds: 90',
  '',
].join('\n');

describe('expandCapabilities', () => {
  it('expands {data_dir} and {workspace} and turns expires_in_seconds into expires_at', () => {
    const manifest = parseManifest(YAML, { file: 'writer.yaml' });
    const now = 1_700_000_000_000;
    expect(expandCapabilities(manifest, { data_dir: '/var/aaos/agents/w1/', workspace: '/tmp/run-7' }, now)).toEqual([
      { capability: { kind: 'file_read', glob: '/var/aaos/agents/w1/*' }, constraints: {} },
      { capability: { kind: 'file_write', glob: '/var/aaos/agents/w1' }, constraints: {} },
      { capability: { kind: 'file_read', glob: '/etc/hosts' }, constraints: {} },
      { capability: { kind: 'tool', name: 'file_write' }, constraints: {} },
      {
        capability: { kind: 'file_write', glob: '/tmp/run-7/out/*' },
        constraints: { max_invocations: 5, expires_at: now + 90_000 },
      },
    ]);
  });

  it('does not modify the manifest, and returns fresh objects each time', () => {
    const manifest = parseManifest(YAML);
    const first = expandCapabilities(manifest, { data_dir: '/d', workspace: '/w' }, 1);
    first[0]!.constraints.max_invocations = 1;
    const second = expandCapabilities(manifest, { data_dir: '/d', workspace: '/w' }, 1);
    expect(second[0]!.constraints).toEqual({});
    expect(manifest.capabilities[0]!.grant.capability).toEqual({ kind: 'file_read', glob: '{data_dir}/*' });
  });

  it('expands a root directory without doubling the slash', () => {
    const manifest = parseManifest(
      'name: a\nmodel: m\ncapabilities:\n  - "file_read: {data_dir}/x/*"\n  - "file_read: {data_dir}"\n',
    );
    expect(expandCapabilities(manifest, { data_dir: '/' }).map((g) => g.capability)).toEqual([
      { kind: 'file_read', glob: '/x/*' },
      { kind: 'file_read', glob: '/' },
    ]);
  });

  it('works without a workspace when none is used', () => {
    const manifest = parseManifest('name: a\nmodel: m\ncapabilities:\n  - "file_read: {data_dir}/*"\n');
    expect(expandCapabilities(manifest, { data_dir: '/d' })).toEqual([
      { capability: { kind: 'file_read', glob: '/d/*' }, constraints: {} },
    ]);
  });

  it('refuses {workspace} without a workspace, naming the agent and the capability', () => {
    const manifest = parseManifest(YAML, { file: 'manifests/writer.yaml' });
    let caught: unknown;
    try {
      expandCapabilities(manifest, { data_dir: '/d' });
    } catch (err) {
      caught = err;
    }
    expect(isAaosError(caught, ErrorCode.MANIFEST_INVALID)).toBe(true);
    expect(formatManifestError(caught)).toEqual([
      "manifests/writer.yaml:8:5: capabilities[4]: agent 'writer' uses {workspace} in 'file_write: {workspace}/out/**' but was started without a workspace",
    ]);
    expect((caught as { details?: Record<string, unknown> }).details).toMatchObject({
      agent: 'writer',
      capability: 'file_write: {workspace}/out/**',
    });
  });

  it('rejects relative or wildcard placeholder values', () => {
    const manifest = parseManifest(YAML);
    for (const vars of [
      { data_dir: 'rel/dir', workspace: '/w' },
      { data_dir: '/d', workspace: '/w/*' },
    ]) {
      let caught: unknown;
      try {
        expandCapabilities(manifest, vars);
      } catch (err) {
        caught = err;
      }
      expect(isAaosError(caught, ErrorCode.CONFIG_INVALID)).toBe(true);
    }
  });

  it('normalises a placeholder value with .. before use', () => {
    const manifest = parseManifest('name: a\nmodel: m\ncapabilities:\n  - "file_read: {data_dir}/*"\n');
    expect(expandCapabilities(manifest, { data_dir: '/srv/a/../b' })[0]!.capability).toEqual({
      kind: 'file_read',
      glob: '/srv/b/*',
    });
  });
});
