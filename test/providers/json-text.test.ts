import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ErrorCode } from '../../src/errors/index.js';
import { parseJsonText } from '../../src/providers/json-text.js';
import { parseScript } from '../../src/providers/scripted.js';

describe('JSON text read natively where YAML would read the same', () => {
  it('any JSON document (object or array, any indentation) reads as the YAML parser reads it', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.jsonValue())),
        fc.constantFrom(undefined, 1, 2),
        (value, indent) => {
          const text = JSON.stringify(value, null, indent);
          const fast = parseJsonText(text);
          expect(fast).toBeDefined();
          expect(fast?.value).toEqual(parseYaml(text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a key repeated in one object (however it is spelled) is left to the YAML parser, which refuses it', () => {
    for (const text of [
      '{"a": 1, "a": 2}',
      '{"x": {"k": 1, "k": 1}}',
      '[{"ok": 1}, {"b": [1, {"c": 1, "c": 2}]}]',
      '{"a": 1, "\\u0061": 2}',
      '{"s": "a \\" quote, {and braces}", "s": 2}',
    ]) {
      expect(parseJsonText(text), text).toBeUndefined();
      expect(() => parseYaml(text), text).toThrow();
    }
    // the same key in sibling objects, or as a string value, is no repetition
    expect(parseJsonText('[{"a": 1}, {"a": 2}]')?.value).toEqual([{ a: 1 }, { a: 2 }]);
    expect(parseJsonText('{"a": "a", "b": {"a": "b"}}')?.value).toEqual({ a: 'a', b: { a: 'b' } });
  });

  it('text that is not JSON takes the YAML path (and its errors with line numbers)', () => {
    expect(parseJsonText('turns:\n  - text: hi\n')).toBeUndefined();
    expect(parseJsonText('{turns: [{text: hi}]}')).toBeUndefined();
    expect(parseJsonText('"just a string"')).toBeUndefined();
    expect(parseScript('/s.yaml', '{"turns": [{"text": "hi"}], "latency_ms": 5}')).toMatchObject({
      latency_ms: 5,
      turns: [{ text: 'hi' }],
    });
    expect(() => parseScript('/dup.yaml', '{"turns": [{"text": "a"}],\n "turns": [{"text": "b"}]}')).toThrow(
      expect.objectContaining({ code: ErrorCode.SCRIPT_INVALID, message: expect.stringMatching(/dup\.yaml.*line 2/) }),
    );
  });
});
