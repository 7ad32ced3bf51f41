/**
 * Opus (RFC 6716) for RTP (RFC 7587), through libopus 1.4 compiled to WebAssembly by the
 * `opusscript` package.
 *
 * @remarks
 * RTP side (RFC 7587): the RTP clock is 48 kHz whatever the audio bandwidth (§4.1), the payload
 * type is dynamic (§4.1), and SDP says `a=rtpmap:<pt> opus/48000/2` even for mono (§7). One RTP
 * payload is one Opus packet (§4.2). voxlite codes mono speech at 48 kHz in 20 ms frames:
 * application VOIP, 32 kbit/s VBR (the 28–40 kbit/s sweet spot for full-band speech and the
 * VBR recommendation of §3.1.1/§3.1.2), in-band FEC only when the receiver asked for it with
 * `useinbandfec=1` (§3.3), and the receiver's `maxaveragebitrate`, `maxplaybackrate` and `cbr`
 * honoured ({@link opusEncoderOptionsFromFmtp}, §6.1, §7.1). The decoder is mono: libopus mixes a
 * stereo stream down itself (every receiver must accept stereo, §6.1 `stereo`).
 *
 * Binding: opusscript's own `OpusScript` class is not used. It indexes its `Uint16Array` views of
 * the WASM heap with byte addresses, so every frame is written to and read from twice the address
 * it allocated (memory that belongs to someone else), and it keeps those views across calls, so
 * once the WASM memory grows (a few hundred codec objects) every object made before the growth
 * throws "detached ArrayBuffer". voxlite loads the same WASM build and drives its
 * `OpusScriptHandler` directly, with its own correctly placed buffers and fresh heap views on
 * every call. That handler keeps a quirk of opusscript's C++ glue: PCM crosses the boundary one
 * byte per 16-bit slot (little-endian byte pairs), see {@link writeSpreadPcm}.
 *
 * Each encoder or decoder owns about 110 KiB of WASM memory (the glue always creates both an
 * encoder and a decoder state). `close()` frees it; a FinalizationRegistry frees what was never
 * closed once it is garbage-collected.
 *
 * Not available through opusscript: decoding the in-band FEC of the next packet (its decode call
 * has no `decode_fec` flag), so voxlite never advertises `useinbandfec=1` for its own receiver.
 * Loss concealment ({@link OpusDecoder.conceal}) uses the RFC 6716 §3.2.1 zero-length frame.
 *
 * @packageDocumentation
 */

import { createRequire } from 'node:module';
import { VoxliteError } from '../../core/errors.js';

/** RTP clock rate of Opus, for every mode and audio bandwidth (RFC 7587 §4.1). */
export const OPUS_RTP_CLOCK_RATE = 48_000;
/** Rate of the PCM voxlite's Opus encoder takes and its decoder returns. */
export const OPUS_SAMPLE_RATE = 48_000;
/** Channel count `a=rtpmap` must carry for Opus, whatever is sent (RFC 7587 §7). */
export const OPUS_SDP_CHANNELS = 2;
/**
 * The `a=fmtp` parameters voxlite offers and answers with its `opus/48000/2`: what its receiver
 * wants from a sender (RFC 7587 §6.1, §7.1). `stereo=0`: it plays mono, so stereo would waste
 * bits (§3.4); `sprop-stereo=0`: it sends mono; `useinbandfec=0`: opusscript cannot decode FEC,
 * and §6.1 recommends saying 0 then. All three are the defaults, stated because a sender's own
 * configuration may assume otherwise when they are absent.
 */
export const OPUS_FMTP = 'stereo=0;sprop-stereo=0;useinbandfec=0';
/** Encoder bit rate unless the receiver limits it: full-band speech (RFC 7587 §3.1.1). */
export const OPUS_DEFAULT_BITRATE = 32_000;
/**
 * Encoder look-ahead at 48 kHz in the VOIP application (`OPUS_GET_LOOKAHEAD`: 2.5 ms plus 4 ms
 * of delay compensation): decoded audio lags the input by this many samples.
 */
