/**
 * RTCP (RFC 3550 §6.4–6.6): sender and receiver reports, source description, goodbye, and the
 * compound packets that carry them, parsed with the RFC 3550 A.2 validity checks.
 *
 * RTCP packets are plain data objects (a union discriminated by `type`) rather than buffer
 * wrappers like {@link RtpPacket}: they arrive once every few seconds per source, are read field
 * by field into statistics, and plain objects narrow in an exhaustive `switch` and double as
 * their own `dump()`. Payload views (`extension`, `body`) still point into the datagram.
 */
import { checkUint, outputBuffer, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { RtcpParseError, type RtcpParseErrorKind } from './errors.js';

/** RTCP packet type numbers (RFC 3550 §12.1). */
export const RtcpPacketType = {
  sr: 200,
  rr: 201,
  sdes: 202,
  bye: 203,
  app: 204,
} as const;

/** SDES item types (RFC 3550 §6.5, §12.2). */
export const SdesItemType = {
  end: 0,
  cname: 1,
  name: 2,
  email: 3,
  phone: 4,
  loc: 5,
  tool: 6,
  note: 7,
  priv: 8,
} as const;

/**
 * One reception report block (RFC 3550 §6.4.1), 24 octets, in SR and RR packets.
 *
 * ```
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                 SSRC_n (SSRC of source reported on)           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | fraction lost |       cumulative number of packets lost       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           extended highest sequence number received           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      interarrival jitter                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         last SR (LSR)                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   delay since last SR (DLSR)                  |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * ```
 */
export interface ReportBlock {
  /** SSRC of the source this block reports on. */
  ssrc: number;
  /** Fraction of packets lost since the previous report, as an 8-bit fixed point (0–255 = 0–255/256). */
  fractionLost: number;
  /** Cumulative packets lost: signed 24-bit, negative when duplicates outnumber losses. */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | max seq), unsigned 32-bit. */
  highestSequence: number;
  /** Interarrival jitter in timestamp units (RFC 3550 §6.4.1, A.8). */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from this source, or 0. */
  lastSr: number;
  /** Delay between receiving that SR and sending this block, in units of 1/65536 s, or 0. */
  delaySinceLastSr: number;
}

/**
 * Sender report, PT 200 (RFC 3550 §6.4.1).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|    RC   |   PT=SR=200   |             length            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         SSRC of sender                        |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |              NTP timestamp, most significant word             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |             NTP timestamp, least significant word             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         RTP timestamp                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     sender's packet count                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      sender's octet count                     |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                 report blocks (RC × 24 octets)                |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                  profile-specific extensions                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
export interface SenderReport {
  type: 'sr';
  /** SSRC of the sender. */
  ssrc: number;
  /** NTP timestamp, seconds since 1900 (most significant word). */
  ntpSeconds: number;
  /** NTP timestamp, fraction of a second in units of 2^-32 s (least significant word). */
  ntpFraction: number;
  /** RTP timestamp of the same instant as the NTP timestamp. */
  rtpTimestamp: number;
  /** Data packets sent since the session started (mod 2^32). */
  packetCount: number;
  /** Payload octets sent since the session started (mod 2^32). */
  octetCount: number;
  /** Reception report blocks (0–31). */
  reports: ReportBlock[];
  /** Profile-specific extension octets after the blocks (a multiple of 4), if any. */
  extension?: Uint8Array;
}

/**
 * Receiver report, PT 201 (RFC 3550 §6.4.2).
 *
 * ```
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|    RC   |   PT=RR=201   |             length            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     SSRC of packet sender                     |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                 report blocks (RC × 24 octets)                |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                  profile-specific extensions                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
export interface ReceiverReport {
  type: 'rr';
  /** SSRC of the packet sender. */
  ssrc: number;
  /** Reception report blocks (0–31). */
  reports: ReportBlock[];
  /** Profile-specific extension octets after the blocks (a multiple of 4), if any. */
  extension?: Uint8Array;
}

/** One SDES item (RFC 3550 §6.5): a type 1–255 and UTF-8 text of at most 255 octets. */
export interface SdesItem {
  /** Item type; see {@link SdesItemType}. PRIV (8) keeps its prefix-length octet inside `text`. */
  type: number;
  /** The item text. */
  text: string;
}

