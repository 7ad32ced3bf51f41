import { addressScope, isIPv4, isIPv6, isValidAddress } from './address.js';
import { SdpParseError } from './errors.js';
import type {
  AddressType,
  Attribute,
  Bandwidth,
  Connection,
  KnownLineType,
  MediaDescription,
  Origin,
  SessionDescription,
  Timing,
  UnknownLine,
} from './types.js';

// RFC 8866 §9 `token` (also used for media types, bwtype and attribute names).
const TOKEN_RE = /^[A-Za-z0-9!#$%&'*+\-.^_`{|}~]+$/;
const PROTO_RE = /^[A-Za-z0-9!#$%&'*+\-.^_`{|}~]+(?:\/[A-Za-z0-9!#$%&'*+\-.^_`{|}~]+)*$/;
const DIGITS_RE = /^\d+$/;
const LINE_RE = /^([A-Za-z])=(.*)$/s;
const KNOWN_TYPES: ReadonlySet<string> = new Set<KnownLineType>([
  'v', 'o', 's', 'i', 'u', 'e', 'p', 'c', 'b', 't', 'r', 'z', 'k', 'a', 'm',
]);
// Lines that belong to the session part only (RFC 8866 §5 order).
const SESSION_ONLY: ReadonlySet<string> = new Set(['v', 'o', 's', 'u', 'e', 'p', 't', 'r', 'z']);

/**
 * True when `protocol` is an RTP profile (`RTP/AVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVPF`,
 * `TCP/RTP/AVP`, …), whose formats are RTP payload types 0–127 (RFC 8866 §5.14, RFC 3551 §3).
 */
export function isRtpProtocol(protocol: string): boolean {
  return protocol.toUpperCase().split('/').includes('RTP');
}

/** Short, quoted rendering of peer-controlled text for error messages. */
function show(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function fields(value: string): string[] {
  const trimmed = value.trim();
  return trimmed === '' ? [] : trimmed.split(/[ \t]+/);
}

function smallInt(text: string, max: number): number | undefined {
  if (!DIGITS_RE.test(text) || text.length > 10) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

function parseAddressType(text: string, kind: 'origin' | 'connection', line: number): AddressType {
  if (text === 'IP4' || text === 'IP6') return text;
  throw new SdpParseError(kind, `unknown address type ${show(text)} (expected IP4 or IP6)`, line);
}

/** `o=` (RFC 8866 §5.2). The address itself is not used for media, so only its shape is checked. */
export function parseOrigin(value: string, line = 0): Origin {
  const f = fields(value);
  if (f.length !== 6) throw new SdpParseError('origin', 'o= needs 6 fields', line);
  const [username, sessionId, sessionVersion, netType, addrType, address] = f as [
    string, string, string, string, string, string,
  ];
  if (!DIGITS_RE.test(sessionId)) throw new SdpParseError('origin', `bad sess-id ${show(sessionId)}`, line);
  if (!DIGITS_RE.test(sessionVersion)) {
    throw new SdpParseError('origin', `bad sess-version ${show(sessionVersion)}`, line);
  }
  if (netType !== 'IN') throw new SdpParseError('origin', `unknown network type ${show(netType)}`, line);
  return {
    username,
    sessionId,
    sessionVersion: BigInt(sessionVersion),
    netType,
    addressType: parseAddressType(addrType, 'origin', line),
    address,
  };
}

/**
 * `c=` (RFC 8866 §5.7), checked as GUARANTEES G39 asks: the address must be a literal of its
 * address type (or an FQDN); IPv4 multicast needs a TTL 0–255; `/count` is only allowed on
 * multicast and must be at least 1; any other suffix is rejected.
 *
 * @throws {SdpParseError} kind `connection`.
 */
export function parseConnection(value: string, line = 0): Connection {
  const f = fields(value);
  if (f.length !== 3) throw new SdpParseError('connection', 'c= needs 3 fields', line);
  const [netType, addrType, addressField] = f as [string, string, string];
  if (netType !== 'IN') throw new SdpParseError('connection', `unknown network type ${show(netType)}`, line);
  const addressType = parseAddressType(addrType, 'connection', line);
  const [address, ...suffix] = addressField.split('/') as [string, ...string[]];
  if (!isValidAddress(addressType, address)) {
    // An IPv6 literal under IP4 (or the reverse) is the typical mistake; say so.
    const other = addressType === 'IP4' ? isIPv6(address) : isIPv4(address);
    throw new SdpParseError(
      'connection',
      other
        ? `address ${show(address)} does not match address type ${addressType}`
        : `bad ${addressType} address ${show(address)}`,
      line,
    );
  }
  const multicast = addressScope(addressType, address) === 'multicast';
  if (!multicast) {
    if (suffix.length > 0) {
      throw new SdpParseError('connection', `TTL/count only allowed on multicast addresses: ${show(addressField)}`, line);
    }
    return { netType, addressType, address };
  }
  const conn: Connection = { netType, addressType, address };
  if (addressType === 'IP4') {
    // RFC 8866 §5.7: "IPv4 multicast connection addresses MUST also have a time to live (TTL)".
    if (suffix.length < 1 || suffix.length > 2) {
      throw new SdpParseError('connection', `IPv4 multicast needs /ttl[/count]: ${show(addressField)}`, line);
    }
    const ttl = smallInt(suffix[0]!, 255);
    if (ttl === undefined) throw new SdpParseError('connection', `bad TTL ${show(suffix[0]!)}`, line);
    conn.ttl = ttl;
    if (suffix.length === 2) conn.numberOfAddresses = addressCount(suffix[1]!, line);
  } else {
    // RFC 8866 §5.7: IPv6 has no TTL field; the one suffix is the number of addresses.
    if (suffix.length > 1) {
      throw new SdpParseError('connection', `IPv6 multicast takes only /count: ${show(addressField)}`, line);
    }
    if (suffix.length === 1) conn.numberOfAddresses = addressCount(suffix[0]!, line);
  }
  return conn;
}

function addressCount(text: string, line: number): number {
  const n = smallInt(text, 65535);
  if (n === undefined || n < 1) throw new SdpParseError('connection', `bad number of addresses ${show(text)}`, line);
  return n;
}

/** `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8). */
export function parseBandwidth(value: string, line = 0): Bandwidth {
  const trimmed = value.trim();
  const colon = trimmed.indexOf(':');
  const type = trimmed.slice(0, colon);
  const amount = trimmed.slice(colon + 1);
  const n = colon > 0 && TOKEN_RE.test(type) ? smallInt(amount, Number.MAX_SAFE_INTEGER) : undefined;
  if (n === undefined) throw new SdpParseError('bandwidth', `bad bandwidth ${show(value)}`, line);
  return { type, value: n };
}

/**
 * The fields of an `m=` line (RFC 8866 §5.14), checked as GUARANTEES G39 asks: port 0–65535,
 * port count ≥ 1 with every port in range, at least one format, and for RTP profiles payload
 * types 0–127 (RFC 3551 §3).
 *
 * @throws {SdpParseError} kind `media`.
 */
export function parseMediaLine(
  value: string,
  line = 0,
): Pick<MediaDescription, 'type' | 'port' | 'numberOfPorts' | 'protocol' | 'formats'> {
  const f = fields(value);
  if (f.length < 4) throw new SdpParseError('media', 'm= needs media, port, proto and at least one format', line);
  const [type, portField, protocol, ...formats] = f as [string, string, string, ...string[]];
  if (!TOKEN_RE.test(type)) throw new SdpParseError('media', `bad media type ${show(type)}`, line);
  if (!PROTO_RE.test(protocol)) throw new SdpParseError('media', `bad transport protocol ${show(protocol)}`, line);
  const rtp = isRtpProtocol(protocol);
  const [portText, countText, ...extra] = portField.split('/') as [string, ...string[]];
  const port = smallInt(portText, 65535);
  if (port === undefined || extra.length > 0) {
    throw new SdpParseError('media', `port outside 0-65535: ${show(portField)}`, line);
  }
  const out: Pick<MediaDescription, 'type' | 'port' | 'numberOfPorts' | 'protocol' | 'formats'> = {
    type, port, protocol, formats,
  };
  if (countText !== undefined) {
    const count = smallInt(countText, 65535);
    // RFC 8866 §5.14: with RTP the ports are port, port+2, …; each RTCP port is one above.
    const last = count === undefined ? Infinity : port + (rtp ? 2 : 1) * (count - 1) + (rtp ? 1 : 0);
    if (count === undefined || count < 1 || last > 65535) {
      throw new SdpParseError('media', `bad port count ${show(portField)}`, line);
    }
    out.numberOfPorts = count;
  }
  for (const fmt of formats) {
    if (rtp ? smallInt(fmt, 127) === undefined : !/^[\x21-\x7e]+$/.test(fmt)) {
      throw new SdpParseError(
        'media',
        rtp ? `payload type outside 0-127: ${show(fmt)}` : `bad format ${show(fmt)}`,
        line,
      );
    }
  }
  return out;
}

function parseTiming(value: string, line: number): Timing {
  const f = fields(value);
  if (f.length !== 2 || !f.every((x) => DIGITS_RE.test(x))) {
    throw new SdpParseError('timing', `bad t= ${show(value)}`, line);
  }
  return { start: f[0]!, stop: f[1]!, repeats: [] };
}

/**
 * `a=<name>[:<value>]` (RFC 8866 §5.13). Deliberately lenient: RFC 8866 tells parsers to ignore
 * attributes they do not understand, so even an odd-looking one is kept (verbatim) rather than
 * making the whole description unusable.
 */
function parseAttribute(value: string): Attribute {
  const colon = value.indexOf(':');
  return colon < 0 ? { name: value.trimEnd() } : { name: value.slice(0, colon), value: value.slice(colon + 1) };
}

interface SectionCursor {
  counts: Map<string, number>;
  last: { type: KnownLineType; index: number };
  unknown: UnknownLine[];
}

function newCursor(first: KnownLineType): SectionCursor {
  return { counts: new Map([[first, 1]]), last: { type: first, index: 0 }, unknown: [] };
}

function noteKnown(cursor: SectionCursor, type: KnownLineType): void {
  const index = cursor.counts.get(type) ?? 0;
  cursor.counts.set(type, index + 1);
  cursor.last = { type, index };
}

/**
 * Parses a session description (RFC 8866). CRLF and bare LF line endings are both accepted,
 * blank lines and trailing whitespace are tolerated, lines with unknown type letters and every
 * attribute are kept verbatim and in order, so `formatSdp(parseSdp(x)) === x` for well-formed
 * CRLF input.
 *
 * @remarks Checks are those of GUARANTEES G39: `c=` and `m=` lines are validated here, before
 * any caller looks at ports. Known lines out of their RFC 8866 §5 order are accepted (and put
 * back in order by `formatSdp`); session-level lines inside a media section are not. A missing
 * `t=` is tolerated, a missing `v=`, `o=` or `s=` is not. Connection presence per stream
 * (RFC 8866 §5.7) is left to the negotiator, which only needs it for streams it accepts.
 *
 * @throws {SdpParseError} on any line that breaks the grammar or the G39 checks.
 * @throws {TypeError} when `text` is not a string.
 */
export function parseSdp(text: string): SessionDescription {
  if (typeof text !== 'string') throw new TypeError('parseSdp expects a string');
  const lines = text.split(/\r?\n/);
  const sdp: Partial<SessionDescription> & { media: MediaDescription[] } = { media: [] };
  const emails: string[] = [];
  const phones: string[] = [];
  const bandwidths: Bandwidth[] = [];
  const timing: Timing[] = [];
  const attributes: Attribute[] = [];
  let session: SectionCursor | undefined;
  let media: { desc: MediaDescription; cursor: SectionCursor } | undefined;
  let sawName = false;

  const once = (present: boolean, type: string, lineNo: number): void => {
    if (present) throw new SdpParseError('duplicate-line', `more than one ${type}= line`, lineNo);
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    if (raw.trim() === '') continue; // blank lines and the empty piece after the final CRLF
    const m = LINE_RE.exec(raw);
    if (m === null) throw new SdpParseError('syntax', `not a <type>=<value> line: ${show(raw)}`, lineNo);
    const type = m[1]!;
    const value = m[2]!;

    if (session === undefined) {
      // RFC 8866 §5: "An SDP description MUST begin with "v=0"".
      if (type !== 'v') throw new SdpParseError('version', 'session description must start with v=', lineNo);
      if (value.trim() !== '0') throw new SdpParseError('version', `unsupported version ${show(value)}`, lineNo);
      session = newCursor('v');
      continue;
    }

    if (!KNOWN_TYPES.has(type)) {
      const cursor = media?.cursor ?? session;
      cursor.unknown.push({ type, value, after: { ...cursor.last } });
      continue;
    }
    const known = type as KnownLineType;

    if (known === 'm') {
      const cursor = newCursor('m');
      const desc: MediaDescription = {
        ...parseMediaLine(value, lineNo),
        connections: [],
        bandwidths: [],
        attributes: [],
        unknownLines: cursor.unknown,
      };
      media = { desc, cursor };
      sdp.media.push(desc);
      continue;
    }

    if (media !== undefined) {
      const { desc, cursor } = media;
      if (SESSION_ONLY.has(known)) {
        throw new SdpParseError('syntax', `${known}= is not allowed in a media description`, lineNo);
      }
      switch (known) {
        case 'i':
          once(desc.information !== undefined, 'i', lineNo);
          desc.information = value;
          break;
        case 'c':
          desc.connections.push(parseConnection(value, lineNo));
          break;
        case 'b':
          desc.bandwidths.push(parseBandwidth(value, lineNo));
          break;
        case 'k':
          once(desc.key !== undefined, 'k', lineNo);
          desc.key = value;
          break;
        case 'a':
          desc.attributes.push(parseAttribute(value));
          break;
        default:
          throw new SdpParseError('syntax', `unexpected ${known}= line`, lineNo);
      }
      noteKnown(cursor, known);
      continue;
    }

    switch (known) {
      case 'v':
        throw new SdpParseError('duplicate-line', 'more than one v= line', lineNo);
      case 'o':
        once(sdp.origin !== undefined, 'o', lineNo);
        sdp.origin = parseOrigin(value, lineNo);
        break;
      case 's':
        once(sawName, 's', lineNo);
        sawName = true;
        sdp.sessionName = value;
        break;
      case 'i':
        once(sdp.information !== undefined, 'i', lineNo);
        sdp.information = value;
        break;
      case 'u':
        once(sdp.uri !== undefined, 'u', lineNo);
        sdp.uri = value;
        break;
      case 'e':
        emails.push(value);
        break;
      case 'p':
        phones.push(value);
        break;
      case 'c':
        // RFC 8866 §5.7: at most one session-level c= line.
        once(sdp.connection !== undefined, 'c', lineNo);
        sdp.connection = parseConnection(value, lineNo);
        break;
      case 'b':
        bandwidths.push(parseBandwidth(value, lineNo));
        break;
      case 't':
        timing.push(parseTiming(value, lineNo));
        break;
      case 'r': {
        const last = timing[timing.length - 1];
        if (last === undefined) throw new SdpParseError('timing', 'r= without a preceding t=', lineNo);
        last.repeats.push(value);
        break;
      }
      case 'z':
        once(sdp.timeZones !== undefined, 'z', lineNo);
        sdp.timeZones = value;
        break;
      case 'k':
        once(sdp.key !== undefined, 'k', lineNo);
        sdp.key = value;
        break;
      case 'a':
        attributes.push(parseAttribute(value));
        break;
      default:
        throw new SdpParseError('syntax', `unexpected ${known}= line`, lineNo);
    }
    noteKnown(session, known);
  }

  if (session === undefined) throw new SdpParseError('missing-line', 'empty session description');
  if (sdp.origin === undefined) throw new SdpParseError('missing-line', 'missing o= line');
  if (!sawName) throw new SdpParseError('missing-line', 'missing s= line');

  const out: SessionDescription = {
    version: 0,
    origin: sdp.origin,
    sessionName: sdp.sessionName ?? '',
    emails,
    phones,
    bandwidths,
    timing,
    attributes,
    media: sdp.media,
    unknownLines: session.unknown,
  };
  if (sdp.information !== undefined) out.information = sdp.information;
  if (sdp.uri !== undefined) out.uri = sdp.uri;
  if (sdp.connection !== undefined) out.connection = sdp.connection;
  if (sdp.timeZones !== undefined) out.timeZones = sdp.timeZones;
  if (sdp.key !== undefined) out.key = sdp.key;
  return out;
}
