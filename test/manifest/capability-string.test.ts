import { describe, expect, it } from 'vitest';
import { ErrorCode, isAaosError } from '../../src/errors/index.js';
import {
  formatGrant,
  parseCapabilityEntry,
  parseCapabilityString,
  parseHost,
  parsePathGlob,
} from '../../src/manifest/index.js';

function errorOf(run: () => unknown): { message: string; path: unknown; atKey: unknown } {
  try {
    run();
  } catch (err) {
    if (!isAaosError(err, ErrorCode.MANIFEST_INVALID)) throw err;
    return { message: err.message, path: err.details?.['path'], atKey: err.details?.['at_key'] };
  }
  throw new Error('expected an error');
}

describe('parseCapabilityString', () => {
  it.each([
    ['file_read: /data/*', { kind: 'file_read', glob: '/data/*' }],
    ['  file_write:/out/**  ', { kind: 'file_write', glob: '/out/*' }],
    ['file_read: /etc/hosts', { kind: 'file_read', glob: '/etc/hosts' }],
    ['file_read: /*', { kind: 'file_read', glob: '/*' }],
    ['file_read: /', { kind: 'file_read', glob: '/' }],
    ['file_read: /data//x/./y/', { kind: 'file_read', glob: '/data/x/y' }],
    ['file_write: {workspace}/*', { kind: 'file_write', glob: '{workspace}/*' }],
    ['file_write: {data_dir}', { kind: 'file_write', glob: '{data_dir}' }],
    ['network: API.Example.com, b.org', { kind: 'network', hosts: ['api.example.com', 'b.org'] }],
    ['network: https://api.x.com/v1/path?q=1', { kind: 'network', hosts: ['api.x.com'] }],
    ['network: api.x.com:8443, https://user@y.org:444/', { kind: 'network', hosts: ['api.x.com', 'y.org'] }],
    ['network: [a.com, a.com, b.com]', { kind: 'network', hosts: ['a.com', 'b.com'] }],
    ['network: http://[::1]:8080/x', { kind: 'network', hosts: ['::1'] }],
    ['network: example.com.', { kind: 'network', hosts: ['example.com'] }],
    ['network: a.com, *', { kind: 'network', hosts: ['*'] }],
    ['web_search', { kind: 'network', hosts: ['*'] }],
    ['tool: web_fetch', { kind: 'tool', name: 'web_fetch' }],
    ['tool: *', { kind: 'tool', name: '*' }],
    ['spawn_child: [a, b]', { kind: 'spawn_child', agents: ['a', 'b'] }],
    ['spawn_child: a, b', { kind: 'spawn_child', agents: ['a', 'b'] }],
    ['spawn_child: [*]', { kind: 'spawn_child', agents: ['*'] }],
    ['spawn_child: *', { kind: 'spawn_child', agents: ['*'] }],
    [
      'message_send: [scheduler, 3f2b9c1e-0000-4000-8000-000000000001]',
      { kind: 'message_send', targets: ['scheduler', '3f2b9c1e-0000-4000-8000-000000000001'] },
    ],
    ['message_send: *', { kind: 'message_send', targets: ['*'] }],
  ])('%s', (text, expected) => {
    expect(parseCapabilityString(text)).toEqual(expected);
  });

  it.each([
    ['file_raed: /x', /unknown capability kind 'file_raed' \(did you mean 'file_read'\?\)/],
    ['File_Read: /x', /did you mean 'file_read'/],
    ['netwrk: a.com', /did you mean 'network'/],
    ['spawn_childs: [a]', /did you mean 'spawn_child'/],
    ['frobnicate: x', /^unknown capability kind 'frobnicate'$/],
    ['', /empty capability/],
    ['tool', /tool needs a value/],
    ['network:', /network needs a value/],
    ['file_read: ~/notes', /path must be absolute/],
    ['file_read: /a/**/b', /only a trailing \/\* is a wildcard/],
    ['file_read: **', /use \/\* for every path/],
    ['file_read: /a/..', /'\.\.' is not allowed/],
    ['file_read: {workspace}x', /expected '\/' after \{workspace\}/],
    ['file_read: /a/{b', /unbalanced/],
    ['spawn_child: [a, b', /unbalanced brackets/],
    ['spawn_child: [ ]', /needs at least one entry/],
    ['message_send: a, ', /stray comma/],
    ['network: https://', /not a host name or URL/],
    ['tool: [a]', /one 'tool: <name>' entry per tool/],
    ['tool: has space', /not a valid tool name/],
  ])('rejects %j', (text, message) => {
    expect(errorOf(() => parseCapabilityString(text)).message).toMatch(message);
  });
});