/** One SDES chunk: a source and its items. */
export interface SdesChunk {
  /** SSRC or CSRC described. */
  ssrc: number;
  /** Items in wire order. */
  items: SdesItem[];
}

/**
 * Source description, PT 202 (RFC 3550 §6.5).
 *
 * ```
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|    SC   |  PT=SDES=202  |             length            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                          SSRC/CSRC_1                          |  chunk 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    CNAME=1    |     length    | user and domain name        ...  items,
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  then a null
 * |      ...      |   0 (END)     |  null padding to 32 bits      |  octet + pad
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                          SSRC/CSRC_2 ...                      |  chunk 2
 * ```
 */
export interface SourceDescription {
  type: 'sdes';
  /** Chunks (0–31). */
  chunks: SdesChunk[];
}

/**
 * Goodbye, PT 203 (RFC 3550 §6.6).
 *
 * ```
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|    SC   |   PT=BYE=203  |             length            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           SSRC/CSRC                           |
 * :                              ...                              :
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |     length    |               reason for leaving            ...  (optional)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
export interface Goodbye {
  type: 'bye';
  /** Sources leaving (0–31). */
  sources: number[];
  /** Reason for leaving (UTF-8, at most 255 octets), if given. */
  reason?: string;
}

/**
 * Any other RTCP packet (APP 204, RTPFB 205, PSFB 206, XR 207, …), kept opaque so a compound
 * that carries one still parses and can be re-serialised.
 */
export interface UnknownRtcpPacket {
  type: 'unknown';
  /** Packet type octet. */
  packetType: number;
  /** The 5-bit count/subtype field. */
  count: number;
  /** Octets after the 4-octet header, padding excluded (a multiple of 4 to serialise). */
  body: Uint8Array;
}

/** One packet of an RTCP compound. */
export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | UnknownRtcpPacket;

const REPORT_BLOCK_SIZE = 24;
const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/**
 * Parses an RTCP compound packet with the RFC 3550 A.2 checks, never reading past the datagram:
 * a whole number of 32-bit words; every packet version 2; the first packet SR or RR; the `length`
 * fields walking exactly to the end; padding only on the last packet, with a count of 1 up to
 * that packet's size; SR/RR report blocks, SDES chunks and items and the BYE list and reason
 * inside their packet. A padded single-packet compound is accepted (A.2's mask would reject it,
 * but it is the last packet, which is where §6.4.1 allows padding).
 *
 * @returns the packets in order, or the {@link RtcpParseErrorKind} of the first rule broken.
 */
export function decodeRtcp(buffer: Uint8Array): RtcpPacket[] | RtcpParseErrorKind {
  const total = buffer.length;
  if (total < 8 || total % 4 !== 0) return 'too-short';
  const packets: RtcpPacket[] = [];
  let pos = 0;
  while (pos < total) {
    // pos is a multiple of 4 below total, so the 4-octet header is in bounds.
    const b0 = buffer[pos]!;
    if (b0 >>> 6 !== 2) return 'version';
    const packetType = buffer[pos + 1]!;
    if (pos === 0 && packetType !== RtcpPacketType.sr && packetType !== RtcpPacketType.rr) {
      return 'first-not-report';
    }
    const size = (readU16(buffer, pos + 2) + 1) * 4;
    const end = pos + size;
    if (end > total) return 'length';
    let bodyEnd = end;
    if ((b0 & 0x20) !== 0) {
      if (end !== total) return 'padding-not-last';
      const padding = buffer[end - 1]!;
      if (padding === 0 || padding > size - 4) return 'padding';
      bodyEnd = end - padding;
    }
    const packet = decodeOne(buffer, pos, bodyEnd, packetType, b0 & 0x1f);
    if (packet === undefined) return 'body';
    packets.push(packet);
    pos = end;
  }
  return packets;
}

/**
 * Parses an RTCP compound packet; `null` when any RFC 3550 A.2 rule fails (see {@link decodeRtcp}).
 */
