import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RawClient,
  removeDir,
  startDaemon,
  tempDataDir,
  writerManifest,
  type DaemonProcess,
} from './daemon-process.js';

type Pending = {
  pending: Array<{
    id: string;
    agent_id: string;
    agent_name: string;
    tool: string;
    input: { path: string };
    requested_at: string;
  }>;
};

async function nextApproval(client: RawClient): Promise<Pending['pending'][number]> {
  for (;;) {
    const { pending } = await client.call<Pending>('approval.list');
    if (pending.length > 0) return pending[0]!;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('human approval over the socket', () => {
  let daemon: DaemonProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await daemon?.stop();
    if (dir) removeDir(dir);
  });

  it('blocks the call until a second client answers: approve writes, deny and timeout return clear errors and the agent carries on', async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir, bootstrap: null, env: { AAOS_APPROVAL_TIMEOUT_MS: '5000' } });
    const agentClient = await RawClient.open(daemon.socket);
    const human = await RawClient.open(daemon.socket);
    const { agent_id } = await agentClient.call<{ agent_id: string }>('agent.spawn', { manifest: writerManifest(dir) });

    // 1. approve
    const approvedPath = join(dir, 'out', 'approved.txt');
    const run1 = agentClient.send('agent.run', { agent_id, message: approvedPath });
    const req1 = await nextApproval(human);
    expect(req1).toMatchObject({
      agent_id,
      agent_name: 'careful-writer',
      tool: 'file_write',
      input: { path: approvedPath, content: 'written after approval' },
    });
    expect(existsSync(approvedPath)).toBe(false);
    // the daemon is not blocked meanwhile
    expect((await human.call<{ status: string }>('system.health')).status).toBeDefined();
    await human.call('approval.respond', { id: req1.id, decision: 'approve' });
    const out1 = await agentClient.response<{ result: { stop_reason: string; response: string } }>(run1);
    expect(out1.result.stop_reason).toBe('complete');
    expect(readFileSync(approvedPath, 'utf8')).toBe('written after approval');

    // 2. deny, with a reason the model gets to read
    const deniedPath = join(dir, 'out', 'denied.txt');
    const run2 = agentClient.send('agent.run', { agent_id, message: deniedPath });
    const req2 = await nextApproval(human);
    await human.call('approval.respond', { id: req2.id, decision: 'deny', reason: 'not on a Friday' });
    const out2 = await agentClient.response<{ result: { stop_reason: string; response: string } }>(run2);
    expect(out2.result.stop_reason).toBe('complete');
    expect(out2.result.response).toMatch(/AAOS_ERR_APPROVAL_DENIED/);
    expect(out2.result.response).toMatch(/not on a Friday/);
    expect(existsSync(deniedPath)).toBe(false);

    // 3. nobody answers: the timeout denies
    const lostPath = join(dir, 'out', 'timed-out.txt');
    const out3 = await agentClient.call<{ stop_reason: string; response: string }>('agent.run', {
      agent_id,
      message: lostPath,
    });
    expect(out3.stop_reason).toBe('complete');
    expect(out3.response).toMatch(/AAOS_ERR_APPROVAL_TIMEOUT/);
    expect(existsSync(lostPath)).toBe(false);
    expect((await human.call<Pending>('approval.list')).pending).toEqual([]);

    // an unknown id is a clear error, and the agent is still running
    const bad = await human.response<{ error: { message: string; data: { code: string } } }>(
      human.send('approval.respond', { id: 'no-such-approval', decision: 'approve' }),
    );
    expect(bad.error.data.code).toBe('AAOS_ERR_APPROVAL_NOT_FOUND');
    const status = await human.call<{ state: string }>('agent.status', { agent_id });
    expect(status.state).toBe('running');
    agentClient.close();
    human.close();
  });
});
