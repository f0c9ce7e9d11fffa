// Reads a BPF ring buffer on the Node event loop. The addon watches libbpf's
// epoll fd with uv_poll; every wake-up delivers all available records as one
// batch Buffer, records framed as: u32 length (little endian), 4 bytes of
// padding, the record, zero padding to a multiple of 8.
import { addon, type NativeRingBufferReader } from './addon.ts';

export const RECORD_HEADER_BYTES = 8;

/** Offset of the record after the one whose header is at `offset`. */
export function nextRecordOffset(offset: number, length: number): number {
  return offset + RECORD_HEADER_BYTES + ((length + 7) & ~7);
}

/** Calls `visit(offset, length)` for each record of a batch, `offset` pointing at the record's bytes. */
export function forEachRecord(batch: Uint8Array, visit: (offset: number, length: number) => void): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  for (let at = 0; at + RECORD_HEADER_BYTES <= batch.byteLength; ) {
    const length = view.getUint32(at, true);
    visit(at + RECORD_HEADER_BYTES, length);
    at = nextRecordOffset(at, length);
  }
}

export class RingBufferReader {
  readonly #native: NativeRingBufferReader;
  #closed = false;

  /** Starts reading; `onBatch` runs on the event loop once per wake-up. */
  constructor(mapFd: number, onBatch: (batch: Buffer) => void) {
    this.#native = new addon.NativeRingBufferReader(mapFd, onBatch);
  }

  /** Delivers what the ring holds right now, synchronously. */
  drain(): void {
    this.#native.drain();
  }

  /** Stops reading; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
  }
}
