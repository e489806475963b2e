import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AaosError, ErrorCode, isAaosError } from '../../src/errors/index.js';
import { McpEnvelope, parseEnvelope } from '../../src/router/envelope.js';

/**
 * parseEnvelope is a hand-written validator: it must accept exactly what the McpEnvelope
 * schema accepts, return what the schema returns, and refuse with the schema's first issue.
 * The reference below is the zod path as it was (JSON.parse, safeParse, first issue).
 */
function viaSchema(text: string): McpEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AaosError(ErrorCode.MESSAGE_INVALID, `envelope is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = McpEnvelope.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : '(envelope)';
    throw new AaosError(ErrorCode.MESSAGE_INVALID, `invalid envelope: ${field}: ${issue?.message ?? 'invalid'}`, {
      field,
    });
  }
  return parsed.data;
}

type Outcome = { ok: true; value: unknown; keys: string[]; metaKeys: string[] } | { ok: false; error: unknown };

function outcome(parse: (text: string) => McpEnvelope, text: string): Outcome {
  try {
    const value = parse(text);
    return { ok: true, value, keys: Object.keys(value), metaKeys: Object.keys(value.metadata) };
  } catch (err) {
    if (!isAaosError(err)) throw err;
    return { ok: false, error: { code: err.code, message: err.message, details: err.details } };
  }
}

// JSON text built from key/value pairs: duplicate keys and `__proto__` stay as written
const objectText = (pairs: Array<[string, string]>) =>
  `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
const json = (a: fc.Arbitrary<unknown>) => a.map((v) => JSON.stringify(v) ?? 'null');
const junk = json(fc.jsonValue({ maxDepth: 2 }));
const strings = json(
  fc.oneof(fc.constantFrom('', 'a', '2.0', 'x'.repeat(200), 'x'.repeat(201), '€'.repeat(100)), fc.string()),
);
const numbers = fc.constantFrom('0', '1', '-3', '1.5', '1e400', '-1e400', '1e21');
const hostileKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'extra');
const validText = json(fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('x'.repeat(200), '€')));
const ABSENT = Symbol('absent');
/** mostly a valid value, sometimes a wrong one, sometimes no key at all */
const slot = (good: fc.Arbitrary<string>) =>
  fc.oneof(
    { arbitrary: good, weight: 12 },
    { arbitrary: fc.oneof(strings, numbers, junk), weight: 2 },
    { arbitrary: fc.constant(ABSENT), weight: 1 },
  );
const withExtras = (pairs: Array<[string, string | typeof ABSENT]>, extra: fc.Arbitrary<string>) =>
  fc
    .array(fc.tuple(hostileKeys, extra), { maxLength: 2 })
    .map((more) => objectText([...pairs.filter((p): p is [string, string] => p[1] !== ABSENT), ...more]));

const metadataText = fc
  .record({
    sender: slot(validText),
    recipient: slot(validText),
    trace_id: slot(validText),
    timestamp: slot(validText),
    span_id: fc.oneof(fc.constant(ABSENT), slot(validText)),
    run_id: fc.oneof(fc.constant(ABSENT), slot(validText)),
  })
  .chain((m) => withExtras(Object.entries(m), junk));

const envelopeText = fc
  .record({
    jsonrpc: slot(fc.constant('"2.0"')),
    id: fc.oneof(fc.constant(ABSENT), slot(fc.oneof(validText, numbers))),
    method: slot(json(fc.string({ minLength: 1, maxLength: 210 }))),
    params: fc.oneof(fc.constant(ABSENT), junk),
    metadata: slot(metadataText),
  })
  .chain((e) => withExtras(Object.entries(e), fc.oneof(junk, metadataText)));

const valid = {
  jsonrpc: '2.0',
  id: 'r-1',
  method: 'agent.run',
  params: { message: 'hi' },
  metadata: { sender: 'a', recipient: 'b', trace_id: 't', timestamp: '2026-11-30T00:00:00.000Z' },
};

