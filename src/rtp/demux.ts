/**
 * Validation and demultiplexing of one media datagram, sans-I/O: RTP, RTCP (RFC 5761 §4 on a
 * shared port) or a rejection reason for the G40/G41 drop counters.
 *
 * Every check runs before the octet it guards is read (RFC 3550 A.1 for RTP in
 * {@link decodeRtp}, A.2 for RTCP in {@link decodeRtcp}), so a hostile datagram can never make the
 * receive path read past its end, and rejecting one allocates nothing (the reason is an
 * interned string, not an `Error`).
 */
import type { RtcpParseErrorKind, RtpParseErrorKind } from './errors.js';
import { decodeRtp, isStun, type RtpPacket } from './packet.js';
import { decodeRtcp, type RtcpPacket } from './rtcp.js';

/**
 * Why a datagram was dropped before it reached a session. Stable strings, one counter each (G41).
 *
 * - `too-short`: empty, or too short to carry a version and a packet type.
 * - `oversize`: longer than the configured maximum datagram size.
 * - `version`: the version field is not 2 (RFC 3550 §5.1), and it is not STUN either.
 * - `stun`: a STUN message (RFC 7983 §7) on a media port without ICE; ignored.
 * - `rtp.*`: an RTP packet breaking the RFC 3550 A.1 rule named by {@link RtpParseErrorKind}.
 * - `rtcp.*`: an RTCP compound breaking the RFC 3550 A.2 rule named by {@link RtcpParseErrorKind}.
 */
export type DatagramDropReason =
  | 'too-short'
  | 'oversize'
  | 'version'
  | 'stun'
  | `rtp.${Exclude<RtpParseErrorKind, 'version'>}`
  | `rtcp.${Exclude<RtcpParseErrorKind, 'version'>}`;

/** Every {@link DatagramDropReason}, for initialising counters. */
export const DATAGRAM_DROP_REASONS: readonly DatagramDropReason[] = Object.freeze([
  'too-short',
  'oversize',
  'version',
  'stun',
  'rtp.too-short',
  'rtp.csrc-count',
  'rtp.extension-length',
  'rtp.padding',
  'rtcp.too-short',
  'rtcp.first-not-report',
  'rtcp.padding-not-last',
  'rtcp.padding',
  'rtcp.length',
  'rtcp.body',
]);

// Interned reasons, so a flood of bad datagrams builds no strings.
const RTP_REASON: Readonly<Record<RtpParseErrorKind, DatagramDropReason>> = {
  'too-short': 'rtp.too-short',
  version: 'version',
  'csrc-count': 'rtp.csrc-count',
  'extension-length': 'rtp.extension-length',
  padding: 'rtp.padding',
};
const RTCP_REASON: Readonly<Record<RtcpParseErrorKind, DatagramDropReason>> = {
  'too-short': 'rtcp.too-short',
  version: 'version',
  'first-not-report': 'rtcp.first-not-report',
  'padding-not-last': 'rtcp.padding-not-last',
  padding: 'rtcp.padding',
  length: 'rtcp.length',
  body: 'rtcp.body',
};

/**
 * The outcome of {@link demuxDatagram}: an {@link RtpPacket}, an RTCP compound (an array), or the
 * reason it was dropped (a string). Distinguish with `typeof r === 'string'` and `Array.isArray(r)`;
 * this shape allocates no wrapper object per packet.
 */
export type DemuxResult = RtpPacket | RtcpPacket[] | DatagramDropReason;

/**
 * Whether the datagram's second octet puts it in the RTCP range of RFC 5761 §4 (packet types
 * 192–223, i.e. 64–95 with the marker bit masked). Only the first two octets are read.
 */
export function looksLikeRtcp(datagram: Uint8Array): boolean {
  if (datagram.length < 2) return false;
  const pt = datagram[1]! & 0x7f;
  return pt >= 64 && pt <= 95;
}

/**
 * Validates one received datagram and says what it is.
 *
 * @param into - an {@link RtpPacket} to refill rather than allocate (the receive loop keeps
 * one); its `payload` is then a view into `datagram`.
 * @param maxSize - datagrams longer than this are dropped as `oversize`.
 */
export function demuxDatagram(datagram: Uint8Array, into?: RtpPacket, maxSize = Number.POSITIVE_INFINITY): DemuxResult {
  const length = datagram.length;
  if (length > maxSize) return 'oversize';
  if (length < 2) return 'too-short';
  if (datagram[0]! >>> 6 !== 2) return isStun(datagram) ? 'stun' : 'version';
  if (looksLikeRtcp(datagram)) {
    const rtcp = decodeRtcp(datagram);
    return typeof rtcp === 'string' ? RTCP_REASON[rtcp] : rtcp;
  }
  const rtp = decodeRtp(datagram, into);
  return typeof rtp === 'string' ? RTP_REASON[rtp] : rtp;
}
