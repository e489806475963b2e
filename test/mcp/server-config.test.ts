import { describe, expect, it } from 'vitest';
import { parseMcpServers, loadMcpServers } from '../../src/mcp/server-config.js';

const parse = (text: string) => parseMcpServers(text, '/etc/aaos/mcp.yaml');

describe('MCP server declarations', () => {
  it('reads stdio and Streamable HTTP servers from YAML or JSON', () => {
    const yaml = parse(
      'servers:\n  files:\n    command: npx\n    args: [-y, some-server, /srv]\n    env: {TOKEN: abc}\n  remote:\n    url: https://mcp.example.com/mcp\n    headers: {Authorization: Bearer x}\n',
    );
    expect(yaml).toEqual([
      {
        name: 'files',
        declaration: { transport: 'stdio', command: 'npx', args: ['-y', 'some-server', '/srv'], env: { TOKEN: 'abc' } },
      },
      {
        name: 'remote',
        declaration: { transport: 'http', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer x' } },
      },
    ]);
    expect(parse('{"servers": {"e": {"command": "node"}}}')).toEqual([
      { name: 'e', declaration: { transport: 'stdio', command: 'node', args: [], env: {} } },
    ]);
    expect(parse('')).toEqual([]);
  });

  it('names the file and the field of every mistake', () => {
    expect(() => parse('servers:\n  Bad.Name:\n    command: x\n')).toThrow(
      '/etc/aaos/mcp.yaml: servers.Bad.Name: a server name is lowercase',
    );
    expect(() => parse('servers:\n  a:\n    command: x\n    url: http://h/\n')).toThrow(
      'servers.a: give exactly one of `command`',
    );
    expect(() => parse('servers:\n  a:\n    args: [x]\n')).toThrow('servers.a: give exactly one of `command`');
    expect(() => parse('servers:\n  a:\n    command: x\n    env: {N: 1}\n')).toThrow(/servers\.a\.env\.N: /);
    expect(() => parse('servers:\n  a:\n    command: x\n    enviroment: {}\n')).toThrow(/servers\.a: .*enviroment/);
    expect(() => parse('servers:\n  a:\n    url: ftp://h/\n')).toThrow(/servers\.a\.url: /);
    expect(() => parse('mcpServers: {}\n')).toThrow(
      "/etc/aaos/mcp.yaml: mcpServers: unknown key (expected only 'servers')",
    );
    expect(() => parse('servers: [1]\n')).toThrow('servers: expected a mapping');
    expect(() => parse('servers:\n  a: {command: [\n')).toThrow(/\(document\): not valid YAML/);
    for (const bad of ['servers:\n  a:\n    command: x\n    url: http://h/\n']) {
      try {
        parse(bad);
      } catch (err) {
        expect(err).toMatchObject({
          code: 'AAOS_ERR_CONFIG_INVALID',
          details: { file: '/etc/aaos/mcp.yaml', field: 'servers.a' },
        });
      }
    }
  });

  it('AAOS_MCP_SERVERS names the file; an unreadable one is an error naming the variable', () => {
    expect(loadMcpServers(undefined)).toEqual([]);
    expect(() => loadMcpServers('/nonexistent/mcp.yaml')).toThrow(
      /AAOS_MCP_SERVERS: cannot read \/nonexistent\/mcp\.yaml/,
    );
  });
});
