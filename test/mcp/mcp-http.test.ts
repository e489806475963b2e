import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startDaemon, tempDataDir, type DaemonProcess } from '../daemon/daemon-process.js';
import { waitFor } from '../support/kernel.js';
import { slowBootstrap } from './slow-bootstrap.js';

describe('/mcp on the daemon HTTP listener (Streamable HTTP) driven by the SDK client', () => {
  let daemon: DaemonProcess;
  let dir: string;
  let url: string;
  let token: string;
  const clients: Client[] = [];

  async function connect(headers: Record<string, string>): Promise<Client> {
    const client = new Client({ name: 'aaos-http-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir, bootstrap: slowBootstrap(dir, 200), args: ['--http', '127.0.0.1:0'] });
    const urlFile = join(dir, 'http-url');
    await waitFor(() => existsSync(urlFile), 20_000, 'the listener URL file');
    url = readFileSync(urlFile, 'utf8').trim();
    token = readFileSync(join(dir, 'http-token'), 'utf8').trim();
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await daemon?.stop();
    removeDir(dir);
  }, 120_000);

  it('keeps the token in <data-dir>/http-token with mode 0600', () => {
    expect(statSync(join(dir, 'http-token')).mode & 0o777).toBe(0o600);
    expect(token.length).toBeGreaterThanOrEqual(32);
  }, 120_000);

  it('refuses a missing or wrong token, and a foreign Origin', async () => {
    await expect(connect({})).rejects.toThrow(/401|token/i);
    await expect(connect({ Authorization: 'Bearer not-the-token' })).rejects.toThrow(/401|token/i);
    await expect(connect({ Authorization: `Bearer ${token}`, Origin: 'http://evil.example' })).rejects.toThrow(
      /403|origin/i,
    );
    const raw = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(raw.status).toBe(401);
  }, 120_000);

  it('lists tools, submits a goal with progress, reads the run resource, cancels a run', async () => {
    const client = await connect({ Authorization: `Bearer ${token}` });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'submit_goal',
        'get_run',
        'list_runs',
        'cancel_run',
        'list_agents',
        'list_approvals',
        'respond_approval',
      ]),
    );

    const progress: string[] = [];
    const done = (await client.callTool({ name: 'submit_goal', arguments: { goal: 'over http' } }, undefined, {
      onprogress: (p) => void progress.push(p.message ?? ''),
      timeout: 60_000,
    })) as CallToolResult;
    const out = done.structuredContent as { run_id: string; state: string; uri: string };
    expect(out.state).toBe('completed');
    expect(progress.length).toBeGreaterThan(0);
    const read = await client.readResource({ uri: out.uri });
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({
      run_id: out.run_id,
      state: 'completed',
    });

    const queued = (await client.callTool({
      name: 'submit_goal',
      arguments: { goal: 'cancel me over http' },
    })) as CallToolResult;
    const { run_id } = queued.structuredContent as { run_id: string };
    const cancel = (await client.callTool({ name: 'cancel_run', arguments: { run_id } })) as CallToolResult;
    expect(cancel.isError).toBeFalsy();
    let state = '';
    const deadline = Date.now() + 30_000;
    while (state !== 'cancelled' && Date.now() < deadline) {
      const got = (await client.callTool({ name: 'get_run', arguments: { run_id } })) as CallToolResult;
      state = (got.structuredContent as { state: string }).state;
      if (state !== 'cancelled') await new Promise((r) => setTimeout(r, 100));
    }
    expect(state).toBe('cancelled');
  }, 120_000);

  it('an unknown session id is refused with 404 and a message saying so', async () => {
    const res = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': 'no-such-session',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/no MCP session no-such-session/);
  }, 120_000);
});
