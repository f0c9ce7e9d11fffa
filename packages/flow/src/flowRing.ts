import type { LostEvents } from './observerApi.ts';

export const DEFAULT_RING_CAPACITY = 4095;
const MAX_RING_CAPACITY = 65_535;

export type RingRead<T> =
  | { entry: T; next: number; lost?: never }
  | { lost: LostEvents; next: number; entry?: never };

/**
 * Hubble's ring buffer: keeps the last `capacity` entries. Positions grow
 * forever; a reader holds the position of the next entry it wants. When the
 * writer has overwritten that entry, the reader is told how many it lost
 * (source HUBBLE_RING_BUFFER) and moves on to the oldest entry still held.
 *
 * The capacity is one less than a power of two, as in Hubble: the storage is
 * a power of two, so a position maps to its slot with a mask.
 */
export class FlowRing<T> {
  readonly maxFlows: number;
  private readonly slots: (T | undefined)[];
  private readonly mask: number;
  private written = 0;
  private readonly writeListeners = new Set<() => void>();

  constructor(capacity: number = DEFAULT_RING_CAPACITY) {
    if (!isValidRingCapacity(capacity)) {
      throw new Error(
        `flow ring: capacity ${capacity} is not allowed; it must be one less than a power of two ` +
          `between 1 and ${MAX_RING_CAPACITY} (1, 3, 7, 15, …, 4095, 8191, …, 65535)`,
      );
    }
    this.maxFlows = capacity;
    this.mask = capacity;
    this.slots = new Array<T | undefined>(capacity + 1);
  }

  /** Entries held now. */
  get numFlows(): number {
    return Math.min(this.written, this.maxFlows);
  }

  /** Entries ever written. */
  get seenFlows(): number {
    return this.written;
  }

  /** Position of the oldest entry still held. */
  get oldestPosition(): number {
    return Math.max(0, this.written - this.maxFlows);
  }

  /** Position the next write will take. */
  get writePosition(): number {
    return this.written;
  }

  write(entry: T): void {
    this.slots[this.written & this.mask] = entry;
    this.written++;
    for (const listener of this.writeListeners) listener();
  }

  /** The entry at `position`, a lost-events record if it was overwritten, or undefined if not written yet. */
  read(position: number): RingRead<T> | undefined {
    if (position >= this.written) return undefined;
    const oldest = this.oldestPosition;
    if (position < oldest) {
      return { lost: { source: 'HUBBLE_RING_BUFFER', num_events_lost: oldest - position }, next: oldest };
    }
    return { entry: this.slots[position & this.mask] as T, next: position + 1 };
  }

  /** Calls `listener` after every write; returns the function that stops it. */
  onWrite(listener: () => void): () => void {
    this.writeListeners.add(listener);
    return () => this.writeListeners.delete(listener);
  }
}

export function isValidRingCapacity(capacity: number): boolean {
  return Number.isInteger(capacity) && capacity >= 1 && capacity <= MAX_RING_CAPACITY && (capacity & (capacity + 1)) === 0;
}
