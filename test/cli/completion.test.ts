import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeDir } from '../daemon/daemon-process.js';
import { runAgentd } from '../support/run-agentd.js';

describe('agentd completion', { timeout: 60_000 }, () => {
  it("bash: completes commands and each command's options", async () => {
    const res = await runAgentd(['completion', 'bash']);
    expect(res.code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'aaos-'));
    try {
      writeFileSync(join(dir, 'c.bash'), res.stdout);
      const probe = (words: string[]): string =>
        spawnSync(
          'bash',
          [
            '-c',
            `source ${join(dir, 'c.bash')}; COMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _agentd; echo "\${COMPREPLY[@]}"`,
          ],
          { encoding: 'utf8' },
        ).stdout.trim();
      expect(probe(['agentd', 'ru']).split(' ').sort()).toEqual(['run', 'runs']);
      expect(probe(['agentd', 'runs', '--st'])).toBe('--state');
      expect(probe(['agentd', 'stop', '--fo'])).toBe('--force');
    } finally {
      removeDir(dir);
    }
  });

  it.each(['zsh', 'fish'])('%s: names every command', async (shell) => {
    const res = await runAgentd(['completion', shell]);
    expect(res.code).toBe(0);
    for (const cmd of ['run', 'submit', 'status', 'logs', 'stop', 'config', 'completion', 'validate'])
      expect(res.stdout).toContain(cmd);
  });

  it('an unknown shell exits 2 naming the allowed ones', async () => {
    const res = await runAgentd(['completion', 'tcsh']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('allowed: bash, zsh, fish');
  });
});