export function parseRtcp(buffer: Uint8Array): RtcpPacket[] | null {
  const result = decodeRtcp(buffer);
  return typeof result === 'string' ? null : result;
}

/**
 * Parses an RTCP compound packet.
 *
 * @throws {@link RtcpParseError} when an RFC 3550 A.2 rule fails.
 */
export function parseRtcpOrThrow(buffer: Uint8Array): RtcpPacket[] {
  const result = decodeRtcp(buffer);
  if (typeof result === 'string') throw new RtcpParseError(result);
  return result;
}

function decodeOne(
  buf: Uint8Array,
  start: number,
  end: number,
  packetType: number,
  count: number,
): RtcpPacket | undefined {
  const body = start + 4;
  switch (packetType) {
    case RtcpPacketType.sr: {
      const blocks = body + 24;
      if (blocks + count * REPORT_BLOCK_SIZE > end) return undefined;
      const sr: SenderReport = {
        type: 'sr',
        ssrc: readU32(buf, body),
        ntpSeconds: readU32(buf, body + 4),
        ntpFraction: readU32(buf, body + 8),
        rtpTimestamp: readU32(buf, body + 12),
        packetCount: readU32(buf, body + 16),
        octetCount: readU32(buf, body + 20),
        reports: decodeBlocks(buf, blocks, count),
      };
      const extStart = blocks + count * REPORT_BLOCK_SIZE;
      if (extStart < end) sr.extension = buf.subarray(extStart, end);
      return sr;
    }
    case RtcpPacketType.rr: {
      const blocks = body + 4;
      if (blocks + count * REPORT_BLOCK_SIZE > end) return undefined;
      const rr: ReceiverReport = { type: 'rr', ssrc: readU32(buf, body), reports: decodeBlocks(buf, blocks, count) };
      const extStart = blocks + count * REPORT_BLOCK_SIZE;
      if (extStart < end) rr.extension = buf.subarray(extStart, end);
      return rr;
    }
    case RtcpPacketType.sdes:
      return decodeSdes(buf, start, end, count);
    case RtcpPacketType.bye: {
      let pos = body;
      if (pos + 4 * count > end) return undefined;
      const sources = new Array<number>(count);
      for (let i = 0; i < count; i++, pos += 4) sources[i] = readU32(buf, pos);
      const bye: Goodbye = { type: 'bye', sources };
      // RFC 3550 §6.6: an optional length-prefixed reason follows the list.
      if (pos < end) {
        const length = buf[pos]!;
        if (pos + 1 + length > end) return undefined;
        bye.reason = utf8Decoder.decode(buf.subarray(pos + 1, pos + 1 + length));
      }
      return bye;
    }
    default:
      return { type: 'unknown', packetType, count, body: buf.subarray(body, end) };
  }
}

function decodeBlocks(buf: Uint8Array, pos: number, count: number): ReportBlock[] {
  const reports = new Array<ReportBlock>(count);
  for (let i = 0; i < count; i++, pos += REPORT_BLOCK_SIZE) {
    const lost = readU32(buf, pos + 4) & 0xffffff;
    reports[i] = {
      ssrc: readU32(buf, pos),
      fractionLost: buf[pos + 4]!,
      // RFC 3550 §6.4.1: cumulative loss is a signed 24-bit number.
      cumulativeLost: lost & 0x800000 ? lost - 0x1000000 : lost,
      highestSequence: readU32(buf, pos + 8),
      jitter: readU32(buf, pos + 12),
      lastSr: readU32(buf, pos + 16),
      delaySinceLastSr: readU32(buf, pos + 20),
    };
  }
  return reports;
}

