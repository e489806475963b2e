import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ResourceUpdatedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTD, removeDir, startDaemon, tempDataDir, type DaemonProcess } from '../daemon/daemon-process.js';
import { slowBootstrap } from './slow-bootstrap.js';

const text = (r: CallToolResult): string => (r.content[0] as { text: string }).text;

describe('agentd mcp (stdio) driven by the SDK client', () => {
  let daemon: DaemonProcess;
  let dir: string;
  let client: Client;

  beforeAll(async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir, bootstrap: slowBootstrap(dir) });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [AGENTD, 'mcp', '--socket', daemon.socket],
      stderr: 'pipe',
    });
    client = new Client({ name: 'aaos-test', version: '1.0.0' });
    await client.connect(transport);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await daemon?.stop();
    removeDir(dir);
  }, 120_000);

  it('lists the aaos tools and offers resource subscriptions', async () => {
    expect(client.getServerVersion()).toMatchObject({ name: 'aaos' });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'cancel_run',
      'get_run',
      'list_agents',
      'list_approvals',
      'list_runs',
      'respond_approval',
      'submit_goal',
    ]);
    expect(client.getServerCapabilities()?.resources?.subscribe).toBe(true);
  }, 120_000);

  it('submits a goal with a progress token: progress while it runs, the outcome at the end; the run is a resource', async () => {
    const progress: Array<{ progress: number; total?: number | undefined; message?: string | undefined }> = [];
    const result = (await client.callTool({ name: 'submit_goal', arguments: { goal: 'count to three' } }, undefined, {
      onprogress: (p) => progress.push(p),
      timeout: 60_000,
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const out = result.structuredContent as { run_id: string; state: string; result: string; uri: string };
    expect(out).toMatchObject({ state: 'completed', uri: `aaos://runs/${out.run_id}` });
    expect(out.result).toContain('finished');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.map((p) => p.progress)).toEqual([...progress.keys()].map((i) => i + 1));
    expect(progress.some((p) => p.message?.includes('ToolInvoked echo'))).toBe(true);

    const read = await client.readResource({ uri: out.uri });
    const run = JSON.parse((read.contents[0] as { text: string }).text) as { run_id: string; state: string };
    expect(run).toMatchObject({ run_id: out.run_id, state: 'completed' });
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain(out.uri);
    const got = (await client.callTool({ name: 'get_run', arguments: { run_id: out.run_id } })) as CallToolResult;
    expect(JSON.parse(text(got))).toMatchObject({ state: 'completed' });
  }, 120_000);

  it('submits without a token (run id at once), follows the run by subscription, and cancels it', async () => {
    const submitted = (await client.callTool({
      name: 'submit_goal',
      arguments: { goal: 'a goal to cancel' },
    })) as CallToolResult;
    const { run_id, uri } = submitted.structuredContent as { run_id: string; uri: string };
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
    await client.subscribeResource({ uri });
    const cancelled = (await client.callTool({ name: 'cancel_run', arguments: { run_id } })) as CallToolResult;
    expect(cancelled.isError).toBeFalsy();
    const deadline = Date.now() + 30_000;
    let state = '';
    while (Date.now() < deadline) {
      state = (
        JSON.parse(text((await client.callTool({ name: 'get_run', arguments: { run_id } })) as CallToolResult)) as {
          state: string;
        }
      ).state;
      if (state === 'cancelled') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(state).toBe('cancelled');
    const until = Date.now() + 10_000;
    while (!updates.includes(uri) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(updates).toContain(uri);
    await client.unsubscribeResource({ uri });
  }, 120_000);

  it('lists agents and approvals', async () => {
    const agents = JSON.parse(
      text((await client.callTool({ name: 'list_agents', arguments: {} })) as CallToolResult),
    ) as { agents?: unknown[] } | unknown[];
    expect(JSON.stringify(agents)).toContain('bootstrap');
    const approvals = (await client.callTool({ name: 'list_approvals', arguments: {} })) as CallToolResult;
    expect(approvals.isError).toBeFalsy();
  }, 120_000);

  it('reports errors with the AAOS code and what was wrong', async () => {
    const missing = (await client.callTool({
      name: 'get_run',
      arguments: { run_id: 'no-such-run' },
    })) as CallToolResult;
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/^AAOS_ERR_RUN_NOT_FOUND: .*no-such-run/);
    const denied = (await client.callTool({
      name: 'respond_approval',
      arguments: { approval_id: 'nope', decision: 'approve' },
    })) as CallToolResult;
    expect(text(denied)).toMatch(/^AAOS_ERR_APPROVAL_NOT_FOUND/);
    await expect(client.readResource({ uri: 'aaos://runs/no-such-run' })).rejects.toThrow(
      /aaos:\/\/runs\/no-such-run: .*no-such-run/,
    );
    const bad = (await client.callTool({ name: 'submit_goal', arguments: { goal: '' } })) as CallToolResult;
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/goal/);
  }, 120_000);
});
