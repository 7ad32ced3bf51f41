import { VoxliteError } from '../core/errors.js';

/**
 * Which RFC 3550 A.1 rule an RTP packet broke. Stable strings, so a receive path can count
 * rejections by reason (G41) without parsing messages.
 */
export type RtpParseErrorKind =
  /** Shorter than the 12-octet fixed header. */
  | 'too-short'
  /** Version field is not 2 (RFC 3550 §5.1). */
  | 'version'
  /** The CSRC list (4 × CC octets) runs past the end of the datagram. */
  | 'csrc-count'
  /** The X bit is set but the extension header or its `length` words run past the end. */
  | 'extension-length'
  /** The P bit is set and the padding count is 0 or larger than what follows the header. */
  | 'padding';

/**
 * Which RFC 3550 A.2 rule an RTCP compound packet broke. Stable strings for counters (G41).
 */
export type RtcpParseErrorKind =
  /** Shorter than one RTCP header plus SSRC, or not a whole number of 32-bit words. */
  | 'too-short'
  /** A packet in the compound has a version other than 2. */
  | 'version'
  /** The first packet is not SR or RR (RFC 3550 §6.1, A.2). */
  | 'first-not-report'
  /** The P bit is set on a packet that is not the last one (RFC 3550 A.2). */
  | 'padding-not-last'
  /** The padding count is 0 or larger than the packet it closes. */
  | 'padding'
  /** A `length` field runs past the datagram, or the lengths do not add up to its size. */
  | 'length'
  /** SR/RR/SDES/BYE contents (report blocks, chunks, items, reason) do not fit their length. */
  | 'body';

/**
 * An RTP packet that voxlite will not accept. Thrown only by {@link RtpPacket.parse}; the hot
 * path ({@link parseRtp}, {@link decodeRtp}) returns `null` or the {@link RtpParseErrorKind}
 * instead, because building an `Error` (with its stack) per hostile datagram is itself a cost
 * an attacker could impose.
 */
export class RtpParseError extends VoxliteError {
  readonly code = 'RTP_ERR_PARSE';

  constructor(
    readonly kind: RtpParseErrorKind,
    message = `invalid RTP packet: ${kind}`,
  ) {
    super(message);
  }
}

/**
 * An RTCP compound packet that voxlite will not accept. Thrown only by {@link parseRtcpOrThrow};
 * {@link parseRtcp} and {@link decodeRtcp} return `null` or the {@link RtcpParseErrorKind}.
 */
export class RtcpParseError extends VoxliteError {
  readonly code = 'RTP_ERR_RTCP_PARSE';

  constructor(
    readonly kind: RtcpParseErrorKind,
    message = `invalid RTCP packet: ${kind}`,
  ) {
    super(message);
  }
}