export const OPUS_CODEC_DELAY = 312;
/** Frame durations libopus encodes, in ms (RFC 6716 §2.1.4; 80–120 ms since libopus 1.2). */
export const OPUS_FRAME_DURATIONS_MS: readonly number[] = Object.freeze([2.5, 5, 10, 20, 40, 60, 80, 100, 120]);
/** Longest packet: 120 ms (RFC 6716 §3.2.5), 5760 samples at 48 kHz. */
const MAX_PACKET_SAMPLES = 5760;
/** Largest RTP payload accepted for decoding (libopus recommends 4000 bytes as the encoder's buffer). */
const MAX_PAYLOAD_BYTES = 4000;
/** Output room opusscript's C++ glue always passes to `opus_encode` (`MAX_PACKET_SIZE`, 3 × 1276). */
const ENCODE_BUFFER_BYTES = 3 * 1276;

/** Which operation an {@link OpusCodecError} comes from. */
export type OpusOperation = 'create' | 'configure' | 'encode' | 'decode';

/** libopus error codes (opus_defines.h) with `opus_strerror`'s text. */
const OPUS_ERRORS: ReadonlyMap<number, string> = new Map([
  [-1, 'invalid argument'],
  [-2, 'buffer too small'],
  [-3, 'internal error'],
  [-4, 'corrupted stream'],
  [-5, 'request not implemented'],
  [-6, 'invalid state'],
  [-7, 'memory allocation failed'],
]);
/** libopus `OPUS_INVALID_PACKET`. */
const OPUS_INVALID_PACKET = -4;

/** libopus refused something, a payload is not an Opus packet, or the object was closed. */
export class OpusCodecError extends VoxliteError {
  readonly code = 'MEDIA_ERR_OPUS';

  constructor(
    /** What was being done. */
    readonly operation: OpusOperation,
    message: string,
    /** The libopus error code (negative), when libopus reported one. */
    readonly opusStatus?: number,
  ) {
    super(`opus ${operation}: ${message}`);
  }
}

function libopusError(operation: OpusOperation, status: number, what: string): OpusCodecError {
  return new OpusCodecError(operation, `${what}: ${OPUS_ERRORS.get(status) ?? 'unknown error'} (libopus ${status})`, status);
}

// ───────────────────────────── the WASM module ─────────────────────────────

/** The C++ object of opusscript's glue: one libopus encoder and one decoder. */
interface OpusWasmHandler {
  /** `opus_encode` of `frameSize` samples read from `pcmByteLength` 16-bit slots, one PCM byte each. */
  _encode(pcmAddress: number, pcmByteLength: number, packetAddress: number, frameSize: number): number;
  /** `opus_decode` into 16-bit slots, one PCM byte each; returns samples per channel. */
  _decode(packetAddress: number, packetLength: number, pcmAddress: number): number;
  _encoder_ctl(request: number, value: number): number;
  _decoder_ctl(request: number, value: number): number;
}

/** What voxlite uses of the Emscripten module in `opusscript/build/opusscript_native_wasm.js`. */
interface OpusWasmModule {
  readonly OpusScriptHandler: {
    new (sampleRate: number, channels: number, application: number): OpusWasmHandler;
    /** Runs the C++ destructor (`opus_encoder_destroy` and `opus_decoder_destroy`). */
    destroy_handler(handler: OpusWasmHandler): void;
  };
  /** Heap views; replaced when the memory grows, so read them again after every native call. */
  readonly HEAPU8: Uint8Array;
  readonly HEAP16: Int16Array;
  readonly HEAP32: Int32Array;
  _malloc(size: number): number;
  _free(address: number): void;
}

let wasmModule: OpusWasmModule | undefined;