describe('parseCapabilityEntry', () => {
  it('keeps the trimmed source text of a string entry', () => {
    expect(parseCapabilityEntry('  tool: echo ')).toEqual({
      source: 'tool: echo',
      grant: { capability: { kind: 'tool', name: 'echo' }, constraints: {} },
    });
  });

  it('accepts the map form with constraints', () => {
    expect(
      parseCapabilityEntry({ capability: 'tool: web_fetch', max_invocations: 3, expires_in_seconds: 600 }),
    ).toEqual({
      source: 'tool: web_fetch',
      grant: { capability: { kind: 'tool', name: 'web_fetch' }, constraints: { max_invocations: 3 } },
      expires_in_seconds: 600,
    });
  });

  it('accepts an unquoted YAML entry, which arrives as a one-key mapping', () => {
    expect(parseCapabilityEntry({ file_read: '/data/*' })).toEqual({
      source: 'file_read: /data/*',
      grant: { capability: { kind: 'file_read', glob: '/data/*' }, constraints: {} },
    });
    expect(parseCapabilityEntry({ spawn_child: ['a', 'b'], max_invocations: 2 }).grant).toEqual({
      capability: { kind: 'spawn_child', agents: ['a', 'b'] },
      constraints: { max_invocations: 2 },
    });
    expect(parseCapabilityEntry({ web_search: null }).grant.capability).toEqual({ kind: 'network', hosts: ['*'] });
    expect(parseCapabilityEntry({ network: ['https://A.com/x', 'b.com'] }).grant.capability).toEqual({
      kind: 'network',
      hosts: ['a.com', 'b.com'],
    });
  });

  it('locates errors inside the map form', () => {
    expect(errorOf(() => parseCapabilityEntry({ capability: 'tool: x', max_invocatons: 1 }))).toEqual({
      message: "unknown key 'max_invocatons' (did you mean 'max_invocations'?)",
      path: ['max_invocatons'],
      atKey: true,
    });
    expect(errorOf(() => parseCapabilityEntry({ capability: 'tool: x', max_invocations: 1.5 }))).toMatchObject({
      message: 'expected a positive integer, got 1.5',
      path: ['max_invocations'],
    });
    expect(errorOf(() => parseCapabilityEntry({ capability: 'tool: x', expires_in_seconds: '60' }))).toMatchObject({
      message: 'expected a positive integer, got a string',
      path: ['expires_in_seconds'],
    });
    expect(errorOf(() => parseCapabilityEntry({ capability: 'file_read: x' }))).toMatchObject({ path: ['capability'] });
    expect(errorOf(() => parseCapabilityEntry({ spawn_child: ['a', 7] }))).toMatchObject({ path: ['spawn_child', 1] });
    expect(errorOf(() => parseCapabilityEntry({ file_read: ['/a'] })).message).toMatch(/takes a single value/);
    expect(errorOf(() => parseCapabilityEntry({ web_search: 'x.com' })).message).toMatch(/web_search takes no value/);
  });

  it('rejects entries that are neither strings nor mappings', () => {
    expect(errorOf(() => parseCapabilityEntry(['tool: x'])).message).toMatch(/got a list/);
    expect(errorOf(() => parseCapabilityEntry(null)).message).toMatch(/got nothing/);
  });
});

describe('parsePathGlob and parseHost', () => {
  it('normalises /** to /* and keeps a placeholder prefix', () => {
    expect(parsePathGlob('/data/**')).toBe('/data/*');
    expect(parsePathGlob('{data_dir}/**')).toBe('{data_dir}/*');
    expect(parsePathGlob('{workspace}/')).toBe('{workspace}');
  });

  it('reduces URLs and host:port to the lowercased host', () => {
    expect(parseHost('HTTPS://Docs.Python.org:443/3/')).toBe('docs.python.org');
    expect(parseHost('localhost:3000')).toBe('localhost');
    expect(parseHost('bücher.example')).toBe('xn--bcher-kva.example');
  });
});

describe('formatGrant', () => {
  it('prints the capability and its constraints', () => {
    expect(formatGrant({ capability: { kind: 'file_read', glob: '/data/*' }, constraints: {} })).toBe(
      'file_read: /data/*',
    );
    expect(
      formatGrant({
        capability: { kind: 'tool', name: 'web_fetch' },
        constraints: { max_invocations: 3, expires_at: Date.UTC(2030, 0, 2, 3, 4, 5) },
      }),
    ).toBe('tool: web_fetch (max_invocations: 3, expires_at: 2030-01-02T03:04:05.000Z)');
    expect(formatGrant({ capability: { kind: 'spawn_child', agents: ['a', 'b'] }, constraints: {} })).toBe(
      'spawn_child: [a, b]',
    );
  });
});
