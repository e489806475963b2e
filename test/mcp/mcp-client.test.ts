import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import { wireToolName } from '../../src/providers/wire-tool-names.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { anthropicMessage, anthropicText, FakeAnthropicServer } from '../support/fake-anthropic-server.js';
import { waitFor } from '../support/kernel.js';

const require = createRequire(import.meta.url);
const EVERYTHING = join(
  require.resolve('@modelcontextprotocol/server-everything/package.json'),
  '..',
  'dist',
  'index.js',
);
const FILESYSTEM = join(
  require.resolve('@modelcontextprotocol/server-filesystem/package.json'),
  '..',
  'dist',
  'index.js',
);
const DYNAMIC = fileURLToPath(new URL('../fixtures/mcp/dynamic-server.mjs', import.meta.url));

const PROVIDER_KEY = 'sk-ant-must-never-reach-an-mcp-server';

let dir: string;
let shared: string;
let runtime: Runtime;
let anthropic: FakeAnthropicServer;

const events = (type: AuditEvent['type']) => runtime.events.recent().filter((e) => e.type === type);

function manifest(name: string, caps: string[], turns: string): string {
  const script = join(dir, `${name}.script.yaml`);
  writeFileSync(script, `cursor: per_run\nturns:\n${turns}`);
  return `name: ${name}\nmodel: scripted:${script}\nsystem_prompt: uses MCP tools\ncapabilities:\n${caps.map((c) => `  - "${c}"`).join('\n')}\n`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aaos-mcp-'));
  anthropic = await FakeAnthropicServer.start();
  shared = join(dir, 'shared');
  require('node:fs').mkdirSync(shared);
  writeFileSync(join(shared, 'note.txt'), 'the note says 42\n');
  const config = join(dir, 'mcp.yaml');
  writeFileSync(
    config,
    [
      'servers:',
      '  everything:',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(EVERYTHING)}, stdio]`,
      '    env: {DECLARED_FOR_SERVER: "yes"}',
      '  fs:',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(FILESYSTEM)}, ${JSON.stringify(shared)}]`,
      '  dynamic:',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(DYNAMIC)}]`,
      '    timeout_ms: 500',
      '  broken:',
      '    command: /nonexistent/mcp-server-binary',
    ].join('\n'),
  );
  runtime = await Runtime.open({
    dataDir: join(dir, 'data'),
    env: {
      PATH: process.env['PATH'],
      AAOS_MCP_SERVERS: config,
      ANTHROPIC_API_KEY: PROVIDER_KEY,
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
      OPENAI_API_KEY: PROVIDER_KEY,
    },
  });
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  await anthropic?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('MCP servers as tools (real third-party servers over stdio)', () => {
  it('connects every declared server and registers its tools as mcp.<server>.<tool>', () => {
    const names = runtime.toolDefinitions().map((d) => d.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'mcp.everything.echo',
        'mcp.everything.get-env',
        'mcp.fs.read_text_file',
        'mcp.dynamic.grow',
      ]),
    );
    const byName = Object.fromEntries(runtime.mcpStatus().map((s) => [s.server, s]));
    expect(byName['everything']).toMatchObject({ state: 'ready', error: null });
    expect(events('McpServerConnected').find((e) => 'server' in e && e.server === 'everything')).toMatchObject({
      protocol_version: '2025-11-25',
    });
  }, 120_000);

  it('a server that fails to start is reported by name and stops nothing', () => {
    const broken = runtime.mcpStatus().find((s) => s.server === 'broken')!;
    expect(broken.state).toBe('reconnecting');
    expect(broken.error).toMatch(/cannot connect: .*ENOENT/);
    expect(events('McpServerFailed').some((e) => 'server' in e && e.server === 'broken')).toBe(true);
    expect(runtime.mcpStatus().filter((s) => s.state === 'ready')).toHaveLength(3);
  }, 120_000);

  it('an agent on the scripted model calls mcp.everything.echo and a filesystem tool and gets their results', async () => {
    const yaml = manifest(
      'mcp-user',
      ['tool: mcp.everything.echo', 'tool: mcp.fs.*'],
      `${[
        '  - tool_calls:',
        '      - name: mcp.everything.echo',
        '        input: {message: "hello over MCP"}',
        `      - name: mcp.fs.read_text_file`,
        `        input: {path: ${JSON.stringify(join(shared, 'note.txt'))}}`,
        '  - text: "done: {last_tool_result}"',
      ].join('\n')}\n`,
    );
    const agent = await runtime.spawnAgent({ yaml: yaml });
    const out = await runtime.runAgent(agent.id, 'use the tools');
    expect(out.stop_reason).toBe('complete');
    expect(out.response).toContain('the note says 42');
    const results = events('ToolResult').filter((e) => e.agent_id === agent.id);
    const echo = results.find((e) => 'tool' in e && e.tool === 'mcp.everything.echo');
    expect(echo).toMatchObject({ success: true, result_preview: 'Echo: hello over MCP' });
    expect(results.find((e) => 'tool' in e && e.tool === 'mcp.fs.read_text_file')).toMatchObject({ success: true });
    // the model was shown exactly the MCP tools the agent holds
    await runtime.stopLive(agent.id);
  }, 120_000);

  it('an agent without the capability is denied and audited, and tool: * does not grant MCP tools', async () => {
    const yaml = manifest(
      'no-mcp',
      ['tool: *'],
      '  - tool_calls:\n      - name: mcp.everything.echo\n        input: {message: "sneak"}\n  - text: "{last_tool_result}"\n',
    );
    const agent = await runtime.spawnAgent({ yaml: yaml });
    const out = await runtime.runAgent(agent.id, 'try it');
    expect(out.response).toMatch(/AAOS_ERR_CAPABILITY_DENIED/);
    const denied = events('CapabilityDenied').filter((e) => e.agent_id === agent.id);
    expect(denied.some((e) => 'capability' in e && e.capability === 'tool: mcp.everything.echo')).toBe(true);
    expect(events('ToolInvoked').filter((e) => e.agent_id === agent.id)).toEqual([]);
    await runtime.stopLive(agent.id);
  }, 120_000);

  it('a stdio server sees only its declared environment plus PATH, never the provider keys', async () => {
    const agent = await runtime.spawnAgent({
      yaml: manifest('env-probe', ['tool: mcp.everything.get-env'], '  - text: idle\n'),
    });
    const out = (await runtime.invokeTool(agent.id, 'mcp.everything.get-env', {})) as string;
    const seen = JSON.parse(out) as Record<string, string>;
    expect(Object.keys(seen).sort()).toEqual(['DECLARED_FOR_SERVER', 'PATH']);
    expect(out).not.toContain(PROVIDER_KEY);
    await runtime.stopLive(agent.id);
  }, 120_000);

  it('validates input against the server schema before the call', async () => {
    const agent = await runtime.spawnAgent({
      yaml: manifest('bad-input', ['tool: mcp.everything.echo'], '  - text: idle\n'),
    });
    await expect(runtime.invokeTool(agent.id, 'mcp.everything.echo', { message: 5 })).rejects.toMatchObject({
      code: 'AAOS_ERR_TOOL_INPUT_INVALID',
      message: expect.stringMatching(/mcp\.everything\.echo.*message/),
    });
    await runtime.stopLive(agent.id);
  }, 120_000);

  it('maps isError to a failed tool call and a slow call to a timeout', async () => {
    const agent = await runtime.spawnAgent({ yaml: manifest('edge', ['tool: mcp.dynamic.*'], '  - text: idle\n') });
    await expect(runtime.invokeTool(agent.id, 'mcp.dynamic.fail', {})).rejects.toMatchObject({
      code: 'AAOS_ERR_TOOL_FAILED',
      message: expect.stringContaining('it broke on purpose'),
    });
    await expect(runtime.invokeTool(agent.id, 'mcp.dynamic.slow', { ms: 3000 })).rejects.toMatchObject({
      code: 'AAOS_ERR_MCP_TIMEOUT',
    });
    await runtime.stopLive(agent.id);
  }, 120_000);

  it('refreshes the tool list on notifications/tools/list_changed', async () => {
    const agent = await runtime.spawnAgent({ yaml: manifest('grower', ['tool: mcp.dynamic.*'], '  - text: idle\n') });
    expect(runtime.hasTool('mcp.dynamic.extra')).toBe(false);
    expect(await runtime.invokeTool(agent.id, 'mcp.dynamic.grow', {})).toBe('grown');
    await waitFor(() => runtime.hasTool('mcp.dynamic.extra'), 10_000, 'the new tool to be registered');
    expect(await runtime.invokeTool(agent.id, 'mcp.dynamic.extra', { n: 21 })).toBe('extra 42');
    await runtime.stopLive(agent.id);
  }, 120_000);

  it('reconnects a server killed mid-session, and calls work again', async () => {
    const agent = await runtime.spawnAgent({
      yaml: manifest('survivor', ['tool: mcp.everything.echo'], '  - text: idle\n'),
    });
    expect(await runtime.invokeTool(agent.id, 'mcp.everything.echo', { message: 'before' })).toBe('Echo: before');
    // the server's process is an internal the façade does not offer: the test-only accessor
    const connection = runtime.internalsForTests().mcp.connection('everything')!;
    const pid = connection.pid!;
    const connectedBefore = events('McpServerConnected').filter(
      (e) => 'server' in e && e.server === 'everything',
    ).length;
    process.kill(pid, 'SIGKILL');
    await waitFor(
      () =>
        events('McpServerConnected').filter((e) => 'server' in e && e.server === 'everything').length > connectedBefore,
      20_000,
      'the reconnection',
    );
    expect(
      events('McpServerFailed').some(
        (e) => 'server' in e && e.server === 'everything' && 'reason' in e && e.reason === 'the connection ended',
      ),
    ).toBe(true);
    expect(connection.pid).not.toBe(pid);
    expect(await runtime.invokeTool(agent.id, 'mcp.everything.echo', { message: 'after' })).toBe('Echo: after');
    await runtime.stopLive(agent.id);
  }, 120_000);

  it('a real provider is shown wire-safe tool names and its calls reach the MCP tool', async () => {
    const yaml =
      'name: claude-user\nmodel: claude-test-1\nsystem_prompt: uses MCP\ncapabilities:\n  - "tool: mcp.everything.echo"\n';
    const agent = await runtime.spawnAgent({ yaml: yaml });
    const before = anthropic.requests.length;
    // the model answers with the name it was shown
    const wire = wireToolName('mcp.everything.echo');
    expect(wire).toMatch(/^mcp_everything_echo_[0-9a-f]{8}$/);
    anthropic.reply(
      anthropicMessage([{ type: 'tool_use', id: 'toolu_1', name: wire, input: { message: 'via claude' } }]),
      anthropicText('finished'),
    );
    const out = await runtime.runAgent(agent.id, 'echo through claude');
    expect(out.response).toBe('finished');
    const sent = anthropic.requests
      .slice(before)
      .flatMap((r) => (r.body.tools as Array<{ name: string }>).map((t) => t.name));
    for (const name of sent) expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const result = events('ToolResult').find((e) => e.agent_id === agent.id);
    expect(result).toMatchObject({ tool: 'mcp.everything.echo', success: true, result_preview: 'Echo: via claude' });
    // the conversation keeps the real name; the second request spells it for the wire again
    const second = anthropic.requests.at(-1)!.body.messages as Array<{ content: unknown }>;
    expect(JSON.stringify(second)).not.toContain('mcp.everything.echo');
    await runtime.stopLive(agent.id);
  }, 120_000);
});
