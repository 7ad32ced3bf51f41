/**
 * ITU-T G.722 7 kHz wideband audio at 64 kbit/s: sub-band ADPCM (SB-ADPCM).
 *
 * @remarks
 * The 16 kHz input is split by a 24-tap quadrature mirror filter (QMF) into a
 * 0–4 kHz low band and a 4–8 kHz high band, each at 8 kHz. The low band is coded with 6-bit
 * ADPCM, the high band with 2-bit ADPCM, and the two codes are packed into one octet per pair of
 * input samples: `IH(2) | IL(6)`, high band in the two most significant bits. Both ADPCM loops
 * use a pole-zero predictor (2 poles, 6 zeros) adapted by sign-sign LMS ("Block 4"). The
 * decoder mirrors the encoder's local decoder and recombines the bands with the receive QMF.
 * Comments name the functional blocks of the Recommendation's computational description
 * (SUBTRA, QUANTL, INVQAL, LOGSCL, SCALEL, UPPOL1/2, UPZERO, FILTEP, FILTEZ, PREDIC, …), so the
 * code can be read side by side with it.
 *
 * This implementation covers mode 1 (64 kbit/s) only; modes 2/3 (56/48 kbit/s, with
 * auxiliary data) are not used on RTP. Arithmetic follows the fixed-point description of the
 * Recommendation (16-bit saturating words, arithmetic right shifts), so it should interoperate
 * bit for bit with other implementations; it has not been run against the ITU test sequences.
 * All intermediate products fit in 31 bits, so plain JS numbers with `>>` reproduce the integer
 * arithmetic exactly.
 *
 * Scaling: G.722 specifies 14-bit uniform PCM in and out. voxlite works in 16-bit PCM, so the
 * transmit QMF output is shifted right by 14 (not 12), and the receive QMF by 11 (not 13): the
 * sub-band signals then use the 15-bit range the ADPCM blocks expect and the codec has unit gain.
 *
 * RTP quirk (RFC 3551 §4.5.2): G.722 is sampled at 16 000 Hz but its RTP clock rate is 8000
 * (an error in RFC 1890 kept for compatibility), so SDP says `a=rtpmap:9 G722/8000` and the
 * RTP timestamp advances by 160 per 20 ms frame of 320 audio samples. See {@link G722_RTP_CLOCK_RATE}.
 *
 * Delay: encoder plus decoder delay the signal by 22 samples at 16 kHz (1.375 ms), almost all of
 * it the two 24-tap QMFs; tests compensate for it before computing an SNR.
 *
 * @packageDocumentation
 */

/** Audio sampling rate of G.722 (50–7000 Hz audio, G.722 scope). */
export const G722_SAMPLE_RATE = 16_000;
/**
 * RTP clock rate of G.722 as signalled in SDP: 8000, not 16 000 (RFC 3551 §4.5.2). RTP
 * timestamps advance at half the audio sampling rate.
 */
export const G722_RTP_CLOCK_RATE = 8000;
/**
 * End-to-end delay of {@link G722Encoder} followed by {@link G722Decoder}, in 16 kHz samples:
 * the two 24-tap QMFs, with the sample pairing G.722 uses (measured by cross-correlation in the tests).
 */
export const G722_CODEC_DELAY = 22;

/**
 * QMF coefficients h0..h11 (G.722 QMF table, scaled by 2^13); the full 24-tap filter is symmetric,
 * h(23 - i) = h(i). They sum to 4096, so the 24 taps sum to 8192 = 2^13.
 */
const QMF = Int32Array.of(3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11);

/**
 * Low-band quantiser decision levels (G.722 6-bit quantiser table), in units of the scale
 * factor / 4096. Index 0 and 30–31 are unused.
 */
