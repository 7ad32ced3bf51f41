/**
 * ITU-T G.711 companding: PCMU (μ-law) and PCMA (A-law), 8-bit codes for 16-bit linear PCM.
 *
 * @remarks
 * G.711 itself is specified on 14-bit (μ-law) and 13-bit (A-law) linear samples; voxlite works in
 * 16-bit PCM, so the scalar functions below scale by 4 (μ-law) and 8 (A-law) at the edges.
 * The least significant 2 (μ-law) or 3 (A-law) bits of a 16-bit sample never influence the code,
 * which is what lets the encoder be one table lookup indexed by `sample >> 2` or `sample >> 3`
 * (16 KiB and 8 KiB, built once at module load from the scalar reference functions). Decoding is
 * a 256-entry table. Both directions are symmetric in the one's-complement sense the standard uses:
 * `x` and `-x - 1` give codes that differ only in the sign bit. This is what the ITU-T G.191
 * software tools library does; the widespread Sun-derived code (used by sox, among others) negates
 * instead, and so picks the neighbouring code for a negative sample that falls exactly on a
 * decision threshold. Decoded values are identical.
 *
 * RTP: PCMU is static payload type 0, PCMA is 8, both 8000 Hz (RFC 3551 §4.5.14, Table 4).
 *
 * @packageDocumentation
 */

/** μ-law bias on the 16-bit scale: 33 on the 14-bit scale of G.711 Table 2a, times 4. */
const ULAW_BIAS = 0x84;
/** Largest magnitude that, once biased, still fits the top segment (bias + clip = 2^15 - 1). */
const ULAW_CLIP = 32635;

/**
 * Number of the highest set bit (0-based) of a positive integer that is at most 2^31 - 1.
 * `Math.clz32` compiles to a single instruction, cheaper than a segment search loop.
 */
function topBit(value: number): number {
  return 31 - Math.clz32(value);
}

/**
 * Encodes one 16-bit linear sample to a μ-law code (ITU-T G.711 §3, Table 2a).
 *
 * @remarks
 * This is the scalar reference the lookup table is built from; prefer {@link encodePcmu} for
 * buffers. The code is the complement of sign(1 bit, 1 = positive) | segment(3) | step(4).
 *
 * @param sample - Linear sample; values outside the int16 range are clamped.
 * @returns The μ-law byte (0x00–0xFF).
 */
export function linearToUlaw(sample: number): number {
  let magnitude: number;
  let mask: number;
  if (sample >= 0) {
    magnitude = sample;
    mask = 0xff;
  } else {
    // One's-complement magnitude: -1 maps to the "negative zero" code 0x7F (G.711 Table 2a).
    magnitude = -sample - 1;
    mask = 0x7f;
  }
  if (magnitude > ULAW_CLIP) magnitude = ULAW_CLIP;
  magnitude += ULAW_BIAS;
  // With the bias added, segment n covers [2^(n+7), 2^(n+8)) on the 16-bit scale.
  const segment = topBit(magnitude) - 7;
  const step = (magnitude >> (segment + 3)) & 0x0f;
  return ((segment << 4) | step) ^ mask;
}

/**
 * Decodes one μ-law code to a 16-bit linear sample (ITU-T G.711 Table 2a decoder output values).
 *
 * @param code - μ-law byte; only the low 8 bits are used.
 * @returns The reconstruction value, in [-32124, 32124].
 */
export function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  // Reconstruction sits at the middle of each step: (step + 0.5) << segment, biased.
  const magnitude = (((u & 0x0f) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);
  return (u & 0x80) !== 0 ? ULAW_BIAS - magnitude : magnitude - ULAW_BIAS;
}

/**
 * Encodes one 16-bit linear sample to an A-law code (ITU-T G.711 §2, Table 1a).
 *
 * @remarks
 * Scalar reference; prefer {@link encodePcma} for buffers. Even bits are inverted on the line
 * (the 0x55 mask), as G.711 §2 requires, so silence is 0xD5 rather than 0x80.
 *
 * @param sample - Linear sample; values outside the int16 range are clamped.
 * @returns The A-law byte (0x00–0xFF).
 */
export function linearToAlaw(sample: number): number {
  let magnitude: number;
  let mask: number;
  if (sample >= 0) {
    magnitude = sample;
    mask = 0xd5; // sign bit 1 = positive, plus the even-bit inversion
  } else {
    magnitude = -sample - 1;
    mask = 0x55;
  }
  if (magnitude > 0x7fff) magnitude = 0x7fff;
  // Segments 0 and 1 share a step size (A-law's linear segment around zero); segment n ≥ 1
  // covers [2^(n+7), 2^(n+8)) on the 16-bit scale.
  const segment = topBit(magnitude | 0xff) - 7;
  const step = (magnitude >> (segment === 0 ? 4 : segment + 3)) & 0x0f;
  return ((segment << 4) | step) ^ mask;
}