function decodeSdes(buf: Uint8Array, start: number, end: number, count: number): SourceDescription | undefined {
  const chunks = new Array<SdesChunk>(count);
  let pos = start + 4;
  for (let c = 0; c < count; c++) {
    if (pos + 4 > end) return undefined;
    const chunk: SdesChunk = { ssrc: readU32(buf, pos), items: [] };
    pos += 4;
    for (;;) {
      if (pos >= end) return undefined;
      const type = buf[pos]!;
      if (type === SdesItemType.end) {
        // RFC 3550 §6.5: the list ends with a null octet, then nulls up to the next 32-bit boundary.
        pos = start + (((pos - start) >>> 2) + 1) * 4;
        if (pos > end) return undefined;
        break;
      }
      if (pos + 2 > end) return undefined;
      const length = buf[pos + 1]!;
      if (pos + 2 + length > end) return undefined;
      chunk.items.push({ type, text: utf8Decoder.decode(buf.subarray(pos + 2, pos + 2 + length)) });
      pos += 2 + length;
    }
    chunks[c] = chunk;
  }
  return { type: 'sdes', chunks };
}

/** The CNAME of `ssrc` in an SDES packet (or the first CNAME when `ssrc` is omitted). */
export function findCname(sdes: SourceDescription, ssrc?: number): string | undefined {
  for (const chunk of sdes.chunks) {
    if (ssrc !== undefined && chunk.ssrc !== ssrc) continue;
    for (const item of chunk.items) if (item.type === SdesItemType.cname) return item.text;
  }
  return undefined;
}

/** Octets one packet takes on the wire (header included, no padding). */
export function rtcpPacketByteLength(packet: RtcpPacket): number {
  switch (packet.type) {
    case 'sr':
      return 28 + REPORT_BLOCK_SIZE * packet.reports.length + (packet.extension?.length ?? 0);
    case 'rr':
      return 8 + REPORT_BLOCK_SIZE * packet.reports.length + (packet.extension?.length ?? 0);
    case 'sdes': {
      let size = 4;
      for (const chunk of packet.chunks) {
        let chunkSize = 4;
        for (const item of chunk.items) chunkSize += 2 + utf8Length(item.text);
        // At least one null octet, then pad to a 32-bit boundary.
        size += (chunkSize + 4) & ~3;
      }
      return size;
    }
    case 'bye': {
      const reason = packet.reason === undefined ? 0 : 1 + utf8Length(packet.reason);
      return 4 + 4 * packet.sources.length + ((reason + 3) & ~3);
    }
    case 'unknown':
      return 4 + packet.body.length;
  }
}

/** Octets a compound packet takes on the wire. */
export function rtcpByteLength(packets: readonly RtcpPacket[]): number {
  let size = 0;
  for (const packet of packets) size += rtcpPacketByteLength(packet);
  return size;
}

/**
 * Serialises packets back to back as one compound (RFC 3550 §6.1) into `into` at `offset`, or
 * into a fresh buffer, and returns a view of the written octets. Padding is never added.
 *
 * It writes what it is given: building a valid compound (SR or RR first, then SDES with CNAME)
 * is the caller's job, so tests can also produce invalid ones.
 *
 * @throws RangeError when a field is out of range (more than 31 blocks/chunks/sources, an SDES
 * text or BYE reason over 255 octets, an SDES item type of 0, an extension or opaque body that is
 * not a multiple of 4 octets, a packet over 65536 words) or `into` is too small.
 */
export function serializeRtcp(packets: readonly RtcpPacket[], into?: Uint8Array, offset = 0): Uint8Array {
  const length = rtcpByteLength(packets);
  if (into === undefined) offset = 0;
  const out = outputBuffer(length, into, offset);
  let pos = offset;
  for (const packet of packets) pos = writeOne(out, pos, packet);
  return out.subarray(offset, pos);
}