/**
 * Loads libopus on first use (not at import: it reserves 16 MiB of WASM memory). The Emscripten
 * glue is CommonJS and instantiates synchronously under Node, so `createRequire` works the same
 * from the TypeScript sources (tsx) and from `dist/`.
 */
function opusWasm(): OpusWasmModule {
  if (wasmModule === undefined) {
    const require = createRequire(import.meta.url);
    const instantiate = require('opusscript/build/opusscript_native_wasm.js') as () => OpusWasmModule;
    wasmModule = instantiate();
  }
  return wasmModule;
}

/**
 * Loads libopus and runs a frame of sound through an encoder and a decoder, so that a call does
 * not pay for the WASM instantiation and WebAssembly's lazy per-function compilation in its first
 * packets (tens of ms on a busy machine, enough to turn the first packets into a burst that the
 * jitter buffer later cuts back out of the speech). Cheap after the first time.
 */
export function prepareOpus(): void {
  const encoder = new OpusEncoder();
  const decoder = new OpusDecoder();
  try {
    const frame = Int16Array.from({ length: 960 }, (_, i) => Math.round(4000 * Math.sin(i / 5) + 2000 * Math.sin(i / 23)));
    for (let k = 0; k < 3; k++) decoder.decode(encoder.encode(frame));
  } finally {
    encoder.close();
    decoder.close();
  }
}

/** libopus CTL requests (opus_defines.h). */
const CTL = {
  setBitrate: 4002,
  setMaxBandwidth: 4004,
  setVbr: 4006,
  setInbandFec: 4012,
  setPacketLossPerc: 4014,
  getLookahead: 4027,
  resetState: 4028,
} as const;
/** `OPUS_APPLICATION_VOIP`. */
const APPLICATION_VOIP = 2048;

/** Native memory of one encoder or decoder, freed by `close()` or, failing that, by the GC. */
interface NativeState {
  readonly module: OpusWasmModule;
  readonly handler: OpusWasmHandler;
  readonly pcmAddress: number;
  readonly packetAddress: number;
}

function freeNative(state: NativeState): void {
  state.module.OpusScriptHandler.destroy_handler(state.handler);
  state.module._free(state.pcmAddress);
  state.module._free(state.packetAddress);
}

let openStates = 0;
const unclosed = new FinalizationRegistry<NativeState>((state) => {
  openStates--;
  freeNative(state);
});

/**
 * How many Opus encoders and decoders hold WASM memory right now (closed or collected ones do
 * not count): for leak checks, e.g. that a call closed its codecs.
 */
export function openOpusCodecs(): number {
  return openStates;
}

function openNative(pcmSlots: number, packetBytes: number, owner: object): NativeState {
  const module = opusWasm();
  const handler = new module.OpusScriptHandler(OPUS_SAMPLE_RATE, 1, APPLICATION_VOIP);
  const pcmAddress = module._malloc(pcmSlots * 2);
  const packetAddress = module._malloc(packetBytes);
  const state: NativeState = { module, handler, pcmAddress, packetAddress };
  if (pcmAddress === 0 || packetAddress === 0) {
    freeNative(state);
    throw new OpusCodecError('create', 'out of WASM memory');
  }
  unclosed.register(owner, state, owner);
  openStates++;
  return state;
}

function control(state: NativeState, decoder: boolean, request: number, value: number): void {
  const status = decoder ? state.handler._decoder_ctl(request, value) : state.handler._encoder_ctl(request, value);
  if (status < 0) throw libopusError('configure', status, `request ${request}`);
}

/**
 * Writes PCM the way opusscript's C++ `_encode` reads it: each little-endian byte of each
 * sample in its own 16-bit slot, low byte first (the glue packs the pairs back into samples).
 */
function writeSpreadPcm(heap: Int16Array, slot: number, pcm: Int16Array): void {
  for (let i = 0; i < pcm.length; i++) {
    const sample = pcm[i] as number;
    heap[slot + 2 * i] = sample & 0xff;
    heap[slot + 2 * i + 1] = (sample >> 8) & 0xff;
  }
}

