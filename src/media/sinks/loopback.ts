/**
 * Audio loopback: a sink whose frames come back out of a source, so what a call receives is
 * sent back (an echo test line; rtclite's `--audio-loopback`, done on decoded audio).
 *
 * @remarks
 * rtclite looped RTP packets unchanged. Looping decoded audio instead works across codecs (a
 * PCMA caller hears PCMA even when the answer picked PCMU for sending) and lets the audio pass
 * through the same pacer as any source. Received frames may come in bursts and in any size;
 * the queue re-cuts them into `frameSize` frames, answers silence when it runs dry, and drops
 * the oldest audio beyond `maxBufferMs` so a burst cannot add lasting delay.
 *
 * @packageDocumentation
 */

import { resolveFrameFormat, type MediaSink, type MediaSource, type SourceFormatOptions } from '../port.js';
import { SampleQueue } from '../sample-queue.js';

/** Options for {@link Loopback}. */
export interface LoopbackOptions extends SourceFormatOptions {
  /** Most audio held between `write()` and `read()`, in ms, before the oldest is dropped (default 200). */
  readonly maxBufferMs?: number;
}

/** Defaults for {@link LoopbackOptions}, in one place. */
export const LOOPBACK_DEFAULTS = Object.freeze({ maxBufferMs: 200 });

/**
 * A sink and a source in one: frames written are read back, in order, at the same rate.
 *
 * @example
 * ```ts
 * const echo = new Loopback({ sampleRate: 8000, frameSize: 160 });
 * // call.receive → echo.write(frame); call.send ← echo.read()
 * ```
 */
export class Loopback implements MediaSink, MediaSource {
  readonly sampleRate: number;
  readonly frameSize: number;
  private readonly queue: SampleQueue;
  private closed = false;

  /** @throws RangeError on a bad format or buffer size. */
  constructor(options: LoopbackOptions = {}) {
    const format = resolveFrameFormat(options);
    this.sampleRate = format.sampleRate;
    this.frameSize = format.frameSize;
    const maxBufferMs = options.maxBufferMs ?? LOOPBACK_DEFAULTS.maxBufferMs;
    if (!(maxBufferMs > 0)) throw new RangeError(`maxBufferMs must be positive, got ${maxBufferMs}`);
    this.queue = new SampleQueue(Math.max(2 * this.frameSize, Math.round((maxBufferMs * this.sampleRate) / 1000)));
  }

  /** Samples waiting to be read back. */
  get buffered(): number {
    return this.queue.length;
  }

  /** Samples dropped because the reader fell behind. */
  get dropped(): number {
    return this.queue.dropped;
  }

  write(frame: Int16Array): void {
    if (this.closed) return;
    this.queue.push(frame);
  }

  /** The next frame received, or silence when none is waiting; `null` once closed. */
  read(): Int16Array | null {
    if (this.closed) return null;
    return this.queue.take(this.frameSize) ?? new Int16Array(this.frameSize);
  }

  close(): Promise<void> {
    this.closed = true;
    this.queue.clear();
    return Promise.resolve();
  }
}