const Q6 = Int32Array.of(
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940,
  1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0,
);
/** 6-bit code for the quantiser interval found, negative differences (ILN). */
const ILN = Int32Array.of(
  0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
  10, 9, 8, 7, 6, 5, 4, 0,
);
/** 6-bit code for the quantiser interval found, positive differences (ILP). */
const ILP = Int32Array.of(
  0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39,
  38, 37, 36, 35, 34, 33, 32, 0,
);
/** Inverse quantiser output of the 4-bit truncated low-band code (QQ4 × 8). */
const QM4 = Int32Array.of(
  0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200,
  0,
);
/** Inverse quantiser output of the full 6-bit low-band code, decoder mode 1 (QQ6 × 8). */
const QM6 = Int32Array.of(
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232,
  -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776,
  -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280,
  11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776,
  2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
);
/** Maps the 4-bit low-band code to the magnitude index used by the log scale factor (RIL → IL4). */
const RL42 = Int32Array.of(0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0);
/** Low-band log scale factor multipliers W_L, indexed by IL4. */
const WL = Int32Array.of(-60, -30, 58, 172, 334, 538, 1198, 3042);
/** Antilog table for the scale factor, 2^(i/32) × 2048 (ILB). */
const ILB = Int32Array.of(
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
  2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
);
/** High-band inverse quantiser output (QQ2 × 8), indexed by the 2-bit code. */
const QM2 = Int32Array.of(-7408, -1616, 7408, 1616);
/** High-band log scale factor multipliers W_H, indexed via RH2. */
const WH = Int32Array.of(0, -214, 798);
/** Maps the 2-bit high-band code to the W_H index. */
const RH2 = Int32Array.of(2, 1, 2, 1);
/** High-band decision threshold: 564 × scale factor / 4096 (QUANTH). */
const Q2_THRESHOLD = 564;

/** Upper bounds of the log scale factors: 18432 low band, 22528 high band (LOGSCL/LOGSCH). */
const NB_MAX_LOW = 18432;
const NB_MAX_HIGH = 22528;

function sat16(value: number): number {
  return value > 32767 ? 32767 : value < -32768 ? -32768 : value;
}

/**
 * State of one ADPCM band (the Block 3 and Block 4 variables of G.722). Encoder and decoder keep
 * one each per band, and the two must evolve identically.
 *
 * @remarks
 * The short delay lines are unrolled into scalar fields (d1…d6, b1…b6, …): V8 keeps them as
 * small integers in the object, which is about twice as fast here as indexing typed arrays.
 * Predictor coefficients are Q14 (16384 = 1.0), as in the Recommendation.
 */
class AdpcmBand {
  /** Predicted signal s = sp + sz (PREDIC). */
  s = 0;
  /** Zero section output (FILTEZ). */
  sz = 0;
  /** Log scale factor (NBL / NBH). */
  nb = 0;
  /** Scale factor (DETL / DETH). */
  det: number;
  /** Reconstructed signal r(n-1), r(n-2). */
  r1 = 0;
  r2 = 0;
  /** Partial reconstruction p(n-1), p(n-2). */
  p1 = 0;
  p2 = 0;
  /** Pole coefficients. */
  a1 = 0;
  a2 = 0;
  /** Quantised differences d(n-1)…d(n-6). */
  d1 = 0;
  d2 = 0;
  d3 = 0;
  d4 = 0;
  d5 = 0;
  d6 = 0;
  /** Zero coefficients. */
  b1 = 0;
  b2 = 0;
  b3 = 0;
  b4 = 0;
  b5 = 0;
  b6 = 0;

  constructor(private readonly initialDet: number) {
    this.det = initialDet;
  }

  reset(): void {
    this.s = this.sz = this.nb = 0;
    this.det = this.initialDet;
    this.r1 = this.r2 = this.p1 = this.p2 = this.a1 = this.a2 = 0;
    this.d1 = this.d2 = this.d3 = this.d4 = this.d5 = this.d6 = 0;
    this.b1 = this.b2 = this.b3 = this.b4 = this.b5 = this.b6 = 0;
  }

