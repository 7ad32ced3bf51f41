/**
 * A steady tone (one or more sines) as a {@link MediaSource}: test signals, ringback, hold tones.
 *
 * @packageDocumentation
 */

import { resolveFrameFormat, type MediaSource, type SourceFormatOptions } from '../port.js';
import { ToneGenerator } from '../tone.js';
import { framesFor } from './silence.js';

/** Options for {@link ToneSource}. */
export interface ToneSourceOptions extends SourceFormatOptions {
  /** Component frequencies in Hz (default `[1000]`). */
  readonly frequencies?: readonly number[];
  /** Peak amplitude per component, as a fraction of full scale (default 0.25, see {@link ToneGenerator}). */
  readonly amplitude?: number | readonly number[];
  /** Stop after this many milliseconds (rounded up to whole frames); default: never. */
  readonly durationMs?: number;
}

/** A phase-continuous tone, frame after frame. */
export class ToneSource implements MediaSource {
  readonly sampleRate: number;
  readonly frameSize: number;
  private readonly generator: ToneGenerator;
  private remaining: number;

  /** @throws RangeError on a bad format, duration, frequency (at or above Nyquist) or amplitude. */
  constructor(options: ToneSourceOptions = {}) {
    const format = resolveFrameFormat(options);
    this.sampleRate = format.sampleRate;
    this.frameSize = format.frameSize;
    this.generator = new ToneGenerator({
      sampleRate: this.sampleRate,
      frequencies: options.frequencies ?? [1000],
      ...(options.amplitude === undefined ? {} : { amplitude: options.amplitude }),
    });
    this.remaining = framesFor(options.durationMs, this.sampleRate, this.frameSize);
  }

  read(): Int16Array | null {
    if (this.remaining <= 0) return null;
    this.remaining--;
    return this.generator.generate(this.frameSize);
  }

  close(): Promise<void> {
    this.remaining = 0;
    return Promise.resolve();
  }
}
