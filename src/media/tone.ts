/**
 * Tone and silence generators: single and multi-frequency sines that stay phase-continuous
 * across frames, DTMF key tones (ITU-T Q.23) and DTMF digit sequences.
 *
 * @packageDocumentation
 */

/** A DTMF key: digits, star, pound and the A–D column (ITU-T Q.23). */
export type DtmfKey =
  | '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9'
  | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** DTMF row (low group) frequencies in Hz (ITU-T Q.23). */
export const DTMF_ROW_FREQUENCIES = Object.freeze([697, 770, 852, 941] as const);
/** DTMF column (high group) frequencies in Hz (ITU-T Q.23). */
export const DTMF_COLUMN_FREQUENCIES = Object.freeze([1209, 1336, 1477, 1633] as const);

/** Keys laid out as on the keypad: `DTMF_KEYPAD[row][column]` (ITU-T Q.23 keypad layout). */
export const DTMF_KEYPAD: readonly (readonly DtmfKey[])[] = Object.freeze([
  Object.freeze(['1', '2', '3', 'A'] as const),
  Object.freeze(['4', '5', '6', 'B'] as const),
  Object.freeze(['7', '8', '9', 'C'] as const),
  Object.freeze(['*', '0', '#', 'D'] as const),
]);

/**
 * The (low, high) frequency pair of each DTMF key, in Hz.
 */
export const DTMF_FREQUENCIES: Readonly<Record<DtmfKey, readonly [low: number, high: number]>> =
  (() => {
    const table: Partial<Record<DtmfKey, readonly [number, number]>> = {};
    DTMF_KEYPAD.forEach((keys, row) => {
      keys.forEach((key, column) => {
        table[key] = Object.freeze([
          DTMF_ROW_FREQUENCIES[row] as number,
          DTMF_COLUMN_FREQUENCIES[column] as number,
        ] as const);
      });
    });
    return Object.freeze(table as Record<DtmfKey, readonly [number, number]>);
  })();

/** Whether `value` is a DTMF key character (case-sensitive: `A`–`D` are upper case). */
export function isDtmfKey(value: string): value is DtmfKey {
  return value.length === 1 && Object.hasOwn(DTMF_FREQUENCIES, value);
}

/** Options for {@link ToneGenerator}. */
export interface ToneOptions {
  /** Output sampling rate, in Hz. */
  readonly sampleRate: number;
  /** Component frequencies, in Hz (one for a pure tone, two for DTMF or dial tone, …). */
  readonly frequencies: readonly number[];
  /**
   * Peak amplitude of each component as a fraction of full scale, one value for all or one per
   * frequency (default 0.25, i.e. -12 dBFS peak; two components then peak at -6 dBFS).
   * The sum is saturated to 16 bits, never wrapped.
   */
  readonly amplitude?: number | readonly number[];
}

/** Default per-component peak amplitude (fraction of full scale). */
export const DEFAULT_TONE_AMPLITUDE = 0.25;

/**
 * A sum of sines that continues where it left off: consecutive {@link ToneGenerator.generate}
 * calls produce the same samples as one long call, so 20 ms frames have no phase clicks.
 *
 * @example
 * ```ts
 * const ringback = new ToneGenerator({ sampleRate: 8000, frequencies: [440, 480] });
 * const frame = ringback.generate(160);
 * ```
 */
export class ToneGenerator {
  /** Output sampling rate, in Hz. */
  readonly sampleRate: number;
  private readonly increments: Float64Array;
  private readonly amplitudes: Float64Array;
  private readonly phases: Float64Array;

