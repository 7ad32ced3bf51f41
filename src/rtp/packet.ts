/**
 * RTP data packets (RFC 3550 §5.1) over plain byte buffers, plus the RTP/RTCP/STUN demux
 * predicates of RFC 5761 §4 and RFC 7983.
 *
 * Performance notes (≥ 500 G.711 sessions per core): parsing reads octets straight from the
 * `Uint8Array` (no `DataView` per packet), the payload is a view (`subarray`) into the datagram,
 * an empty CSRC list is a shared frozen array, and {@link decodeRtp} can refill one caller-owned
 * {@link RtpPacket} so a receive loop allocates nothing but the payload view.
 */
import { checkUint, outputBuffer, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { RtpParseError, type RtpParseErrorKind } from './errors.js';

/** Size of the fixed RTP header (RFC 3550 §5.1). */
export const RTP_HEADER_SIZE = 12;

const EMPTY_CSRCS: readonly number[] = Object.freeze([]);
const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Fields accepted by the {@link RtpPacket} constructor; every one has a default. */
export interface RtpPacketInit {
  /** M bit; default `false`. */
  marker?: boolean;
  /** 7-bit payload type; default 0 (PCMU). */
  payloadType?: number;
  /** 16-bit sequence number; default 0. */
  sequenceNumber?: number;
  /** 32-bit media timestamp; default 0. */
  timestamp?: number;
  /** 32-bit synchronisation source; default 0. */
  ssrc?: number;
  /** Contributing sources (at most 15); default none. */
  csrcs?: readonly number[];
  /** "defined by profile" field of the header extension; only used when `extensionData` is set. */
  extensionProfile?: number;
  /** Header extension body (a multiple of 4 octets); `undefined` means no X bit. */
  extensionData?: Uint8Array;
  /** Payload octets; default empty. */
  payload?: Uint8Array;
  /** Padding octets to add on serialise, including the count octet (0–255); default 0. */
  paddingLength?: number;
}

/** The plain-object form of an {@link RtpPacket} for logs and assertions (no payload bytes). */
export interface RtpPacketDump {
  version: 2;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension: { profile: number; length: number } | undefined;
  paddingLength: number;
  payloadLength: number;
  byteLength: number;
}

/**
 * One RTP data packet (RFC 3550 §5.1).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....  (CC × 32 bits)              |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |      defined by profile       |           length              |  } if X = 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  } (§5.3.1)
 * |                 header extension (length × 32 bits)           |  }
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                            payload ...                        |
 * |                               +-------------------------------+
 * |                               | padding ...   | padding count |  } if P = 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * The fields are plain mutable properties so a sender can keep one packet per stream and bump
 * `sequenceNumber`/`timestamp` in place. After a parse, `payload` and `extensionData` are views
 * into the datagram: they stay valid only while the caller does not reuse that memory.
 *
 * @remarks Parsing lives in {@link decodeRtp} / {@link parseRtp} (no throw, for the receive
 * path) and {@link RtpPacket.parse} (throws {@link RtpParseError}).
 */
export class RtpPacket {
  /** M bit: for audio, the first packet of a talkspurt (RFC 3551 §4.1). */
  marker: boolean;
  /** 7-bit payload type. */
  payloadType: number;
  /** 16-bit sequence number. */
  sequenceNumber: number;
  /** 32-bit timestamp in media clock units. */
  timestamp: number;
  /** 32-bit SSRC. */
  ssrc: number;
  /** CSRC list (0–15 entries). Replace the array rather than mutating a parsed one. */
  csrcs: readonly number[];
  /** "defined by profile" 16 bits of the header extension (RFC 3550 §5.3.1). */
  extensionProfile: number;
  /** Header extension body, `length × 4` octets, or `undefined` when the X bit is clear. */
  extensionData: Uint8Array | undefined;
  /** Payload octets, padding excluded. */
  payload: Uint8Array;
  /**
   * Padding octets after the payload, including the final count octet (0 = P bit clear).
   * Parsed packets report what was stripped; serialise appends zeros plus the count.
   */
  paddingLength: number;

  constructor(init: RtpPacketInit = {}) {
    this.marker = init.marker ?? false;
    this.payloadType = init.payloadType ?? 0;
    this.sequenceNumber = init.sequenceNumber ?? 0;
    this.timestamp = init.timestamp ?? 0;
    this.ssrc = init.ssrc ?? 0;
    this.csrcs = init.csrcs ?? EMPTY_CSRCS;
    this.extensionProfile = init.extensionProfile ?? 0;
    this.extensionData = init.extensionData;
    this.payload = init.payload ?? EMPTY_BYTES;
    this.paddingLength = init.paddingLength ?? 0;
  }

  /**
   * Parses one datagram into a new packet.
   *
   * @throws {@link RtpParseError} when the datagram breaks RFC 3550 A.1 (`kind` says which rule).
   */
  static parse(buffer: Uint8Array): RtpPacket {
    const result = decodeRtp(buffer);
    if (typeof result === 'string') throw new RtpParseError(result);
    return result;
  }

  /** Always 2; kept as a property so dumps and assertions read naturally. */
  get version(): 2 {
    return 2;
  }

  /** Whether the X bit is (or will be) set. */
  get hasExtension(): boolean {
    return this.extensionData !== undefined;
  }

  /** Octets {@link serialize} will write. */
  get byteLength(): number {
    return (
      RTP_HEADER_SIZE +
      4 * this.csrcs.length +
      (this.extensionData === undefined ? 0 : 4 + this.extensionData.length) +
      this.payload.length +
      this.paddingLength
    );
  }

  /**
   * Writes the packet into `into` at `offset` (or into a fresh buffer) and returns a view of
   * exactly the written octets.
   *
   * @throws RangeError when a field is out of range (PT > 127, more than 15 CSRCs, extension not
   * a multiple of 4 octets or longer than 65535 words, padding > 255) or `into` is too small.
   */
  serialize(into?: Uint8Array, offset = 0): Uint8Array {
    this.check();
    const length = this.byteLength;
    if (into === undefined) offset = 0;
    const out = outputBuffer(length, into, offset);
    const ext = this.extensionData;
    const cc = this.csrcs.length;
    // RFC 3550 §5.1: V=2 | P | X | CC, then M | PT.
    out[offset] = 0x80 | (this.paddingLength > 0 ? 0x20 : 0) | (ext !== undefined ? 0x10 : 0) | cc;
    out[offset + 1] = (this.marker ? 0x80 : 0) | this.payloadType;
    writeU16(out, offset + 2, this.sequenceNumber);
    writeU32(out, offset + 4, this.timestamp);
    writeU32(out, offset + 8, this.ssrc);
    let pos = offset + RTP_HEADER_SIZE;
    for (let i = 0; i < cc; i++) {
      writeU32(out, pos, this.csrcs[i]!);
      pos += 4;
    }
    if (ext !== undefined) {
      // RFC 3550 §5.3.1: length counts 32-bit words of the body, excluding this 4-octet header.
      writeU16(out, pos, this.extensionProfile);
      writeU16(out, pos + 2, ext.length >>> 2);
      out.set(ext, pos + 4);
      pos += 4 + ext.length;
    }
    out.set(this.payload, pos);
    pos += this.payload.length;
    if (this.paddingLength > 0) {
      // RFC 3550 §5.1: the last padding octet counts the padding, itself included.
      out.fill(0, pos, pos + this.paddingLength - 1);
      pos += this.paddingLength;
      out[pos - 1] = this.paddingLength;
    }
    return out.subarray(offset, pos);
  }

  /** A plain object for logs and test assertions. */
  dump(): RtpPacketDump {
    return {
      version: 2,
      marker: this.marker,
      payloadType: this.payloadType,
      sequenceNumber: this.sequenceNumber,
      timestamp: this.timestamp,
      ssrc: this.ssrc,
      csrcs: [...this.csrcs],
      extension:
        this.extensionData === undefined
          ? undefined
          : { profile: this.extensionProfile, length: this.extensionData.length },
      paddingLength: this.paddingLength,
      payloadLength: this.payload.length,
      byteLength: this.byteLength,
    };
  }

  private check(): void {
    checkUint('payloadType', this.payloadType, 0x7f);
    checkUint('sequenceNumber', this.sequenceNumber, 0xffff);
    checkUint('timestamp', this.timestamp, 0xffffffff);
    checkUint('ssrc', this.ssrc, 0xffffffff);
    checkUint('paddingLength', this.paddingLength, 0xff);
    if (this.csrcs.length > 15) throw new RangeError(`at most 15 CSRCs fit the CC field, got ${this.csrcs.length}`);
    for (const csrc of this.csrcs) checkUint('csrc', csrc, 0xffffffff);
    const ext = this.extensionData;
    if (ext !== undefined) {
      checkUint('extensionProfile', this.extensionProfile, 0xffff);
      if (ext.length % 4 !== 0 || ext.length > 0xffff * 4) {
        throw new RangeError(`extension data must be a multiple of 4 octets up to 262140, got ${ext.length}`);
      }
    }
  }
}

/**
 * Parses a datagram as RTP, checking every RFC 3550 A.1 rule before reading the octets it
 * guards, so nothing past `buffer.length` is ever read.
 *
 * Rejected (the reason is returned, nothing is thrown): shorter than 12 octets; version ≠ 2; a
 * CSRC list past the end; an extension header or extension body past the end; P set with a
 * padding count of 0 or larger than everything after the header. A padding count equal to that
 * (an empty payload, as padding-only probe packets use) is accepted.
 *
 * @param into - a packet to refill instead of allocating one; on rejection it is left untouched.
 * @returns the packet, or the {@link RtpParseErrorKind} of the first rule broken.
 */
export function decodeRtp(buffer: Uint8Array, into?: RtpPacket): RtpPacket | RtpParseErrorKind {
  const length = buffer.length;
  if (length < RTP_HEADER_SIZE) return 'too-short';
  const b0 = buffer[0]!;
  if (b0 >>> 6 !== 2) return 'version';
  const cc = b0 & 0x0f;
  let headerEnd = RTP_HEADER_SIZE + 4 * cc;
  if (headerEnd > length) return 'csrc-count';
  let extStart = 0;
  let extLength = 0;
  if ((b0 & 0x10) !== 0) {
    // RFC 3550 §5.3.1: 4-octet extension header, then `length` 32-bit words.
    if (headerEnd + 4 > length) return 'extension-length';
    extLength = readU16(buffer, headerEnd + 2) * 4;
    extStart = headerEnd + 4;
    headerEnd = extStart + extLength;
    if (headerEnd > length) return 'extension-length';
  }
  let padding = 0;
  if ((b0 & 0x20) !== 0) {
    // RFC 3550 §5.1 / A.1: the count includes itself, so 0 is invalid; it cannot eat the header.
    padding = buffer[length - 1]!;
    if (padding === 0 || padding > length - headerEnd) return 'padding';
  }

  // Every rule passed: only now touch the caller's packet.
  const packet = into ?? new RtpPacket();
  const b1 = buffer[1]!;
  packet.marker = (b1 & 0x80) !== 0;
  packet.payloadType = b1 & 0x7f;
  packet.sequenceNumber = readU16(buffer, 2);
  packet.timestamp = readU32(buffer, 4);
  packet.ssrc = readU32(buffer, 8);
  if (cc === 0) {
    packet.csrcs = EMPTY_CSRCS;
  } else {
    const csrcs = new Array<number>(cc);
    for (let i = 0; i < cc; i++) csrcs[i] = readU32(buffer, RTP_HEADER_SIZE + 4 * i);
    packet.csrcs = csrcs;
  }
  if (extStart === 0) {
    packet.extensionProfile = 0;
    packet.extensionData = undefined;
  } else {
    packet.extensionProfile = readU16(buffer, extStart - 4);
    packet.extensionData = buffer.subarray(extStart, extStart + extLength);
  }
  packet.paddingLength = padding;
  packet.payload = buffer.subarray(headerEnd, length - padding);
  return packet;
}

/**
 * Parses a datagram as RTP; `null` when any RFC 3550 A.1 rule fails (see {@link decodeRtp}).
 *
 * @param into - a packet to refill instead of allocating one.
 */
export function parseRtp(buffer: Uint8Array, into?: RtpPacket): RtpPacket | null {
  const result = decodeRtp(buffer, into);
  return typeof result === 'string' ? null : result;
}

/**
 * Demux predicate: could this datagram be RTP? Version 2, at least the fixed header, and a
 * payload type (marker bit masked off) outside 64–95, which RFC 5761 §4 reserves so RTCP
 * packet types 192–223 can share the port. Does not validate the rest; use {@link decodeRtp}.
 */
export function isRtp(buffer: Uint8Array): boolean {
  if (buffer.length < RTP_HEADER_SIZE) return false;
  if (buffer[0]! >>> 6 !== 2) return false;
  const pt = buffer[1]! & 0x7f;
  return pt < 64 || pt > 95;
}

/**
 * Demux predicate: could this datagram be RTCP? Version 2, at least 8 octets (the smallest
 * valid compound, an empty RR), and a second octet whose low 7 bits fall in 64–95 (RFC 5761 §4).
 */
export function isRtcp(buffer: Uint8Array): boolean {
  if (buffer.length < 8) return false;
  if (buffer[0]! >>> 6 !== 2) return false;
  const pt = buffer[1]! & 0x7f;
  return pt >= 64 && pt <= 95;
}

/**
 * Demux predicate for STUN on a media port (RFC 7983 §7: first octet 0–3, plus the fixed
 * 20-octet header and the magic cookie of RFC 5389 §6).
 */
export function isStun(buffer: Uint8Array): boolean {
  return (
    buffer.length >= 20 &&
    buffer[0]! <= 3 &&
    buffer[4] === 0x21 &&
    buffer[5] === 0x12 &&
    buffer[6] === 0xa4 &&
    buffer[7] === 0x42
  );
}
