/**
 * In-band DTMF detection (ITU-T Q.23 frequencies, Q.24 receiver timing) with the Goertzel
 * algorithm.
 *
 * @remarks
 * The detector slides a 20 ms window (160 samples at 8 kHz) in 10 ms hops and measures the
 * eight DTMF frequencies with one Goertzel filter each (a single DFT bin at the exact
 * frequency, cheaper than an FFT when only eight bins matter). A window is a "hit" for a key
 * when:
 *
 * 1. the strongest row and the strongest column frequency are each above a minimum level;
 * 2. each is at least `minPeakMarginDb` above the other frequencies of its group (a single
 *    tone per group, not a chord or broadband sound);
 * 3. their level difference (twist) is within limits, the high group at most
 *    `maxHighOverLowDb` above the low group and at most `maxLowOverHighDb` below it;
 * 4. the two tones carry at least `minToneEnergyRatio` of the window's total energy. Speech
 *    and noise spread their energy over many frequencies and fail here.
 *
 * Debouncing: a key is reported once, when the same key has hit in `onWindows` consecutive
 * windows, and released after `offWindows` consecutive windows without it; only then can the same
 * key be reported again. With the defaults (3 and 2) this gives ITU-T Q.24-style timing, measured
 * over all alignments against the 10 ms hop: tones of 35 ms or more are always detected, 20 ms or
 * less never; a 40 ms pause always holds two whole silent windows, so 40 ms on / 40 ms off
 * dialling is resolved key by key. `onWindows: 2` trades short-burst rejection (25 ms tones then
 * pass) for more margin in heavy noise. A different key that persists replaces the current one
 * without a pause, and a window straddling two keys (which can mix their row and column into a
 * phantom third key) is never reported.
 *
 * Not done: second-harmonic checks (extra talk-off protection) and frequency-deviation tests
 * beyond what the 50 Hz Goertzel bandwidth gives.
 *
 * @packageDocumentation
 */

import { DTMF_COLUMN_FREQUENCIES, DTMF_KEYPAD, DTMF_ROW_FREQUENCIES, type DtmfKey } from './tone.js';

/** A detected key press. */
export interface DtmfDetection {
  /** The key. */
  readonly key: DtmfKey;
  /**
   * Index, counted from the first sample ever passed to the detector, of the start of the first
   * window in which the tone was seen (within one hop, 10 ms, of the tone's start).
   */
  readonly startSample: number;
}

/** Options for {@link DtmfDetector}. All levels are peak amplitudes relative to full scale. */
export interface DtmfDetectorOptions {
  /** Input sampling rate in Hz (default 8000). The window is 20 ms and the hop 10 ms at any rate. */
  readonly sampleRate?: number;
  /** Called once per key press, in order, from inside {@link DtmfDetector.process}. */
  readonly onDigit?: (detection: DtmfDetection) => void;
  /** Weakest tone component accepted, in dBFS peak (default -36). */
  readonly minLevelDbfs?: number;
  /** Required lead of each tone over the rest of its group, in dB (default 6). */
  readonly minPeakMarginDb?: number;
  /** Largest excess of the high-group tone over the low-group tone, in dB (default 6). */
  readonly maxHighOverLowDb?: number;
  /** Largest excess of the low-group tone over the high-group tone, in dB (default 8). */
  readonly maxLowOverHighDb?: number;
  /** Smallest share of window energy the two tones must carry, 0–1 (default 0.6). */
  readonly minToneEnergyRatio?: number;
  /** Consecutive hit windows needed to report a key (default 3). */
  readonly onWindows?: number;
  /** Consecutive windows without the key needed to release it (default 2). */
  readonly offWindows?: number;
}

/** Defaults for {@link DtmfDetectorOptions}, in one place. */
export const DTMF_DETECTOR_DEFAULTS = Object.freeze({
  sampleRate: 8000,
  minLevelDbfs: -36,
  minPeakMarginDb: 6,
  maxHighOverLowDb: 6,
  maxLowOverHighDb: 8,
  minToneEnergyRatio: 0.6,
  onWindows: 3,
  offWindows: 2,
});

const FREQUENCIES = [...DTMF_ROW_FREQUENCIES, ...DTMF_COLUMN_FREQUENCIES];

/**
 * Streaming DTMF detector. Feed it decoded audio in frames of any size; it reports each key press
 * once through `onDigit` and in the return value of {@link DtmfDetector.process}.
 *
 * @example
 * ```ts
 * const detector = new DtmfDetector({ onDigit: ({ key }) => console.log(key) });
 * detector.process(decodePcmu(rtpPayload));
 * ```
 */
export class DtmfDetector {
  private readonly window: number;
  private readonly hop: number;
  private readonly buffer: Float64Array;
  private fill: number;
  private samplesSeen = 0;

  private readonly coefficients = new Float64Array(8);
  private readonly amplitudes = new Float64Array(8);

  private readonly onDigit: ((detection: DtmfDetection) => void) | undefined;
  private readonly minAmplitude: number;
  private readonly peakMargin: number;
  private readonly maxHighOverLow: number;
  private readonly maxLowOverHigh: number;
  private readonly minEnergyRatio: number;
  private readonly onWindows: number;
  private readonly offWindows: number;

  private current: DtmfKey | null = null;
  private candidate: DtmfKey | null = null;
  private candidateCount = 0;
  private candidateStart = 0;
  private misses = 0;