describe('parseEnvelope agrees with the McpEnvelope schema', () => {
  it('on any envelope-shaped JSON: same acceptance, same output and key order, same first error', () => {
    const seen = { accepted: 0, refused: new Set<string>() };
    fc.assert(
      fc.property(envelopeText, (text) => {
        const mine = outcome(parseEnvelope, text);
        expect(mine).toStrictEqual(outcome(viaSchema, text));
        if (mine.ok) seen.accepted++;
        else seen.refused.add(String((mine.error as { details?: { field?: string } }).details?.field));
      }),
      { numRuns: 5000 },
    );
    // the generator reaches both sides: accepted envelopes and a refusal at every field (a non-object root: next test)
    expect(seen.accepted).toBeGreaterThan(50);
    expect([...seen.refused].sort()).toEqual(
      [
        'jsonrpc',
        'id',
        'method',
        'metadata',
        'metadata.sender',
        'metadata.recipient',
        'metadata.trace_id',
        'metadata.timestamp',
        'metadata.span_id',
        'metadata.run_id',
      ].sort(),
    );
  });

  it('on any JSON value and any text at all', () => {
    fc.assert(
      fc.property(fc.oneof(junk, fc.string()), (text) => {
        expect(outcome(parseEnvelope, text)).toStrictEqual(outcome(viaSchema, text));
      }),
      { numRuns: 2000 },
    );
  });

  it('on one-field corruptions of a valid envelope', () => {
    const corrupt = fc
      .tuple(
        fc.constantFrom(
          'jsonrpc',
          'id',
          'method',
          'params',
          'metadata',
          'metadata.sender',
          'metadata.span_id',
          'metadata.run_id',
        ),
        fc.option(fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom('', 'x'.repeat(201))), { nil: undefined }),
      )
      .map(([path, value]) => {
        const env = structuredClone(valid) as Record<string, unknown> & { metadata: Record<string, unknown> };
        const [head, tail] = path.split('.') as [string, string | undefined];
        const target = tail ? env.metadata : env;
        const key = tail ?? head;
        if (value === undefined) delete target[key];
        else target[key] = value;
        return JSON.stringify(env);
      });
    fc.assert(
      fc.property(corrupt, (text) => {
        expect(outcome(parseEnvelope, text)).toStrictEqual(outcome(viaSchema, text));
      }),
      { numRuns: 3000 },
    );
  });

  it('named cases: each refusal names the field and what was wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['[]', /^invalid envelope: \(envelope\): Invalid input: expected object, received array$/],
      ['"text"', /\(envelope\): Invalid input: expected object, received string$/],
      ['{}', /^invalid envelope: jsonrpc: Invalid input: expected "2.0"$/],
      [JSON.stringify({ ...valid, id: { nested: 1 } }), /^invalid envelope: id: Invalid input$/],
      [JSON.stringify({ ...valid, method: 'm'.repeat(201) }), /method: Too big: expected string to have <=200/],
      [JSON.stringify({ ...valid, metadata: 7 }), /metadata: Invalid input: expected object, received number$/],
      [
        JSON.stringify({ ...valid, metadata: { ...valid.metadata, sender: '' } }),
        /metadata\.sender: Too small: expected string to have >=1 characters$/,
      ],
      ['{"jsonrpc":"2.0","id":1e400', /^envelope is not valid JSON: /],
      [JSON.stringify(valid).replace('"r-1"', '1e400'), /^invalid envelope: id: Invalid input$/],
    ];
    for (const [text, message] of cases) {
      const a = outcome(parseEnvelope, text);
      expect(a).toStrictEqual(outcome(viaSchema, text));
      expect(a.ok).toBe(false);
      if (!a.ok) expect((a.error as { message: string }).message).toMatch(message);
    }
  });

  it('keeps no key it does not know, and `__proto__` in JSON never becomes a prototype', () => {
    const text =
      '{"__proto__":{"polluted":1},"jsonrpc":"2.0","method":"m","extra":1,"params":{"__proto__":{"p":1}},' +
      '"metadata":{"sender":"a","recipient":"b","trace_id":"t","timestamp":"x","__proto__":{"q":1},"admin":true}}';
    const env = parseEnvelope(text);
    expect(Object.keys(env)).toEqual(['jsonrpc', 'method', 'params', 'metadata']);
    expect(Object.keys(env.metadata)).toEqual(['sender', 'recipient', 'trace_id', 'timestamp']);
    expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(env.metadata)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // params is passed through as parsed: an own key named __proto__, not a prototype
    expect(Object.getPrototypeOf(env.params)).toBe(Object.prototype);
    expect(Object.hasOwn(env.params as object, '__proto__')).toBe(true);
  });
});
