import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AaosError, ErrorCode, fromPlainError, toPlainError } from '../../src/errors/index.js';

describe('error codes', () => {
  it('every code is documented in docs/errors.md, and the doc names no code that does not exist', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/`(AAOS_ERR_[A-Z_]+)`/g)].map((m) => m[1]));
    const codes = new Set<string>(Object.values(ErrorCode));
    expect([...codes].filter((c) => !documented.has(c))).toEqual([]);
    expect([...documented].filter((c) => !codes.has(c!))).toEqual([]);
  });

  it('round-trips as plain data across threads', () => {
    const err = new AaosError(ErrorCode.CAPABILITY_DENIED, 'agent x is denied file_read: /etc/passwd', {
      agent_id: 'x',
    });
    const plain = structuredClone(toPlainError(err));
    const back = fromPlainError(plain);
    expect(back).toBeInstanceOf(AaosError);
    expect(back).toMatchObject({ code: ErrorCode.CAPABILITY_DENIED, message: err.message, details: { agent_id: 'x' } });
    expect(toPlainError(new Error('plain'))).toMatchObject({ code: ErrorCode.INTERNAL, message: 'plain' });
    expect(fromPlainError({ name: 'X', message: 'm', code: 'NOT_A_CODE' }).code).toBe(ErrorCode.INTERNAL);
  });
});
