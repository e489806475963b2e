import { describe, expect, it } from 'vitest';
import type { Capability } from '../../src/capability/capability.js';
import { covers, permits } from '../../src/capability/capability-match.js';
import { parseCapabilityEntry } from '../../src/manifest/capability-string.js';

const tool = (name: string): Capability => ({ kind: 'tool', name });
const req = (name: string) => ({ kind: 'tool' as const, name });

describe('tool grants for MCP server tools', () => {
  it('a named grant and a per-server wildcard permit that server only', () => {
    expect(permits(tool('mcp.everything.echo'), req('mcp.everything.echo'))).toBe(true);
    expect(permits(tool('mcp.everything.echo'), req('mcp.everything.get-env'))).toBe(false);
    expect(permits(tool('mcp.everything.*'), req('mcp.everything.get-env'))).toBe(true);
    expect(permits(tool('mcp.everything.*'), req('mcp.everythingelse.echo'))).toBe(false);
    expect(permits(tool('mcp.every.*'), req('mcp.everything.echo'))).toBe(false);
    expect(permits(tool('mcp.fs.*'), req('mcp.fs'))).toBe(false);
  });

  it('tool: * grants every built-in tool but no MCP tool', () => {
    expect(permits(tool('*'), req('file_read'))).toBe(true);
    expect(permits(tool('*'), req('mcp.everything.echo'))).toBe(false);
  });

  it('delegation never widens: a server wildcard covers its tools, only itself covers it', () => {
    expect(covers(tool('mcp.fs.*'), tool('mcp.fs.read_file'))).toBe(true);
    expect(covers(tool('mcp.fs.*'), tool('mcp.fs.*'))).toBe(true);
    expect(covers(tool('mcp.fs.read_file'), tool('mcp.fs.*'))).toBe(false);
    expect(covers(tool('mcp.fs.*'), tool('mcp.other.read_file'))).toBe(false);
    expect(covers(tool('*'), tool('mcp.fs.read_file'))).toBe(false);
    expect(covers(tool('*'), tool('mcp.fs.*'))).toBe(false);
    expect(covers(tool('mcp.fs.*'), tool('*'))).toBe(false);
    expect(covers(tool('*'), tool('echo'))).toBe(true);
  });

  it('every covered child permits nothing its parent does not (exhaustive over a small universe)', () => {
    const names = ['*', 'echo', 'mcp.a.*', 'mcp.a.x', 'mcp.a.y', 'mcp.b.*', 'mcp.b.x', 'mcp.ab.x'];
    const requests = ['echo', 'file_read', 'mcp.a.x', 'mcp.a.y', 'mcp.b.x', 'mcp.ab.x', 'mcp.a'];
    for (const p of names)
      for (const c of names) {
        if (!covers(tool(p), tool(c))) continue;
        for (const r of requests)
          if (permits(tool(c), req(r))) expect(permits(tool(p), req(r)), `${p} covers ${c} but not ${r}`).toBe(true);
      }
  });

  it('parses mcp.<server>.* and refuses other tool wildcards with a clear message', () => {
    expect(parseCapabilityEntry('tool: mcp.everything.*').grant.capability).toEqual(tool('mcp.everything.*'));
    expect(parseCapabilityEntry('tool: mcp.everything.echo').grant.capability).toEqual(tool('mcp.everything.echo'));
    expect(() => parseCapabilityEntry('tool: file_*')).toThrow(/'file_\*': a tool wildcard is '\*'.*mcp\.<server>\.\*/);
    expect(() => parseCapabilityEntry('tool: mcp.*')).toThrow(/tool wildcard/);
    expect(() => parseCapabilityEntry('tool: mcp.a.b.*')).toThrow(/tool wildcard/);
  });
});
