import { afterEach, describe, expect, it } from 'vitest';
import { BOOTSTRAP, removeDir, tempDataDir } from '../daemon/daemon-process.js';
import { runAgentd } from '../support/run-agentd.js';

describe('agentd run: settings are checked before anything starts', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) removeDir(dir);
    dir = undefined;
  });

  it('an invalid value stops the start with exit 1, naming every bad variable', async () => {
    dir = tempDataDir();
    const res = await runAgentd(['run', '--stdin', '--bootstrap', BOOTSTRAP, '--data-dir', dir], {
      env: { AAOS_MAX_AGENTS: 'lots', AAOS_RESUME_RUNS: 'perhaps', AAOS_SOCKET: '' },
      input: 'a goal that must not run\n',
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('AAOS_ERR_CONFIG_INVALID');
    expect(res.stderr).toContain('AAOS_MAX_AGENTS="lots" is invalid: expected a whole number ≥ 1');
    expect(res.stderr).toContain('AAOS_RESUME_RUNS="perhaps" is invalid');
    expect(res.stderr).not.toContain('run '); // no goal was started
  });
});
