import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENTD,
  ROOT,
  RawClient,
  removeDir,
  startDaemon,
  tempDataDir,
  type DaemonProcess,
} from '../daemon/daemon-process.js';

// Select Graphic Rendition escapes (colours), stripped to compare plain text.
const ANSI_SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

const run = promisify(execFile);

/** Runs agentd as a user would; resolves with the exit code and both outputs (never rejects). */
async function agentd(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [AGENTD, ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

// each test starts several agentd processes one after another; a loaded machine makes that slow, not wrong
describe('agentd CLI against a live daemon', { timeout: 180_000 }, () => {
  let daemon: DaemonProcess;
  let dir: string;
  beforeAll(async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir });
  });
  afterAll(async () => {
    expect(await daemon.stop()).toBe(0);
    removeDir(dir);
  });

  it('submit in a real terminal shows the live view and exits 0 for a completed run', () => {
    const cmd = `${quote(process.execPath)} ${quote(AGENTD)} submit ${quote('Report on the bike-share pilot.')} --socket ${quote(daemon.socket)}; echo "EXIT=$?"`;
    // `script` gives the command a pseudo-terminal: stdout.isTTY is true, as for a user
    const res = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, TERM: 'xterm' },
    });
    const out = res.stdout.replace(ANSI_SGR, '');
    expect(res.stdout).toContain('\u001b['); // coloured: it knows it is on a terminal
    expect(out).toMatch(/▶ run [0-9a-f-]{36}/);
    expect(out).toMatch(/ {2}researcher \+ spawned/); // the agent tree: children indented under bootstrap
    expect(out).toMatch(/researcher → file_read_many/);
    expect(out).toMatch(/writer → file_write/);
    expect(out).toMatch(/■ run completed/);
    expect(out).toMatch(/run [0-9a-f-]{36} completed in /);
    expect(out).toContain('EXIT=0');
  });

  it('submit shows the capability denial in the live view', () => {
    const cmd = `${quote(process.execPath)} ${quote(AGENTD)} submit ${quote('Report, and publish it.')} --socket ${quote(daemon.socket)}`;
    const res = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    const out = res.stdout.replace(ANSI_SGR, '');
    // the demo's publisher child asks for file_write: /var/www/*, which bootstrap cannot delegate
    expect(out).toMatch(/⛔ DENIED file_write: \/var\/www/);
  });

  it('submit --json prints NDJSON frames ending with the end frame', async () => {
    const res = await agentd(['submit', 'Report on the pilot, as JSON.', '--json', '--socket', daemon.socket]);
    expect(res.code).toBe(0);
    const frames = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(frames.length).toBeGreaterThan(3);
    expect(frames.slice(0, -1).every((f) => f['kind'] === 'event')).toBe(true);
    const end = frames.at(-1)!;
    expect(end).toMatchObject({ kind: 'end', status: 'completed' });
    const run = await agentd(['status', String(end['run_id']), '--json', '--socket', daemon.socket]);
    expect(JSON.parse(run.stdout)).toMatchObject({ run_id: end['run_id'], state: 'completed' });
    expect(existsSync(join(JSON.parse(run.stdout).workspace, 'report.md'))).toBe(true);
  });

  it('list, runs, tools, health, status and logs work', async () => {
    const list = await agentd(['list', '--socket', daemon.socket]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/bootstrap\s+running\s+persistent/);
    const runs = await agentd(['runs', '--json', '--socket', daemon.socket]);
    const all = JSON.parse(runs.stdout) as Array<{ run_id: string; state: string }>;
    expect(all.length).toBeGreaterThan(0);
    const tools = await agentd(['tools', '--socket', daemon.socket]);
    expect(tools.stdout).toMatch(/^file_read\s/m);
    const health = await agentd(['health', '--socket', daemon.socket]);
    expect(health.code).toBe(0);
    expect(health.stdout).toMatch(/^ok — agentd/);
    const status = await agentd(['status', 'bootstrap', '--socket', daemon.socket]);
    expect(status.stdout).toMatch(/state\s+running/);
    const logs = await agentd(['logs', all[0]!.run_id, '--socket', daemon.socket]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/■ run completed/);
    const usage = await agentd(['revoke', 'bootstrap', '--socket', daemon.socket]);
    expect(usage.code).toBe(2);
    const unknown = await agentd(['status', 'no-such-thing', '--socket', daemon.socket]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('AAOS_ERR_RUN_NOT_FOUND');
  });

  it('approvals / approve / deny round trip for an agent with approval_required', async () => {
    const client = await RawClient.open(daemon.socket);
    const manifest = [
      'name: careful',
      `model: scripted:${join(ROOT, 'manifests', 'scripts', 'writer.yaml')}`,
      'lifecycle: persistent',
      'system_prompt: careful',
      'capabilities:',
      '  - "tool: echo"',
      'approval_required: [echo]',
    ].join('\n');
    const { agent_id } = await client.call<{ agent_id: string }>('agent.spawn', { manifest });

    const first = client.send('tool.invoke', { agent_id, tool: 'echo', input: { message: 'hello' } });
    let pending: Array<{ id: string; tool: string; agent_id: string }> = [];
    // the call blocks on a human; poll the CLI until it lists it
    while (pending.length === 0)
      pending = JSON.parse((await agentd(['approvals', '--json', '--socket', daemon.socket])).stdout);
    expect(pending[0]).toMatchObject({ tool: 'echo', agent_id });
    const text = await agentd(['approvals', '--socket', daemon.socket]);
    expect(text.stdout).toContain(pending[0]!.id);

    const approve = await agentd(['approve', pending[0]!.id, '--socket', daemon.socket]);
    expect(approve.code).toBe(0);
    expect(await client.response(first)).toMatchObject({ result: { result: { message: 'hello' } } });

    const second = client.send('tool.invoke', { agent_id, tool: 'echo', input: { message: 'again' } });
    pending = [];
    while (pending.length === 0)
      pending = JSON.parse((await agentd(['approvals', '--json', '--socket', daemon.socket])).stdout);
    const deny = await agentd(['deny', pending[0]!.id, '--reason', 'not today', '--socket', daemon.socket]);
    expect(deny.code).toBe(0);
    const denied = await client.response<{ error: { code: number; message: string; data: { code: string } } }>(second);
    expect(denied.error).toMatchObject({ code: -32002, data: { code: 'AAOS_ERR_APPROVAL_DENIED' } });
    expect(denied.error.message).toContain('not today');

    const again = await agentd(['approve', pending[0]!.id, '--socket', daemon.socket]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('AAOS_ERR_APPROVAL_NOT_FOUND');
    const stop = await agentd(['stop', agent_id, '--socket', daemon.socket]);
    expect(stop.code).toBe(0);
    client.close();
  });
});

describe('agentd CLI without a daemon', { timeout: 180_000 }, () => {
  it.each([
    ['health'],
    ['list'],
    ['runs'],
    ['tools'],
    ['approvals'],
    ['submit', 'a goal'],
    ['status', 'x'],
    ['logs', 'x'],
  ])('%s says how to start one and exits 3', async (...args) => {
    const dir = tempDataDir();
    try {
      const res = await agentd([...args, '--socket', join(dir, 'none.sock')]);
      expect(res.code).toBe(3);
      expect(res.stderr).toContain('no daemon is running on');
      expect(res.stderr).toContain(`agentd run --socket ${join(dir, 'none.sock')}`);
    } finally {
      removeDir(dir);
    }
  });

  it('usage errors exit 2', async () => {
    expect((await agentd(['submit'])).code).toBe(2);
    expect((await agentd(['no-such-command'])).code).toBe(2);
    expect((await agentd(['--help'])).code).toBe(0);
  });
});
