import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/daemon/line-splitter.js';

describe('LineSplitter', () => {
  it('splits lines across chunks and keeps a multi-byte character split between chunks intact', () => {
    const s = new LineSplitter(64);
    const bytes = Buffer.from('{"a":"é"}\r\n{"b":1}\n{"c"');
    expect(s.push(bytes.subarray(0, 7))).toEqual({ lines: [], overflow: false });
    expect(s.push(bytes.subarray(7))).toEqual({ lines: ['{"a":"é"}', '{"b":1}'], overflow: false });
    expect(s.pending).toBe(4);
    expect(s.push(Buffer.from(':2}\n'))).toEqual({ lines: ['{"c":2}'], overflow: false });
  });

  it('reports overflow once an unfinished line passes the limit, without holding more', () => {
    const s = new LineSplitter(8);
    expect(s.push(Buffer.from('12345')).overflow).toBe(false);
    expect(s.push(Buffer.from('6789')).overflow).toBe(true);
    expect(s.pending).toBeLessThanOrEqual(8);
    expect(new LineSplitter(8).push(Buffer.from('123456789\n')).overflow).toBe(true);
  });
});
