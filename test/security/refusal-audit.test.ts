import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir, type DaemonProcess, type RawClient } from '../daemon/daemon-process.js';
import { daemonWith, manifest, script, spawnAndRun, toolThenReport, waitForAudit } from './attacker.js';

/** Class 6: every refusal is an audit event, also those that are not a capability check. */
describe('every refusal leaves an audit event', () => {
  let dir: string;
  let daemon: DaemonProcess;
  let client: RawClient;

  beforeAll(async () => {
    dir = tempDataDir();
    ({ daemon, client } = await daemonWith(dir));
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop();
    removeDir(dir);
  });

  it('an unknown tool under tool: * is refused and audited', async () => {
    const turns = toolThenReport([{ name: 'exfiltrate_everything', input: { to: 'evil.example' } }]);
    const { response, agent_id } = await spawnAndRun(
      client,
      manifest('probe', script(dir, 'probe', turns), ['tool: *']),
    );
    expect(response).toContain('AAOS_ERR_TOOL_NOT_FOUND');
    const [event] = await waitForAudit(
      dir,
      (e) => e.type === 'ToolRefused' && e.agent_id === agent_id,
      'ToolRefused for the unknown tool',
    );
    expect(event).toMatchObject({ tool: 'exfiltrate_everything', code: 'AAOS_ERR_TOOL_NOT_FOUND' });
  }, 60_000);

  it("a tool outside an active skill's allowed-tools is refused and audited", async () => {
    const turns = toolThenReport([
      { name: 'skill_read', input: { skill_name: 'reviewing-code' } },
      { name: 'file_write', input: { path: `${dir}/workspace/x.txt`, content: 'x' } },
    ]);
    const { response, agent_id } = await spawnAndRun(
      client,
      manifest('reviewer', script(dir, 'reviewer', turns), [
        'tool: skill_read',
        'tool: file_write',
        `file_write: ${dir}/workspace/*`,
      ]),
    );
    expect(response).toContain('AAOS_ERR_SKILL_TOOL_NOT_ALLOWED');
    const [event] = await waitForAudit(
      dir,
      (e) => e.type === 'ToolRefused' && e.agent_id === agent_id,
      'ToolRefused for the skill refusal',
    );
    expect(event).toMatchObject({ tool: 'file_write', code: 'AAOS_ERR_SKILL_TOOL_NOT_ALLOWED' });
    expect(String(event?.['reason'])).toContain('reviewing-code');
  }, 60_000);
});
