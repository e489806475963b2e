import { describe, expect, it } from 'vitest';
import { closestMatch, didYouMean, levenshtein } from '../../src/manifest/index.js';

describe('did-you-mean', () => {
  it('counts edits, with an adjacent swap as one', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('fiel', 'file')).toBe(1);
    expect(levenshtein('same', 'same')).toBe(0);
  });

  it('suggests only plausible typos', () => {
    const kinds = ['file_read', 'file_write', 'network', 'tool'];
    expect(closestMatch('file_raed', kinds)).toBe('file_read');
    expect(closestMatch('FILE_WRITE', kinds)).toBe('file_write');
    expect(closestMatch('tol', kinds)).toBe('tool');
    expect(closestMatch('banana', kinds)).toBeUndefined();
    expect(closestMatch('max_heap', ['max_heap_mb', 'max_iterations'])).toBe('max_heap_mb');
    expect(didYouMean('netwrk', kinds)).toBe(" (did you mean 'network'?)");
    expect(didYouMean('zzz', kinds)).toBe('');
  });
});