/**
 * Decodes one A-law code to a 16-bit linear sample (ITU-T G.711 Table 1a decoder output values).
 *
 * @param code - A-law byte; only the low 8 bits are used.
 * @returns The reconstruction value, in [-32256, 32256].
 */
export function alawToLinear(code: number): number {
  const a = (code ^ 0x55) & 0xff;
  const segment = (a & 0x70) >> 4;
  let magnitude = (a & 0x0f) << 4;
  // Middle of the step: +8 in the linear segment, +0x108 (implicit leading one + half step) above.
  magnitude = segment === 0 ? magnitude + 8 : (magnitude + 0x108) << (segment - 1);
  return (a & 0x80) !== 0 ? magnitude : -magnitude;
}

function buildEncodeTable(size: number, shift: number, encode: (s: number) => number): Uint8Array {
  const table = new Uint8Array(size);
  const unused = 32 - topBit(size);
  for (let i = 0; i < size; i++) {
    // Index i holds the top bits of a sample; sign-extend it back to a representative sample.
    const sample = ((i << unused) >> unused) << shift;
    table[i] = encode(sample);
  }
  return table;
}

function buildDecodeTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let code = 0; code < 256; code++) table[code] = decode(code);
  return table;
}

/** μ-law codes indexed by `(sample >> 2) & 0x3fff`. */
const ULAW_ENCODE = buildEncodeTable(1 << 14, 2, linearToUlaw);
/** A-law codes indexed by `(sample >> 3) & 0x1fff`. */
const ALAW_ENCODE = buildEncodeTable(1 << 13, 3, linearToAlaw);
const ULAW_DECODE = buildDecodeTable(ulawToLinear);
const ALAW_DECODE = buildDecodeTable(alawToLinear);

function outputBytes(length: number, out: Uint8Array | undefined): Uint8Array {
  if (out === undefined) return new Uint8Array(length);
  if (out.length < length) {
    throw new RangeError(`output buffer too small: ${out.length} < ${length}`);
  }
  return out.length === length ? out : out.subarray(0, length);
}

function outputSamples(length: number, out: Int16Array | undefined): Int16Array {
  if (out === undefined) return new Int16Array(length);
  if (out.length < length) {
    throw new RangeError(`output buffer too small: ${out.length} < ${length}`);
  }
  return out.length === length ? out : out.subarray(0, length);
}

/**
 * Encodes 16-bit PCM to μ-law (PCMU), one byte per sample.
 *
 * @param pcm - Linear samples.
 * @param out - Optional destination (reused to avoid allocation per frame); must hold `pcm.length` bytes.
 * @returns The encoded bytes (`out` itself, or a view of its first `pcm.length` bytes, when given).
 * @throws RangeError if `out` is too small.
 */
export function encodePcmu(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  const n = pcm.length;
  const dst = outputBytes(n, out);
  for (let i = 0; i < n; i++) dst[i] = ULAW_ENCODE[((pcm[i] as number) >> 2) & 0x3fff] as number;
  return dst;
}

/**
 * Decodes μ-law (PCMU) bytes to 16-bit PCM.
 *
 * @param payload - μ-law bytes, one per sample.
 * @param out - Optional destination; must hold `payload.length` samples.
 * @returns The samples (`out`, or a view of it, when given).
 * @throws RangeError if `out` is too small.
 */
export function decodePcmu(payload: Uint8Array, out?: Int16Array): Int16Array {
  const n = payload.length;
  const dst = outputSamples(n, out);
  for (let i = 0; i < n; i++) dst[i] = ULAW_DECODE[payload[i] as number] as number;
  return dst;
}

/**
 * Encodes 16-bit PCM to A-law (PCMA), one byte per sample.
 *
 * @param pcm - Linear samples.
 * @param out - Optional destination; must hold `pcm.length` bytes.
 * @returns The encoded bytes (`out`, or a view of it, when given).
 * @throws RangeError if `out` is too small.
 */
export function encodePcma(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  const n = pcm.length;
  const dst = outputBytes(n, out);
  for (let i = 0; i < n; i++) dst[i] = ALAW_ENCODE[((pcm[i] as number) >> 3) & 0x1fff] as number;
  return dst;
}

/**
 * Decodes A-law (PCMA) bytes to 16-bit PCM.
 *
 * @param payload - A-law bytes, one per sample.
 * @param out - Optional destination; must hold `payload.length` samples.
 * @returns The samples (`out`, or a view of it, when given).
 * @throws RangeError if `out` is too small.
 */
export function decodePcma(payload: Uint8Array, out?: Int16Array): Int16Array {
  const n = payload.length;
  const dst = outputSamples(n, out);
  for (let i = 0; i < n; i++) dst[i] = ALAW_DECODE[payload[i] as number] as number;
  return dst;
}

/** μ-law code of digital silence (positive zero). */
export const PCMU_SILENCE = 0xff;
/** A-law code of digital silence (positive zero, even bits inverted). */
export const PCMA_SILENCE = 0xd5;
