/**
 * Typed values of the headers the stack relies on, as parse/format pairs (RFC 3261 §20, §25.1):
 * Via, name-addr / addr-spec (From, To, Contact, Route, Record-Route), CSeq and header parameters.
 * Inputs are unfolded header values (see `unfold`), as binary strings.
 */
import { SipParseError } from './errors.js';
import { isWhitespace, quote, scanQuoted, scanToken, skipWs, splitList, TOKEN, trimEnd, unquote } from './grammar.js';
import { formatUri, parseUri, type Uri } from './uri.js';

/** A header parameter (`;tag=1234`, `;lr`). `value` is as written (quoted strings keep their quotes). */
export interface HeaderParam {
  readonly name: string;
  readonly value: string | null;
}

/** Value of a parameter by case-insensitive name, unquoted; undefined when absent, null for a flag. */
export function paramValue(params: readonly HeaderParam[], name: string): string | null | undefined {
  const wanted = name.toLowerCase();
  for (const p of params) {
    if (p.name.length === wanted.length && p.name.toLowerCase() === wanted) {
      return p.value === null ? null : unquote(p.value);
    }
  }
  return undefined;
}

/** A copy of `params` with `name` set to `value` (added at the end, or replaced in place). */
export function withParam(params: readonly HeaderParam[], name: string, value: string | null): HeaderParam[] {
  const wanted = name.toLowerCase();
  let found = false;
  const out = params.map((p) => {
    if (p.name.toLowerCase() !== wanted) return p;
    found = true;
    return { name: p.name, value };
  });
  if (!found) out.push({ name, value });
  return out;
}

export function formatParams(params: readonly HeaderParam[]): string {
  let out = '';
  for (const p of params) out += p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}

function fail(header: string, message: string): never {
  throw new SipParseError('header-value', `${header}: ${message}`, { header });
}

/** `GEN_VALUE[c]` is 1 for the octets of an unquoted gen-value: token chars plus the host characters `:[]`. */
const GEN_VALUE: Uint8Array = (() => {
  const table = Uint8Array.from(TOKEN);
  for (const c of [0x3a, 0x5b, 0x5d]) table[c] = 1;
  return table;
})();

/**
 * Parses `*( SEMI generic-param )` from `from` to the end of `text` (RFC 3261 §25.1:
 * generic-param = token [ EQUAL gen-value ], gen-value = token / host / quoted-string).
 * Whitespace is allowed around `;` and `=`. An empty parameter (`;;`) is an error.
 */
export function parseParams(text: string, from: number, header: string): HeaderParam[] {
  const params: HeaderParam[] = [];
  const end = text.length;
  let i = skipWs(text, from, end);
  while (i < end) {
    if (text.charCodeAt(i) !== 0x3b) fail(header, `unexpected character at offset ${i}`);
    i = skipWs(text, i + 1, end);
    const nameEnd = scanToken(text, i, end);
    if (nameEnd === i) fail(header, 'empty or malformed parameter');
    const name = text.slice(i, nameEnd);
    i = skipWs(text, nameEnd, end);
    let value: string | null = null;
    if (i < end && text.charCodeAt(i) === 0x3d) {
      i = skipWs(text, i + 1, end);
      if (i < end && text.charCodeAt(i) === 0x22) {
        const close = scanQuoted(text, i, end);
        if (close < 0) fail(header, `unterminated quoted value of ${name}`);
        value = text.slice(i, close);
        i = close;
      } else {
        const start = i;
        while (i < end && GEN_VALUE[text.charCodeAt(i)] === 1) i++;
        if (i === start) fail(header, `empty value of ${name}`);
        value = text.slice(start, i);
      }
      i = skipWs(text, i, end);
    }
    params.push({ name, value });
  }
  return params;
}

// ---------------------------------------------------------------------------------------------
// Hosts and ports

/** Whether `host` is a hostname, IPv4 address or bracketed IPv6 reference (RFC 3261 §25.1). */
export function isValidHost(host: string): boolean {
  if (host.length === 0) return false;
  if (host.charCodeAt(0) === 0x5b) {
    if (host.charCodeAt(host.length - 1) !== 0x5d || host.length < 4) return false;
    for (let i = 1; i < host.length - 1; i++) {
      const c = host.charCodeAt(i);
      const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
      if (!hex && c !== 0x3a && c !== 0x2e) return false;
    }
    return true;
  }
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    // '_' is not in the RFC 3261 grammar but appears in real deployments (SRV-style labels).
    if (!alnum && c !== 0x2d && c !== 0x2e && c !== 0x5f) return false;
  }
  return true;
}