/** Reads what opusscript's C++ `_decode` wrote: one PCM byte per 16-bit slot, low byte first. */
function readSpreadPcm(heap: Int16Array, slot: number, out: Int16Array): void {
  for (let i = 0; i < out.length; i++) {
    // The Int16Array store wraps the 16-bit pattern into a signed sample.
    out[i] = ((heap[slot + 2 * i + 1] as number) << 8) | ((heap[slot + 2 * i] as number) & 0xff);
  }
}

// ───────────────────────────── packets ─────────────────────────────

/** Samples per frame at 48 kHz for each TOC configuration (RFC 6716 §3.1, Table 2). */
function samplesPerFrame(toc: number): number {
  const config = toc >> 3;
  if (config < 12) return [480, 960, 1920, 2880][config & 3] as number; // SILK-only: 10/20/40/60 ms
  if (config < 16) return (config & 1) === 0 ? 480 : 960; // Hybrid: 10/20 ms
  return [120, 240, 480, 960][config & 3] as number; // CELT-only: 2.5/5/10/20 ms
}

/**
 * Samples per channel (at 48 kHz) an Opus packet decodes to, from its TOC byte and frame count
 * (RFC 6716 §3.1–§3.2), without decoding it.
 *
 * @throws {@link OpusCodecError} for an empty packet, a code 3 packet without its frame count
 * byte or with 0 frames, or more than 120 ms of audio (§3.2.5, requirement R5).
 */
export function opusPacketSamples(packet: Uint8Array): number {
  const toc = packet[0];
  if (toc === undefined) throw new OpusCodecError('decode', 'empty payload (an RTP payload is one Opus packet, RFC 7587 §4.2)', OPUS_INVALID_PACKET);
  let frames: number;
  switch (toc & 3) {
    case 0:
      frames = 1;
      break;
    case 1:
    case 2:
      frames = 2;
      break;
    default: {
      const count = packet[1];
      if (count === undefined) throw new OpusCodecError('decode', 'code 3 packet without its frame count byte (RFC 6716 §3.2.5)', OPUS_INVALID_PACKET);
      frames = count & 0x3f;
    }
  }
  const samples = frames * samplesPerFrame(toc);
  if (frames === 0 || samples > MAX_PACKET_SAMPLES) {
    throw new OpusCodecError('decode', `packet of ${frames} frame(s), ${samples / 48} ms: not 1 frame to 120 ms (RFC 6716 §3.2.5)`, OPUS_INVALID_PACKET);
  }
  return samples;
}

// ───────────────────────────── encoder ─────────────────────────────

/** Encoder settings; the defaults suit two-way speech. */
export interface OpusEncoderOptions {
  /** Target bit rate in bit/s (6000–510000); default {@link OPUS_DEFAULT_BITRATE}. */
  readonly bitrate?: number;
  /** Constant bit rate instead of VBR (the receiver's `cbr=1`, RFC 7587 §6.1); default false. */
  readonly cbr?: boolean;
  /**
   * Add in-band FEC for the previous frame (RFC 7587 §3.3), only worth it when the receiver said
   * `useinbandfec=1`; default false. libopus spends bits on it only with an expected loss, which
   * is then set to {@link expectedLossPercent}.
   */
  readonly inbandFec?: boolean;
  /** Packet loss to plan FEC for, in percent (`OPUS_SET_PACKET_LOSS_PERC`); default 10 with FEC, else 0. */
  readonly expectedLossPercent?: number;
  /**
   * Highest audio bandwidth worth coding: the receiver's `maxplaybackrate` in Hz (RFC 7587
   * §7.1: a sender MUST NOT use a higher bandwidth than that rate carries); default 48000.
   */
  readonly maxPlaybackRate?: number;
}

