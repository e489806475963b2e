import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import { ErrorCode } from '../../src/errors/index.js';
import type { Supervisor } from '../../src/kernel/supervisor.js';
import { COMMAND_AGENT, commandManifest, testSupervisor } from '../support/kernel.js';

// The attacker's side of the router's envelope check (a hand-written validator since the
// router path was made cheaper): a real worker hands the router malformed, forged, oversized
// and prototype-polluting envelopes. Each must be refused with MESSAGE_INVALID (or the
// named code) and a message naming the field and what was wrong, the recipient must never
// see it, and nothing of it may be audited as sent.

const ATTACKER = fileURLToPath(new URL('../fixtures/agents/envelope-attacker.mjs', import.meta.url));

interface Answer {
  reply?: unknown;
  error?: { code: string; message: string; details: Record<string, unknown> | null };
}

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

async function setup(opts: { maxMessageBytes?: number } = {}) {
  const t = testSupervisor(opts);
  closers.push(t.close);
  const victim = await t.sup.spawn(commandManifest('victim'), { module: COMMAND_AGENT });
  const bystander = await t.sup.spawn(commandManifest('bystander'), { module: COMMAND_AGENT });
  const attacker = await t.sup.spawn(commandManifest('attacker', ['message_send: [victim]']), { module: ATTACKER });
  return { sup: t.sup, victim: victim.id, bystander: bystander.id, attacker: attacker.id };
}

async function attack(sup: Supervisor, attacker: string, order: Record<string, unknown>): Promise<Answer> {
  const out = await sup.run(attacker, JSON.stringify(order));
  expect(out.stop_reason).toBe('complete');
  return JSON.parse(out.response) as Answer;
}

/** a valid request envelope from the attacker to `to`, as JSON-ready data */
function envelope(to: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) {
  return {
    jsonrpc: '2.0',
    id: 'req-1',
    method: 'agent.run',
    params: { message: 'echo hello' },
    metadata: { sender: '$SELF', recipient: to, trace_id: 't-1', timestamp: new Date().toISOString(), ...meta },
    ...extra,
  };
}

const sentTo = (sup: Supervisor, id: string) =>
  sup.audit.recent((e: AuditEvent) => (e.type === 'MessageSent' || e.type === 'MessageDelivered') && e.to === id);
const runsOf = (sup: Supervisor, id: string) =>
  sup.audit.recent((e: AuditEvent) => e.type === 'AgentExecutionStarted' && e.agent_id === id);