/**
 * `HOST_CHAR[c]` is 1 for the octets of a host name or IPv4 address as {@link isValidHost}
 * accepts them (with "_", see there).
 */
const HOST_CHAR: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (alnum || c === 0x2d || c === 0x2e || c === 0x5f) table[c] = 1;
  }
  return table;
})();

function parsePort(text: string, header: string): number {
  if (text.length === 0 || text.length > 5) fail(header, `bad port "${text}"`);
  let port = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) fail(header, `bad port "${text}"`);
    port = port * 10 + (c - 0x30);
  }
  if (port > 65535) fail(header, `port ${port} out of range`);
  return port;
}

// ---------------------------------------------------------------------------------------------
// Via (RFC 3261 §20.42)

/** One Via value: `SIP/2.0/UDP host:port;branch=…;received=…;rport`. */
export interface Via {
  readonly protocolName: string;
  readonly protocolVersion: string;
  /** Transport token as written (`UDP`, `tcp`, `WSS`, or an unknown one). */
  readonly transport: string;
  /** Host as written (IPv6 references keep their brackets). */
  readonly host: string;
  readonly port: number | null;
  readonly params: readonly HeaderParam[];
}

/** The branch parameter of a Via, or undefined. */
export function viaBranch(via: Via): string | undefined {
  const v = paramValue(via.params, 'branch');
  return v === null ? undefined : v;
}

/** Whether `name` is `lower` in any ASCII case, without making a lower-case copy. */
function isNamed(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** 1*5DIGIT (a port or TTL as written). */
function isShortNumber(text: string): boolean {
  if (text.length === 0 || text.length > 5) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Parses one Via value. */
export function parseVia(text: string): Via {
  const end = text.length;
  let i = skipWs(text, 0, end);
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, with LWS around SLASH
  let tokenEnd = scanToken(text, i, end);
  if (tokenEnd === i) fail('via', 'malformed sent-protocol');
  const protocolName = text.slice(i, tokenEnd);
  i = skipWs(text, tokenEnd, end);
  if (text.charCodeAt(i) !== 0x2f) fail('via', 'malformed sent-protocol');
  i = skipWs(text, i + 1, end);
  tokenEnd = scanToken(text, i, end);
  if (tokenEnd === i) fail('via', 'malformed sent-protocol');
  const protocolVersion = text.slice(i, tokenEnd);
  i = skipWs(text, tokenEnd, end);
  if (text.charCodeAt(i) !== 0x2f) fail('via', 'malformed sent-protocol');
  i = skipWs(text, i + 1, end);
  tokenEnd = scanToken(text, i, end);
  if (tokenEnd === i) fail('via', 'malformed sent-protocol');
  const transport = text.slice(i, tokenEnd);
  i = skipWs(text, tokenEnd, end);
  const hostStart = i;
  let hostEnd: number;
  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf(']', i);
    if (close < 0) fail('via', 'unterminated IPv6 reference');
    hostEnd = close + 1;
  } else {
    hostEnd = i;
    let valid = true;
    while (hostEnd < end) {
      const c = text.charCodeAt(hostEnd);
      if (c === 0x3a || c === 0x3b || isWhitespace(c)) break;
      if (HOST_CHAR[c] !== 1) valid = false;
      hostEnd++;
    }
    if (!valid || hostEnd === i) fail('via', `bad sent-by host "${text.slice(hostStart, hostEnd)}"`);
  }
  const host = text.slice(hostStart, hostEnd);
  if (text.charCodeAt(hostStart) === 0x5b && !isValidHost(host)) fail('via', `bad sent-by host "${host}"`);
  i = skipWs(text, hostEnd, end);
  let port: number | null = null;
  if (text.charCodeAt(i) === 0x3a) {
    i = skipWs(text, i + 1, end);
    const portStart = i;
    let value = 0;
    for (let c = text.charCodeAt(i); i < end && c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i)) value = value * 10 + (c - 0x30);
    if (i === portStart || i - portStart > 5 || value > 65535) port = parsePort(text.slice(portStart, i), 'via'); // throws
    else port = value;
  }
  const params = parseParams(text, i, 'via');
  for (const p of params) {
    const name = p.name;
    if (p.value === null) {
      if (isNamed(name, 'branch')) fail('via', 'branch without value');
    } else if ((isNamed(name, 'rport') || isNamed(name, 'ttl')) && !isShortNumber(p.value)) {
      fail('via', `bad ${name.toLowerCase()} value`);
    }
  }
  return {
    protocolName,
    protocolVersion,
    transport,
    host,
    port,
    params,
  };
}

