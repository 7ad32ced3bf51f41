/**
 * Audio codecs for RTP: a small descriptor interface, per-call encoder/decoder state, and a
 * registry keyed by the SDP encoding name.
 *
 * @remarks
 * A {@link Codec} is an immutable, shareable description (names, rates, static payload type). The
 * work happens in {@link CodecEncoder} / {@link CodecDecoder} objects made per call and per
 * direction, because G.722 carries ADPCM predictor state from one frame to the next and Opus a
 * whole libopus state; G.711 is stateless, and its factories hand out a shared stateless object.
 *
 * G.711 and G.722 are pure TypeScript. Opus (RFC 7587) is libopus 1.4 in WebAssembly (the
 * `opusscript` package, loaded on first use, see `opus.ts`): registered under `'opus'`, RTP clock
 * rate 48000 and a dynamic payload type. Its encoder and decoder hold WASM memory, so whoever
 * makes them calls `close()` when the stream ends.
 *
 * @packageDocumentation
 */

import { decodePcma, decodePcmu, encodePcma, encodePcmu } from './g711.js';
import { G722Decoder, G722Encoder, G722_RTP_CLOCK_RATE, G722_SAMPLE_RATE } from './g722.js';
import {
  OPUS_FRAME_DURATIONS_MS,
  OPUS_RTP_CLOCK_RATE,
  OPUS_SAMPLE_RATE,
  OpusDecoder,
  OpusEncoder,
  type OpusEncoderOptions,
} from './opus.js';

/**
 * Encoding names voxlite implements, spelled as in SDP `a=rtpmap`: RFC 3551 Table 4, and `opus`
 * in lower case as RFC 7587 §7 registers it (names compare case-insensitively, RFC 4855 §3).
 */
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';

/** Encoder state for one outgoing stream. */
export interface CodecEncoder {
  /**
   * Encodes one frame of 16-bit mono PCM at the codec's {@link Codec.sampleRate}.
   *
   * @param pcm - The samples; for G.722 an even number of them.
   * @param out - Optional destination reused across frames to avoid an allocation per packet.
   * @returns The RTP payload (`out`, or a view of it, when given). A variable-rate encoder
   *   (Opus) returns a new array when the payload does not fit in `out`, because a frame it has
   *   coded cannot be taken back; fixed-rate encoders throw instead.
   * @throws RangeError if the frame length does not fit the codec, or (fixed-rate codecs) if
   *   `out` is too small.
   */
  encode(pcm: Int16Array, out?: Uint8Array): Uint8Array;
  /** Forgets any inter-frame state (no-op for stateless codecs). */
  reset(): void;
  /**
   * Releases what the encoder holds outside the JavaScript heap (Opus: its WASM memory). Call it
   * once the stream has ended; idempotent. Absent for codecs that hold nothing.
   */
  close?(): void;
}

/** Decoder state for one incoming stream. */
export interface CodecDecoder {
  /**
   * Decodes one RTP payload to 16-bit mono PCM at the codec's {@link Codec.sampleRate}.
   *
   * @param payload - The RTP payload.
   * @param out - Optional destination reused across frames.
   * @returns The samples (`out`, or a view of it, when given).
   * @throws RangeError if `out` is too small (checked before any state changes, so the call can
   *   be repeated with a bigger `out`); a codec error for a payload it cannot decode.
   */
  decode(payload: Uint8Array, out?: Int16Array): Int16Array;
  /**
   * Makes up one lost packet from the decoder's state, where the codec has its own loss
   * concealment (Opus); absent otherwise, and then the caller conceals (e.g. by repeating and
   * fading the last frame).
   */
  conceal?(out?: Int16Array): Int16Array;
  /** Forgets any inter-frame state (no-op for stateless codecs). */
  reset(): void;
  /** Releases what the decoder holds outside the JavaScript heap; idempotent. See {@link CodecEncoder.close}. */
  close?(): void;
}

