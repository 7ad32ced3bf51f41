/**
 * Signal measurements for tests and diagnostics: RMS level, normalised cross-correlation with a
 * lag search, SNR after alignment, and single-frequency level (Goertzel).
 *
 * @remarks
 * These work on any numeric array (Int16Array PCM, Float32Array, plain arrays) and allocate
 * nothing but their result. They are O(n · lags), meant for tests and offline checks, not for
 * the per-packet path.
 *
 * @packageDocumentation
 */

/** Read-only numeric sample sequence (Int16Array, Float32Array, number[] …). */
export type Samples = ArrayLike<number>;

/** Full-scale amplitude of 16-bit PCM, the 0 dBFS reference used here. */
export const FULL_SCALE = 32768;

/**
 * Root mean square of `samples[start .. end)`.
 *
 * @returns 0 for an empty range.
 */
export function rms(samples: Samples, start = 0, end = samples.length): number {
  const n = end - start;
  if (n <= 0) return 0;
  let sum = 0;
  for (let i = start; i < end; i++) {
    const v = samples[i] as number;
    sum += v * v;
  }
  return Math.sqrt(sum / n);
}

/**
 * RMS level in dB relative to a full-scale 16-bit square wave (so a full-scale sine is -3.01).
 *
 * @returns `-Infinity` for digital silence.
 */
export function rmsDbfs(samples: Samples, start = 0, end = samples.length): number {
  return 20 * Math.log10(rms(samples, start, end) / FULL_SCALE);
}

/** Converts a linear amplitude ratio to decibels. */
export function toDb(ratio: number): number {
  return 20 * Math.log10(ratio);
}

/** Result of {@link bestLag}. */
export interface Alignment {
  /**
   * Shift that best aligns `signal` with `reference`: `signal[i + lag]` corresponds to
   * `reference[i]`. Positive when `signal` is delayed.
   */
  readonly lag: number;
  /** Normalised cross-correlation at that lag, in [-1, 1]. */
  readonly correlation: number;
}

/**
 * Normalised cross-correlation of `reference[i]` with `signal[i + lag]` over the overlap.
 *
 * @returns A value in [-1, 1]; 0 when either side has no energy in the overlap.
 */
export function normalizedCorrelation(reference: Samples, signal: Samples, lag: number): number {
  const start = lag < 0 ? -lag : 0;
  const end = Math.min(reference.length, signal.length - lag);
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = start; i < end; i++) {
    const x = reference[i] as number;
    const y = signal[i + lag] as number;
    xy += x * y;
    xx += x * x;
    yy += y * y;
  }
  const denominator = Math.sqrt(xx * yy);
  return denominator === 0 ? 0 : xy / denominator;
}

/**
 * Finds the lag in `[-maxLag, maxLag]` that maximises the normalised cross-correlation.
 *
 * @remarks
 * For a periodic signal every multiple of the period correlates almost equally well; the
 * smallest |lag| wins ties (within 1e-9), so pass a `maxLag` below half a period when the true
 * delay is known to be small, or use a non-periodic test signal (chirp, noise).
 *
 * @param maxLag - Largest shift tried either way (default 64).
 * @throws RangeError if `maxLag` is negative or not an integer.
 */
export function bestLag(reference: Samples, signal: Samples, maxLag = 64): Alignment {
  if (!Number.isInteger(maxLag) || maxLag < 0) throw new RangeError(`bad maxLag: ${maxLag}`);
  let lag = 0;
  let correlation = normalizedCorrelation(reference, signal, 0);
  // Outward from 0 so that, on ties, the smallest shift wins.
  for (let k = 1; k <= 2 * maxLag; k++) {
    const candidate = (k & 1) === 1 ? (k + 1) >> 1 : -(k >> 1);
    const c = normalizedCorrelation(reference, signal, candidate);
    if (c > correlation + 1e-9) {
      correlation = c;
      lag = candidate;
    }
  }
  return { lag, correlation };
}

/** Options for {@link snrDb}. */
export interface SnrOptions {
  /** Largest alignment shift searched, in samples (default 64; 0 disables alignment). */
  readonly maxLag?: number;
  /** Use this lag instead of searching (e.g. a codec's known delay). */
  readonly lag?: number;
  /** Reference samples to skip at the start, e.g. while an adaptive codec settles (default 0). */
  readonly skip?: number;
}

/**
 * Signal-to-noise ratio in dB of `signal` against `reference`, after aligning them: the energy of
 * the reference over the energy of the difference, on the overlapping part. No gain is fitted, so
 * a level error counts as noise.
 *
 * @returns `Infinity` when the two are identical on the overlap.
 */
export function snrDb(reference: Samples, signal: Samples, options: SnrOptions = {}): number {
  const lag = options.lag ?? bestLag(reference, signal, options.maxLag ?? 64).lag;
  const start = Math.max(options.skip ?? 0, lag < 0 ? -lag : 0);
  const end = Math.min(reference.length, signal.length - lag);
  let s = 0;
  let e = 0;
  for (let i = start; i < end; i++) {
    const x = reference[i] as number;
    const d = x - (signal[i + lag] as number);
    s += x * x;
    e += d * d;
  }
  return 10 * Math.log10(s / e);
}

/**
 * Amplitude of the `frequency` component of `samples` (Goertzel, rectangular window): for a pure
 * sine of peak amplitude A spanning many periods, returns ≈ A.
 *
 * @param sampleRate - Sampling rate of `samples`, in Hz.
 */
export function toneAmplitude(
  samples: Samples,
  frequency: number,
  sampleRate: number,
  start = 0,
  end = samples.length,
): number {
  const n = end - start;
  if (n <= 0) return 0;
  const w = (2 * Math.PI * frequency) / sampleRate;
  const coefficient = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) {
    const s0 = (samples[i] as number) + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  // |X(w)|² from the last two states; a sine of amplitude A gives |X| ≈ A·n/2.
  const power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  return (2 * Math.sqrt(Math.max(power, 0))) / n;
}