/** Parses a (possibly comma-separated) Via header value into its hops. */
export function parseViaList(text: string): Via[] {
  const parts = splitList(text);
  if (parts === null) fail('via', 'unbalanced quote');
  const out: Via[] = [];
  for (const p of parts) {
    if (p.length === 0) fail('via', 'empty value');
    out.push(parseVia(p));
  }
  return out;
}

export function formatVia(via: Via): string {
  const port = via.port === null ? '' : `:${via.port}`;
  return `${via.protocolName}/${via.protocolVersion}/${via.transport} ${via.host}${port}${formatParams(via.params)}`;
}

// ---------------------------------------------------------------------------------------------
// name-addr / addr-spec (RFC 3261 §20.10, §25.1)

/** A From/To/Contact/Route value: optional display name, URI, header parameters. */
export interface NameAddr {
  /** Display name: unquoted and unescaped for a quoted-string, trimmed tokens otherwise. */
  readonly displayName: string | null;
  /** Whether the display name was a quoted-string. */
  readonly quotedDisplayName: boolean;
  readonly uri: Uri;
  /** The URI exactly as written. */
  readonly uriText: string;
  /** Whether the URI was in angle brackets (name-addr) rather than a bare addr-spec. */
  readonly bracketed: boolean;
  readonly params: readonly HeaderParam[];
}

/**
 * Parses a name-addr or addr-spec followed by header parameters. In the addr-spec form the
 * parameters after `;` belong to the header, not the URI (§20.10), and a URI with `?`, `,` or
 * `;` headers is not allowed (RFC 4475 §3.1.2.13 regbadct).
 */
export function parseNameAddr(text: string, header = 'name-addr'): NameAddr {
  const end = text.length;
  let i = skipWs(text, 0, end);
  let displayName: string | null = null;
  let quotedDisplayName = false;
  let uriText: string;
  let bracketed = false;
  const first = text.charCodeAt(i);
  let angle = -1;
  if (first === 0x22) {
    const close = scanQuoted(text, i, end);
    if (close < 0) fail(header, 'unterminated quoted display name');
    displayName = unquote(text.slice(i, close));
    quotedDisplayName = true;
    i = skipWs(text, close, end);
    if (text.charCodeAt(i) !== 0x3c) fail(header, 'display name without <URI>');
    angle = i;
  } else {
    angle = text.indexOf('<', i);
    if (angle >= 0) {
      // display-name = *(token LWS): anything else (a comma, a quote…) is malformed (baddn)
      for (let k = i; k < angle; k++) {
        const c = text.charCodeAt(k);
        if (TOKEN[c] !== 1 && c !== 0x20 && c !== 0x09) fail(header, 'bad character in display name');
      }
      const nameEnd = trimEnd(text, i, angle);
      displayName = nameEnd > i ? text.slice(i, nameEnd) : null;
    }
  }
  if (angle >= 0) {
    const close = text.indexOf('>', angle + 1);
    if (close < 0) fail(header, 'missing >');
    uriText = text.slice(angle + 1, close);
    bracketed = true;
    i = close + 1;
  } else {
    let k = i;
    while (k < end) {
      const c = text.charCodeAt(k);
      if (c === 0x3b || isWhitespace(c)) break;
      if (c === 0x3f || c === 0x2c || c === 0x3e) fail(header, 'URI with ?, "," or > must be in <>');
      k++;
    }
    uriText = text.slice(i, k);
    i = k;
  }
  if (uriText.length === 0) fail(header, 'empty URI');
  let uri: Uri;
  try {
    uri = parseUri(uriText);
  } catch (error) {
    if (error instanceof SipParseError) fail(header, error.message);
    throw error;
  }
  const params = parseParams(text, i, header);
  return { displayName, quotedDisplayName, uri, uriText, bracketed, params };
}

export function formatNameAddr(value: NameAddr): string {
  const uri = value.uriText.length > 0 ? value.uriText : formatUri(value.uri);
  let out: string;
  if (value.displayName !== null) {
    const name = value.quotedDisplayName ? quote(value.displayName) : value.displayName;
    out = `${name} <${uri}>`;
  } else if (value.bracketed || value.params.length > 0) {
    out = `<${uri}>`;
  } else {
    out = uri;
  }
  return out + formatParams(value.params);
}

/** The tag parameter of a From/To value. */
export function tagOf(value: NameAddr): string | undefined {
  const tag = paramValue(value.params, 'tag');
  return tag === null ? undefined : tag;
}