function writeOne(out: Uint8Array, pos: number, packet: RtcpPacket): number {
  const size = rtcpPacketByteLength(packet);
  if (size > 0x10000 * 4) throw new RangeError(`RTCP packet of ${size} octets exceeds the 16-bit length field`);
  const start = pos;
  const header = (count: number, packetType: number): void => {
    checkUint('RTCP count', count, 31);
    out[start] = 0x80 | count;
    out[start + 1] = packetType;
    // RFC 3550 §6.4.1: length in 32-bit words minus one, header included.
    writeU16(out, start + 2, size / 4 - 1);
  };
  switch (packet.type) {
    case 'sr': {
      header(packet.reports.length, RtcpPacketType.sr);
      writeU32(out, pos + 4, checked('ssrc', packet.ssrc));
      writeU32(out, pos + 8, checked('ntpSeconds', packet.ntpSeconds));
      writeU32(out, pos + 12, checked('ntpFraction', packet.ntpFraction));
      writeU32(out, pos + 16, checked('rtpTimestamp', packet.rtpTimestamp));
      writeU32(out, pos + 20, checked('packetCount', packet.packetCount));
      writeU32(out, pos + 24, checked('octetCount', packet.octetCount));
      pos = writeBlocks(out, pos + 28, packet.reports);
      return writeWords(out, pos, packet.extension, 'SR extension');
    }
    case 'rr': {
      header(packet.reports.length, RtcpPacketType.rr);
      writeU32(out, pos + 4, checked('ssrc', packet.ssrc));
      pos = writeBlocks(out, pos + 8, packet.reports);
      return writeWords(out, pos, packet.extension, 'RR extension');
    }
    case 'sdes': {
      header(packet.chunks.length, RtcpPacketType.sdes);
      pos += 4;
      for (const chunk of packet.chunks) {
        const chunkStart = pos;
        writeU32(out, pos, checked('ssrc', chunk.ssrc));
        pos += 4;
        for (const item of chunk.items) {
          checkUint('SDES item type', item.type, 255);
          if (item.type === SdesItemType.end) throw new RangeError('SDES item type 0 is the END marker');
          out[pos] = item.type;
          pos = writeText(out, pos + 1, item.text, 'SDES item text');
        }
        const padded = chunkStart + ((pos - chunkStart + 4) & ~3);
        out.fill(0, pos, padded);
        pos = padded;
      }
      return pos;
    }
    case 'bye': {
      header(packet.sources.length, RtcpPacketType.bye);
      pos += 4;
      for (const source of packet.sources) {
        writeU32(out, pos, checked('ssrc', source));
        pos += 4;
      }
      if (packet.reason !== undefined) {
        const textEnd = writeText(out, pos, packet.reason, 'BYE reason');
        const padded = start + size;
        out.fill(0, textEnd, padded);
        pos = padded;
      }
      return pos;
    }
    case 'unknown': {
      checkUint('packetType', packet.packetType, 255);
      header(packet.count, packet.packetType);
      return writeWords(out, pos + 4, packet.body, 'RTCP body');
    }
  }
}

function writeBlocks(out: Uint8Array, pos: number, reports: readonly ReportBlock[]): number {
  for (const block of reports) {
    writeU32(out, pos, checked('ssrc', block.ssrc));
    checkUint('fractionLost', block.fractionLost, 255);
    // RFC 3550 §6.4.1: signed 24-bit, so clamp rather than wrap a huge loss into a negative one.
    const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(block.cumulativeLost)));
    writeU32(out, pos + 4, ((block.fractionLost << 24) | (lost & 0xffffff)) >>> 0);
    writeU32(out, pos + 8, checked('highestSequence', block.highestSequence));
    writeU32(out, pos + 12, checked('jitter', block.jitter));
    writeU32(out, pos + 16, checked('lastSr', block.lastSr));
    writeU32(out, pos + 20, checked('delaySinceLastSr', block.delaySinceLastSr));
    pos += REPORT_BLOCK_SIZE;
  }
  return pos;
}

function writeWords(out: Uint8Array, pos: number, data: Uint8Array | undefined, what: string): number {
  if (data === undefined) return pos;
  if (data.length % 4 !== 0) throw new RangeError(`${what} must be a multiple of 4 octets, got ${data.length}`);
  out.set(data, pos);
  return pos + data.length;
}

/** Writes a length octet and UTF-8 text at `pos`; returns the position after the text. */
function writeText(out: Uint8Array, pos: number, text: string, what: string): number {
  const length = utf8Length(text);
  if (length > 255) throw new RangeError(`${what} must be at most 255 UTF-8 octets, got ${length}`);
  out[pos] = length;
  utf8Encoder.encodeInto(text, out.subarray(pos + 1, pos + 1 + length));
  return pos + 1 + length;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function checked(name: string, value: number): number {
  checkUint(name, value, 0xffffffff);
  return value;
}
