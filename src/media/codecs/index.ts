/**
 * Audio codecs for RTP: a small descriptor interface, per-call encoder/decoder state, and a
 * registry keyed by the SDP encoding name.
 *
 * @remarks
 * A {@link Codec} is an immutable, shareable description (names, rates, static payload type). The
 * work happens in {@link CodecEncoder} / {@link CodecDecoder} objects made per call and per
 * direction, because G.722 carries ADPCM predictor state from one frame to the next; G.711 is
 * stateless, and its factories hand out a shared stateless object.
 *
 * Opus (RFC 7587) is deliberately not here yet: it needs a native or WASM libopus binding, which
 * this dependency-free pure-TypeScript module does not take on. When it is added, it will be a
 * `Codec` with `clockRate` 48000 and a dynamic payload type, registered under `'opus'`.
 *
 * @packageDocumentation
 */

import { decodePcma, decodePcmu, encodePcma, encodePcmu } from './g711.js';
import { G722Decoder, G722Encoder, G722_RTP_CLOCK_RATE, G722_SAMPLE_RATE } from './g722.js';

/** Encoding names voxlite implements, spelled as in SDP `a=rtpmap` (RFC 3551 Table 4). */
export type CodecName = 'PCMU' | 'PCMA' | 'G722';

/** Encoder state for one outgoing stream. */
export interface CodecEncoder {
  /**
   * Encodes one frame of 16-bit mono PCM at the codec's {@link Codec.sampleRate}.
   *
   * @param pcm - The samples; for G.722 an even number of them.
   * @param out - Optional destination reused across frames to avoid an allocation per packet.
   * @returns The RTP payload (`out`, or a view of it, when given).
   * @throws RangeError if `out` is too small or the frame length does not fit the codec.
   */
  encode(pcm: Int16Array, out?: Uint8Array): Uint8Array;
  /** Forgets any inter-frame state (no-op for stateless codecs). */
  reset(): void;
}

/** Decoder state for one incoming stream. */
export interface CodecDecoder {
  /**
   * Decodes one RTP payload to 16-bit mono PCM at the codec's {@link Codec.sampleRate}.
   *
   * @param payload - The RTP payload.
   * @param out - Optional destination reused across frames.
   * @returns The samples (`out`, or a view of it, when given).
   * @throws RangeError if `out` is too small.
   */
  decode(payload: Uint8Array, out?: Int16Array): Int16Array;
  /** Forgets any inter-frame state (no-op for stateless codecs). */
  reset(): void;
}

/** An audio codec as SDP and RTP see it. */
export interface Codec {
  /** SDP encoding name. */
  readonly name: CodecName;
  /** RTP timestamp clock rate, as in `a=rtpmap` (8000 for G.722, RFC 3551 §4.5.2). */
  readonly clockRate: number;
  /** Rate of the PCM the encoder takes and the decoder returns, in Hz. */
  readonly sampleRate: number;
  /** Audio channels; all current codecs are mono. */
  readonly channels: 1;
  /** Static RTP payload type (RFC 3551 Table 4), when the codec has one. */
  readonly payloadType?: number;
  /**
   * Number of PCM samples (at {@link Codec.sampleRate}) in a frame of `ptimeMs` milliseconds.
   * @throws RangeError if `ptimeMs` does not give a whole number of samples (or pairs for G.722).
   */
  frameSamples(ptimeMs: number): number;
  /**
   * RTP timestamp increment for a frame of `ptimeMs` milliseconds (at {@link Codec.clockRate};
   * for G.722 half of {@link Codec.frameSamples}).
   */
  timestampIncrement(ptimeMs: number): number;
  /** Makes encoder state for one outgoing stream. */
  createEncoder(): CodecEncoder;
  /** Makes decoder state for one incoming stream. */
  createDecoder(): CodecDecoder;
}

function samplesFor(rate: number, ptimeMs: number, multipleOf: number, name: string): number {
  const samples = (rate * ptimeMs) / 1000;
  if (!(ptimeMs > 0) || !Number.isInteger(samples) || samples % multipleOf !== 0) {
    throw new RangeError(`${name}: ptime ${ptimeMs} ms is not a whole frame`);
  }
  return samples;
}

