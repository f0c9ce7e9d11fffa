import { describe, expect, it } from 'vitest';
import { shown } from './filterError.ts';

describe('shown', () => {
  it('shows JSON values as JSON', () => {
    expect(shown('10.0.0.0/33')).toBe('"10.0.0.0/33"');
    expect(shown(1234)).toBe('1234');
    expect(shown(null)).toBe('null');
    expect(shown(undefined)).toBe('undefined');
    expect(shown({ name: 'x', kinds: [1, true] })).toBe('{"name":"x","kinds":[1,true]}');
  });

  it('cuts long values to 80 characters', () => {
    expect(shown('x'.repeat(1_000_000))).toBe(`"${'x'.repeat(76)}...`);
    expect(shown(Array.from({ length: 1_000_000 }, (_, i) => i))).toHaveLength(80);
  });

  it('shows what is nested deeper than three levels as […] (10,000 levels deep as well)', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(shown(deep)).toBe('[[[[…]]]]');
    expect(shown({ a: { b: { c: { d: 1 } } } })).toBe('{"a":{"b":{"c":{…}}}}');
  });
});