  /**
   * LOGSCL/LOGSCH then SCALEL/SCALEH: leak the log scale factor by 127/128, add the multiplier
   * for this code, clamp, and convert back to a linear scale factor through ILB. `shiftBase` is
   * 8 for the low band and 10 for the high band (their different ranges).
   */
  adaptScale(multiplier: number, nbMax: number, shiftBase: number): void {
    let nb = ((this.nb * 127) >> 7) + multiplier;
    if (nb < 0) nb = 0;
    else if (nb > nbMax) nb = nbMax;
    this.nb = nb;
    const mantissa = ILB[(nb >> 6) & 31] as number;
    const shift = shiftBase - (nb >> 11);
    this.det = (shift < 0 ? mantissa << -shift : mantissa >> shift) << 2;
  }

  /**
   * Block 4: reconstruct, adapt the 2-pole and 6-zero predictor by sign-sign LMS, and compute
   * the next prediction. `dq` is the quantised difference from INVQAL/INVQAH.
   */
  predict(dq: number): void {
    // RECONS and PARREC
    const r0 = sat16(this.s + dq);
    const p0 = sat16(this.sz + dq);

    const sg0 = p0 >> 15;
    const sg1 = this.p1 >> 15;
    const sg2 = this.p2 >> 15;
    const a1 = this.a1;

    // UPPOL2: a2 leaks by 1 - 2^-7 and steps by ±2^-7 with sgn(p0)·sgn(p2), minus
    // 2^-7 · 4·a1 · sgn(p0)·sgn(p1); |a2| ≤ 0.75 keeps the poles stable.
    const t = sat16(a1 << 2);
    let f = sg0 === sg1 ? -t : t;
    if (f > 32767) f = 32767;
    let a2 = (f >> 7) + (sg0 === sg2 ? 128 : -128) + ((this.a2 * 32512) >> 15);
    if (a2 > 12288) a2 = 12288;
    else if (a2 < -12288) a2 = -12288;

    // UPPOL1: a1 leaks by 1 - 2^-8 and steps by ±3·2^-8; |a1| ≤ 1 - 2^-4 - a2 (stability triangle).
    let newA1 = sat16((sg0 === sg1 ? 192 : -192) + ((a1 * 32640) >> 15));
    const limit = sat16(15360 - a2);
    if (newA1 > limit) newA1 = limit;
    else if (newA1 < -limit) newA1 = -limit;

    // UPZERO: each b_i leaks by 1 - 2^-8 and, when dq ≠ 0, steps by ±2^-7 with sgn(dq)·sgn(d_i).
    const g = dq === 0 ? 0 : 128;
    const sgd = dq >> 15;
    const b1 = sat16((this.d1 >> 15 === sgd ? g : -g) + ((this.b1 * 32640) >> 15));
    const b2 = sat16((this.d2 >> 15 === sgd ? g : -g) + ((this.b2 * 32640) >> 15));
    const b3 = sat16((this.d3 >> 15 === sgd ? g : -g) + ((this.b3 * 32640) >> 15));
    const b4 = sat16((this.d4 >> 15 === sgd ? g : -g) + ((this.b4 * 32640) >> 15));
    const b5 = sat16((this.d5 >> 15 === sgd ? g : -g) + ((this.b5 * 32640) >> 15));
    const b6 = sat16((this.d6 >> 15 === sgd ? g : -g) + ((this.b6 * 32640) >> 15));

    // DELAYA
    this.d6 = this.d5;
    this.d5 = this.d4;
    this.d4 = this.d3;
    this.d3 = this.d2;
    this.d2 = this.d1;
    this.d1 = dq;
    this.b1 = b1;
    this.b2 = b2;
    this.b3 = b3;
    this.b4 = b4;
    this.b5 = b5;
    this.b6 = b6;
    this.r2 = this.r1;
    this.r1 = r0;
    this.p2 = this.p1;
    this.p1 = p0;
    this.a1 = newA1;
    this.a2 = a2;

    // FILTEP: pole section on the reconstructed signal.
    const sp = sat16(((newA1 * sat16(r0 * 2)) >> 15) + ((a2 * sat16(this.r2 * 2)) >> 15));

    // FILTEZ: zero section on the quantised differences.
    const sz = sat16(
      ((b1 * sat16(dq * 2)) >> 15) +
        ((b2 * sat16(this.d2 * 2)) >> 15) +
        ((b3 * sat16(this.d3 * 2)) >> 15) +
        ((b4 * sat16(this.d4 * 2)) >> 15) +
        ((b5 * sat16(this.d5 * 2)) >> 15) +
        ((b6 * sat16(this.d6 * 2)) >> 15),
    );
    this.sz = sz;

    // PREDIC
    this.s = sat16(sp + sz);
  }
}

