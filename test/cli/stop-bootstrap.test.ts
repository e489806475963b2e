import { describe, expect, it } from 'vitest';
import { useDaemon } from '../daemon/daemon-process.js';
import { runAgentd } from '../support/run-agentd.js';

describe('stopping the bootstrap agent', { timeout: 180_000 }, () => {
  const daemon = useDaemon();

  it('needs --force; afterwards goals are refused with the reason and health is degraded', async () => {
    const { socket } = daemon.current;
    const refused = await runAgentd(['stop', 'bootstrap', '--socket', socket]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('AAOS_ERR_BOOTSTRAP_PROTECTED');
    expect((await runAgentd(['health', '--socket', socket])).code).toBe(0);

    const forced = await runAgentd(['stop', 'bootstrap', '--force', '--socket', socket]);
    expect(forced.code).toBe(0);
    const submit = await runAgentd(['submit', 'a goal', '--socket', socket]);
    expect(submit.code).toBe(1);
    expect(submit.stderr).toMatch(
      /the bootstrap agent [0-9a-f-]{36} was stopped \(stopped by operator\): goals are refused until agentd restarts/,
    );
    const health = await runAgentd(['health', '--socket', socket]);
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/^degraded/);
    expect(health.stdout).toContain('problem: the bootstrap agent');
  });
});
