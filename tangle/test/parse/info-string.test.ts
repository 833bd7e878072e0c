import { describe, expect, test } from 'vitest';
import { parseInfoAttributes } from '../../index.js';

describe('parseInfoAttributes', () => {
  test('reads key=value, quoted values with escapes and bare flags', () => {
    const { attributes, problems } = parseInfoAttributes(`file=a/b.rs chunk="wasi imports" t='x y' q="a \\"b\\"" append`);
    expect(problems).toEqual([]);
    expect(attributes.map((a) => [a.key, a.value])).toEqual([
      ['file', 'a/b.rs'],
      ['chunk', 'wasi imports'],
      ['t', 'x y'],
      ['q', 'a "b"'],
      ['append', true],
    ]);
  });

  test('reports an unterminated quote, a missing name and an empty value', () => {
    const { problems } = parseInfoAttributes('title="open =x file=');
    expect(problems.map((p) => p.offset)).toEqual([0]);
    expect(parseInfoAttributes('=x').problems).toHaveLength(1);
    expect(parseInfoAttributes('file=').problems).toHaveLength(1);
  });
});
