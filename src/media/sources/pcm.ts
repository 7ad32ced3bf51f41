/**
 * In-memory audio as a {@link MediaSource}: any {@link PcmAudio} (any rate, any channel count)
 * mixed to mono, resampled to the call rate once, then cut into frames; optionally looped.
 *
 * @packageDocumentation
 */

import { resolveFrameFormat, type MediaSource, type SourceFormatOptions } from '../port.js';
import { resample } from '../resample.js';
import { toMono, type PcmAudio } from '../wav.js';

/** Options for {@link PcmSource}. */
export interface PcmSourceOptions extends SourceFormatOptions {
  /** Start again from the beginning at the end, seamlessly, instead of ending (default false). */
  readonly loop?: boolean;
}

/**
 * Plays a buffer of audio. The last frame is padded with silence; with `loop`, the buffer
 * restarts mid-frame instead, so a looped prompt has no gap. Empty audio ends at once, even
 * with `loop` (there is nothing to repeat).
 */
export class PcmSource implements MediaSource {
  readonly sampleRate: number;
  readonly frameSize: number;
  /** Whether the audio restarts at the end. */
  readonly loop: boolean;
  /** The audio as played: mono, at `sampleRate`. */
  readonly samples: Int16Array;
  private position = 0;
  private closed = false;

  /**
   * Converts `audio` now, so that `read()` is a copy per frame.
   *
   * @throws RangeError on a bad format, or on audio the resampler does not accept.
   */
  constructor(audio: PcmAudio, options: PcmSourceOptions = {}) {
    const format = resolveFrameFormat(options);
    this.sampleRate = format.sampleRate;
    this.frameSize = format.frameSize;
    this.loop = options.loop ?? false;
    const mono = toMono(audio);
    // Whole-buffer conversion: prompts and test files are small, and a one-shot resample has no
    // start-up transient at a loop point beyond the file's own.
    this.samples = resample(mono.samples, mono.sampleRate, this.sampleRate);
  }

  read(): Int16Array | null {
    if (this.closed) return null;
    const total = this.samples.length;
    if (this.position >= total && !(this.loop && total > 0)) {
      this.closed = true;
      return null;
    }
    const frame = new Int16Array(this.frameSize);
    let filled = 0;
    while (filled < this.frameSize) {
      if (this.position >= total) {
        if (!this.loop) break;
        this.position = 0;
      }
      const n = Math.min(this.frameSize - filled, total - this.position);
      frame.set(this.samples.subarray(this.position, this.position + n), filled);
      filled += n;
      this.position += n;
    }
    return frame;
  }

  /** Goes back to the start (and un-ends a finished source). */
  rewind(): void {
    this.position = 0;
    this.closed = false;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