function checkOutput<T extends Uint8Array | Int16Array>(out: T | undefined, length: number, make: (n: number) => T): T {
  if (out === undefined) return make(length);
  if (out.length < length) throw new RangeError(`output buffer too small: ${out.length} < ${length}`);
  return (out.length === length ? out : out.subarray(0, length)) as T;
}

/**
 * G.722 64 kbit/s encoder. Stateful: use one instance per direction of one call.
 *
 * @example
 * ```ts
 * const enc = new G722Encoder();
 * const payload = enc.encode(pcm16k); // 320 samples (20 ms) → 160 bytes
 * ```
 */
export class G722Encoder {
  /** Transmit QMF delay line, oldest first. */
  private readonly x = new Int32Array(24);
  private readonly low = new AdpcmBand(32); // DETL starts at 32 (reset state of G.722)
  private readonly high = new AdpcmBand(8); // DETH starts at 8

  /**
   * Encodes 16 kHz 16-bit PCM, two samples per output byte.
   *
   * @param pcm - Samples at 16 kHz; the length must be even (frames are whole sample pairs).
   * @param out - Optional destination with room for `pcm.length / 2` bytes.
   * @returns The G.722 octets (`out`, or a view of it, when given).
   * @throws RangeError if `pcm.length` is odd or `out` is too small.
   */
  encode(pcm: Int16Array, out?: Uint8Array): Uint8Array {
    if ((pcm.length & 1) !== 0) {
      throw new RangeError(`G.722 encodes sample pairs; got ${pcm.length} samples`);
    }
    const n = pcm.length >> 1;
    const dst = checkOutput(out, n, (len) => new Uint8Array(len));
    const x = this.x;
    const low = this.low;
    const high = this.high;
    for (let j = 0; j < n; j++) {
      // Transmit QMF: shift two samples in, and compute only the decimated outputs.
      for (let i = 0; i < 22; i++) x[i] = x[i + 2] as number;
      x[22] = pcm[2 * j] as number;
      x[23] = pcm[2 * j + 1] as number;
      let even = 0;
      let odd = 0;
      for (let i = 0; i < 12; i++) {
        odd += (x[2 * i] as number) * (QMF[i] as number);
        even += (x[2 * i + 1] as number) * (QMF[11 - i] as number);
      }
      const xl = (even + odd) >> 14;
      const xh = (even - odd) >> 14;

      // Low band: SUBTRA, QUANTL with the 6-bit quantiser.
      const el = sat16(xl - low.s);
      const mag = el >= 0 ? el : -(el + 1);
      const det = low.det;
      // QUANTL: the interval k (1–30) with level(k-1) ≤ mag < level(k); levels increase, so
      // binary search (5 steps instead of up to 29).
      let lo = 1;
      let hi = 30;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (mag < ((Q6[mid] as number) * det) >> 12) hi = mid;
        else lo = mid + 1;
      }
      const k = lo;
      const il = el < 0 ? (ILN[k] as number) : (ILP[k] as number);

      // INVQAL uses only the 4 most significant bits, so that the predictor is unaffected by
      // the bits modes 2/3 steal for auxiliary data (the embedded-coding property of G.722).
      const il4 = il >> 2;
      const dlow = (det * (QM4[il4] as number)) >> 15;
      low.adaptScale(WL[RL42[il4] as number] as number, NB_MAX_LOW, 8);
      low.predict(dlow);

      // High band: SUBTRA, QUANTH with the 2-bit quantiser.
      const eh = sat16(xh - high.s);
      const magH = eh >= 0 ? eh : -(eh + 1);
      const outer = magH >= (Q2_THRESHOLD * high.det) >> 12;
      // Codes: 3 / 2 for small / large positive, 1 / 0 for small / large negative.
      const ih = eh < 0 ? (outer ? 0 : 1) : outer ? 2 : 3;
      const dhigh = (high.det * (QM2[ih] as number)) >> 15;
      high.adaptScale(WH[RH2[ih] as number] as number, NB_MAX_HIGH, 10);
      high.predict(dhigh);

      dst[j] = (ih << 6) | il;
    }
    return dst;
  }

  /** Returns the encoder to its reset state, e.g. after a media restart. */
  reset(): void {
    this.x.fill(0);
    this.low.reset();
    this.high.reset();
  }
}

