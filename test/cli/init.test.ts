import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir } from '../daemon/daemon-process.js';
import { runAgentd } from '../support/run-agentd.js';

describe('agentd init', { timeout: 240_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'aaos-init-'));
  afterAll(() => removeDir(root));
  const fresh = (name: string): string => mkdtempSync(join(root, `${name}-`));

  it('init, then validate, then a goal with it as the bootstrap agent completes with what the script wrote', async () => {
    const dir = fresh('flow');
    const init = await runAgentd(['init', 'helper'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`wrote ${join(dir, 'helper.yaml')}`);
    expect(init.stdout).toContain(`wrote ${join(dir, 'helper.script.yaml')}`);
    expect(readdirSync(dir).sort()).toEqual(['helper.script.yaml', 'helper.yaml']);
    expect(readFileSync(join(dir, 'helper.yaml'), 'utf8')).toContain('name: helper\n');

    const validate = await runAgentd(['validate', '--bootstrap', 'helper.yaml'], { cwd: dir });
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);

    const data = join(dir, 'data');
    const run = await runAgentd(['run', '--bootstrap', 'helper.yaml', '--data-dir', data, '--stdin', '--json'], {
      cwd: dir,
      input: 'list what came in today\n',
      env: { AAOS_SOCKET: '' },
    });
    expect(run.code, run.stderr).toBe(0);
    const end = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((f) => f['kind'] === 'end')!;
    expect(end).toMatchObject({ status: 'completed', exit_code: 0 });
    const runId = end['run_id'] as string;
    const answer = join(data, 'workspace', runId, 'answer.md');
    expect(end['final_text']).toBe(`Done: the answer is in ${join(data, 'workspace', runId)}/answer.md`);
    const text = readFileSync(answer, 'utf8');
    expect(text).toContain('# Answer of helper');
    expect(text).toContain('list what came in today');
    expect(text).toContain('does not read the request'); // says plainly that it is scripted
  });

  it('the default name is my-agent', async () => {
    const dir = fresh('default');
    expect((await runAgentd(['init'], { cwd: dir })).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['my-agent.script.yaml', 'my-agent.yaml']);
  });

  it('never overwrites: exit 2 naming every existing file, and nothing is written', async () => {
    const dir = fresh('taken');
    writeFileSync(join(dir, 'mine.yaml'), 'my own manifest\n');
    const one = await runAgentd(['init', 'mine'], { cwd: dir });
    expect(one.code).toBe(2);
    expect(one.stderr).toContain(`agentd init: will not overwrite ${join(dir, 'mine.yaml')}`);
    expect(existsSync(join(dir, 'mine.script.yaml'))).toBe(false); // not half done
    expect(readFileSync(join(dir, 'mine.yaml'), 'utf8')).toBe('my own manifest\n');
    writeFileSync(join(dir, 'mine.script.yaml'), 'my own script\n');
    const both = await runAgentd(['init', 'mine'], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain(`${join(dir, 'mine.yaml')} and ${join(dir, 'mine.script.yaml')}`);
    expect(readFileSync(join(dir, 'mine.script.yaml'), 'utf8')).toBe('my own script\n');
  });

  it('refuses a name a manifest could not carry (or one that would write elsewhere)', async () => {
    const dir = fresh('names');
    for (const bad of ['../escape', 'has space', '.hidden', 'a/b', 'x'.repeat(65), 'ünï']) {
      const res = await runAgentd(['init', bad], { cwd: dir });
      expect(res.code, bad).toBe(2);
      expect(res.stderr).toContain(`agentd init: the name '${bad}' must be 1-64 characters`);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
