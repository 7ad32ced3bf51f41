/**
 * WAV (RIFF WAVE) files: read any common PCM flavour into 16-bit samples, write 16-bit PCM, and
 * stream a recording to disk.
 *
 * @remarks
 * Layout (Microsoft/IBM RIFF, "Multimedia Programming Interface and Data Specifications 1.0",
 * and the WAVE_FORMAT_EXTENSIBLE note), all little-endian:
 *
 * ```
 *  0  "RIFF"  u32 riffSize (= file size - 8)  "WAVE"
 * 12  chunk*:  id[4]  u32 size  data[size]  (pad byte if size is odd)
 *       "fmt ":  u16 formatTag  u16 channels  u32 sampleRate  u32 byteRate
 *                u16 blockAlign  u16 bitsPerSample  [u16 cbSize  ...extension]
 *                 extension of 0xFFFE (EXTENSIBLE): u16 validBits  u32 channelMask
 *                                                   GUID subFormat (first u16 = format tag)
 *       "data":  interleaved frames of blockAlign bytes
 * ```
 *
 * The reader trusts nothing: every offset is checked against the buffer before it is read, so a
 * truncated or hostile file yields a {@link WavFormatError}, never an out-of-range read or a
 * `RangeError` from `DataView`. A data chunk that claims more bytes than the file holds (a
 * recording cut short, or a streaming writer's 0xFFFFFFFF placeholder) is read up to the last
 * whole frame, as most tools do.
 *
 * @packageDocumentation
 */

import { open, type FileHandle } from 'node:fs/promises';
import { VoxliteError } from '../core/errors.js';

/** Which rule a WAV file broke; stable for tests and counters. */
export type WavFormatErrorKind =
  | 'not-riff'
  | 'not-wave'
  | 'truncated'
  | 'missing-fmt'
  | 'missing-data'
  | 'bad-fmt'
  | 'unsupported-format';

/** A buffer that is not a WAV file voxlite can read. */
export class WavFormatError extends VoxliteError {
  readonly code = 'MEDIA_ERR_WAV_FORMAT';

