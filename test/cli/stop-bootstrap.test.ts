import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startDaemon, tempDataDir, type DaemonProcess } from '../daemon/daemon-process.js';
import { runAgentd } from '../support/run-agentd.js';

describe('stopping the bootstrap agent', { timeout: 180_000 }, () => {
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

  it('needs --force; afterwards goals are refused with the reason and health is degraded', async () => {
    const refused = await runAgentd(['stop', 'bootstrap', '--socket', daemon.socket]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('AAOS_ERR_BOOTSTRAP_PROTECTED');
    expect((await runAgentd(['health', '--socket', daemon.socket])).code).toBe(0);

    const forced = await runAgentd(['stop', 'bootstrap', '--force', '--socket', daemon.socket]);
    expect(forced.code).toBe(0);
    const submit = await runAgentd(['submit', 'a goal', '--socket', daemon.socket]);
    expect(submit.code).toBe(1);
    expect(submit.stderr).toMatch(/the bootstrap agent [0-9a-f-]{36} was stopped \(stopped by operator\): goals are refused until agentd restarts/);
    const health = await runAgentd(['health', '--socket', daemon.socket]);
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/^degraded/);
    expect(health.stdout).toContain('problem: the bootstrap agent');
  });
});
