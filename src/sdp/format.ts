import type {
  Attribute,
  Bandwidth,
  Connection,
  KnownLineType,
  LineEnding,
  MediaDescription,
  Origin,
  SessionDescription,
  UnknownLine,
} from './types.js';

/** Options for {@link formatSdp}. */
export interface FormatSdpOptions {
  /**
   * `crlf` (default) as RFC 8866 §5 requires, or `lf` for peers or files that want bare LF
   * (the caller's `--use-lf` option).
   */
  lineEnding?: LineEnding;
}

type Line = readonly [type: KnownLineType, text: string];

/** `IN IP4 127.0.0.1` etc. (RFC 8866 §5.2). */
export function formatOrigin(o: Origin): string {
  return `${o.username} ${o.sessionId} ${o.sessionVersion.toString()} ${o.netType} ${o.addressType} ${o.address}`;
}

/**
 * The value of a `c=` line (RFC 8866 §5.7).
 *
 * @throws {TypeError} for an IPv4 address count without a TTL, which the grammar cannot express.
 */
export function formatConnection(c: Connection): string {
  let address = c.address;
  if (c.addressType === 'IP4') {
    if (c.ttl !== undefined) address += `/${c.ttl}`;
    else if (c.numberOfAddresses !== undefined) throw new TypeError('IPv4 multicast count needs a TTL');
  }
  if (c.numberOfAddresses !== undefined) address += `/${c.numberOfAddresses}`;
  return `${c.netType} ${c.addressType} ${address}`;
}

/** The value of a `b=` line (RFC 8866 §5.8). */
export function formatBandwidth(b: Bandwidth): string {
  return `${b.type}:${b.value}`;
}

/** The value of an `a=` line (RFC 8866 §5.13). */
export function formatAttribute(a: Attribute): string {
  return a.value === undefined ? a.name : `${a.name}:${a.value}`;
}

/** The value of an `m=` line (RFC 8866 §5.14). */
export function formatMediaLine(
  m: Pick<MediaDescription, 'type' | 'port' | 'numberOfPorts' | 'protocol' | 'formats'>,
): string {
  const port = m.numberOfPorts === undefined ? `${m.port}` : `${m.port}/${m.numberOfPorts}`;
  return [m.type, port, m.protocol, ...m.formats].join(' ');
}

/**
 * Writes the known lines of one section and puts each unknown line back after the line it
 * followed when parsed; unknown lines whose anchor has gone end the section.
 */
function emitSection(known: readonly Line[], unknown: readonly UnknownLine[], out: string[]): void {
  const byAnchor = new Map<string, UnknownLine[]>();
  for (const u of unknown) {
    const key = `${u.after.type}${u.after.index}`;
    const list = byAnchor.get(key);
    if (list === undefined) byAnchor.set(key, [u]);
    else list.push(u);
  }
  const seen = new Map<KnownLineType, number>();
  for (const [type, text] of known) {
    const index = seen.get(type) ?? 0;
    seen.set(type, index + 1);
    out.push(`${type}=${text}`);
    const key = `${type}${index}`;
    for (const u of byAnchor.get(key) ?? []) out.push(`${u.type}=${u.value}`);
    byAnchor.delete(key);
  }
  // Anchors that no longer exist (the caller removed that line): keep the lines, at the end.
  for (const u of unknown) {
    if (byAnchor.has(`${u.after.type}${u.after.index}`)) out.push(`${u.type}=${u.value}`);
  }
}

/**
 * Serialises a session description (RFC 8866 §5), known lines in the mandatory order, each
 * line terminated by CRLF (or LF when asked).
 *
 * @throws {TypeError} when any value contains CR or LF: that would inject lines into the SDP.
 */
export function formatSdp(sdp: SessionDescription, options: FormatSdpOptions = {}): string {
  const session: Line[] = [
    ['v', `${sdp.version}`],
    ['o', formatOrigin(sdp.origin)],
    ['s', sdp.sessionName],
  ];
  if (sdp.information !== undefined) session.push(['i', sdp.information]);
  if (sdp.uri !== undefined) session.push(['u', sdp.uri]);
  for (const e of sdp.emails) session.push(['e', e]);
  for (const p of sdp.phones) session.push(['p', p]);
  if (sdp.connection !== undefined) session.push(['c', formatConnection(sdp.connection)]);
  for (const b of sdp.bandwidths) session.push(['b', formatBandwidth(b)]);
  for (const t of sdp.timing) {
    session.push(['t', `${t.start} ${t.stop}`]);
    for (const r of t.repeats) session.push(['r', r]);
  }
  if (sdp.timeZones !== undefined) session.push(['z', sdp.timeZones]);
  if (sdp.key !== undefined) session.push(['k', sdp.key]);
  for (const a of sdp.attributes) session.push(['a', formatAttribute(a)]);

  const out: string[] = [];
  emitSection(session, sdp.unknownLines, out);
  for (const m of sdp.media) {
    const lines: Line[] = [['m', formatMediaLine(m)]];
    if (m.information !== undefined) lines.push(['i', m.information]);
    for (const c of m.connections) lines.push(['c', formatConnection(c)]);
    for (const b of m.bandwidths) lines.push(['b', formatBandwidth(b)]);
    if (m.key !== undefined) lines.push(['k', m.key]);
    for (const a of m.attributes) lines.push(['a', formatAttribute(a)]);
    emitSection(lines, m.unknownLines, out);
  }
  for (const line of out) {
    if (/[\r\n]/.test(line)) throw new TypeError(`SDP line contains CR or LF: ${JSON.stringify(line.slice(0, 40))}`);
  }
  const eol = options.lineEnding === 'lf' ? '\n' : '\r\n';
  return out.join(eol) + eol;
}