/** `OPUS_BANDWIDTH_*` for the highest audio rate a receiver plays (RFC 7587 §2 bandwidth table). */
function maxBandwidthFor(playbackRate: number): number {
  if (playbackRate <= 8000) return 1101; // narrowband
  if (playbackRate <= 12_000) return 1102; // mediumband
  if (playbackRate <= 16_000) return 1103; // wideband
  if (playbackRate <= 24_000) return 1104; // super-wideband
  return 1105; // fullband
}

function checkFrame(length: number): void {
  const ms = length / 48;
  if (!OPUS_FRAME_DURATIONS_MS.includes(ms)) {
    throw new RangeError(`opus: ${length} samples (${ms} ms at 48 kHz) is not an Opus frame size (2.5, 5, 10, 20, 40, 60, 80, 100 or 120 ms)`);
  }
}

/**
 * Opus encoder for one outgoing stream: mono 16-bit PCM at 48 kHz in, one Opus packet per frame
 * out.
 *
 * @example
 * ```ts
 * const encoder = new OpusEncoder();
 * const payload = encoder.encode(pcm48k); // 960 samples (20 ms) → ~80 bytes at 32 kbit/s
 * encoder.close();
 * ```
 */
export class OpusEncoder {
  readonly bitrate: number;
  readonly inbandFec: boolean;
  #native: NativeState | undefined;

