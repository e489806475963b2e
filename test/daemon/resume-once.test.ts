import { afterEach, describe, expect, it } from 'vitest';
import { ledgerCounts, writeLedgerBootstrap } from '../../bench/lib/ledger-agent.mjs';
import { waitFor } from '../support/kernel.js';
import { RawClient, removeDir, startDaemon, tempDataDir, type DaemonProcess } from './daemon-process.js';

describe('a run resumed after kill -9 continues from its last stored turn', () => {
  let daemon: DaemonProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await daemon?.stop();
    if (dir) removeDir(dir);
  });

  it('completes, and its side-effecting tool ran exactly once', async () => {
    dir = tempDataDir();
    const { manifest, ledger } = writeLedgerBootstrap(dir);
    const env = { AAOS_MAX_CONCURRENT_GOALS: '1', AAOS_PARK_IDLE_MS: '0' };
    daemon = await startDaemon({ dataDir: dir, bootstrap: manifest, env });
    let client = await RawClient.open(daemon.socket);
    const id = client.send('agent.submit_streaming', { goal: 'append to the ledger once' });
    const runId = (await client.response<{ result: { run_id: string } }>(id)).result.run_id;
    // the edit happened; the run is now waiting on its next (slow) model call
    await waitFor(() => ledgerCounts(ledger).get(runId) === 1, 30_000, 'the side effect');
    daemon.child.kill('SIGKILL');
    expect(await daemon.exited).toBeNull();
    client.close();

    daemon = await startDaemon({ dataDir: dir, bootstrap: manifest, env });
    expect(daemon.stderr()).toMatch(/resuming run/);
    client = await RawClient.open(daemon.socket);
    let status: { state: string; result?: string } = { state: '' };
    for (let tries = 0; tries < 600 && status.state !== 'completed' && status.state !== 'failed'; tries++) {
      status = await client.call<{ state: string; result?: string }>('run.status', { run_id: runId });
      if (status.state !== 'completed') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toMatchObject({ state: 'completed', result: `finished ${runId}` });
    expect(ledgerCounts(ledger).get(runId)).toBe(1);

    // the resumed run replayed its stored turns instead of starting over
    const logs = client.send('agent.logs_streaming', { run_id: runId });
    await client.waitFor((m) => m['kind'] === 'end' && m['stream'] === logs, 'the logs end frame');
    const events = client.lines
      .map(
        (l) => l as { kind?: string; stream?: number; event?: { type: string; tool?: string; model_turns?: number } },
      )
      .filter((m) => m.kind === 'event' && m.stream === logs)
      .map((m) => m.event!);
    const replayed = events.find((e) => e.type === 'RunReplayed');
    expect(replayed?.model_turns).toBeGreaterThanOrEqual(2);
    client.close();
  }, 120_000); // two daemon starts and a slow goal: generous for a loaded machine
});
