/**
 * Digital silence: what a call sends when it has nothing to say (`--no-audio`), and the
 * simplest {@link MediaSource} for tests.
 *
 * @packageDocumentation
 */

import { resolveFrameFormat, type MediaSource, type SourceFormatOptions } from '../port.js';

/** Options for {@link SilenceSource}. */
export interface SilenceSourceOptions extends SourceFormatOptions {
  /** Stop after this many milliseconds (rounded up to whole frames); default: never. */
  readonly durationMs?: number;
}

/** Frames needed to cover `durationMs`, or Infinity when there is no limit. */
export function framesFor(durationMs: number | undefined, sampleRate: number, frameSize: number): number {
  if (durationMs === undefined) return Number.POSITIVE_INFINITY;
  if (!(durationMs >= 0) || !Number.isFinite(durationMs)) throw new RangeError(`bad duration: ${durationMs} ms`);
  return Math.ceil((durationMs * sampleRate) / 1000 / frameSize);
}

/** A source of all-zero frames. */
export class SilenceSource implements MediaSource {
  readonly sampleRate: number;
  readonly frameSize: number;
  private remaining: number;

  /** @throws RangeError on a bad format or duration. */
  constructor(options: SilenceSourceOptions = {}) {
    const format = resolveFrameFormat(options);
    this.sampleRate = format.sampleRate;
    this.frameSize = format.frameSize;
    this.remaining = framesFor(options.durationMs, this.sampleRate, this.frameSize);
  }

  read(): Int16Array | null {
    if (this.remaining <= 0) return null;
    this.remaining--;
    return new Int16Array(this.frameSize);
  }

  close(): Promise<void> {
    this.remaining = 0;
    return Promise.resolve();
  }
}
