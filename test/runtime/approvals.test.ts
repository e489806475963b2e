import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import { tempDir, waitFor } from '../support/kernel.js';

let runtime: Runtime;
let dir: string;
let cleanup: () => void;

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  // long enough that a slow machine never times out the approve/deny cases by accident
  runtime = await Runtime.open({ dataDir: dir, env: { AAOS_APPROVAL_TIMEOUT_MS: '60000', AAOS_PARK_IDLE_MS: '0' } });
});
afterEach(async () => {
  await runtime.close();
  cleanup();
});

/** A scripted writer: asks to write a file, then reports what the tool said. */
function writerManifest(target: string): string {
  const script = join(dir, 'writer.yaml');
  writeFileSync(
    script,
    [
      'cursor: per_run',
      'turns:',
      '  - tool_calls:',
      '      - name: file_write',
      `        input: { path: "${target}", content: "approved content" }`,
      '  - text: "tool said: {last_tool_result}"',
    ].join('\n'),
  );
  return [
    'name: writer',
    `model: scripted:${script}`,
    'capabilities:',
    '  - "tool: file_write"',
    `  - "file_write: ${dir}/out/*"`,
    'approval_required: [file_write]',
  ].join('\n');
}

describe('human approval of a tool call', () => {
  it('blocks only that call until a human approves, then the write happens', async () => {
    const target = join(dir, 'out', 'a.txt');
    const agent = await runtime.spawnAgent({ yaml: writerManifest(target) });
    const run = runtime.runAgent(agent.id, 'write it');
    await waitFor(() => runtime.approvals.list().pending.length === 1, 5000, 'an approval request');
    const [pending] = runtime.approvals.list().pending;
    expect(pending).toMatchObject({
      agent_id: agent.id,
      agent_name: 'writer',
      tool: 'file_write',
      input: { path: target, content: 'approved content' },
    });
    expect(existsSync(target)).toBe(false);
    // the runtime is not blocked: another agent answers meanwhile
    const other = await runtime.spawnAgent({ yaml: `name: idle\nmodel: scripted:${join(dir, 'idle.yaml')}\n` });
    writeFileSync(join(dir, 'idle.yaml'), '- text: still responsive\n');
    expect((await runtime.runAgent(other.id, 'ping')).response).toBe('still responsive');
    runtime.approvals.respond({ id: pending!.id, decision: 'approve' });
    const out = await run;
    expect(out.stop_reason).toBe('complete');
    expect(readFileSync(target, 'utf8')).toBe('approved content');
    const types = runtime.events.recent((e) => e.agent_id === agent.id).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['HumanApprovalRequested', 'HumanApprovalGranted', 'ToolResult']));
  });

  it('a denial returns a clear error to the model and the agent carries on', async () => {
    const target = join(dir, 'out', 'b.txt');
    const agent = await runtime.spawnAgent({ yaml: writerManifest(target) });
    const run = runtime.runAgent(agent.id, 'write it');
    await waitFor(() => runtime.approvals.list().pending.length === 1, 5000, 'an approval request');
    runtime.approvals.respond({ id: runtime.approvals.list().pending[0]!.id, decision: 'deny', reason: 'not today' });
    const out = await run;
    expect(out.stop_reason).toBe('complete');
    expect(out.response).toMatch(/AAOS_ERR_APPROVAL_DENIED/);
    expect(out.response).toMatch(/not today/);
    expect(existsSync(target)).toBe(false);
  });

  it('nobody answering times out as a denial, and the agent carries on', async () => {
    await runtime.close();
    runtime = await Runtime.open({ dataDir: dir, env: { AAOS_APPROVAL_TIMEOUT_MS: '400', AAOS_PARK_IDLE_MS: '0' } });
    const target = join(dir, 'out', 'c.txt');
    const agent = await runtime.spawnAgent({ yaml: writerManifest(target) });
    const out = await runtime.runAgent(agent.id, 'write it');
    expect(out.stop_reason).toBe('complete');
    expect(out.response).toMatch(/AAOS_ERR_APPROVAL_TIMEOUT/);
    expect(existsSync(target)).toBe(false);
    expect(runtime.approvals.list().pending).toEqual([]);
    const timedOut = runtime.events.recent((e) => e.type === 'HumanApprovalTimedOut');
    expect(timedOut).toHaveLength(1);
  });

  it('tool.invoke from the API goes through the same approval gate', async () => {
    const target = join(dir, 'out', 'd.txt');
    const agent = await runtime.spawnAgent({ yaml: writerManifest(target) });
    const call = runtime.invokeTool(agent.id, 'file_write', { path: target, content: 'via api' });
    await waitFor(() => runtime.approvals.list().pending.length === 1, 5000, 'an approval request');
    runtime.approvals.respond({ id: runtime.approvals.list().pending[0]!.id, decision: 'deny' });
    await expect(call).rejects.toMatchObject({ code: 'AAOS_ERR_APPROVAL_DENIED' });
    expect(existsSync(target)).toBe(false);
  });
});

describe('approvals across a restart', () => {
  it('a pending approval survives the supervisor stopping; the resumed run re-attaches to it and the write happens', async () => {
    const target = join(dir, 'out', 'e.txt');
    writeFileSync(
      join(dir, 'boot.yaml'),
      writerManifest(target).replace('name: writer', 'name: boss').concat('\nlifecycle: persistent\n'),
    );
    await runtime.close();
    runtime = await Runtime.open({ dataDir: dir, env: { AAOS_APPROVAL_TIMEOUT_MS: '60000', AAOS_PARK_IDLE_MS: '0' } });
    await runtime.startBootstrap(join(dir, 'boot.yaml'));
    const goal = runtime.submitGoal('write the file');
    await waitFor(() => runtime.approvals.list().pending.length === 1, 5000, 'an approval request');
    const before = runtime.approvals.list().pending[0]!;
    await runtime.close('restart');

    runtime = await Runtime.open({ dataDir: dir, env: { AAOS_APPROVAL_TIMEOUT_MS: '60000', AAOS_PARK_IDLE_MS: '0' } });
    // the approval is still there, reported as recovered, with the same id
    expect(runtime.approvals.list().pending.map((p) => p.id)).toEqual([before.id]);
    await runtime.startBootstrap(join(dir, 'boot.yaml'));
    const { resumed } = runtime.recoverRuns();
    expect(resumed.map((r) => r.run_id)).toEqual([goal.run_id]);
    // the resumed run asks for the same call: it waits on the recovered approval, not a new one
    await new Promise((r) => setTimeout(r, 200));
    expect(runtime.approvals.list().pending.map((p) => p.id)).toEqual([before.id]);
    runtime.approvals.respond({ id: before.id, decision: 'approve' });
    const done = await runtime.whenRunDone(goal.run_id)!;
    expect(done.state).toBe('completed');
    expect(readFileSync(target, 'utf8')).toBe('approved content');
  });
});
