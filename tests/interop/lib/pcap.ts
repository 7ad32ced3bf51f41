/**
 * A tiny reader of classic libpcap files (not pcapng), enough to pull the RTP packets out of a
 * capture such as SIPp's `g711a.pcap`: global header, per-record header, link layer (Ethernet
 * with optional 802.1Q tags, Linux cooked capture, raw IPv4), IPv4, UDP, RTP.
 */

/** One RTP packet found in a capture. */
export interface PcapRtpPacket {
  /** Capture time in seconds. */
  time: number;
  /** UDP destination port. */
  dstPort: number;
  payloadType: number;
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** RTP payload, padding removed (a view into the file buffer). */
  payload: Uint8Array;
}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;

/** The RTP packets (UDP over IPv4, RTP version 2) of a libpcap file, in capture order. */
export function readPcapRtp(file: Uint8Array): PcapRtpPacket[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.byteLength < 24) throw new Error('pcap: file shorter than the global header');
  const magic = view.getUint32(0, true);
  let little: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) little = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) little = false;
  else throw new Error(`pcap: bad magic 0x${magic.toString(16)} (pcapng is not supported)`);
  const nanos = view.getUint32(0, little) === 0xa1b23c4d;
  const fractionScale = nanos ? 1e-9 : 1e-6;
  const linkType = view.getUint32(20, little) & 0x0fffffff;
  const packets: PcapRtpPacket[] = [];
  let offset = 24;
  while (offset + 16 <= file.byteLength) {
    const seconds = view.getUint32(offset, little);
    const fraction = view.getUint32(offset + 4, little);
    const captured = view.getUint32(offset + 8, little);
    const start = offset + 16;
    offset = start + captured;
    if (offset > file.byteLength) break; // truncated last record
    const packet = parseRecord(file.subarray(start, start + captured), linkType);
    if (packet !== undefined) packets.push({ ...packet, time: seconds + fraction * fractionScale });
  }
  return packets;
}

function parseRecord(frame: Uint8Array, linkType: number): Omit<PcapRtpPacket, 'time'> | undefined {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let ip: number;
  if (linkType === LINKTYPE_ETHERNET) {
    if (frame.length < 14) return undefined;
    let etherType = view.getUint16(12);
    ip = 14;
    while ((etherType === 0x8100 || etherType === 0x88a8) && ip + 4 <= frame.length) {
      etherType = view.getUint16(ip + 2);
      ip += 4;
    }
    if (etherType !== 0x0800) return undefined;
  } else if (linkType === LINKTYPE_LINUX_SLL) {
    if (frame.length < 16 || view.getUint16(14) !== 0x0800) return undefined;
    ip = 16;
  } else if (linkType === LINKTYPE_RAW || linkType === LINKTYPE_IPV4) {
    ip = 0;
  } else {
    throw new Error(`pcap: unsupported link type ${linkType}`);
  }
  // IPv4 (RFC 791): version 4, IHL, protocol 17, not a fragment.
  if (ip + 20 > frame.length) return undefined;
  const versionIhl = frame[ip]!;
  if (versionIhl >> 4 !== 4) return undefined;
  const ihl = (versionIhl & 0x0f) * 4;
  const totalLength = view.getUint16(ip + 2);
  const fragment = view.getUint16(ip + 6) & 0x3fff; // MF flag + offset
  if (frame[ip + 9] !== 17 || fragment !== 0 || ihl < 20) return undefined;
  const ipEnd = Math.min(frame.length, ip + totalLength);
  // UDP (RFC 768).
  const udp = ip + ihl;
  if (udp + 8 > ipEnd) return undefined;
  const dstPort = view.getUint16(udp + 2);
  const udpEnd = Math.min(ipEnd, udp + view.getUint16(udp + 4));
  // RTP (RFC 3550 §5.1).
  const rtp = udp + 8;
  if (rtp + 12 > udpEnd) return undefined;
  const b0 = frame[rtp]!;
  const b1 = frame[rtp + 1]!;
  if (b0 >> 6 !== 2) return undefined;
  const payloadType = b1 & 0x7f;
  if (payloadType >= 72 && payloadType <= 76) return undefined; // RTCP (RFC 5761 §4)
  let payloadStart = rtp + 12 + (b0 & 0x0f) * 4;
  if ((b0 & 0x10) !== 0) {
    if (payloadStart + 4 > udpEnd) return undefined;
    payloadStart += 4 + view.getUint16(payloadStart + 2) * 4;
  }
  let payloadEnd = udpEnd;
  if ((b0 & 0x20) !== 0 && payloadEnd > payloadStart) payloadEnd -= frame[payloadEnd - 1]!;
  if (payloadStart > payloadEnd) return undefined;
  return {
    dstPort,
    payloadType,
    marker: (b1 & 0x80) !== 0,
    sequenceNumber: view.getUint16(rtp + 2),
    timestamp: view.getUint32(rtp + 4),
    ssrc: view.getUint32(rtp + 8),
    payload: frame.subarray(payloadStart, payloadEnd),
  };
}
