import { describe, expect, it } from 'vitest';
import { previewJson } from '../src/index.ts';

describe('previewJson', () => {
  it('is JSON.stringify for short values', () => {
    for (const v of [null, true, 3, -0.5, 'a"b', [], {}, [1, [2, { a: 'x' }]], { a: 1, b: [true, null] }]) expect(previewJson(v)).toBe(JSON.stringify(v));
  });

  it('cuts long values to the limit with "..."', () => {
    expect(previewJson(Array.from({ length: 1000 }, (_, i) => i), 20)).toBe('[0,1,2,3,4,5,6,7,...');
    expect(previewJson('x'.repeat(1_000_000), 10)).toBe('"xxxxxx...');
    expect(previewJson({ ['k'.repeat(500)]: 1 }, 12)).toBe('{"kkkkkkk...');
  });

  it('renders values nested far deeper than the stack allows (JSON.parse builds them; JSON.stringify overflows)', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown;
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(previewJson(deep, 10)).toBe('[[[[[[[...');
    const deepObj = JSON.parse(`${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`) as unknown;
    expect(previewJson(deepObj, 12)).toBe('{"a":{"a"...');
  });

  it('names what JSON cannot print', () => {
    expect(previewJson(undefined)).toBe('undefined');
    expect(previewJson(10n)).toBe('10n');
    expect(previewJson(() => 1)).toBe('a function');
  });
});
