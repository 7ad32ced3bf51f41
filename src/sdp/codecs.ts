import { getFmtps, getRtpMaps } from './attributes.js';
import type { MediaDescription } from './types.js';

/** A codec the local side can handle, as given to the negotiator. */
export interface CodecSpec {
  /** Encoding name (`PCMU`, `PCMA`, `opus`, …); compared case-insensitively (RFC 4855 §3). */
  name: string;
  /** RTP clock rate in Hz. */
  clockRate: number;
  /**
   * Payload type to offer it with. Default: the static number of RFC 3551 §6 if it has one,
   * else the next free dynamic number from 96.
   */
  payloadType?: number;
  /** Audio channels; absent means 1 (RFC 8866 §6.6). */
  channels?: number;
  /** `a=fmtp` parameters to advertise, e.g. `useinbandfec=1`. */
  fmtp?: string;
}

/** A payload type of an `m=` line, with what `rtpmap`, `fmtp` or RFC 3551 say about it. */
export interface RtpFormat {
  payloadType: number;
  /** Undefined for a dynamic payload type without `rtpmap` (unusable, RFC 3551 §3). */
  name?: string;
  clockRate?: number;
  channels?: number;
  fmtp?: string;
}

/** Static audio/video payload types of RFC 3551 §6 (Tables 4 and 5). */
export const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, { name: string; clockRate: number; channels?: number }> =
  new Map([
    [0, { name: 'PCMU', clockRate: 8000, channels: 1 }],
    [3, { name: 'GSM', clockRate: 8000, channels: 1 }],
    [4, { name: 'G723', clockRate: 8000, channels: 1 }],
    [5, { name: 'DVI4', clockRate: 8000, channels: 1 }],
    [6, { name: 'DVI4', clockRate: 16000, channels: 1 }],
    [7, { name: 'LPC', clockRate: 8000, channels: 1 }],
    [8, { name: 'PCMA', clockRate: 8000, channels: 1 }],
    [9, { name: 'G722', clockRate: 8000, channels: 1 }],
    [10, { name: 'L16', clockRate: 44100, channels: 2 }],
    [11, { name: 'L16', clockRate: 44100, channels: 1 }],
    [12, { name: 'QCELP', clockRate: 8000, channels: 1 }],
    [13, { name: 'CN', clockRate: 8000, channels: 1 }],
    [14, { name: 'MPA', clockRate: 90000 }],
    [15, { name: 'G728', clockRate: 8000, channels: 1 }],
    [16, { name: 'DVI4', clockRate: 11025, channels: 1 }],
    [17, { name: 'DVI4', clockRate: 22050, channels: 1 }],
    [18, { name: 'G729', clockRate: 8000, channels: 1 }],
    [25, { name: 'CelB', clockRate: 90000 }],
    [26, { name: 'JPEG', clockRate: 90000 }],
    [28, { name: 'nv', clockRate: 90000 }],
    [31, { name: 'H261', clockRate: 90000 }],
    [32, { name: 'MPV', clockRate: 90000 }],
    [33, { name: 'MP2T', clockRate: 90000 }],
    [34, { name: 'H263', clockRate: 90000 }],
  ]);

/** First dynamic payload type (RFC 3551 §3). */
export const DYNAMIC_PAYLOAD_TYPE_MIN = 96;

/** True for the RFC 4733 DTMF payload format name. */
export function isTelephoneEvent(name: string | undefined): boolean {
  return name?.toLowerCase() === 'telephone-event';
}

/** The RFC 3551 static payload type for a codec, if it has one. */
export function staticPayloadType(name: string, clockRate: number, channels = 1): number | undefined {
  const lower = name.toLowerCase();
  for (const [pt, c] of STATIC_PAYLOAD_TYPES) {
    if (c.name.toLowerCase() === lower && c.clockRate === clockRate && (c.channels ?? 1) === channels) return pt;
  }
  return undefined;
}

/**
 * The formats of an RTP `m=` line in their order, each resolved through its `rtpmap`, or for a
 * static payload type without one through RFC 3551 §6 (linphone omits `rtpmap` for 0 and 8).
 * Non-numeric formats (not RTP) are skipped.
 */
export function getRtpFormats(media: MediaDescription): RtpFormat[] {
  const maps = getRtpMaps(media);
  const fmtps = getFmtps(media);
  const out: RtpFormat[] = [];
  for (const fmt of media.formats) {
    if (!/^\d{1,3}$/.test(fmt)) continue;
    const payloadType = Number(fmt);
    const format: RtpFormat = { payloadType };
    const map = maps.get(payloadType);
    const known = map === undefined ? STATIC_PAYLOAD_TYPES.get(payloadType) : undefined;
    if (map !== undefined) {
      format.name = map.encodingName;
      format.clockRate = map.clockRate;
      if (map.channels !== undefined) format.channels = map.channels;
    } else if (known !== undefined) {
      format.name = known.name;
      format.clockRate = known.clockRate;
      if (known.channels !== undefined) format.channels = known.channels;
    }
    const fmtp = fmtps.get(fmt);
    if (fmtp !== undefined) format.fmtp = fmtp;
    out.push(format);
  }
  return out;
}

/**
 * True when a local codec can be used for a remote format (RFC 3264 §6.1): same encoding name
 * (case-insensitive), clock rate and channel count. A static payload type the table does not
 * name is matched by number.
 */
export function codecMatches(spec: CodecSpec, format: RtpFormat): boolean {
  if (format.name === undefined) {
    return format.payloadType < DYNAMIC_PAYLOAD_TYPE_MIN && spec.payloadType === format.payloadType;
  }
  return (
    format.name.toLowerCase() === spec.name.toLowerCase() &&
    format.clockRate === spec.clockRate &&
    (format.channels ?? 1) === (spec.channels ?? 1)
  );
}

/** A stable key for a codec (name/rate/channels), for payload type bookkeeping. */
export function codecKey(name: string, clockRate: number, channels = 1): string {
  return `${name.toLowerCase()}/${clockRate}/${channels}`;
}
