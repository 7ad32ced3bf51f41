/**
 * A sink that discards audio (rtclite's `--no-audio`: received RTP is dropped) and counts it.
 *
 * @packageDocumentation
 */

import { checkSampleRate, DEFAULT_FRAME_FORMAT, type MediaSink } from '../port.js';

/** Options for {@link NullSink}. */
export interface NullSinkOptions {
  /** Rate of the frames written, in Hz (default 8000). */
  readonly sampleRate?: number;
}

/** Drops every frame, keeping only counts. */
export class NullSink implements MediaSink {
  readonly sampleRate: number;
  private frameCount = 0;
  private sampleCount = 0;
  private closed = false;

  /** @throws RangeError on a bad rate. */
  constructor(options: NullSinkOptions = {}) {
    this.sampleRate = options.sampleRate ?? DEFAULT_FRAME_FORMAT.sampleRate;
    checkSampleRate(this.sampleRate);
  }

  /** Frames written before `close()`. */
  get frames(): number {
    return this.frameCount;
  }

  /** Samples written before `close()`. */
  get samples(): number {
    return this.sampleCount;
  }

  write(frame: Int16Array): void {
    if (this.closed) return;
    this.frameCount++;
    this.sampleCount += frame.length;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
