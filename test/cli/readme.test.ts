import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, removeDir } from '../daemon/daemon-process.js';

/** The shell lines of the README's "Running `agentd`" section, in order. */
function runningSection(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Running `agentd`'),
    readme.indexOf('\n## ', readme.indexOf('## Running `agentd`') + 1),
  );
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

describe("the README's Running agentd section", { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'aaos-readme-'));
  afterAll(() => removeDir(dir));

  it('works command by command on a fresh data dir, and the report comes from the inbox it read', () => {
    // a fresh checkout's view: the built files and manifests, a working directory of its own
    symlinkSync(join(ROOT, 'dist'), join(dir, 'dist'));
    symlinkSync(join(ROOT, 'manifests'), join(dir, 'manifests'));
    const lines = runningSection();
    expect(lines[0]).toBe('npm run build'); // done by `npm test` before this runs
    const script = ['set -e', ...lines.slice(1)].join('\n');
    const env: NodeJS.ProcessEnv = { ...process.env, AAOS_SOCKET: '', AAOS_DATA_DIR: '', NO_COLOR: '1' };
    const res = spawnSync('bash', ['-c', script], { cwd: dir, env, encoding: 'utf8', timeout: 200_000 });
    expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
    expect(res.stderr).toContain('copied the demo inbox (3 files)');

    const data = join(dir, 'data');
    const inbox = readdirSync(join(data, 'inbox')).map((f) => readFileSync(join(data, 'inbox', f), 'utf8'));
    const runs = readdirSync(join(data, 'workspace'));
    expect(runs).toHaveLength(2); // the stdin goal and the submitted one
    for (const run of runs) {
      const report = readFileSync(join(data, 'workspace', run, 'report.md'), 'utf8');
      for (const text of inbox) expect(report).toContain(text.trim());
      expect(report).toContain('scripted model');
    }
  });
});