/** An audio codec as SDP and RTP see it. */
export interface Codec {
  /** SDP encoding name. */
  readonly name: CodecName;
  /** RTP timestamp clock rate, as in `a=rtpmap` (8000 for G.722, RFC 3551 §4.5.2; 48000 for Opus, RFC 7587 §4.1). */
  readonly clockRate: number;
  /** Rate of the PCM the encoder takes and the decoder returns, in Hz. */
  readonly sampleRate: number;
  /**
   * Channels of the PCM the encoder takes and the decoder returns: voxlite is mono throughout
   * (Opus is still signalled `opus/48000/2` in SDP, RFC 7587 §7, and a stereo stream is mixed down).
   */
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

/**
 * An Opus codec descriptor whose encoders use `options` (e.g. what the receiver asked for in its
 * `a=fmtp`, see `opusEncoderOptionsFromFmtp`). 48 kHz PCM and RTP clock (RFC 7587 §4.1), mono,
 * dynamic payload type; frames of 2.5–120 ms ({@link OPUS_FRAME_DURATIONS_MS}).
 *
 * @throws RangeError (from `createEncoder`) for options libopus cannot take.
 */
export function createOpusCodec(options: OpusEncoderOptions = {}): Codec {
  const encoderOptions = Object.freeze({ ...options });
  const frameSamples = (ptimeMs: number): number => {
    if (!OPUS_FRAME_DURATIONS_MS.includes(ptimeMs)) {
      throw new RangeError(`opus: ptime ${ptimeMs} ms is not an Opus frame duration (${OPUS_FRAME_DURATIONS_MS.join(', ')} ms)`);
    }
    return (OPUS_SAMPLE_RATE * ptimeMs) / 1000;
  };
  return Object.freeze({
    name: 'opus',
    clockRate: OPUS_RTP_CLOCK_RATE,
    sampleRate: OPUS_SAMPLE_RATE,
    channels: 1,
    frameSamples,
    // The RTP clock runs at the PCM rate, 48 kHz (RFC 7587 §4.1): a 20 ms frame steps it by 960.
    timestampIncrement: frameSamples,
    createEncoder: (): CodecEncoder => new OpusEncoder(encoderOptions),
    createDecoder: (): CodecDecoder => new OpusDecoder(),
  } satisfies Codec);
}

/** Opus with voxlite's default encoder settings (32 kbit/s VBR speech, no FEC); see {@link createOpusCodec}. */
export const OPUS: Codec = createOpusCodec();

/** Keyed by the lower-case encoding name: wire names compare case-insensitively (RFC 4855 §3). */
const REGISTRY: ReadonlyMap<string, Codec> = new Map([
  ['pcmu', PCMU],
  ['pcma', PCMA],
  ['g722', G722],
  ['opus', OPUS],
]);

/**
 * Returns the codec for a name voxlite implements.
 *
 * @param name - SDP encoding name.
 */
export function getCodec(name: CodecName): Codec {
  const codec = REGISTRY.get(String(name).toLowerCase());
  if (codec === undefined) throw new RangeError(`unknown codec: ${String(name)}`);
  return codec;
}

/**
 * Looks a codec up by an SDP encoding name from the wire, which is case-insensitive
 * (RFC 4855 §3), e.g. `findCodec('pcmu')` or `findCodec('OPUS')`.
 *
 * @param name - Encoding name as received.
 * @returns The codec, or `undefined` when voxlite does not implement it (e.g. `G729`).
 */
export function findCodec(name: string): Codec | undefined {
  return REGISTRY.get(name.toLowerCase());
}

/** All implemented codecs, in a sensible default offer order (widest audio band first). */
export function listCodecs(): readonly Codec[] {
  return [OPUS, G722, PCMU, PCMA];
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
export {
  OpusEncoder,
  OpusDecoder,
  OpusCodecError,
  opusEncoderOptionsFromFmtp,
  opusPacketSamples,
  prepareOpus,
  openOpusCodecs,
  OPUS_RTP_CLOCK_RATE,
  OPUS_SAMPLE_RATE,
  OPUS_SDP_CHANNELS,
  OPUS_FMTP,
  OPUS_DEFAULT_BITRATE,
  OPUS_CODEC_DELAY,
  OPUS_FRAME_DURATIONS_MS,
  type OpusEncoderOptions,
  type OpusOperation,
} from './opus.js';