describe('the router refuses hostile envelopes from a real worker, naming what was wrong', () => {
  it('malformed envelopes: each refused with the field and the reason, nothing delivered or audited as sent', async () => {
    const { sup, victim, attacker } = await setup();
    const valid = envelope(victim);
    const cases: Array<[string, string, RegExp]> = [
      ['not JSON', '{"jsonrpc": "2.0", ', /^envelope is not valid JSON: /],
      ['a JSON array', '[1,2,3]', /^invalid envelope: \(envelope\): Invalid input: expected object, received array$/],
      ['a number', '42', /\(envelope\): Invalid input: expected object, received number$/],
      ['a string', '"hello"', /\(envelope\): Invalid input: expected object, received string$/],
      [
        'wrong jsonrpc',
        JSON.stringify({ ...valid, jsonrpc: '1.0' }),
        /^invalid envelope: jsonrpc: Invalid input: expected "2.0"$/,
      ],
      [
        'empty method',
        JSON.stringify({ ...valid, method: '' }),
        /^invalid envelope: method: Too small: expected string to have >=1 characters$/,
      ],
      [
        'method of 201 characters',
        JSON.stringify({ ...valid, method: 'm'.repeat(201) }),
        /^invalid envelope: method: Too big: expected string to have <=200 characters$/,
      ],
      [
        'method a number',
        JSON.stringify({ ...valid, method: 7 }),
        /^invalid envelope: method: Invalid input: expected string, received number$/,
      ],
      ['id an object', JSON.stringify({ ...valid, id: { x: 1 } }), /^invalid envelope: id: Invalid input$/],
      ['id a boolean', JSON.stringify({ ...valid, id: true }), /^invalid envelope: id: Invalid input$/],
      [
        'no metadata',
        JSON.stringify({ ...valid, metadata: undefined }),
        /^invalid envelope: metadata: Invalid input: expected object, received undefined$/,
      ],
      [
        'metadata a string',
        JSON.stringify({ ...valid, metadata: 'from me' }),
        /^invalid envelope: metadata: Invalid input: expected object, received string$/,
      ],
      [
        'metadata an array',
        JSON.stringify({ ...valid, metadata: [] }),
        /^invalid envelope: metadata: Invalid input: expected object, received array$/,
      ],
      [
        'sender a number',
        JSON.stringify(envelope(victim, {}, { sender: 12 })),
        /^invalid envelope: metadata\.sender: Invalid input: expected string, received number$/,
      ],
      [
        'recipient null',
        JSON.stringify(envelope(victim, {}, { recipient: null })),
        /^invalid envelope: metadata\.recipient: Invalid input: expected string, received null$/,
      ],
      [
        'empty trace id',
        JSON.stringify(envelope(victim, {}, { trace_id: '' })),
        /^invalid envelope: metadata\.trace_id: Too small/,
      ],
      [
        'span id an object',
        JSON.stringify(envelope(victim, {}, { span_id: {} })),
        /^invalid envelope: metadata\.span_id: Invalid input: expected string, received object$/,
      ],
      ['a request without an id', JSON.stringify({ ...valid, id: undefined }), /^a request envelope needs an id$/],
    ];
    for (const [what, text, message] of cases) {
      const answer = await attack(sup, attacker, { via: 'request', text });
      expect(answer.error?.code, what).toBe(ErrorCode.MESSAGE_INVALID);
      expect(answer.error?.message, what).toMatch(message);
      if (!/needs an id|not valid JSON/.test(answer.error?.message ?? ''))
        expect(answer.error?.details?.field, what).toEqual(expect.any(String));
    }
    expect(sentTo(sup, victim)).toEqual([]);
    expect(runsOf(sup, victim)).toEqual([]);
    // the router still works for the same sender
    const ok = await attack(sup, attacker, { via: 'request', text: JSON.stringify(valid) });
    expect(ok.reply).toMatchObject({ id: 'req-1', result: { response: 'hello', stop_reason: 'complete' } });
  });

  it('a forged sender is refused, by request and by send, and the victim it names sends nothing', async () => {
    const { sup, victim, bystander, attacker } = await setup();
    for (const via of ['request', 'send']) {
      // claims to be the bystander, messaging the victim
      const answer = await attack(sup, attacker, {
        via,
        text: JSON.stringify(envelope(victim, {}, { sender: bystander })),
      });
      expect(answer.error?.code).toBe(ErrorCode.MESSAGE_INVALID);
      expect(answer.error?.message).toBe(
        `envelope sender '${bystander}' is not the sending agent attacker (${attacker})`,
      );
      expect(answer.error?.details).toEqual({ field: 'metadata.sender' });
    }
    expect(sentTo(sup, victim)).toEqual([]);
    expect(sup.audit.recent((e) => e.type === 'MessageSent' && e.from === bystander)).toEqual([]);
  });

  it('a recipient outside message_send is denied by the capability check, not delivered', async () => {
    const { sup, bystander, attacker } = await setup();
    const answer = await attack(sup, attacker, { via: 'request', text: JSON.stringify(envelope(bystander)) });
    expect(answer.error?.code).toBe(ErrorCode.CAPABILITY_DENIED);
    expect(answer.error?.message).toMatch(/message_send/);
    expect(sentTo(sup, bystander)).toEqual([]);
    expect(sup.audit.recent((e) => e.type === 'CapabilityDenied' && e.agent_id === attacker)).toHaveLength(1);
  });

  it('oversized params are refused before parsing, with the size and the limit, and audited', async () => {
    const { sup, victim, attacker } = await setup({ maxMessageBytes: 4096 });
    const big = envelope(victim, { params: { message: 'echo x', padding: 'é'.repeat(3000) } });
    const answer = await attack(sup, attacker, { via: 'request', text: JSON.stringify(big) });
    expect(answer.error?.code).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(answer.error?.message).toMatch(
      new RegExp(
        `^message from attacker \\(${attacker}\\) is \\d+ bytes; the limit is 4096 \\(AAOS_MESSAGE_MAX_BYTES\\)$`,
      ),
    );
    expect(sup.audit.recent((e) => e.type === 'MessageRefused' && e.code === ErrorCode.MESSAGE_TOO_LARGE)).toHaveLength(
      1,
    );
    expect(runsOf(sup, victim)).toEqual([]);
  });

  it('`__proto__` keys supply nothing: a field given only through one is missing, and nothing is polluted', async () => {
    const { sup, victim, attacker } = await setup();
    const meta = `{"recipient":"${victim}","trace_id":"t","timestamp":"now"}`;
    const cases: Array<[string, RegExp]> = [
      // metadata only under __proto__ at the top level
      [
        `{"jsonrpc":"2.0","id":"p1","method":"agent.run","__proto__":{"metadata":{"sender":"$SELF","recipient":"${victim}","trace_id":"t","timestamp":"now"}}}`,
        /^invalid envelope: metadata: Invalid input: expected object, received undefined$/,
      ],
      // the sender only under metadata.__proto__
      [
        `{"jsonrpc":"2.0","id":"p2","method":"agent.run","metadata":{"__proto__":{"sender":"$SELF"},"recipient":"${victim}","trace_id":"t","timestamp":"now"}}`,
        /^invalid envelope: metadata\.sender: Invalid input: expected string, received undefined$/,
      ],
      // jsonrpc only under __proto__
      [
        `{"__proto__":{"jsonrpc":"2.0"},"id":"p3","method":"agent.run","metadata":${meta.replace('{', '{"sender":"$SELF",')}}`,
        /^invalid envelope: jsonrpc: Invalid input: expected "2.0"$/,
      ],
    ];
    for (const [text, message] of cases) {
      const answer = await attack(sup, attacker, { via: 'request', text });
      expect(answer.error?.code).toBe(ErrorCode.MESSAGE_INVALID);
      expect(answer.error?.message).toMatch(message);
    }
    expect(runsOf(sup, victim)).toEqual([]);
    // a valid envelope whose params carry __proto__ is delivered as data, and the supervisor's prototypes are untouched
    const text = JSON.stringify(envelope(victim)).replace(
      '"params":{',
      '"params":{"__proto__":{"polluted":true,"message":"echo polluted"},',
    );
    const answer = await attack(sup, attacker, { via: 'request', text });
    expect(answer.reply).toMatchObject({ result: { response: 'hello', stop_reason: 'complete' } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('message');
  });

  it('an envelope that is not text at all is refused by the worker protocol, naming the field', async () => {
    const { sup, victim, attacker } = await setup();
    for (const text of [42, { jsonrpc: '2.0' }, null]) {
      const answer = await attack(sup, attacker, { via: 'request', text });
      expect(answer.error?.code).toBe(ErrorCode.PROTOCOL);
      expect(answer.error?.message).toMatch(
        /attacker .* sent a malformed message: its 'request' request, field envelope: /,
      );
    }
    expect(runsOf(sup, victim)).toEqual([]);
  });
});
