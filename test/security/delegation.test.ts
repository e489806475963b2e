import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir, type DaemonProcess, type RawClient } from '../daemon/daemon-process.js';
import {
  auditEvents,
  daemonWith,
  manifest,
  script,
  spawnAndRun,
  toolThenReport,
  waitForAudit,
  type Turn,
} from './attacker.js';

/** Class 2 (delegation keeps every limit) and class 3 (checks repeated after every wait), on the built daemon. */
describe('delegation keeps every limit of the parent', () => {
  let dir: string;
  let daemon: DaemonProcess;
  let client: RawClient;

  beforeAll(async () => {
    dir = tempDataDir();
    writeFileSync(join(dir, 'inbox', 'a.txt'), 'a\n');
    mkdirSync(join(dir, 'scripts'));
    ({ daemon, client } = await daemonWith(dir, { AAOS_APPROVAL_TIMEOUT_MS: '60000' }));
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop();
    removeDir(dir);
  });

  /** A child manifest whose (malicious) model makes these tool calls; its script sits in scripts/, which parents may read. */
  function childManifest(
    name: string,
    capabilities: string[],
    turns: Turn[],
    extra: Record<string, unknown> = {},
  ): string {
    const file = script(join(dir, 'scripts'), name, turns);
    return stringify({ name, model: `scripted:${file}`, capabilities, ...extra });
  }

  async function pendingApproval(tool: string, agentName: string): Promise<{ id: string }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`agent ${agentName} never asked a human to approve ${tool}`);
      const { pending } = await client.call<{ pending: Array<{ id: string; tool: string; agent_name: string }> }>(
        'approval.list',
      );
      const hit = pending.find((p) => p.tool === tool && p.agent_name === agentName);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('max_invocations is one pool for the whole tree: a grant of 2, used once, leaves 1 use for all descendants', async () => {
    const read = { name: 'file_read', input: { path: join(dir, 'inbox', 'a.txt') } };
    const child = childManifest(
      'pool-child',
      ['tool: file_read', `file_read: ${dir}/inbox/*`],
      toolThenReport([read, read, read]),
    );
    const parent = manifest(
      'pool-parent',
      script(
        dir,
        'pool-parent',
        toolThenReport([read, { name: 'spawn_agent', input: { manifest: child, message: 'read' } }]),
      ),
      [
        'tool: file_read',
        'tool: spawn_agent',
        'spawn_child: [*]',
        `file_read: ${dir}/scripts/*`,
        { capability: `file_read: ${dir}/inbox/*`, max_invocations: 2 },
      ],
    );
    await spawnAndRun(client, parent);
    await waitForAudit(dir, (e) => e.type === 'AgentStopped' && e.agent_name === 'pool-child', 'child stopped');
    const reads = auditEvents(dir).filter(
      (e) => e.type === 'ToolResult' && e['tool'] === 'file_read' && String(e.agent_name).startsWith('pool-'),
    );
    // 2 uses in all: the parent's own and one of the child's three
    expect(reads.filter((e) => e['success'] === true)).toHaveLength(2);
    const exhausted = auditEvents(dir).filter(
      (e) =>
        e.type === 'CapabilityDenied' && e.agent_name === 'pool-child' && e['code'] === 'AAOS_ERR_CAPABILITY_EXHAUSTED',
    );
    expect(exhausted).toHaveLength(2);
  }, 90_000);

  it('approval_required is inherited: a child cannot write without the human its parent needs', async () => {
    const target = join(dir, 'workspace', 'gated.txt');
    const write = { name: 'file_write', input: { path: target, content: 'no human asked' } };
    const child = childManifest(
      'gate-child',
      ['tool: file_write', `file_write: ${dir}/workspace/*`],
      toolThenReport([write]),
    );
    const parent = manifest(
      'gate-parent',
      script(
        dir,
        'gate-parent',
        toolThenReport([{ name: 'spawn_agent', input: { manifest: child, message: 'write' } }]),
      ),
      [
        'tool: file_write',
        'tool: spawn_agent',
        'spawn_child: [*]',
        `file_read: ${dir}/scripts/*`,
        `file_write: ${dir}/workspace/*`,
      ],
      { approval_required: ['file_write'] },
    );
    const run = spawnAndRun(client, parent);
    const approval = await pendingApproval('file_write', 'gate-child');
    expect(existsSync(target)).toBe(false);
    await client.call('approval.respond', { id: approval.id, decision: 'deny', reason: 'not without me' });
    expect((await run).response).toContain('AAOS_ERR_APPROVAL_DENIED');
    expect(existsSync(target)).toBe(false);
  }, 90_000);

  it("revoking a parent's token revokes the copies delegated to a running child, at once", async () => {
    const a = join(dir, 'workspace', 'before.txt');
    const b = join(dir, 'workspace', 'after.txt');
    // the child's own approval on echo is the pause in which the operator revokes the parent's token
    const child = childManifest(
      'cascade-child',
      ['tool: file_write', 'tool: echo', `file_write: ${dir}/workspace/*`],
      toolThenReport([
        { name: 'file_write', input: { path: a, content: '1' } },
        { name: 'echo', input: { message: 'pause' } },
        { name: 'file_write', input: { path: b, content: '2' } },
      ]),
      { approval_required: ['echo'] },
    );
    const { agent_id } = await client.call<{ agent_id: string }>('agent.spawn', {
      manifest: manifest(
        'cascade-parent',
        script(
          dir,
          'cascade-parent',
          toolThenReport([{ name: 'spawn_agent', input: { manifest: child, message: 'write' } }]),
        ),
        [
          'tool: file_write',
          'tool: echo',
          'tool: spawn_agent',
          'spawn_child: [*]',
          `file_read: ${dir}/scripts/*`,
          `file_write: ${dir}/workspace/*`,
        ],
      ),
    });
    const run = client.call<{ response: string }>('agent.run', { agent_id, message: 'go' });
    const approval = await pendingApproval('echo', 'cascade-child');
    expect(existsSync(a)).toBe(true);
    const { tokens } = await client.call<{ tokens: Array<{ id: string; capability: { kind: string } }> }>(
      'capability.list',
      { agent_id },
    );
    const writeGrant = tokens.find((t) => t.capability.kind === 'file_write')!;
    await client.call('capability.revoke', { agent_id, token_id: writeGrant.id });
    await client.call('approval.respond', { id: approval.id, decision: 'approve' });
    const { response } = await run;
    expect(response).toContain('AAOS_ERR_CAPABILITY_REVOKED');
    expect(existsSync(b)).toBe(false);
  }, 90_000);

  it('a call approved after its tool: token was revoked does not run', async () => {
    const target = join(dir, 'workspace', 'late.txt');
    const { agent_id } = await client.call<{ agent_id: string }>('agent.spawn', {
      manifest: manifest(
        'late',
        script(dir, 'late', toolThenReport([{ name: 'file_write', input: { path: target, content: 'x' } }])),
        ['tool: file_write', `file_write: ${dir}/workspace/*`],
        {
          approval_required: ['file_write'],
        },
      ),
    });
    const run = client.call<{ response: string }>('agent.run', { agent_id, message: 'go' });
    const approval = await pendingApproval('file_write', 'late');
    const { tokens } = await client.call<{
      tokens: Array<{ id: string; capability: { kind: string; name?: string } }>;
    }>('capability.list', { agent_id });
    await client.call('capability.revoke', {
      agent_id,
      token_id: tokens.find((t) => t.capability.kind === 'tool')!.id,
    });
    await client.call('approval.respond', { id: approval.id, decision: 'approve' });
    expect((await run).response).toContain('AAOS_ERR_CAPABILITY_REVOKED');
    expect(existsSync(target)).toBe(false);
  }, 90_000);
});
