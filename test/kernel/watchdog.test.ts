import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { RestartHistory, restartLimitsFromEnv } from '../../src/kernel/restart-policy.js';
import { watchdogLimitsFromEnv } from '../../src/kernel/watchdog.js';
import { COMMAND_AGENT, commandManifest, testSupervisor, waitFor } from '../support/kernel.js';

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

function setup(opts: Parameters<typeof testSupervisor>[0] = {}) {
  const t = testSupervisor(opts);
  closers.push(t.close);
  return t;
}

describe('watchdog on real workers', () => {
  it('terminates a spinning worker that leaves liveness pings unanswered, and fails its agent with the reason', async () => {
    const { sup } = setup({ watchdog: { livenessMs: 400 } });
    const a = await sup.spawn(commandManifest('spinner'), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, 'spin');
    expect(out.stop_reason).toBe('error');
    expect(out.error).toMatchObject({ code: ErrorCode.AGENT_UNRESPONSIVE });
    expect(out.error?.message).toMatch(
      /did not answer a liveness ping for \d+ ms while it had work \(limit AAOS_WORKER_LIVENESS_MS=400\); the worker was terminated/,
    );
    await waitFor(() => sup.status(a.id).state === 'failed', 10_000, 'the agent to fail');
    const failed = sup.audit.recent((e) => e.agent_id === a.id && e.type === 'AgentFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ code: ErrorCode.AGENT_UNRESPONSIVE });
    // its tokens are revoked like any failed agent's, and it takes no more work
    await expect(sup.run(a.id, 'echo hi')).rejects.toMatchObject({ code: ErrorCode.AGENT_NOT_FOUND });
  });

  it('leaves a busy but responsive worker alone (waiting on a timer is not spinning)', async () => {
    const { sup } = setup({ watchdog: { livenessMs: 1000 } });
    const a = await sup.spawn(commandManifest('sleeper'), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, 'sleep 2500');
    expect(out).toMatchObject({ stop_reason: 'complete', response: 'slept 2500' });
    expect(sup.status(a.id).state).toBe('running');
  });

  it('fails a run past its wall-clock limit, and terminates a worker that does not let go of it', async () => {
    const { sup } = setup({ watchdog: { livenessMs: 1500, runTimeoutMs: 500 } });
    const a = await sup.spawn(commandManifest('hanger'), { module: COMMAND_AGENT });
    const out = await sup.run(a.id, 'hang');
    expect(out.stop_reason).toBe('error');
    expect(out.error).toMatchObject({ code: ErrorCode.RUN_TIMEOUT });
    expect(out.error?.message).toMatch(
      /passed its wall-clock limit of 500 ms \(AAOS_RUN_TIMEOUT_MS\) and was cancelled/,
    );
    expect(sup.audit.recent((e) => e.agent_id === a.id && e.type === 'RunTimedOut')).toHaveLength(1);
    // 'hang' ignores the cancel: after the grace period its worker is terminated
    await waitFor(() => sup.status(a.id).state === 'failed', 10_000, 'the agent to fail');
    const failed = sup.audit.recent((e) => e.agent_id === a.id && e.type === 'AgentFailed');
    expect(failed[0]).toMatchObject({
      code: ErrorCode.RUN_TIMEOUT,
      reason: expect.stringMatching(/still held the run 1500 ms after being told to cancel it/),
    });
  });

  it('a run within its wall-clock limit is untouched', async () => {
    const { sup } = setup({ watchdog: { runTimeoutMs: 60_000 } });
    const a = await sup.spawn(commandManifest('quick'), { module: COMMAND_AGENT });
    expect(await sup.run(a.id, 'echo fine')).toMatchObject({ stop_reason: 'complete', response: 'fine' });
    expect(sup.audit.recent((e) => e.type === 'RunTimedOut')).toHaveLength(0);
  });
});

describe('restarts of persistent agents', () => {
  it('restarts a persistent agent whose worker died on its next message, with the same id and backoff', async () => {
    const { sup } = setup({ restarts: { maxFailures: 5, windowMs: 60_000, backoffMs: 100 } });
    const a = await sup.spawn(commandManifest('phoenix', [], 'lifecycle: persistent\n'), { module: COMMAND_AGENT });
    const crashed = await sup.run(a.id, 'crash');
    expect(crashed.error).toMatchObject({ code: ErrorCode.AGENT_FAILED });
    await waitFor(() => sup.status(a.id).state === 'parked', 5000, 'the agent to wait for its restart');
    const pending = sup.audit.recent((e) => e.agent_id === a.id && e.type === 'AgentRestartPending');
    expect(pending[0]).toMatchObject({ failures: 1, delay_ms: 100, reason: expect.stringContaining('uncaught error') });
    const again = await sup.run(a.id, 'whoami');
    expect(JSON.parse(again.response).id).toBe(a.id);
    expect(sup.status(a.id).state).toBe('running');
    const reactivated = sup.audit.recent((e) => e.agent_id === a.id && e.type === 'AgentReactivated');
    expect(reactivated.at(-1)).toMatchObject({ reason: expect.stringMatching(/restart after its worker failed/) });
  });

  it('parks a crash-looping persistent agent as failed after N failures in the window', async () => {
    const { sup } = setup({ restarts: { maxFailures: 3, windowMs: 60_000, backoffMs: 10 } });
    const a = await sup.spawn(commandManifest('looper', [], 'lifecycle: persistent\n'), { module: COMMAND_AGENT });
    for (let i = 1; i <= 2; i++) {
      const out = await sup.run(a.id, 'exit');
      expect(out.error).toMatchObject({ code: ErrorCode.AGENT_FAILED });
      await waitFor(() => sup.status(a.id).state === 'parked', 5000, `restart ${i} pending`);
    }
    const last = await sup.run(a.id, 'exit');
    expect(last.error).toMatchObject({ code: ErrorCode.AGENT_FAILED });
    await waitFor(() => sup.status(a.id).state === 'failed', 5000, 'the agent to be parked as failed');
    const status = sup.status(a.id);
    expect(status.failure).toMatch(
      /is parked as failed: its worker died 3 times within 60000 ms \(AAOS_RESTART_MAX=3\); last failure: .*exited with code 7/,
    );
    const failed = sup.audit.recent((e) => e.agent_id === a.id && e.type === 'AgentFailed');
    expect(failed.at(-1)).toMatchObject({ code: ErrorCode.AGENT_RESTART_LIMIT });
    expect(
      sup.audit
        .recent((e) => e.agent_id === a.id && e.type === 'AgentRestartPending')
        .map((e) => (e as { delay_ms?: number }).delay_ms),
    ).toEqual([10, 20]);
    await expect(sup.run(a.id, 'echo hi')).rejects.toMatchObject({ code: ErrorCode.AGENT_NOT_FOUND });
  });

  it('an on-demand agent whose worker died is not restarted', async () => {
    const { sup } = setup();
    const a = await sup.spawn(commandManifest('once'), { module: COMMAND_AGENT });
    await sup.run(a.id, 'exit');
    await waitFor(() => sup.status(a.id).state === 'failed', 5000, 'the agent to fail');
    expect(sup.audit.recent((e) => e.type === 'AgentRestartPending')).toHaveLength(0);
  });
});

describe('watchdog and restart settings', () => {
  it('come from the environment; bad values name the variable', () => {
    expect(watchdogLimitsFromEnv({})).toEqual({ livenessMs: 60_000, runTimeoutMs: 21_600_000 });
    expect(watchdogLimitsFromEnv({ AAOS_WORKER_LIVENESS_MS: '0', AAOS_RUN_TIMEOUT_MS: '1000' })).toEqual({
      livenessMs: 0,
      runTimeoutMs: 1000,
    });
    expect(() => watchdogLimitsFromEnv({ AAOS_RUN_TIMEOUT_MS: '-5' })).toThrow(/AAOS_RUN_TIMEOUT_MS="-5" is invalid/);
    expect(restartLimitsFromEnv({ AAOS_RESTART_MAX: '2' })).toMatchObject({
      maxFailures: 2,
      windowMs: 60_000,
      backoffMs: 1000,
    });
    expect(() => restartLimitsFromEnv({ AAOS_RESTART_MAX: '0' })).toThrow(/AAOS_RESTART_MAX/);
  });

  it('backoff doubles per failure in the window, is capped, and old failures fall out of the window', () => {
    const h = new RestartHistory({ maxFailures: 4, windowMs: 1000, backoffMs: 100, maxBackoffMs: 250 });
    expect(h.fail(0)).toEqual({ restart: true, delayMs: 100, failures: 1 });
    expect(h.fail(10)).toEqual({ restart: true, delayMs: 200, failures: 2 });
    expect(h.fail(20)).toEqual({ restart: true, delayMs: 250, failures: 3 });
    // the first three are more than a window old: this one starts the count again
    expect(h.fail(2000)).toEqual({ restart: true, delayMs: 100, failures: 1 });
    h.fail(2001);
    h.fail(2002);
    expect(h.fail(2003)).toEqual({ restart: false, failures: 4 });
  });
});