  /**
   * @throws RangeError for a bit rate outside 6000–510000, or a loss percentage outside 0–100.
   * @throws {@link OpusCodecError} when libopus rejects the settings.
   */
  constructor(options: OpusEncoderOptions = {}) {
    const bitrate = options.bitrate ?? OPUS_DEFAULT_BITRATE;
    if (!Number.isInteger(bitrate) || bitrate < 6000 || bitrate > 510_000) {
      throw new RangeError(`opus: bitrate ${bitrate} is not 6000–510000 bit/s (RFC 7587 §3.1)`);
    }
    const fec = options.inbandFec ?? false;
    const loss = options.expectedLossPercent ?? (fec ? 10 : 0);
    if (!Number.isInteger(loss) || loss < 0 || loss > 100) throw new RangeError(`opus: expected loss ${loss} is not 0–100 %`);
    this.bitrate = bitrate;
    this.inbandFec = fec;
    // PCM goes in one byte per 16-bit slot: 2 slots per sample.
    const native = openNative(2 * MAX_PACKET_SAMPLES, ENCODE_BUFFER_BYTES, this);
    this.#native = native;
    try {
      control(native, false, CTL.setBitrate, bitrate);
      control(native, false, CTL.setVbr, options.cbr === true ? 0 : 1);
      control(native, false, CTL.setInbandFec, fec ? 1 : 0);
      control(native, false, CTL.setPacketLossPerc, loss);
      control(native, false, CTL.setMaxBandwidth, maxBandwidthFor(options.maxPlaybackRate ?? 48_000));
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /**
   * Encodes one frame.
   *
   * @param pcm - Mono samples at 48 kHz: 120, 240, 480, 960, 1920 or 2880 of them (2.5–60 ms), or
   *   80–120 ms.
   * @param out - Where to put the packet. Its size varies from frame to frame (VBR), and a coded
   *   frame cannot be taken back, so a packet that does not fit in `out` comes back in a new
   *   array instead of an error.
   * @returns The packet: a view of `out` when it fits, else a new array.
   * @throws RangeError for a frame length Opus does not have; {@link OpusCodecError} after
   *   {@link close} or when libopus fails.
   */
  encode(pcm: Int16Array, out?: Uint8Array): Uint8Array {
    const native = this.#open('encode');
    checkFrame(pcm.length);
    const module = native.module;
    writeSpreadPcm(module.HEAP16, native.pcmAddress >> 1, pcm);
    const length = native.handler._encode(native.pcmAddress, pcm.length * 2, native.packetAddress, pcm.length);
    if (length < 0) throw libopusError('encode', length, `frame of ${pcm.length} samples`);
    const packet = module.HEAPU8.subarray(native.packetAddress, native.packetAddress + length);
    if (out === undefined || out.length < length) return packet.slice();
    out.set(packet);
    return out.length === length ? out : out.subarray(0, length);
  }

  /** Encoder delay in samples at 48 kHz (`OPUS_GET_LOOKAHEAD`); {@link OPUS_CODEC_DELAY} for VOIP. */
  get lookahead(): number {
    const native = this.#open('configure');
    const module = native.module;
    const address = module._malloc(4);
    try {
      control(native, false, CTL.getLookahead, address);
      return module.HEAP32[address >> 2] as number;
    } finally {
      module._free(address);
    }
  }

  /** Starts a new stream: forgets the signal history (`OPUS_RESET_STATE`), keeps the settings. */
  reset(): void {
    control(this.#open('configure'), false, CTL.resetState, 0);
  }

  /** Frees the libopus state. Idempotent; the encoder is unusable afterwards. */
  close(): void {
    const native = this.#native;
    if (native === undefined) return;
    this.#native = undefined;
    unclosed.unregister(this);
    openStates--;
    freeNative(native);
  }

  #open(operation: OpusOperation): NativeState {
    if (this.#native === undefined) throw new OpusCodecError(operation, 'the encoder is closed');
    return this.#native;
  }
}

// ───────────────────────────── decoder ─────────────────────────────

/**
 * Opus decoder for one incoming stream: any Opus packet (any mode, bandwidth, frame size, mono or
 * stereo) in, mono 16-bit PCM at 48 kHz out.
 */
export class OpusDecoder {
  #native: NativeState | undefined;
  /** The last packet decoded, which a concealed packet continues: its TOC byte and duration. */
  #last: { toc: number; samples: number } | undefined;

  /** @throws {@link OpusCodecError} when libopus cannot be set up. */
  constructor() {
    // PCM comes back one byte per 16-bit slot: 2 slots per sample.
    this.#native = openNative(2 * MAX_PACKET_SAMPLES, MAX_PAYLOAD_BYTES, this);
  }

  /**
   * Decodes one RTP payload (one Opus packet, RFC 7587 §4.2). A stereo packet is mixed down to
   * mono by libopus.
   *
   * @param payload - The packet.
   * @param out - Optional destination; it must have room for the packet's duration (checked from
   *   its TOC byte before anything is decoded, so a retry with a bigger `out` is safe).
   * @returns The samples (a view of `out` when given), 120 to 5760 of them.
   * @throws RangeError if `out` is too small; {@link OpusCodecError} for a payload that is not an
   *   Opus packet (the decoder state is unchanged then, unless libopus itself found the damage),
   *   or after {@link close}.
   */
  decode(payload: Uint8Array, out?: Int16Array): Int16Array {
    const native = this.#open();
    const samples = opusPacketSamples(payload);
    if (payload.length > MAX_PAYLOAD_BYTES) {
      throw new OpusCodecError('decode', `payload of ${payload.length} bytes is larger than ${MAX_PAYLOAD_BYTES}`, OPUS_INVALID_PACKET);
    }
    const dst = output(out, samples);
    this.#decode(native, payload, dst);
    this.#last = { toc: payload[0] as number, samples };
    return dst;
  }

  /**
   * Makes up the audio of one lost packet with libopus's concealment, continuing the last packet
   * decoded: it decodes that packet's TOC byte alone, a frame of length zero, which RFC 6716
   * §3.2.1 defines as "no frame available", once per frame of that packet. Before any packet,
   * 20 ms of silence.
   *
   * @param out - Optional destination with room for the last packet's duration.
   * @returns The concealed samples (a view of `out` when given).
   * @throws RangeError if `out` is too small; {@link OpusCodecError} after {@link close}.
   */
  conceal(out?: Int16Array): Int16Array {
    const native = this.#open();
    const last = this.#last;
    if (last === undefined) return output(out, 960).fill(0);
    const dst = output(out, last.samples);
    // Code 0: a single frame, here of length zero, with the last packet's mode and bandwidth.
    const lost = Uint8Array.of(last.toc & 0xfc);
    const frame = samplesPerFrame(last.toc);
    for (let at = 0; at < dst.length; at += frame) this.#decode(native, lost, dst.subarray(at, at + frame));
    return dst;
  }

  /** Forgets the stream (`OPUS_RESET_STATE`), e.g. when another source starts playing. */
  reset(): void {
    control(this.#open(), true, CTL.resetState, 0);
    this.#last = undefined;
  }

  /** Frees the libopus state. Idempotent; the decoder is unusable afterwards. */
  close(): void {
    const native = this.#native;
    if (native === undefined) return;
    this.#native = undefined;
    unclosed.unregister(this);
    openStates--;
    freeNative(native);
  }

  #decode(native: NativeState, packet: Uint8Array, dst: Int16Array): void {
    const module = native.module;
    module.HEAPU8.set(packet, native.packetAddress);
    const decoded = native.handler._decode(native.packetAddress, packet.length, native.pcmAddress);
    if (decoded < 0) throw libopusError('decode', decoded, `packet of ${packet.length} bytes`);
    if (decoded !== dst.length) {
      throw new OpusCodecError('decode', `libopus decoded ${decoded} samples, the TOC said ${dst.length}`, OPUS_INVALID_PACKET);
    }
    readSpreadPcm(module.HEAP16, native.pcmAddress >> 1, dst);
  }

  #open(): NativeState {
    if (this.#native === undefined) throw new OpusCodecError('decode', 'the decoder is closed');
    return this.#native;
  }
}

function output(out: Int16Array | undefined, length: number): Int16Array {
  if (out === undefined) return new Int16Array(length);
  if (out.length < length) throw new RangeError(`output buffer too small: ${out.length} < ${length}`);
  return out.length === length ? out : out.subarray(0, length);
}

// ───────────────────────────── SDP parameters ─────────────────────────────

/**
 * Encoder settings a receiver asked for in its `a=fmtp` for Opus (RFC 7587 §6.1, §7.1), all
 * receive-side preferences of the peer that our encoder follows: `maxaveragebitrate` caps the
 * bit rate (MUST), `maxplaybackrate` caps the audio bandwidth (MUST NOT exceed), `cbr=1` asks for
 * constant bit rate, `useinbandfec=1` says FEC is useful there. `stereo` needs nothing (we send
 * mono); unknown parameters are ignored (§7.1).
 *
 * @param fmtp - The parameters, e.g. `minptime=10;useinbandfec=1`; undefined when there were none.
 */
export function opusEncoderOptionsFromFmtp(fmtp: string | undefined, bitrate = OPUS_DEFAULT_BITRATE): OpusEncoderOptions {
  const parameters = new Map<string, string>();
  for (const part of (fmtp ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) parameters.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const integer = (name: string): number | undefined => {
    const text = parameters.get(name);
    return text !== undefined && /^\d{1,9}$/.test(text) ? Number(text) : undefined;
  };
  const options: { -readonly [K in keyof OpusEncoderOptions]: OpusEncoderOptions[K] } = { bitrate };
  const maxAverage = integer('maxaveragebitrate');
  // §6.1: values outside 6000–510000 SHOULD be ignored.
  if (maxAverage !== undefined && maxAverage >= 6000 && maxAverage <= 510_000) options.bitrate = Math.min(bitrate, maxAverage);
  const playback = integer('maxplaybackrate');
  if (playback !== undefined && playback >= 8000) options.maxPlaybackRate = Math.min(playback, 48_000);
  if (parameters.get('cbr') === '1') options.cbr = true;
  if (parameters.get('useinbandfec') === '1') options.inbandFec = true;
  return options;
}