  /**
   * @throws RangeError on a non-positive sample rate, a frequency that is negative or at/above
   * Nyquist, a negative amplitude, or an amplitude list whose length differs from `frequencies`.
   */
  constructor(options: ToneOptions) {
    const { sampleRate, frequencies } = options;
    if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
      throw new RangeError(`bad sample rate: ${sampleRate}`);
    }
    const amplitude = options.amplitude ?? DEFAULT_TONE_AMPLITUDE;
    if (typeof amplitude !== 'number' && amplitude.length !== frequencies.length) {
      throw new RangeError('amplitude list must match the frequency list');
    }
    this.sampleRate = sampleRate;
    this.increments = new Float64Array(frequencies.length);
    this.amplitudes = new Float64Array(frequencies.length);
    this.phases = new Float64Array(frequencies.length);
    frequencies.forEach((frequency, i) => {
      if (!(frequency >= 0) || frequency >= sampleRate / 2) {
        throw new RangeError(`frequency ${frequency} Hz is outside [0, ${sampleRate / 2}) Hz`);
      }
      const a = typeof amplitude === 'number' ? amplitude : (amplitude[i] as number);
      if (!(a >= 0)) throw new RangeError(`bad amplitude: ${a}`);
      this.increments[i] = (2 * Math.PI * frequency) / sampleRate;
      this.amplitudes[i] = a * 32767;
    });
  }

  /**
   * Produces the next `count` samples.
   *
   * @param out - Optional destination (reused across frames); must hold `count` samples.
   * @returns The samples (`out`, or a view of it, when given).
   * @throws RangeError if `count` is negative or `out` is too small.
   */
  generate(count: number, out?: Int16Array): Int16Array {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`bad sample count: ${count}`);
    let dst: Int16Array;
    if (out === undefined) dst = new Int16Array(count);
    else if (out.length < count) throw new RangeError(`output buffer too small: ${out.length} < ${count}`);
    else dst = out.length === count ? out : out.subarray(0, count);
    dst.fill(0);
    const components = this.phases.length;
    if (components === 1) {
      // The common pure-tone case, without the inner loop.
      const a = this.amplitudes[0] as number;
      const step = this.increments[0] as number;
      const phase = this.phases[0] as number;
      for (let i = 0; i < count; i++) dst[i] = Math.round(a * Math.sin(phase + i * step));
    } else if (components > 1) {
      for (let i = 0; i < count; i++) {
        let v = 0;
        for (let c = 0; c < components; c++) {
          v += (this.amplitudes[c] as number) * Math.sin((this.phases[c] as number) + i * (this.increments[c] as number));
        }
        // Int16Array stores wrap; saturate instead.
        dst[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
      }
    }
    // Phase as start + i·step (not accumulated per sample) keeps rounding error from drifting;
    // wrapping once per call keeps the argument of sin small.
    for (let c = 0; c < components; c++) {
      const next = (this.phases[c] as number) + count * (this.increments[c] as number);
      this.phases[c] = next % (2 * Math.PI);
    }
    return dst;
  }

  /** Restarts every component at phase 0. */
  reset(): void {
    this.phases.fill(0);
  }
}

/** Options for {@link createDtmfTone}. */
export interface DtmfToneOptions {
  /** Output sampling rate, in Hz (default 8000). */
  readonly sampleRate?: number;
  /** Peak amplitude of the low-group component, fraction of full scale (default 0.25). */
  readonly amplitude?: number;
  /**
   * Level of the high-group component relative to the low group, in dB (default 0). Real
   * senders often transmit the high group 1–3 dB louder to offset line loss at higher frequencies.
   */
  readonly twistDb?: number;
}

/**
 * Makes a phase-continuous generator for one DTMF key.
 *
 * @throws RangeError for a character that is not a DTMF key.
 */
export function createDtmfTone(key: string, options: DtmfToneOptions = {}): ToneGenerator {
  if (!isDtmfKey(key)) throw new RangeError(`not a DTMF key: ${JSON.stringify(key)}`);
  const [low, high] = DTMF_FREQUENCIES[key];
  const amplitude = options.amplitude ?? DEFAULT_TONE_AMPLITUDE;
  return new ToneGenerator({
    sampleRate: options.sampleRate ?? 8000,
    frequencies: [low, high],
    amplitude: [amplitude, amplitude * 10 ** ((options.twistDb ?? 0) / 20)],
  });
}

/** Options for {@link generateDtmf}. */
export interface DtmfSequenceOptions extends DtmfToneOptions {
  /** Tone duration per key, in ms (default 80; ITU-T Q.24 receivers need at least 40). */
  readonly onMs?: number;
  /** Pause after each key, in ms (default 60; receivers need at least 40). */
  readonly offMs?: number;
}

/**
 * Renders a string of DTMF keys as in-band audio: each key's tone for `onMs`, then `offMs` of
 * silence.
 *
 * @throws RangeError if `digits` contains a character that is not a DTMF key.
 */
export function generateDtmf(digits: string, options: DtmfSequenceOptions = {}): Int16Array {
  const sampleRate = options.sampleRate ?? 8000;
  const on = Math.round(((options.onMs ?? 80) * sampleRate) / 1000);
  const off = Math.round(((options.offMs ?? 60) * sampleRate) / 1000);
  const out = new Int16Array(digits.length * (on + off));
  for (let i = 0; i < digits.length; i++) {
    const tone = createDtmfTone(digits[i] as string, options);
    tone.generate(on, out.subarray(i * (on + off), i * (on + off) + on));
  }
  return out;
}

/**
 * Returns `count` samples of digital silence.
 *
 * @param out - Optional destination to zero instead of allocating.
 * @throws RangeError if `count` is negative or `out` is too small.
 */
export function silence(count: number, out?: Int16Array): Int16Array {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`bad sample count: ${count}`);
  if (out === undefined) return new Int16Array(count);
  if (out.length < count) throw new RangeError(`output buffer too small: ${out.length} < ${count}`);
  const dst = out.length === count ? out : out.subarray(0, count);
  dst.fill(0);
  return dst;
}
