import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode } from '../../src/errors/index.js';
import { defineTool } from '../../src/tools/tool.js';
import { COMMAND_AGENT, commandManifest, testSupervisor, waitFor } from '../support/kernel.js';

// The port carries batches (what one side posts in one turn goes as one message). A hostile
// worker posts batches of its own: each message in a batch must be checked as if it came
// alone, a malformed batch fails that agent only, named, and never the supervisor.

const HOSTILE = fileURLToPath(new URL('../fixtures/agents/batch-hostile-agent.mjs', import.meta.url));

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

function setup() {
  const ran: string[] = [];
  const probe = defineTool({
    name: 'probe',
    description: 'records that it ran',
    input: z.object({}),
    run: async (_input, ctx) => {
      ran.push(ctx.call.name);
      return { ran: true };
    },
  });
  const t = testSupervisor({ tools: [probe] });
  closers.push(t.close);
  return { sup: t.sup, ran };
}

describe('a hostile worker posting its own batches', () => {
  it('stray answers in a batch are ignored like stray answers alone', async () => {
    const { sup } = setup();
    const bad = await sup.spawn(commandManifest('batcher'), { module: HOSTILE });
    expect((await sup.run(bad.id, 'strays')).response).toBe('strayed');
    expect((await sup.run(bad.id, 'again')).response).toBe('echo again');
    expect(sup.status(bad.id).state).toBe('running');
  });

  it('a batch whose messages are not a list fails that agent, named; the others carry on', async () => {
    const { sup } = setup();
    const bad = await sup.spawn(commandManifest('not-a-list'), { module: HOSTILE });
    const good = await sup.spawn(commandManifest('steady'), { module: COMMAND_AGENT });
    const out = await sup.run(bad.id, 'not-a-list');
    expect(out.stop_reason).toBe('error');
    expect(out.error?.code).toBe(ErrorCode.PROTOCOL);
    expect(out.error?.message).toMatch(/not-a-list sent a batch that is not a list of messages/);
    await waitFor(() => sup.status(bad.id).state === 'failed', 10_000, 'the hostile agent to fail');
    expect((await sup.run(good.id, 'echo still here')).response).toBe('still here');
  });

  it('a batch inside a batch is an unknown message type: that agent fails', async () => {
    const { sup } = setup();
    const bad = await sup.spawn(commandManifest('nester'), { module: HOSTILE });
    const out = await sup.run(bad.id, 'nested');
    expect(out.error?.code).toBe(ErrorCode.PROTOCOL);
    expect(out.error?.message).toMatch(/nester sent an unknown message type "batch"/);
    await waitFor(() => sup.status(bad.id).state === 'failed', 10_000, 'the hostile agent to fail');
  });

  it('a request inside a batch goes through the same capability check: denied, audited, never run', async () => {
    const { sup, ran } = setup();
    const bad = await sup.spawn(commandManifest('smuggler'), { module: HOSTILE });
    const run = sup.run(bad.id, 'forged-tool');
    await waitFor(
      () => sup.audit.recent((e) => e.type === 'CapabilityDenied' && e.agent_id === bad.id).length > 0,
      10_000,
      'the denial',
    );
    expect(ran).toEqual([]);
    await sup.stop(bad.id, 'test done');
    expect((await run).stop_reason).not.toBe('complete');
  });

  it('an answer that cannot be cloned reaches its caller as an error naming why; the agent lives on', async () => {
    const { sup } = setup();
    const odd = await sup.spawn(commandManifest('odd'), { module: HOSTILE });
    const out = await sup.run(odd.id, 'uncloneable');
    expect(out.stop_reason).toBe('error');
    expect(out.error?.message).toMatch(/could not be cloned/);
    expect((await sup.run(odd.id, 'after')).response).toBe('echo after');
    expect(sup.status(odd.id).state).toBe('running');
  });
});
