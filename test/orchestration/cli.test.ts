import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTD, ROOT, removeDir, startDaemon, tempDataDir, type DaemonProcess } from '../daemon/daemon-process.js';
import { writeAt } from './support.js';

const run = promisify(execFile);

async function agentd(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [AGENTD, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...env },
      encoding: 'utf8',
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('agentd roles and validate (offline)', { timeout: 120_000 }, () => {
  it('lists the bundled catalog, shows one role, and validate checks role files', async () => {
    const list = await agentd(['roles']);
    expect(list.code).toBe(0);
    for (const name of ['analyzer', 'fetcher', 'generalist', 'reviewer', 'writer'])
      expect(list.stdout).toMatch(new RegExp(`^${name}\\s`, 'm'));
    const show = await agentd(['roles', 'show', 'writer']);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('file_read: {inputs.*}');
    expect(show.stdout).toMatch(/inputs \(string_list, required\)/);
    const unknown = await agentd(['roles', 'show', 'writr']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("did you mean 'writer'");
    const ok = await agentd(['validate', ...['analyzer', 'writer'].map((r) => join(ROOT, 'roles', `${r}.yaml`))]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ok (role analyzer');
    const dir = tempDataDir();
    try {
      const bad = writeAt(
        dir,
        'bad-role.yaml',
        'name: bad\nmodel: m\nparameters: {output: {type: path}}\ncapabilities: ["file_write: {ouptut}"]\nmessage_template: "write {output}"\n',
      );
      const res = await agentd(['validate', bad]);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(
        /bad-role\.yaml:4:\d+: capabilities\[0\]: unresolved placeholder '\{ouptut\}' \(did you mean '\{output\}'\?\)/,
      );
      const listed = await agentd(['roles', '--dir', dir]);
      expect(listed.code).toBe(1);
      expect(listed.stderr).toContain('bad-role.yaml');
    } finally {
      removeDir(dir);
    }
  });
});

describe('agentd submit --plan against the built daemon, no key', { timeout: 120_000 }, () => {
  let daemon: DaemonProcess;
  let dir: string;
  beforeAll(async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir });
  }, 60_000);
  afterAll(async () => {
    expect(await daemon.stop()).toBe(0);
    removeDir(dir);
  }, 60_000);

  it('runs a multi-subtask plan, shows the tree with states, and status shows where it stands', async () => {
    const res = await agentd(['submit', '--plan', 'Report on the bike-share pilot.', '--socket', daemon.socket]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/plan: 3 subtasks/);
    expect(res.stdout).toMatch(/· ridership\s+analyzer pending/);
    expect(res.stdout).toMatch(/✓ survey\s+analyzer completed/);
    expect(res.stdout).toMatch(/✓\s+report\s+writer completed\s+← ridership, survey/);
    const runId = /run ([0-9a-f-]{36}) completed/.exec(res.stdout)![1]!;
    expect(existsSync(join(dir, 'workspace', runId, 'report.md'))).toBe(true);
    expect(existsSync(join(dir, 'workspace', runId, 'plan.json'))).toBe(true);
    const status = await agentd(['status', runId, '--socket', daemon.socket]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/plan\s+completed, 3 subtasks, 0 replans/);
    expect(status.stdout).toMatch(/✓ ridership\s+analyzer completed/);
    const json = await agentd(['status', runId, '--json', '--socket', daemon.socket]);
    expect(
      JSON.parse(json.stdout).plan.subtasks.map((s: { id: string; state: string }) => `${s.id}:${s.state}`),
    ).toEqual(['ridership:completed', 'survey:completed', 'report:completed']);
  });

  it('refuses a bad --orchestration as a usage error', async () => {
    const res = await agentd(['submit', '--orchestration', 'sideways', 'x', '--socket', daemon.socket]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--orchestration must be direct, plan or auto');
  });
});
