/** Ids handed out by key, plus where the next search starts; plain JSON, to persist and pass back. */
export interface IdAllocation {
  readonly ids: Readonly<Record<string, number>>;
  readonly next: number;
}

/**
 * Gives every key an id in 1..max that stays the same while the key exists.
 * Keys already in `previous` keep their id; new keys, taken in the order
 * given, get the next free id after the last one handed out (ids of removed
 * keys are reused only after wrapping around, so a stale id in a conntrack
 * entry does not at once point at another service). Throws when all ids are
 * taken.
 */
export function allocateIds(keys: readonly string[], max: number, what: string, previous?: IdAllocation): IdAllocation {
  const wanted = new Set(keys);
  const ids: Record<string, number> = {};
  const used = new Set<number>();
  for (const [key, id] of Object.entries(previous?.ids ?? {})) {
    if (wanted.has(key) && id >= 1 && id <= max && !used.has(id)) {
      ids[key] = id;
      used.add(id);
    }
  }
  let next = previous && previous.next >= 1 && previous.next <= max ? previous.next : 1;
  for (const key of keys) {
    if (ids[key] !== undefined) continue;
    if (used.size >= max) throw new Error(`no free ${what} id left (all ${max} are in use)`);
    while (used.has(next)) next = next >= max ? 1 : next + 1;
    ids[key] = next;
    used.add(next);
    next = next >= max ? 1 : next + 1;
  }
  return { ids, next };
}
