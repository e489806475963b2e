import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import { ErrorCode } from '../../src/errors/index.js';
import { COMMAND_AGENT, commandManifest, testSupervisor, waitFor } from '../support/kernel.js';

/**
 * A hostile model floods other agents (or itself) with messages: one huge message, or a
 * message that makes its recipient send more of itself. Both are refused with a typed error
 * and an audit event, and no mailbox grows past its bound.
 */

type Refused = Extract<AuditEvent, { type: 'MessageRefused' }>;

let t: ReturnType<typeof testSupervisor> | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

function refusals(code: string): Refused[] {
  return t!.sup.audit.recent((e) => e.type === 'MessageRefused' && e.code === code) as Refused[];
}

describe('message size cap, against real workers', () => {
  it('refuses a message over the configured cap in UTF-8 bytes, names sender and limit, and audits it', async () => {
    t = testSupervisor({ maxMessageBytes: 4096 });
    const sup = t.sup;
    const b = await sup.spawn(commandManifest('listener'), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('talker', ['message_send: [listener]']), { module: COMMAND_AGENT });
    // 1500 characters, 4500 bytes: the cap counts bytes, not characters
    const big = await sup.run(a.id, `ask ${b.id} echo ${'€'.repeat(1500)}`);
    expect(big.error?.code).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(big.response).toMatch(
      /message from talker \(.+\) is \d+ bytes; the limit is 4096 \(AAOS_MESSAGE_MAX_BYTES\)/,
    );
    const [event] = refusals(ErrorCode.MESSAGE_TOO_LARGE);
    expect(event).toMatchObject({ agent_id: a.id, from: a.id, max_bytes: 4096 });
    expect(event!.size_bytes).toBeGreaterThan(4500);
    // the recipient never saw it
    expect(sup.audit.recent((e) => e.type === 'AgentExecutionStarted' && e.agent_id === b.id)).toHaveLength(0);
    // a message within the cap still goes through
    expect((await sup.run(a.id, `ask ${b.id} echo ${'€'.repeat(1000)}`)).response).toBe('€'.repeat(1000));
  });

  it('defaults to 1 MiB', async () => {
    t = testSupervisor();
    const sup = t.sup;
    const b = await sup.spawn(commandManifest('listener'), { module: COMMAND_AGENT });
    const a = await sup.spawn(commandManifest('talker', ['message_send: [listener]']), { module: COMMAND_AGENT });
    expect((await sup.run(a.id, `ask ${b.id} echo ${'x'.repeat(1024 * 1024)}`)).error?.code).toBe(
      ErrorCode.MESSAGE_TOO_LARGE,
    );
    expect((await sup.run(a.id, `ask ${b.id} echo ${'x'.repeat(1024 * 1024 - 4096)}`)).error).toBeNull();
  });
});

describe('mailbox bound, against real workers', () => {
  it('an agent that messages itself 8 times per run never holds more than the bound', async () => {
    const max = 20;
    t = testSupervisor({ mailboxMax: max });
    const sup = t.sup;
    const bomber = await sup.spawn(commandManifest('bomber', ['message_send: [bomber]']), { module: COMMAND_AGENT });
    const rec = sup.record(bomber.id)!;
    let highest = 0;
    const sampler = setInterval(() => (highest = Math.max(highest, rec.actor.queued)), 2);
    try {
      const first = await sup.run(bomber.id, 'bomb 8');
      expect(JSON.parse(first.response)).toEqual({ sent: 8, refused: [] });
      // the bomb spreads until the mailbox is full; then the sender gets the typed error
      await waitFor(() => refusals(ErrorCode.MAILBOX_FULL).length >= 8, 30_000, 'mailbox-full refusals');
      await waitFor(
        () =>
          sup.audit.recent(
            (e) =>
              e.type === 'AgentExecutionCompleted' &&
              e.agent_id === bomber.id &&
              e.response_preview.includes(ErrorCode.MAILBOX_FULL),
          ).length > 0,
        30_000,
        'a run that saw MAILBOX_FULL',
      );
    } finally {
      clearInterval(sampler);
    }
    expect(highest).toBeLessThanOrEqual(max);
    const event = refusals(ErrorCode.MAILBOX_FULL)[0]!;
    expect(event).toMatchObject({
      agent_id: bomber.id,
      from: bomber.id,
      to: bomber.id,
      method: 'agent.run',
      max_queued: max,
    });
    expect(event.reason).toContain(`the mailbox of agent bomber (${bomber.id}) is full`);
    expect(event.reason).toContain(`AAOS_MAILBOX_MAX=${max}`);
    await sup.stop(bomber.id, 'test over');
  });

  it('the operator gets MAILBOX_FULL too, and the mailbox takes messages again once it drains', async () => {
    t = testSupervisor({ mailboxMax: 2 });
    const sup = t.sup;
    const a = await sup.spawn(commandManifest('sleeper'), { module: COMMAND_AGENT });
    const first = sup.run(a.id, 'sleep 300');
    const second = sup.run(a.id, 'sleep 1');
    await expect(sup.run(a.id, 'echo third')).rejects.toMatchObject({ code: ErrorCode.MAILBOX_FULL });
    expect(refusals(ErrorCode.MAILBOX_FULL)[0]).toMatchObject({
      agent_id: a.id,
      from: 'supervisor',
      to: a.id,
      queued: 2,
      max_queued: 2,
    });
    await Promise.all([first, second]);
    expect((await sup.run(a.id, 'echo again')).response).toBe('again');
  });
});
