import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { COMMAND_AGENT, commandManifest, testSupervisor, waitFor } from '../support/kernel.js';

// The attacker's side of the worker protocol (init now travels with the first delivery): a
// module that takes its host's port posts answers for ids it was never given (also before its
// first delivery), non-objects, and a late init_failed. Real workers; the supervisor must stay
// healthy, every caller gets an answer, and only the hostile agent itself may fail.

const HOSTILE = fileURLToPath(new URL('../fixtures/agents/protocol-hostile-agent.mjs', import.meta.url));

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

function setup() {
  const t = testSupervisor();
  closers.push(t.close);
  return t;
}

describe('a hostile worker posting past the protocol', () => {
  it('answers for ids it was never given (before and after its first delivery) are ignored', async () => {
    const { sup } = setup();
    const bad = await sup.spawn(commandManifest('stray-poster'), { module: HOSTILE });
    const good = await sup.spawn(commandManifest('steady'), { module: COMMAND_AGENT });
    expect((await sup.run(bad.id, 'hello')).response).toBe('echo hello');
    expect((await sup.run(bad.id, 'stray')).response).toBe('strayed');
    expect((await sup.run(bad.id, 'again')).response).toBe('echo again');
    expect(sup.status(bad.id).state).toBe('running');
    expect((await sup.run(good.id, 'echo still here')).response).toBe('still here');
  });

  it('a message that is not an object fails that agent only (named), not the supervisor', async () => {
    const { sup } = setup();
    const bad = await sup.spawn(commandManifest('null-poster'), { module: HOSTILE });
    const good = await sup.spawn(commandManifest('steady'), { module: COMMAND_AGENT });
    const out = await sup.run(bad.id, 'not-an-object').catch((err: unknown) => err);
    await waitFor(() => sup.status(bad.id).state === 'failed', 10_000, 'the hostile agent to fail');
    expect(sup.status(bad.id).state).toBe('failed');
    // the run in flight is answered (not left hanging), naming why
    expect(JSON.stringify(out)).toMatch(/null-poster sent a message that is not an object \(null\)/);
    expect(
      sup.audit
        .recent((e) => e.type === 'AgentFailed' && e.agent_id === bad.id)
        .map((e) => (e.type === 'AgentFailed' ? e.reason : '')),
    ).toEqual([expect.stringMatching(/null-poster sent a message that is not an object/)]);
    expect((await sup.run(good.id, 'echo still here')).response).toBe('still here');
  });

  it('an init_failed after init succeeded fails that agent, and its pending run is answered', async () => {
    const { sup } = setup();
    const bad = await sup.spawn(commandManifest('late-init-failer'), { module: HOSTILE });
    const good = await sup.spawn(commandManifest('steady'), { module: COMMAND_AGENT });
    expect((await sup.run(bad.id, 'hello')).response).toBe('echo hello');
    const out = await sup.run(bad.id, 'init-failed-late');
    expect(out.stop_reason).toBe('error');
    expect(out.error?.code).toBe(ErrorCode.AGENT_FAILED);
    expect(sup.status(bad.id).state).toBe('failed');
    expect(sup.tokens(bad.id)).toEqual([]);
    expect((await sup.run(good.id, 'echo still here')).response).toBe('still here');
  });
});