/** Parses a list of name-addr values (Route, Record-Route, Path). */
export function parseNameAddrList(text: string, header: string): NameAddr[] {
  const parts = splitList(text);
  if (parts === null) fail(header, 'unbalanced quote or bracket');
  const out: NameAddr[] = [];
  for (const p of parts) {
    if (p.length === 0) fail(header, 'empty value');
    out.push(parseNameAddr(p, header));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Contact (RFC 3261 §20.10, RFC 5626 §4.2)

/** One Contact value with its registration-relevant parameters read out. */
export interface Contact extends NameAddr {
  /** `expires` parameter in seconds, when present and numeric (clamped to 2^32-1). */
  readonly expires: number | undefined;
  /** `q` parameter (0..1), when present. */
  readonly q: number | undefined;
}

/** `Contact: *` (RFC 3261 §10.2.2), only meaningful in REGISTER. */
export const WILDCARD_CONTACT = '*';

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 3261 §25.1) */
function isQValue(text: string): boolean {
  const n = text.length;
  if (n === 0 || n > 5) return false;
  const first = text.charCodeAt(0);
  if (first !== 0x30 && first !== 0x31) return false;
  if (n === 1) return true;
  if (text.charCodeAt(1) !== 0x2e) return false;
  for (let i = 2; i < n; i++) {
    const c = text.charCodeAt(i);
    if (first === 0x31 ? c !== 0x30 : c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function readContact(value: NameAddr): Contact {
  let expires: number | undefined;
  let q: number | undefined;
  for (const p of value.params) {
    const name = p.name.length === 7 || p.name.length === 1 ? p.name.toLowerCase() : '';
    if (name === 'expires') {
      if (p.value === null || !isDigits(p.value)) fail('contact', 'bad expires parameter');
      // RFC 4475 §3.1.2.4: an overlarge delta-seconds is clamped, not wrapped
      expires = p.value.length > 10 ? 2 ** 32 - 1 : Math.min(Number(p.value), 2 ** 32 - 1);
    } else if (name === 'q') {
      if (p.value === null || !isQValue(p.value)) fail('contact', 'bad q parameter');
      q = Number(p.value);
    }
  }
  return {
    displayName: value.displayName,
    quotedDisplayName: value.quotedDisplayName,
    uri: value.uri,
    uriText: value.uriText,
    bracketed: value.bracketed,
    params: value.params,
    expires,
    q,
  };
}

/** Parses a Contact header value: `*` or a list of contacts. */
export function parseContactList(text: string): Contact[] | typeof WILDCARD_CONTACT {
  const start = skipWs(text, 0);
  if (text.charCodeAt(start) === 0x2a && trimEnd(text, start, text.length) === start + 1) return WILDCARD_CONTACT;
  const list = parseNameAddrList(text, 'contact');
  const out: Contact[] = [];
  for (const value of list) out.push(readContact(value));
  return out;
}

// ---------------------------------------------------------------------------------------------
// CSeq (RFC 3261 §20.16)

export interface CSeq {
  /** Sequence number, 0 .. 2^32-1. */
  readonly seq: number;
  readonly method: string;
}

export function parseCSeq(text: string): CSeq {
  const end = text.length;
  let i = skipWs(text, 0, end);
  const digitsStart = i;
  while (i < end && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
  if (i === digitsStart) fail('cseq', 'missing sequence number');
  // Leading zeros are legal (RFC 4475 wsinv "0009"); the value, not the digit count, is judged.
  let seq = 0;
  for (let k = digitsStart; k < i; k++) {
    seq = seq * 10 + (text.charCodeAt(k) - 0x30);
    if (seq > 0xffffffff) fail('cseq', 'sequence number above 2^32-1');
  }
  const afterDigits = i;
  i = skipWs(text, i, end);
  if (i === afterDigits) fail('cseq', 'missing method');
  const methodEnd = scanToken(text, i, end);
  if (methodEnd === i) fail('cseq', 'missing method');
  if (skipWs(text, methodEnd, end) !== end) fail('cseq', 'trailing characters');
  return { seq, method: text.slice(i, methodEnd) };
}

export function formatCSeq(value: CSeq): string {
  return `${value.seq} ${value.method}`;
}

// ---------------------------------------------------------------------------------------------
// Scalars

/**
 * Parses a non-negative decimal scalar (Max-Forwards, Content-Length, Expires, Min-Expires).
 * Values above `clampAt` are clamped there rather than wrapped (G15, RFC 4475 §3.1.2.4).
 */
export function parseDecimal(text: string, header: string, clampAt = 0xffffffff): number {
  const start = skipWs(text, 0);
  const end = trimEnd(text, start, text.length);
  if (end === start) fail(header, 'empty value');
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) fail(header, `not a non-negative integer: "${text.slice(start, Math.min(end, start + 20))}"`);
    // Stop accumulating once past the clamp: huge values clamp instead of losing precision.
    if (value <= clampAt) value = value * 10 + (c - 0x30);
  }
  return Math.min(value, clampAt);
}
