import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, removeDir } from '../daemon/daemon-process.js';

/** The shell lines of the first block of the README's "Plans" section, in order. */
function plansBlock(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Plans');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

describe("the README's Plans section", { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'aaos-plans-readme-'));
  afterAll(() => removeDir(dir));

  it('runs the offline plan and the replan example as written, with no key', () => {
    for (const name of ['dist', 'manifests', 'roles', 'examples']) symlinkSync(join(ROOT, name), join(dir, name));
    const lines = plansBlock();
    expect(lines[0]).toBe('npm run build'); // done by `npm test` before this runs
    expect(lines).toHaveLength(3);
    const outputs = lines.slice(1).map((line) => {
      const res = spawnSync('bash', ['-c', `set -e\n${line}`], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1', AAOS_DATA_DIR: '', AAOS_SOCKET: '' },
        encoding: 'utf8',
        timeout: 200_000,
      });
      expect(res.status, `${line}\n${res.stdout}\n${res.stderr}`).toBe(0);
      return res.stdout + res.stderr;
    });
    expect(outputs[0]).toMatch(/plan: 3 subtasks/);
    expect(outputs[0]).not.toMatch(/replanning/);
    expect(outputs[1]).toMatch(/✗ ridership failed \(denied\)/);
    expect(outputs[1]).toMatch(/↻ replanning \(1\)/);
    expect(outputs[1]).toMatch(/■ run completed/);
    const workspaces = join(dir, '.aaos-demo', 'workspace');
    const reports = readdirSync(workspaces)
      .map((r) => join(workspaces, r, 'report.md'))
      .filter((p) => existsSync(p));
    expect(reports.length).toBeGreaterThan(0);
  });
});