/**
 * G.722 64 kbit/s decoder (mode 1). Stateful: use one instance per received stream.
 */
export class G722Decoder {
  /** Receive QMF delay line, oldest first. */
  private readonly x = new Int32Array(24);
  private readonly low = new AdpcmBand(32);
  private readonly high = new AdpcmBand(8);

  /**
   * Decodes G.722 octets to 16 kHz 16-bit PCM, two samples per byte.
   *
   * @param payload - G.722 octets.
   * @param out - Optional destination with room for `payload.length * 2` samples.
   * @returns The samples (`out`, or a view of it, when given).
   * @throws RangeError if `out` is too small.
   */
  decode(payload: Uint8Array, out?: Int16Array): Int16Array {
    const n = payload.length;
    const dst = checkOutput(out, n * 2, (len) => new Int16Array(len));
    const x = this.x;
    const low = this.low;
    const high = this.high;
    for (let j = 0; j < n; j++) {
      const code = payload[j] as number;
      const il = code & 0x3f;
      const ih = code >> 6;

      // Low band, mode 1: the output uses all 6 bits (INVQBL, Table 13) while the predictor
      // is driven by the 4-bit truncated code exactly as in the encoder (INVQAL).
      const det = low.det;
      let rl = low.s + ((det * (QM6[il] as number)) >> 15);
      if (rl > 16383) rl = 16383;
      else if (rl < -16384) rl = -16384; // LIMIT
      const il4 = il >> 2;
      const dlow = (det * (QM4[il4] as number)) >> 15;
      low.adaptScale(WL[RL42[il4] as number] as number, NB_MAX_LOW, 8);
      low.predict(dlow);

      // High band.
      const dhigh = (high.det * (QM2[ih] as number)) >> 15;
      let rh = high.s + dhigh;
      if (rh > 16383) rh = 16383;
      else if (rh < -16384) rh = -16384;
      high.adaptScale(WH[RH2[ih] as number] as number, NB_MAX_HIGH, 10);
      high.predict(dhigh);

      // Receive QMF: interleave sum and difference, filter, and emit two samples.
      for (let i = 0; i < 22; i++) x[i] = x[i + 2] as number;
      x[22] = rl + rh;
      x[23] = rl - rh;
      let first = 0;
      let second = 0;
      for (let i = 0; i < 12; i++) {
        second += (x[2 * i] as number) * (QMF[i] as number);
        first += (x[2 * i + 1] as number) * (QMF[11 - i] as number);
      }
      dst[2 * j] = sat16(first >> 11);
      dst[2 * j + 1] = sat16(second >> 11);
    }
    return dst;
  }

  /** Returns the decoder to its reset state. */
  reset(): void {
    this.x.fill(0);
    this.low.reset();
    this.high.reset();
  }
}
