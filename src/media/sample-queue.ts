/**
 * A bounded FIFO of 16-bit samples: where audio that arrives in arbitrary chunks (a child
 * process's pipe, received RTP) waits to be taken out in fixed-size frames.
 *
 * @remarks
 * When a producer runs ahead of the consumer (a sound card whose clock is a little fast, a peer
 * sending bursts), the oldest samples are dropped: for live audio, late is worse than lost, and
 * memory must not grow with a call's length.
 *
 * @internal
 */
export class SampleQueue {
  /** Most samples held; pushing more drops the oldest. */
  readonly capacity: number;
  private readonly ring: Int16Array;
  private head = 0;
  private size = 0;
  private droppedTotal = 0;

  /** @throws RangeError if `capacity` is not a positive integer. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`bad queue capacity: ${capacity}`);
    this.capacity = capacity;
    this.ring = new Int16Array(capacity);
  }

  /** Samples waiting. */
  get length(): number {
    return this.size;
  }

  /** Samples dropped so far because the queue was full. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Appends samples, dropping the oldest ones beyond `capacity`. */
  push(samples: Int16Array): void {
    let input = samples;
    if (input.length > this.capacity) {
      // Only the newest `capacity` samples can survive anyway.
      this.droppedTotal += input.length - this.capacity;
      input = input.subarray(input.length - this.capacity);
    }
    const overflow = this.size + input.length - this.capacity;
    if (overflow > 0) {
      this.head = (this.head + overflow) % this.capacity;
      this.size -= overflow;
      this.droppedTotal += overflow;
    }
    const tail = (this.head + this.size) % this.capacity;
    const first = Math.min(input.length, this.capacity - tail);
    this.ring.set(input.subarray(0, first), tail);
    if (first < input.length) this.ring.set(input.subarray(first), 0);
    this.size += input.length;
  }

  /**
   * Moves up to `dst.length - offset` samples into `dst` starting at `offset`.
   *
   * @returns How many samples were moved.
   */
  takeInto(dst: Int16Array, offset = 0): number {
    const count = Math.min(this.size, dst.length - offset);
    if (count <= 0) return 0;
    const first = Math.min(count, this.capacity - this.head);
    dst.set(this.ring.subarray(this.head, this.head + first), offset);
    if (first < count) dst.set(this.ring.subarray(0, count - first), offset + first);
    this.head = (this.head + count) % this.capacity;
    this.size -= count;
    return count;
  }

  /** Takes exactly `count` samples, or nothing (returns `null`) when fewer are waiting. */
  take(count: number): Int16Array | null {
    if (this.size < count) return null;
    const out = new Int16Array(count);
    this.takeInto(out);
    return out;
  }

  /** Drops everything waiting. */
  clear(): void {
    this.head = 0;
    this.size = 0;
  }
}
