/**
 * A WAV file as a {@link MediaSource}: prompts, announcements and test signals.
 *
 * @packageDocumentation
 */

import { readFile } from 'node:fs/promises';
import { readWav, type PcmAudio } from '../wav.js';
import { PcmSource, type PcmSourceOptions } from './pcm.js';

/** Options for {@link WavFileSource.open}. */
export type WavFileSourceOptions = PcmSourceOptions;

/**
 * Plays a WAV file of any rate and channel count (PCM 8–32 bit, float, G.711; see
 * {@link readWav}), mixed to mono and resampled to the call rate.
 *
 * @example
 * ```ts
 * const prompt = await WavFileSource.open('welcome.wav', { sampleRate: 8000, loop: true });
 * const frame = prompt.read(); // 160 samples
 * ```
 */
export class WavFileSource extends PcmSource {
  /** The file played. */
  readonly path: string;

  private constructor(path: string, audio: PcmAudio, options: WavFileSourceOptions) {
    super(audio, options);
    this.path = path;
  }

  /**
   * Reads and converts the whole file.
   *
   * @throws RangeError on a bad format option.
   * @throws WavFormatError (as a rejection) when the file is not a readable WAV file; the fs
   * error when it cannot be read.
   */
  static async open(path: string, options: WavFileSourceOptions = {}): Promise<WavFileSource> {
    const audio = readWav(await readFile(path));
    return new WavFileSource(path, audio, options);
  }
}
