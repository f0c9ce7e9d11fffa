import { createHash } from 'node:crypto';

/**
 * A 32-bit hash of `text` that is the same on every machine and every run
 * (first four bytes of SHA-256 over `salt`, a NUL and `text`). Used where a
 * choice must not depend on input order: address allocation, Maglev
 * permutations.
 */
export function stableHash32(text: string, salt = ''): number {
  return createHash('sha256').update(salt).update('\0').update(text).digest().readUInt32BE(0);
}