const PCMU_ENCODER: CodecEncoder = Object.freeze({ encode: encodePcmu, reset: () => undefined });
const PCMU_DECODER: CodecDecoder = Object.freeze({ decode: decodePcmu, reset: () => undefined });
const PCMA_ENCODER: CodecEncoder = Object.freeze({ encode: encodePcma, reset: () => undefined });
const PCMA_DECODER: CodecDecoder = Object.freeze({ decode: decodePcma, reset: () => undefined });

/** PCMU: G.711 μ-law, static payload type 0, 8000 Hz (RFC 3551 §4.5.14). */
export const PCMU: Codec = Object.freeze({
  name: 'PCMU',
  clockRate: 8000,
  sampleRate: 8000,
  channels: 1,
  payloadType: 0,
  frameSamples: (ptimeMs: number) => samplesFor(8000, ptimeMs, 1, 'PCMU'),
  timestampIncrement: (ptimeMs: number) => samplesFor(8000, ptimeMs, 1, 'PCMU'),
  createEncoder: () => PCMU_ENCODER,
  createDecoder: () => PCMU_DECODER,
});

/** PCMA: G.711 A-law, static payload type 8, 8000 Hz (RFC 3551 §4.5.14). */
export const PCMA: Codec = Object.freeze({
  name: 'PCMA',
  clockRate: 8000,
  sampleRate: 8000,
  channels: 1,
  payloadType: 8,
  frameSamples: (ptimeMs: number) => samplesFor(8000, ptimeMs, 1, 'PCMA'),
  timestampIncrement: (ptimeMs: number) => samplesFor(8000, ptimeMs, 1, 'PCMA'),
  createEncoder: () => PCMA_ENCODER,
  createDecoder: () => PCMA_DECODER,
});

/**
 * G722: ITU-T G.722 at 64 kbit/s, static payload type 9. Audio is 16 kHz but the RTP clock
 * rate is 8000 (RFC 3551 §4.5.2), so a 20 ms frame is 320 samples, 160 bytes and a timestamp
 * step of 160.
 */
export const G722: Codec = Object.freeze({
  name: 'G722',
  clockRate: G722_RTP_CLOCK_RATE,
  sampleRate: G722_SAMPLE_RATE,
  channels: 1,
  payloadType: 9,
  frameSamples: (ptimeMs: number) => samplesFor(G722_SAMPLE_RATE, ptimeMs, 2, 'G722'),
  timestampIncrement: (ptimeMs: number) => samplesFor(G722_SAMPLE_RATE, ptimeMs, 2, 'G722') / 2,
  createEncoder: (): CodecEncoder => new G722Encoder(),
  createDecoder: (): CodecDecoder => new G722Decoder(),
});

const REGISTRY: ReadonlyMap<string, Codec> = new Map([
  ['PCMU', PCMU],
  ['PCMA', PCMA],
  ['G722', G722],
]);

/**
 * Returns the codec for a name voxlite implements.
 *
 * @param name - SDP encoding name.
 */
export function getCodec(name: CodecName): Codec {
  const codec = REGISTRY.get(name);
  if (codec === undefined) throw new RangeError(`unknown codec: ${String(name)}`);
  return codec;
}

/**
 * Looks a codec up by an SDP encoding name from the wire, which is case-insensitive
 * (RFC 4855 §3), e.g. `findCodec('pcmu')`.
 *
 * @param name - Encoding name as received.
 * @returns The codec, or `undefined` when voxlite does not implement it (e.g. `opus` for now).
 */
export function findCodec(name: string): Codec | undefined {
  return REGISTRY.get(name.toUpperCase());
}

/** All implemented codecs, in a sensible default offer order (wideband first). */
export function listCodecs(): readonly Codec[] {
  return [G722, PCMU, PCMA];
}

export {
  encodePcmu,
  decodePcmu,
  encodePcma,
  decodePcma,
  linearToUlaw,
  ulawToLinear,
  linearToAlaw,
  alawToLinear,
  PCMU_SILENCE,
  PCMA_SILENCE,
} from './g711.js';
export { G722Encoder, G722Decoder, G722_SAMPLE_RATE, G722_RTP_CLOCK_RATE, G722_CODEC_DELAY } from './g722.js';
