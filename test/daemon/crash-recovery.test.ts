import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/lmdb-env.js';
import { RunStore } from '../../src/store/run-store.js';
import { SessionStore } from '../../src/store/session-store.js';
import { waitFor } from '../support/kernel.js';
import { RawClient, removeDir, startDaemon, tempDataDir, type DaemonProcess } from './daemon-process.js';

/** A bootstrap agent whose runs take a while (the first model call is slow), then write a file. */
function slowBootstrap(dir: string): string {
  writeFileSync(
    join(dir, 'slow.yaml'),
    [
      'cursor: per_run',
      'latency_ms: 400',
      'turns:',
      '  - tool_calls: [{ name: echo, input: { message: "working on {run_id}" } }]',
      '  - tool_calls: [{ name: file_write, input: { path: "{workspace}/done.txt", content: "done {run_id}" } }]',
      '  - text: "finished {run_id}"',
    ].join('\n'),
  );
  const manifest = join(dir, 'slow-bootstrap.yaml');
  writeFileSync(
    manifest,
    [
      'name: bootstrap',
      'model: scripted:slow.yaml',
      'lifecycle: persistent',
      'capabilities:',
      '  - "tool: echo"',
      '  - "tool: file_write"',
      '  - "file_write: {data_dir}/workspace/*"',
    ].join('\n'),
  );
  return manifest;
}

const ASSISTANT = (dir: string): string => {
  writeFileSync(join(dir, 'assistant.yaml'), '- text: "noted: {message}"\n');
  return [
    'name: assistant',
    `model: scripted:${join(dir, 'assistant.yaml')}`,
    'lifecycle: persistent',
    'capabilities:',
    '  - "tool: memory_store"',
    '  - "tool: memory_query"',
    'memory:',
    '  episodic_enabled: true',
  ].join('\n');
};

// two daemon lives and several goals: room on a loaded machine (the CLI tests do the same)
describe('a supervisor killed with SIGKILL loses nothing it acknowledged', { timeout: 180_000 }, () => {
  let daemon: DaemonProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await daemon?.stop();
    if (dir) removeDir(dir);
  });

  it('accounts for every acknowledged goal after kill -9 and a restart, with sessions, memories and logs intact', async () => {
    dir = tempDataDir();
    const bootstrap = slowBootstrap(dir);
    const env = { AAOS_MAX_CONCURRENT_GOALS: '1', AAOS_PARK_IDLE_MS: '0' };
    daemon = await startDaemon({ dataDir: dir, bootstrap, env });
    let client = await RawClient.open(daemon.socket);

    // state that must survive: a persistent agent with a conversation and a memory
    const spawned = await client.call<{ agent_id: string }>('agent.spawn', { manifest: ASSISTANT(dir) });
    const assistantId = spawned.agent_id;
    await client.call('agent.run', { agent_id: assistantId, message: 'my cat is Luna' });
    await client.call('tool.invoke', {
      agent_id: assistantId,
      tool: 'memory_store',
      input: { content: 'the cat is called Luna', category: 'fact' },
    });

    // three goals, acknowledged one by one; with one goal at a time, the crash hits mid-run
    const acked: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = client.send('agent.submit_streaming', { goal: `goal number ${i}` });
      acked.push((await client.response<{ result: { run_id: string } }>(id)).result.run_id);
    }
    await waitFor(
      () => client.lines.some((l) => (l as { event?: { type?: string } }).event?.type === 'ToolInvoked'),
      10_000,
      'the first run to be mid-way',
    );
    daemon.child.kill('SIGKILL');
    expect(await daemon.exited).toBeNull();
    client.close();

    // restart on the same data dir (the stale socket file is replaced)
    daemon = await startDaemon({ dataDir: dir, bootstrap, env });
    expect(daemon.stderr()).toMatch(/resuming run/);
    client = await RawClient.open(daemon.socket);
    for (const runId of acked) {
      let state = '';
      for (let tries = 0; tries < 300 && state !== 'completed'; tries++) {
        state = (await client.call<{ state: string }>('run.status', { run_id: runId })).state;
        if (state !== 'completed') await new Promise((r) => setTimeout(r, 100));
      }
      expect(state, `run ${runId}`).toBe('completed');
      const status = await client.call<{ workspace: string }>('run.status', { run_id: runId });
      expect(existsSync(join(status.workspace, 'done.txt'))).toBe(true);
    }

    // the persistent agent came back with its id; its memory answers
    const agents = await client.call<{ agents: Array<{ id: string; name: string }> }>('agent.list');
    expect(agents.agents.map((a) => a.id)).toContain(assistantId);
    const memories = await client.call<{ result: { results: Array<{ content: string }> } }>('tool.invoke', {
      agent_id: assistantId,
      tool: 'memory_query',
      input: { query: 'what is the cat called' },
    });
    expect(memories.result.results[0]?.content).toBe('the cat is called Luna');
    await client.call('agent.run', { agent_id: assistantId, message: 'still there?' });

    // the audit history of a run that started before the crash is still readable
    const logs = client.send('agent.logs_streaming', { run_id: acked[0] });
    await client.waitFor((m) => m['kind'] === 'end' && m['stream'] === logs, 'the logs end frame');
    const types = client.lines
      .map((l) => l as { kind?: string; stream?: number; event?: { type: string } })
      .filter((m) => m.kind === 'event' && m.stream === logs)
      .map((m) => m.event!.type);
    expect(types[0]).toBe('RunSubmitted');
    expect(types).toContain('RunResumed');
    expect(types.at(-1)).toBe('RunCompleted');
    client.close();
    expect(await daemon.stop()).toBe(0);
    daemon = undefined;

    // the store opens cleanly and holds what it should
    const problems: unknown[] = [];
    const store = openStore(dir, { onInvalid: (i) => problems.push(i) });
    const runs = new RunStore(store).list();
    expect(runs.filter((r) => acked.includes(r.run_id)).map((r) => r.state)).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
    const history = new SessionStore(store).load(assistantId);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(problems).toEqual([]);
    await store.close();
  }, 120_000); // two daemon starts and three slow goals: generous for a loaded machine
});