  /**
   * @throws RangeError on a sample rate at which the window would be under 80 samples or the
   * highest DTMF frequency would not be below Nyquist, or on non-positive window counts.
   */
  constructor(options: DtmfDetectorOptions = {}) {
    const o = { ...DTMF_DETECTOR_DEFAULTS, ...stripUndefined(options) };
    if (!(o.sampleRate >= 4000) || !Number.isFinite(o.sampleRate)) {
      throw new RangeError(`DTMF detection needs a sample rate of at least 4000 Hz, got ${o.sampleRate}`);
    }
    if (!Number.isInteger(o.onWindows) || o.onWindows < 1 || !Number.isInteger(o.offWindows) || o.offWindows < 1) {
      throw new RangeError('onWindows and offWindows must be positive integers');
    }
    // 20 ms gives 50 Hz bins, enough to separate adjacent DTMF frequencies (≥ 73 Hz apart),
    // and the 10 ms hop lets a 40 ms tone dominate at least three overlapping windows.
    this.hop = Math.round(o.sampleRate / 100);
    this.window = 2 * this.hop;
    this.buffer = new Float64Array(this.window);
    this.fill = this.window - this.hop;
    FREQUENCIES.forEach((f, i) => {
      this.coefficients[i] = 2 * Math.cos((2 * Math.PI * f) / o.sampleRate);
    });
    this.onDigit = options.onDigit;
    this.minAmplitude = 32768 * 10 ** (o.minLevelDbfs / 20);
    this.peakMargin = 10 ** (o.minPeakMarginDb / 20);
    this.maxHighOverLow = 10 ** (o.maxHighOverLowDb / 20);
    this.maxLowOverHigh = 10 ** (o.maxLowOverHighDb / 20);
    this.minEnergyRatio = o.minToneEnergyRatio;
    this.onWindows = o.onWindows;
    this.offWindows = o.offWindows;
  }

  /**
   * Analyses more audio.
   *
   * @param pcm - The next samples of the stream, at the configured sample rate.
   * @returns The keys detected while processing these samples, in order (usually `''`).
   */
  process(pcm: ArrayLike<number>): string {
    let detected = '';
    const buffer = this.buffer;
    for (let i = 0; i < pcm.length; i++) {
      buffer[this.fill++] = pcm[i] as number;
      if (this.fill === this.window) {
        this.samplesSeen += this.hop;
        const key = this.step(this.classify());
        if (key !== null) detected += key;
        buffer.copyWithin(0, this.hop);
        this.fill = this.window - this.hop;
      }
    }
    return detected;
  }

  /** The key currently held down (reported and not yet released), if any. */
  get activeKey(): DtmfKey | null {
    return this.current;
  }

  /** Forgets all history, as for a new stream. */
  reset(): void {
    this.buffer.fill(0);
    this.fill = this.window - this.hop;
    this.samplesSeen = 0;
    this.current = null;
    this.candidate = null;
    this.candidateCount = 0;
    this.misses = 0;
  }

  /** Decides whether the current window holds a valid DTMF key (the four checks above). */
  private classify(): DtmfKey | null {
    const x = this.buffer;
    const n = this.window;
    let energy = 0;
    for (let i = 0; i < n; i++) energy += (x[i] as number) * (x[i] as number);
    if (energy === 0) return null;

    for (let f = 0; f < 8; f++) {
      const c = this.coefficients[f] as number;
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const s0 = (x[i] as number) + c * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      // |X|² of the bin; a sine of peak A over the window gives |X| ≈ A·n/2.
      const power = s1 * s1 + s2 * s2 - c * s1 * s2;
      this.amplitudes[f] = (2 * Math.sqrt(power > 0 ? power : 0)) / n;
    }

    const row = strongest(this.amplitudes, 0, this.peakMargin);
    const column = strongest(this.amplitudes, 4, this.peakMargin);
    if (row < 0 || column < 0) return null;
    const low = this.amplitudes[row] as number;
    const high = this.amplitudes[column + 4] as number;
    if (low < this.minAmplitude || high < this.minAmplitude) return null;
    if (high > low * this.maxHighOverLow || low > high * this.maxLowOverHigh) return null;
    // A sine of peak A carries A²/2 per sample.
    const toneEnergy = ((low * low + high * high) / 2) * n;
    if (toneEnergy < this.minEnergyRatio * energy) return null;
    return (DTMF_KEYPAD[row] as readonly DtmfKey[])[column] as DtmfKey;
  }

  /** Debouncing state machine; returns a key when a new press is confirmed. */
  private step(key: DtmfKey | null): DtmfKey | null {
    if (key !== null && key === this.candidate) {
      this.candidateCount++;
    } else {
      this.candidate = key;
      this.candidateCount = key === null ? 0 : 1;
      this.candidateStart = this.samplesSeen - this.window;
    }

    if (this.current !== null) {
      if (key === this.current) {
        this.misses = 0;
        return null;
      }
      if (++this.misses < this.offWindows) return null;
      this.current = null;
    }

    if (this.candidate !== null && this.candidateCount >= this.onWindows) {
      this.current = this.candidate;
      this.misses = 0;
      const detection: DtmfDetection = {
        key: this.current,
        startSample: Math.max(0, this.candidateStart),
      };
      this.onDigit?.(detection);
      return this.current;
    }
    return null;
  }
}

/**
 * Index (0–3, within the group starting at `offset`) of the strongest frequency if it leads all
 * others in the group by `margin` (a linear amplitude ratio), else -1.
 */
function strongest(amplitudes: Float64Array, offset: number, margin: number): number {
  let best = 0;
  for (let i = 1; i < 4; i++) {
    if ((amplitudes[offset + i] as number) > (amplitudes[offset + best] as number)) best = i;
  }
  const peak = amplitudes[offset + best] as number;
  for (let i = 0; i < 4; i++) {
    if (i !== best && (amplitudes[offset + i] as number) * margin > peak) return -1;
  }
  return best;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
