import { describe, expect, it } from 'vitest';
import { namespaceNameProblem } from './namespaceName.ts';

describe('namespaceNameProblem', () => {
  it('accepts DNS-1123 labels up to 63 characters', () => {
    for (const name of ['default', 'kube-system', 'a', '0-x', 'a'.repeat(63)]) expect(namespaceNameProblem(name)).toBeUndefined();
  });

  it('refuses a longer name saying how long it is, without repeating all of it', () => {
    const problem = namespaceNameProblem('a'.repeat(200_000));
    expect(problem).toMatch(/^'a{40}…' is 200000 characters long; a namespace name has at most 63 \(a DNS-1123 label\)$/);
  });

  it.each(['Default', 'kube_system', '-a', 'a-', '', 'a.b'])('refuses %j saying what a namespace name is', (name) => {
    expect(namespaceNameProblem(name)).toBe(`'${name}' is not a namespace name (lower-case letters, digits and '-', starting and ending with a letter or digit)`);
  });
});
