/**
 * Records received audio to a WAV file at the call rate (rtclite wrote raw PCM to `record.au`;
 * a WAV header makes the recording self-describing).
 *
 * @packageDocumentation
 */

import { checkSampleRate, DEFAULT_FRAME_FORMAT, type MediaSink } from '../port.js';
import { WavWriter } from '../wav.js';

/** Options for {@link WavFileSink.open}. */
export interface WavFileSinkOptions {
  /** Rate of the frames written, and of the file, in Hz (default 8000). */
  readonly sampleRate?: number;
}

/**
 * Streams frames into a WAV file through {@link WavWriter}: sizes are patched on `close()`, and a
 * recording cut short by a crash still reads back.
 *
 * @example
 * ```ts
 * const rec = await WavFileSink.open('call.wav', { sampleRate: 8000 });
 * rec.write(frame);
 * await rec.close();
 * ```
 */
export class WavFileSink implements MediaSink {
  readonly sampleRate: number;
  /** The file written. */
  readonly path: string;
  private readonly writer: WavWriter;
  private firstError: unknown;
  private closing: Promise<void> | undefined;

  private constructor(path: string, writer: WavWriter) {
    this.path = path;
    this.writer = writer;
    this.sampleRate = writer.sampleRate;
  }

  /**
   * Creates (or truncates) the file.
   *
   * @throws RangeError on a bad rate; rejects with the fs error when the file cannot be created.
   */
  static async open(path: string, options: WavFileSinkOptions = {}): Promise<WavFileSink> {
    const sampleRate = options.sampleRate ?? DEFAULT_FRAME_FORMAT.sampleRate;
    checkSampleRate(sampleRate);
    return new WavFileSink(path, await WavWriter.open(path, { sampleRate }));
  }

  /** Frames (samples) written so far. */
  get samples(): number {
    return this.writer.frames;
  }

  write(frame: Int16Array): void {
    if (this.closing !== undefined || this.firstError !== undefined) return;
    try {
      // WavWriter copies the frame and serialises the writes; the first failure is kept for close().
      this.writer.write(frame).catch((error: unknown) => {
        this.firstError ??= error;
      });
    } catch (error) {
      this.firstError ??= error;
    }
  }

  /**
   * Waits for pending writes, finalises the header and closes the file. Idempotent.
   *
   * @throws The first write error (rejection), or the fs error from finalising.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closing = this.writer.close().then(() => {
      if (this.firstError !== undefined) throw this.firstError;
    });
    return this.closing;
  }
}