  constructor(
    /** What was wrong. */
    readonly kind: WavFormatErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** Interleaved 16-bit PCM with its format. */
export interface PcmAudio {
  /** Samples per second per channel, in Hz. */
  readonly sampleRate: number;
  /** Number of interleaved channels. */
  readonly channels: number;
  /** Interleaved samples: frame i is `samples[i * channels .. i * channels + channels)`. */
  readonly samples: Int16Array;
}

/** Format tags (mmreg.h). */
const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID derived from a format tag. */
const SUBFORMAT_GUID_TAIL = Uint8Array.of(
  0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
);

/** Largest channel count accepted (7.1 surround). */
const MAX_CHANNELS = 8;
/** Size field placeholder used while a streaming recording is open ("unknown length"). */
const UNKNOWN_SIZE = 0xffffffff;

interface FmtInfo {
  readonly format: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly blockAlign: number;
  readonly bitsPerSample: number;
}

function fourcc(view: DataView, offset: number): string {
  return String.fromCharCode(
    view.getUint8(offset),
    view.getUint8(offset + 1),
    view.getUint8(offset + 2),
    view.getUint8(offset + 3),
  );
}

function parseFmt(view: DataView, offset: number, size: number): FmtInfo {
  if (size < 16) throw new WavFormatError('bad-fmt', `fmt chunk too short (${size} bytes)`);
  let format = view.getUint16(offset, true);
  const channels = view.getUint16(offset + 2, true);
  const sampleRate = view.getUint32(offset + 4, true);
  const blockAlign = view.getUint16(offset + 12, true);
  const bitsPerSample = view.getUint16(offset + 14, true);
  if (format === WAVE_FORMAT_EXTENSIBLE) {
    // cbSize (2) + validBits (2) + channelMask (4) + GUID (16) = 24 bytes after the basic 16.
    if (size < 40) throw new WavFormatError('bad-fmt', 'WAVE_FORMAT_EXTENSIBLE fmt chunk too short');
    format = view.getUint16(offset + 24, true);
    for (let i = 0; i < SUBFORMAT_GUID_TAIL.length; i++) {
      if (view.getUint8(offset + 26 + i) !== SUBFORMAT_GUID_TAIL[i]) {
        throw new WavFormatError('unsupported-format', 'WAVE_FORMAT_EXTENSIBLE with a non-standard sub-format GUID');
      }
    }
  }
  if (channels < 1 || channels > MAX_CHANNELS) {
    throw new WavFormatError('bad-fmt', `unsupported channel count ${channels}`);
  }
  if (sampleRate < 1000 || sampleRate > 384_000) {
    throw new WavFormatError('bad-fmt', `implausible sample rate ${sampleRate}`);
  }
  if (blockAlign === 0 || blockAlign % channels !== 0) {
    throw new WavFormatError('bad-fmt', `block align ${blockAlign} does not fit ${channels} channels`);
  }
  if (bitsPerSample > (blockAlign / channels) * 8) {
    throw new WavFormatError('bad-fmt', `${bitsPerSample}-bit samples do not fit a ${blockAlign / channels}-byte container`);
  }
  return { format, channels, sampleRate, blockAlign, bitsPerSample };
}

/** Reader for one sample container: byte offset → 16-bit sample. */
type SampleReader = (view: DataView, offset: number) => number;

function clamp16(value: number): number {
  return value > 32767 ? 32767 : value < -32768 ? -32768 : value;
}

function floatTo16(value: number): number {
  // NaN would become 0 through Int16Array anyway; make it explicit. ±1.0 is full scale.
  if (!(value === value)) return 0;
  return clamp16(Math.round(value * 32768));
}

/** ITU-T G.711 decode for the rare A-law/μ-law WAV files (format tags 6 and 7). */
function g711Reader(aLaw: boolean): SampleReader {
  // Inline scalar decode keeps wav.ts independent of the codecs module's tables.
  return (view, offset) => {
    const code = view.getUint8(offset);
    if (aLaw) {
      const a = code ^ 0x55;
      const segment = (a & 0x70) >> 4;
      let m = (a & 0x0f) << 4;
      m = segment === 0 ? m + 8 : (m + 0x108) << (segment - 1);
      return (a & 0x80) !== 0 ? m : -m;
    }
    const u = ~code & 0xff;
    const m = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
    return (u & 0x80) !== 0 ? 0x84 - m : m - 0x84;
  };
}

function sampleReader(fmt: FmtInfo): SampleReader {
  const container = fmt.blockAlign / fmt.channels;
  switch (fmt.format) {
    case WAVE_FORMAT_PCM:
      // Samples are left-justified in their container, so the top 16 bits are what we keep.
      switch (container) {
        case 1:
          return (v, o) => (v.getUint8(o) - 128) << 8; // 8-bit WAV is unsigned, 128 = zero
        case 2:
          return (v, o) => v.getInt16(o, true);
        case 3:
          // Round the 24-bit value to 16 bits: add half an LSB of the result before the shift.
          return (v, o) => clamp16((((v.getInt8(o + 2) << 16) | (v.getUint16(o, true))) + 0x80) >> 8);
        case 4:
          return (v, o) => clamp16(Math.round(v.getInt32(o, true) / 65536));
        default:
          break;
      }
      break;
    case WAVE_FORMAT_IEEE_FLOAT:
      if (container === 4) return (v, o) => floatTo16(v.getFloat32(o, true));
      if (container === 8) return (v, o) => floatTo16(v.getFloat64(o, true));
      break;
    case WAVE_FORMAT_ALAW:
    case WAVE_FORMAT_MULAW:
      if (container === 1) return g711Reader(fmt.format === WAVE_FORMAT_ALAW);
      break;
    default:
      throw new WavFormatError('unsupported-format', `unsupported WAV format tag 0x${fmt.format.toString(16)}`);
  }
  throw new WavFormatError(
    'unsupported-format',
    `unsupported ${container}-byte sample container for format tag 0x${fmt.format.toString(16)}`,
  );
}

/**
 * Parses a WAV file into interleaved 16-bit PCM.
 *
 * @remarks
 * Accepts PCM 8-bit (unsigned), 16, 24 and 32-bit integer, IEEE float 32 and 64-bit, G.711 A-law
 * and μ-law, in plain or WAVE_FORMAT_EXTENSIBLE `fmt ` chunks, 1–8 channels. Wider samples are
 * rounded to 16 bits (no dither); floats are clipped to [-1, 1). Unknown chunks (LIST, fact,
 * cue …) are skipped. RF64 and big-endian RIFX are not supported.
 *
 * @param buf - The whole file.
 * @throws WavFormatError when the bytes are not a readable WAV file.
 */
export function readWav(buf: Uint8Array): PcmAudio {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const size = buf.byteLength;
  if (size < 12) throw new WavFormatError('truncated', `file too short for a RIFF header (${size} bytes)`);
  const riff = fourcc(view, 0);
  if (riff !== 'RIFF') {
    throw new WavFormatError('not-riff', riff === 'RIFX' || riff === 'RF64' ? `${riff} files are not supported` : 'not a RIFF file');
  }
  if (fourcc(view, 8) !== 'WAVE') throw new WavFormatError('not-wave', 'RIFF file is not WAVE');
  // The RIFF size is often a placeholder or plain wrong; the buffer bounds are what protect
  // us, so it is not consulted. Scanning stops at the first data chunk once fmt is known, so
  // trailing garbage after the RIFF body is never interpreted.
  const end = size;
  let fmt: FmtInfo | undefined;
  let dataOffset = -1;
  let dataSize = 0;
  let offset = 12;
  while (offset + 8 <= end) {
    const id = fourcc(view, offset);
    const chunkSize = view.getUint32(offset + 4, true);
    const body = offset + 8;
    const available = end - body;
    if (id === 'fmt ' && fmt === undefined) {
      if (chunkSize > available) throw new WavFormatError('truncated', 'fmt chunk runs past the end of the file');
      fmt = parseFmt(view, body, chunkSize);
    } else if (id === 'data' && dataOffset < 0) {
      dataOffset = body;
      // Cut short or "unknown length" (0xFFFFFFFF): take what is there.
      dataSize = Math.min(chunkSize, available);
      if (chunkSize >= available) break;
    }
    if (fmt !== undefined && dataOffset >= 0) break;
    // Chunks are padded to even sizes (RIFF spec); a size past the end just ends the scan.
    offset = body + chunkSize + (chunkSize & 1);
  }
  if (fmt === undefined) throw new WavFormatError('missing-fmt', 'no fmt chunk');
  if (dataOffset < 0) throw new WavFormatError('missing-data', 'no data chunk');

  const read = sampleReader(fmt);
  const container = fmt.blockAlign / fmt.channels;
  const frames = Math.floor(dataSize / fmt.blockAlign);
  const samples = new Int16Array(frames * fmt.channels);
  if (container === 2 && fmt.format === WAVE_FORMAT_PCM) {
    // Fast path for the usual case.
    for (let i = 0, o = dataOffset; i < samples.length; i++, o += 2) samples[i] = view.getInt16(o, true);
  } else {
    for (let i = 0, o = dataOffset; i < samples.length; i++, o += container) samples[i] = read(view, o);
  }
  return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples };
}

/** Size of the canonical header written by {@link writeWav} and {@link WavWriter}. */
export const WAV_HEADER_SIZE = 44;
/** Largest data chunk a RIFF file can describe with 32-bit sizes. */
const MAX_DATA_BYTES = 0xffffffff - (WAV_HEADER_SIZE - 8);

function checkFormat(sampleRate: number, channels: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384_000) {
    throw new RangeError(`sample rate must be an integer in [1000, 384000], got ${sampleRate}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    throw new RangeError(`channels must be an integer in [1, ${MAX_CHANNELS}], got ${channels}`);
  }
}

function writeHeader(target: Uint8Array, sampleRate: number, channels: number, dataBytes: number): void {
  const view = new DataView(target.buffer, target.byteOffset, WAV_HEADER_SIZE);
  const ascii = (offset: number, text: string): void => {
    for (let i = 0; i < 4; i++) view.setUint8(offset + i, text.charCodeAt(i));
  };
  const unknown = dataBytes === UNKNOWN_SIZE;
  ascii(0, 'RIFF');
  view.setUint32(4, unknown ? UNKNOWN_SIZE : 36 + dataBytes + (dataBytes & 1), true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
}

function checkSamples(samples: Int16Array, channels: number): void {
  if (samples.length % channels !== 0) {
    throw new RangeError(`${samples.length} samples is not a whole number of ${channels}-channel frames`);
  }
}

/**
 * Serialises interleaved 16-bit PCM as a canonical 44-byte-header WAV file.
 *
 * @throws RangeError on a bad rate or channel count, a sample count that is not a whole number of
 * frames, or more data than a RIFF file can hold (4 GiB).
 */
export function writeWav(audio: PcmAudio): Buffer {
  const { sampleRate, channels, samples } = audio;
  checkFormat(sampleRate, channels);
  checkSamples(samples, channels);
  const dataBytes = samples.length * 2;
  if (dataBytes > MAX_DATA_BYTES) throw new RangeError('too much audio for one WAV file');
  const out = Buffer.alloc(WAV_HEADER_SIZE + dataBytes);
  writeHeader(out, sampleRate, channels, dataBytes);
  const view = new DataView(out.buffer, out.byteOffset + WAV_HEADER_SIZE, dataBytes);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i] as number, true);
  return out;
}

/**
 * Mixes interleaved audio down to one channel by averaging each frame's channels (rounded).
 *
 * @returns `audio` itself when it is already mono (samples are not copied).
 */
export function toMono(audio: PcmAudio): PcmAudio {
  const { channels, samples } = audio;
  if (channels === 1) return audio;
  const frames = Math.floor(samples.length / channels);
  const mono = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c] as number;
    mono[f] = Math.round(sum / channels);
  }
  return { sampleRate: audio.sampleRate, channels: 1, samples: mono };
}

/** Options for {@link WavWriter.open}. */
export interface WavWriterOptions {
  /** Samples per second per channel, in Hz. */
  readonly sampleRate: number;
  /** Interleaved channels (default 1). */
  readonly channels?: number;
}

/** Little-endian hosts can write Int16Array memory as-is. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Streams 16-bit PCM into a WAV file: writes the header with "unknown" (0xFFFFFFFF) sizes at
 * once, appends samples as they come, and patches the real sizes on {@link WavWriter.close}.
 *
 * @remarks
 * If the process dies before `close()`, the file still opens in voxlite's {@link readWav} and
 * in most tools, which read an unknown-length data chunk to the end of the file.
 * Writes are serialised internally, so `write()` may be called again before the previous
 * promise settles; awaiting each one gives backpressure.
 *
 * @example
 * ```ts
 * const rec = await WavWriter.open('/tmp/call.wav', { sampleRate: 8000 });
 * await rec.write(frame);
 * await rec.close();
 * ```
 */
export class WavWriter {
  /** Samples per second per channel, in Hz. */
  readonly sampleRate: number;
  /** Interleaved channels. */
  readonly channels: number;
  private dataBytes = 0;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly file: FileHandle,
    sampleRate: number,
    channels: number,
  ) {
    this.sampleRate = sampleRate;
    this.channels = channels;
  }

  /**
   * Creates (or truncates) `path` and writes the provisional header.
   *
   * @throws RangeError on a bad rate or channel count; rejects with the fs error if the file
   * cannot be opened or written.
   */
  static async open(path: string, options: WavWriterOptions): Promise<WavWriter> {
    const channels = options.channels ?? 1;
    checkFormat(options.sampleRate, channels);
    const file = await open(path, 'w');
    try {
      const header = new Uint8Array(WAV_HEADER_SIZE);
      writeHeader(header, options.sampleRate, channels, UNKNOWN_SIZE);
      await file.write(header, 0, WAV_HEADER_SIZE, 0);
    } catch (error) {
      await file.close();
      throw error;
    }
    return new WavWriter(file, options.sampleRate, channels);
  }

  /** Number of whole frames written so far. */
  get frames(): number {
    return this.dataBytes / (2 * this.channels);
  }

  /**
   * Appends interleaved samples.
   *
   * @throws RangeError (synchronously) if the writer is closed, the samples are not whole frames,
   * or the file would pass the 4 GiB RIFF limit.
   */
  write(samples: Int16Array): Promise<void> {
    if (this.closed) throw new RangeError('WavWriter is closed');
    checkSamples(samples, this.channels);
    const bytes = samples.length * 2;
    if (this.dataBytes + bytes > MAX_DATA_BYTES) throw new RangeError('WAV file would exceed 4 GiB');
    let chunk: Uint8Array;
    if (LITTLE_ENDIAN) {
      // Copy, so that the caller may reuse its frame buffer before the write completes.
      chunk = new Uint8Array(samples.buffer.slice(samples.byteOffset, samples.byteOffset + bytes));
    } else {
      chunk = new Uint8Array(bytes);
      const view = new DataView(chunk.buffer);
      for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i] as number, true);
    }
    const position = WAV_HEADER_SIZE + this.dataBytes;
    this.dataBytes += bytes;
    const job = this.queue.then(async () => {
      await this.file.write(chunk, 0, bytes, position);
    });
    // A failed write must not wedge later ones; the caller sees the failure on its own promise.
    this.queue = job.catch(() => undefined);
    return job;
  }

  /**
   * Waits for pending writes, patches the RIFF and data sizes, and closes the file. Idempotent:
   * later calls return the same promise.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closed = true;
    this.closing = this.queue.then(async () => {
      try {
        const header = new Uint8Array(WAV_HEADER_SIZE);
        writeHeader(header, this.sampleRate, this.channels, this.dataBytes);
        await this.file.write(header, 0, WAV_HEADER_SIZE, 0);
      } finally {
        await this.file.close();
      }
    });
    return this.closing;
  }
}
