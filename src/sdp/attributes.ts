import { parseConnection } from './parse.js';
import type { Attribute, Connection, MediaDescription, MediaDirection, SessionDescription } from './types.js';

// Typed views of the attributes voxlite uses. Attributes are stored verbatim (`types.ts`); these
// getters parse them on demand and skip an attribute they cannot read rather than throw, so one
// odd line from a peer does not make the whole description unusable. Each parse has a format
// twin for building SDP.

/** `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]` (RFC 8866 §6.6). */
export interface RtpMap {
  payloadType: number;
  /** As written (case is not significant, RFC 4855 §3). */
  encodingName: string;
  clockRate: number;
  /** For audio: the number of channels (RFC 8866 §6.6); absent means 1. */
  channels?: number;
}

/** `a=fmtp:<format> <format specific parameters>` (RFC 8866 §6.15). */
export interface Fmtp {
  format: string;
  parameters: string;
}

/** `a=rtcp:<port> [<nettype> <addrtype> <connection-address>]` (RFC 3605 §2.1). */
export interface RtcpAttribute {
  port: number;
  connection?: Connection;
}

const DIRECTIONS: ReadonlySet<string> = new Set<MediaDirection>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** True when `name` is one of the four direction attributes (RFC 8866 §6.7). */
export function isDirection(name: string): name is MediaDirection {
  return DIRECTIONS.has(name);
}

/** Values of every attribute called `name` (compared case-insensitively), in order. */
export function findAttributes(attributes: readonly Attribute[], name: string): Attribute[] {
  const lower = name.toLowerCase();
  return attributes.filter((a) => a.name.toLowerCase() === lower);
}

/** True when an attribute called `name` is present (e.g. the property attribute `rtcp-mux`). */
export function hasAttribute(attributes: readonly Attribute[], name: string): boolean {
  return findAttributes(attributes, name).length > 0;
}

/** Parses an `rtpmap` value, or `undefined` when it is malformed. */
export function parseRtpMap(value: string): RtpMap | undefined {
  const m = /^\s*(\d{1,3})\s+([^\s/]+)\/(\d{1,10})(?:\/(\d{1,3}))?\s*$/.exec(value);
  if (m === null) return undefined;
  const payloadType = Number(m[1]);
  const clockRate = Number(m[3]);
  if (payloadType > 127 || clockRate === 0) return undefined;
  const out: RtpMap = { payloadType, encodingName: m[2]!, clockRate };
  if (m[4] !== undefined) out.channels = Number(m[4]);
  return out;
}

/** The value of an `rtpmap` attribute. */
export function formatRtpMap(map: RtpMap): string {
  const base = `${map.payloadType} ${map.encodingName}/${map.clockRate}`;
  return map.channels === undefined ? base : `${base}/${map.channels}`;
}

/** Parses an `fmtp` value, or `undefined` when it has no format. */
export function parseFmtp(value: string): Fmtp | undefined {
  const m = /^\s*(\S+)(?:\s+(.*?))?\s*$/s.exec(value);
  if (m === null) return undefined;
  return { format: m[1]!, parameters: m[2] ?? '' };
}

/** The value of an `fmtp` attribute. */
export function formatFmtp(fmtp: Fmtp): string {
  return `${fmtp.format} ${fmtp.parameters}`;
}

/** Parses an `rtcp` value (RFC 3605), or `undefined` when it is malformed. */
export function parseRtcpAttribute(value: string): RtcpAttribute | undefined {
  const m = /^\s*(\d{1,5})(?:\s+(.+?))?\s*$/.exec(value);
  if (m === null) return undefined;
  const port = Number(m[1]);
  if (port > 65535) return undefined;
  if (m[2] === undefined) return { port };
  try {
    return { port, connection: parseConnection(m[2]) };
  } catch {
    return undefined;
  }
}

/** The value of an `rtcp` attribute. */
export function formatRtcpAttribute(rtcp: RtcpAttribute): string {
  const c = rtcp.connection;
  return c === undefined ? `${rtcp.port}` : `${rtcp.port} ${c.netType} ${c.addressType} ${c.address}`;
}

/** All readable `rtpmap`s of a media section, by payload type (the first one wins on duplicates). */
export function getRtpMaps(media: MediaDescription): Map<number, RtpMap> {
  const out = new Map<number, RtpMap>();
  for (const a of findAttributes(media.attributes, 'rtpmap')) {
    const map = a.value === undefined ? undefined : parseRtpMap(a.value);
    if (map !== undefined && !out.has(map.payloadType)) out.set(map.payloadType, map);
  }
  return out;
}

/** All readable `fmtp` parameter strings of a media section, by format. */
export function getFmtps(media: MediaDescription): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of findAttributes(media.attributes, 'fmtp')) {
    const fmtp = a.value === undefined ? undefined : parseFmtp(a.value);
    if (fmtp !== undefined && !out.has(fmtp.format)) out.set(fmtp.format, fmtp.parameters);
  }
  return out;
}

function numberAttribute(
  name: string,
  media: MediaDescription,
  session: SessionDescription | undefined,
): number | undefined {
  // ptime/maxptime are media-level (RFC 8866 §6.4, §6.5); some peers put them at session level.
  for (const attrs of [media.attributes, session?.attributes ?? []]) {
    for (const a of findAttributes(attrs, name)) {
      const n = a.value === undefined ? NaN : Number(a.value.trim());
      if (Number.isFinite(n) && n > 0) return n;
    }
  }
  return undefined;
}

/** `a=ptime` in milliseconds (RFC 8866 §6.4), media level first, then session level. */
export function getPtime(media: MediaDescription, session?: SessionDescription): number | undefined {
  return numberAttribute('ptime', media, session);
}

/** `a=maxptime` in milliseconds (RFC 8866 §6.5), media level first, then session level. */
export function getMaxPtime(media: MediaDescription, session?: SessionDescription): number | undefined {
  return numberAttribute('maxptime', media, session);
}

/**
 * The direction of a stream: its own direction attribute, else the session-level one, else
 * `sendrecv` (RFC 3264 §5.1, RFC 8866 §6.7). When several are present the last one wins.
 */
export function getDirection(media: MediaDescription, session?: SessionDescription): MediaDirection {
  for (const attrs of [media.attributes, session?.attributes ?? []]) {
    let found: MediaDirection | undefined;
    for (const a of attrs) {
      const name = a.name.toLowerCase();
      if (a.value === undefined && isDirection(name)) found = name;
    }
    if (found !== undefined) return found;
  }
  return 'sendrecv';
}

/** The `a=rtcp` attribute of a media section (RFC 3605), if present and readable. */
export function getRtcp(media: MediaDescription): RtcpAttribute | undefined {
  for (const a of findAttributes(media.attributes, 'rtcp')) {
    const rtcp = a.value === undefined ? undefined : parseRtcpAttribute(a.value);
    if (rtcp !== undefined) return rtcp;
  }
  return undefined;
}

/**
 * The connection that applies to a media section: its first own `c=` line, else the
 * session-level one (RFC 8866 §5.7).
 */
export function getConnection(media: MediaDescription, session: SessionDescription): Connection | undefined {
  return media.connections[0] ?? session.connection;
}
