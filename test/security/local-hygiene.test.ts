import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import { FakeOpenAIServer, openAIError } from '../support/fake-openai-server.js';
import { waitFor } from '../support/kernel.js';
import { AGENTD, removeDir, startDaemon, tempDataDir } from '../daemon/daemon-process.js';
import { auditFile, daemonWith, TestLeftovers, manifest, script, toolThenReport } from './attacker.js';

/** Class 7: what another local user can see or swap, and what leaks through error texts. */
describe('local hygiene', () => {
  const left = new TestLeftovers();
  afterEach(() => left.clean());

  it('a data dir that existed with mode 0755 is tightened to 0700, and the store files are 0600', async () => {
    const dir = tempDataDir();
    left.dirs.push(dir);
    chmodSync(dir, 0o755);
    left.daemon = await startDaemon({ dataDir: dir, bootstrap: null });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'store')).mode & 0o777).toBe(0o700);
    for (const file of ['data.mdb', 'lock.mdb'])
      expect(statSync(join(dir, 'store', file)).mode & 0o777, file).toBe(0o600);
  }, 60_000);

  it('a socket in a directory other users can write to is refused, naming the directory', () => {
    const dir = tempDataDir();
    const shared = mkdtempSync(join(tmpdir(), 'aaos-shared-'));
    left.dirs.push(dir, shared);
    chmodSync(shared, 0o777);
    const socket = join(shared, 'agentd.sock');
    const out = spawnSync(process.execPath, [AGENTD, 'run', '--data-dir', dir, '--socket', socket], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain('AAOS_ERR_UNSAFE_PERMISSIONS');
    expect(out.stderr).toContain(shared);
    expect(existsSync(socket)).toBe(false);
  }, 60_000);

  it('a provider error body that echoes the API key reaches neither the agent, the audit log nor the client', async () => {
    const key = 'sk-test-SUPERSECRET-0123456789abcdef';
    const fake = await FakeOpenAIServer.start();
    fake.fallback = openAIError(
      401,
      'invalid_request_error',
      `Incorrect API key provided: ${key}. You can find your key at ...`,
    );
    const dir = tempDataDir();
    left.dirs.push(dir);
    try {
      const started = await daemonWith(dir, { OPENAI_API_KEY: key, OPENAI_BASE_URL: fake.baseUrl });
      left.daemon = started.daemon;
      const { agent_id } = await started.client.call<{ agent_id: string }>('agent.spawn', {
        manifest: 'name: leaky\nmodel: gpt-4o-mini\n',
      });
      const res = await started.client.response<Record<string, unknown>>(
        started.client.send('agent.run', { agent_id, message: 'hi' }),
      );
      const wire = JSON.stringify(res);
      expect(wire).toContain('AAOS_ERR_MODEL_AUTH');
      expect(wire).toContain('[redacted]');
      expect(wire).not.toContain(key);
      await waitFor(
        () => existsSync(auditFile(dir)) && readFileSync(auditFile(dir), 'utf8').includes('AgentExecutionCompleted'),
        20_000,
        'the run in the audit copy',
      );
      expect(readFileSync(auditFile(dir), 'utf8')).not.toContain(key);
      expect(left.daemon.stderr()).not.toContain(key);
    } finally {
      await fake.close();
    }
  }, 60_000);
});

describe('approvals recovered after a restart', () => {
  it('bind to the agent id: another agent reusing the name does not inherit the pending approval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aaos-approve-'));
    mkdirSync(join(dir, 'out'));
    const target = join(dir, 'out', 'x.txt');
    const writer = manifest(
      'writer',
      script(
        dir,
        'writer',
        toolThenReport([{ name: 'file_write', input: { path: target, content: 'who wrote this' } }]),
      ),
      ['tool: file_write', `file_write: ${dir}/out/*`],
      { approval_required: ['file_write'] },
    );
    const env = { AAOS_APPROVAL_TIMEOUT_MS: '60000', AAOS_PARK_IDLE_MS: '0' };
    let runtime = await Runtime.open({ dataDir: dir, env });
    try {
      const first = await runtime.spawnAgent({ yaml: writer });
      void runtime.runAgent(first.id, 'write');
      await waitFor(() => runtime.approvals.list().pending.length === 1, 20_000, 'the first approval');
      const original = runtime.approvals.list().pending[0]!;
      await runtime.close('restart');

      runtime = await Runtime.open({ dataDir: dir, env });
      expect(runtime.approvals.list().pending.map((p) => p.id)).toEqual([original.id]);
      // an impostor with the same name and the same call
      const impostor = await runtime.spawnAgent({ yaml: writer });
      expect(impostor.id).not.toBe(first.id);
      const run = runtime.runAgent(impostor.id, 'write');
      await waitFor(() => runtime.approvals.list().pending.length === 2, 20_000, "the impostor's own approval request");
      // the human approves what they saw before the restart: the original agent's call
      runtime.approvals.respond({ id: original.id, decision: 'approve' });
      const mine = runtime.approvals.list().pending.find((p) => p.agent_id === impostor.id)!;
      runtime.approvals.respond({ id: mine.id, decision: 'deny', reason: 'not you' });
      expect((await run).response).toContain('AAOS_ERR_APPROVAL_DENIED');
      expect(existsSync(target)).toBe(false);
    } finally {
      await runtime.close();
      removeDir(dir);
    }
  }, 90_000);
});
