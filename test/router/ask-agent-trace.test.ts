import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AGENTD,
  RawClient,
  removeDir,
  startDaemon,
  streamToEnd,
  tempDataDir,
  type DaemonProcess,
} from '../daemon/daemon-process.js';

/** A bootstrap agent whose scripted model asks a second agent (ask_agent), which uses a tool before it answers. */
function writeAgents(dir: string): string {
  writeFileSync(
    join(dir, 'boss.script.yaml'),
    'cursor: per_run\nturns:\n  - tool_calls:\n      - name: ask_agent\n        input: {to: helper, message: "what is 6 x 7?"}\n  - text: "helper said: {last_tool_result:response}"\n',
  );
  writeFileSync(
    join(dir, 'helper.script.yaml'),
    'cursor: per_run\nturns:\n  - tool_calls:\n      - name: echo\n        input: {message: "thinking about {message}"}\n  - text: "42"\n',
  );
  writeFileSync(
    join(dir, 'boss.yaml'),
    'name: boss\nmodel: scripted:boss.script.yaml\nlifecycle: persistent\nsystem_prompt: asks\ncapabilities:\n  - "tool: ask_agent"\n  - "message_send: [helper]"\n',
  );
  writeFileSync(
    join(dir, 'helper.yaml'),
    'name: helper\nmodel: scripted:helper.script.yaml\nlifecycle: persistent\nsystem_prompt: helps\ncapabilities:\n  - "tool: echo"\n',
  );
  return join(dir, 'boss.yaml');
}

describe('one ask_agent hop is one trace in one goal run', () => {
  let daemon: DaemonProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await daemon?.stop();
    if (dir) removeDir(dir);
  }, 120_000);

  it('every event of both agents carries one trace id, and agentd logs <run> (and --json) shows the recipient', async () => {
    dir = tempDataDir();
    const bootstrap = writeAgents(dir);
    daemon = await startDaemon({ dataDir: dir, bootstrap });
    const client = await RawClient.open(daemon.socket);
    await client.call('agent.spawn', { manifest_path: join(dir, 'helper.yaml') });
    const id = client.send('agent.submit_streaming', { goal: 'ask the helper' });
    const { result } = await client.response<{ result: { run_id: string } }>(id);
    const { end } = await streamToEnd(client, id);
    expect(end).toMatchObject({ status: 'completed' });
    expect(String(end['result'])).toContain('helper said: 42');
    client.close();

    const logs = spawnSync(process.execPath, [AGENTD, 'logs', result.run_id, '--json', '--socket', daemon.socket], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(logs.status, logs.stderr).toBe(0);
    const events = logs.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { kind?: string; event?: Record<string, unknown> })
      .filter((f) => f.kind === 'event')
      .map((f) => f.event!);
    const helperEvents = events.filter((e) => e['agent_name'] === 'helper');
    expect(helperEvents.map((e) => e['type'])).toEqual(
      expect.arrayContaining([
        'MessageDelivered',
        'AgentExecutionStarted',
        'ToolInvoked',
        'ToolResult',
        'AgentExecutionCompleted',
      ]),
    );
    expect(helperEvents.find((e) => e['type'] === 'ToolResult')).toMatchObject({ success: true });
    expect(events.some((e) => e['type'] === 'MessageSent' && e['run_id'] === result.run_id)).toBe(true);
    // every event of both agents in this run carries one trace (none started a fresh one): a W3C trace id
    const ofBoth = events.filter((e) => e['agent_name'] === 'boss' || e['agent_name'] === 'helper');
    expect(ofBoth.length).toBeGreaterThan(8);
    // and so does every other event of the goal (its submission, the orchestrator's choice, grants, completion)
    for (const e of events) expect(e['trace_id'], JSON.stringify(e)).toBeDefined();
    const traceIds = new Set(events.map((e) => e['trace_id']));
    expect(traceIds.size, JSON.stringify([...traceIds])).toBe(1);
    expect([...traceIds][0]).toMatch(/^[0-9a-f]{32}$/);
    expect(events.map((e) => e['type'])).toEqual(expect.arrayContaining(['RunSubmitted', 'RunCompleted']));
    // the span tree: boss's delivery → its ask_agent call → the message hop → helper's delivery
    const started = events.filter((e) => e['type'] === 'AgentExecutionStarted');
    const bossSpan = started.find((e) => e['agent_name'] === 'boss')!['span_id'];
    const askCall = events.find(
      (e) => e['type'] === 'ToolInvoked' && e['agent_name'] === 'boss' && e['tool'] === 'ask_agent',
    )!;
    expect(askCall['parent_span_id']).toBe(bossSpan);
    const hop = events.find(
      (e) => e['type'] === 'MessageSent' && e['agent_name'] === 'boss' && e['method'] === 'agent.run',
    )!;
    expect(hop['parent_span_id']).toBe(askCall['span_id']);
    expect(hop['span_id']).toMatch(/^[0-9a-f]{16}$/);
    expect(started.find((e) => e['agent_name'] === 'helper')!['parent_span_id']).toBe(hop['span_id']);

    const human = spawnSync(process.execPath, [AGENTD, 'logs', result.run_id, '--socket', daemon.socket], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toContain('helper');
  }, 120_000);
});
