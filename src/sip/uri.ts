/**
 * SIP, SIPS and tel URIs: parse, format, compare (RFC 3261 §19.1, §25.1; RFC 3966; RFC 5118).
 *
 * ```
 *   sip:user:password@host:port;uri-parameters?headers
 *   \_/ \__/ \______/ \__/ \__/ \_____________/ \_____/
 *  scheme user password host port    params     headers
 * ```
 *
 * Input is a "binary string": one JS char per octet (latin1), so 0x80–0xFF are raw octets and
 * nothing is ever UTF-8 decoded. Every scanner is a single forward pass with `charCodeAt` and
 * `indexOf` (no regular expressions), so parsing is linear in the length of the text and needs no
 * internal size limit (the message parser bounds the Request-URI, GUARANTEES G09).
 *
 * Components are kept exactly as written (still %-escaped) so that `formatUri(parseUri(x)) === x`
 * and so that escaped headers such as `?Route=%3Csip:x%3E` stay inert data (GUARANTEES G19).
 */
import { SipParseError } from './errors.js';

/** A `;name=value` URI parameter or a `?name=value` URI header, exactly as written (escaped). */
export interface UriParam {
  /** The name as written: original case, %-escapes kept. */
  readonly name: string;
  /** The value as written, or `null` for a flag parameter such as `;lr`. */
  readonly value: string | null;
}

/** A `sip:` or `sips:` URI (RFC 3261 §19.1.1). Every text field is as written, still escaped. */
export interface SipUri {
  /** Always lower case; `SIP:` on the wire is still reproduced by {@link formatUri}. */
  readonly scheme: 'sip' | 'sips';
  /** The user part (or telephone-subscriber), still %-escaped; may contain `;`, `?`, `/`. */
  readonly user: string | null;
  /** The password after `:` in the userinfo, as written; `''` for `user:@host`. */
  readonly password: string | null;
  /** Host name, IPv4 address, or IPv6 reference with its brackets (`[2001:db8::1]`). */
  readonly host: string;
  /** The port, or `null` when absent (absent is not the same as 5060, RFC 3261 §19.1.4). */
  readonly port: number | null;
  /** The uri-parameters in order. */
  readonly params: readonly UriParam[];
  /** The `?h=v&…` headers in order; always with a value (the grammar requires `=`). */
  readonly headers: readonly UriParam[];
}

/** A `tel:` URI (RFC 3966 §3). */
export interface TelUri {
  readonly scheme: 'tel';
  /** The telephone-subscriber digits as written, visual separators kept (`+1-201-555-0123`). */
  readonly number: string;
  /** The parameters in order (`phone-context`, `ext`, `isub`, others), as written. */
  readonly params: readonly UriParam[];
}

/** Any other URI scheme (RFC 3261 §25.1 absoluteURI): the text after `scheme:` is opaque. */
export interface AbsoluteUri {
  /** The scheme in lower case (URI schemes are case-insensitive, RFC 3986 §3.1). */
  readonly scheme: string;
  /** Everything after the first `:`, as written. */
  readonly value: string;
}

/** Any URI voxlite can carry in a Request-URI or a name-addr. */
export type Uri = SipUri | TelUri | AbsoluteUri;

// ---------------------------------------------------------------------------------------------
// Character classes (RFC 3261 §25.1). One table, one bit per class.

const C_UNRESERVED = 1; // alphanum / mark
const C_USER = 2; // unreserved / user-unreserved ("&" "=" "+" "$" "," ";" "?" "/")
const C_PASSWORD = 4; // unreserved / "&" "=" "+" "$" ","
const C_PARAM = 8; // unreserved / param-unreserved ("[" "]" "/" ":" "&" "+" "$")
const C_HNV = 16; // unreserved / hnv-unreserved ("[" "]" "/" "?" ":" "+" "$")
const C_HOST = 32; // alphanum / "-" / "." (hostname and IPv4address)
const C_SCHEME = 64; // ALPHA / DIGIT / "+" / "-" / "."
const C_URIC = 128; // reserved / unreserved, less ";" (RFC 3966 isub values, RFC 2396 uric)

const CLASS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  const add = (chars: string, bits: number): void => {
    for (let k = 0; k < chars.length; k++) {
      const c = chars.charCodeAt(k);
      t[c] = (t[c] ?? 0) | bits;
    }
  };
  const unreserved = C_UNRESERVED | C_USER | C_PASSWORD | C_PARAM | C_HNV | C_URIC;
  for (let c = 0x30; c <= 0x39; c++) t[c] = unreserved | C_HOST | C_SCHEME;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = unreserved | C_HOST | C_SCHEME;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = unreserved | C_HOST | C_SCHEME;
  add("-_.!~*'()", unreserved);
  add('-.', C_HOST);
  add('+-.', C_SCHEME);
  add('&=+$,;?/', C_USER);
  add('&=+$,', C_PASSWORD);
  add('[]/:&+$', C_PARAM);
  add('[]/?:+$', C_HNV);
  add('/?:@&=+$,', C_URIC);
  return t;
})();

/** RFC 3261 §19.1.4 / RFC 2396 §2.2 reserved set: an escape of these is not equal to the octet. */
const RESERVED: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const ch of ';/?:@&=+$,') t[ch.charCodeAt(0)] = 1;
  return t;
})();

const PERCENT = 0x25;
const COLON = 0x3a;
const SEMI = 0x3b;
const EQUALS = 0x3d;
const QUESTION = 0x3f;
const AMP = 0x26;
const AT = 0x40;
const DOT = 0x2e;
const PLUS = 0x2b;
const HYPHEN = 0x2d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

const EMPTY: readonly UriParam[] = Object.freeze([]);

/**
 * Text of parsed URIs whose fields alone would not reproduce the input (an upper-case scheme,
 * a port with leading zeros). Only those rare objects get an entry, so the common parse path
 * pays nothing, and `formatUri` stays byte-identical for everything `parseUri` accepts.
 */
const AS_WRITTEN = new WeakMap<object, string>();

function fail(message: string): never {
  throw new SipParseError('uri', message);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

function isAlpha(c: number): boolean {
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x7a;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Names the offending octet without echoing it (the message may reach a log line). */
function badChar(text: string, i: number, part: string): never {
  const c = text.charCodeAt(i);
  let what: string;
  if (c === PERCENT) what = 'malformed %-escape';
  else if (c === 0x20 || c === 0x09) what = 'whitespace';
  else if (c < 0x20 || c === 0x7f) what = 'control character';
  else if (c >= 0x80) what = 'raw non-ASCII octet';
  else if (c === 0x3c || c === 0x3e) what = '"<" or ">"';
  else if (c === LBRACKET || c === RBRACKET) what = 'unbalanced bracket';
  else if (c === AT) what = 'unescaped "@"';
  else what = 'unexpected character';
  return fail(`${what} in URI ${part} at offset ${i}`);
}

/**
 * Index of the first octet at or after `i` that is neither in class `mask` nor the start of a
 * well-formed `%HH` escape (RFC 3261 §25.1 `escaped`). A bad escape stops the scan on its `%`.
 */
function scan(text: string, i: number, end: number, mask: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (((CLASS[c] ?? 0) & mask) !== 0) {
      i++;
    } else if (
      c === PERCENT &&
      i + 2 < end &&
      hexValue(text.charCodeAt(i + 1)) >= 0 &&
      hexValue(text.charCodeAt(i + 2)) >= 0
    ) {
      i += 3;
    } else {
      break;
    }
  }
  return i;
}

// ---------------------------------------------------------------------------------------------
// Hosts (RFC 3261 §25.1 host; RFC 5118 for IPv6).

/**
 * Scans a host name or IPv4 address from `s` in one pass, judging both forms as it goes
 * (RFC 3261 §25.1): `hostname = *( domainlabel "." ) toplabel [ "." ]`, labels neither empty
 * nor starting or ending with "-", the top label starting with a letter; or `IPv4address`,
 * four dotted parts of 1–3 digits, each at most 255 (as {@link isIpv4At}). Returns the index
 * after the host when it is one of them, or `-(that index) - 1` when it is not; an empty host
 * returns `s`.
 */
function scanHostAt(text: string, s: number, len: number): number {
  let i = s;
  let labelStart = s;
  let topFirst = -1;
  let prev = -1;
  let hostname = true;
  let ipv4 = true;
  let dots = 0;
  let digits = 0;
  let octet = 0;
  for (; i < len; i++) {
    const c = text.charCodeAt(i);
    if (((CLASS[c] ?? 0) & C_HOST) === 0) break;
    if (c === DOT) {
      if (i === labelStart || prev === HYPHEN) hostname = false;
      if (digits === 0 || octet > 255) ipv4 = false;
      labelStart = i + 1;
      dots++;
      digits = 0;
      octet = 0;
    } else {
      if (i === labelStart) {
        if (c === HYPHEN) hostname = false;
        topFirst = c;
      }
      if (isDigit(c)) {
        octet = octet * 10 + c - 0x30;
        if (++digits > 3) ipv4 = false;
      } else {
        ipv4 = false;
      }
    }
    prev = c;
  }
  if (i === s) return s;
  if (prev === HYPHEN) hostname = false;
  // RFC 3261 §25.1: the top label starts with a letter, which is what keeps "1.2.3" or
  // "256.0.0.1" from passing as host names when they are not IPv4 addresses.
  if (hostname && isAlpha(topFirst)) return i;
  if (ipv4 && dots === 3 && digits > 0 && octet <= 255) return i;
  return -i - 1;
}

/** IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each at most 255. */
function isIpv4At(text: string, s: number, e: number): boolean {
  let parts = 0;
  let i = s;
  while (true) {
    const ds = i;
    let v = 0;
    while (i < e && i - ds < 4 && isDigit(text.charCodeAt(i))) {
      v = v * 10 + text.charCodeAt(i) - 0x30;
      i++;
    }
    const n = i - ds;
    if (n === 0 || n > 3 || v > 255) return false;
    parts++;
    if (parts === 4) return i === e;
    if (i >= e || text.charCodeAt(i) !== DOT) return false;
    i++;
  }
}

/**
 * Validates the text between the brackets of an IPv6 reference and, when `out` is given, fills
 * it (it must start empty) with the eight 16-bit groups. Accepts an embedded IPv4 tail (`::ffff:192.0.2.10`, RFC 5118
 * §4.5) and the three-colon form before such a tail (`2001:db8:::192.0.2.1`), which the RFC 3261
 * ABNF allows by mistake and RFC 5118 §4.10 asks parsers to tolerate.
 */
function ipv6At(text: string, s: number, e: number, out: number[] | null): boolean {
  if (s >= e) return false;
  // the parser only validates (out === null), so it counts groups and allocates nothing
  let n = 0;
  let i = s;
  let gap = -1; // group index where "::" stands
  let ipv4Only = false; // after ":::" only an IPv4 tail may follow (RFC 5118 §4.10)
  if (text.charCodeAt(i) === COLON) {
    if (text.charCodeAt(i + 1) !== COLON) return false;
    gap = 0;
    i += 2;
    if (i === e) return finishIpv6(n, gap, out);
    if (text.charCodeAt(i) === COLON) {
      ipv4Only = true;
      i++;
    }
  }
  while (true) {
    let j = i;
    let v = 0;
    while (j < e && j - i < 5) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      v = v * 16 + h;
      j++;
    }
    if (j < e && text.charCodeAt(j) === DOT) {
      // RFC 4291 §2.2 form 3: the last 32 bits written as an IPv4 address
      if (n > 6 || !isIpv4At(text, i, e)) return false;
      let a = 0;
      let k = i;
      for (let part = 0; part < 4; part++) {
        let b = 0;
        while (k < e && isDigit(text.charCodeAt(k))) b = b * 10 + text.charCodeAt(k++) - 0x30;
        k++;
        a = a * 256 + b;
      }
      out?.push(Math.floor(a / 0x10000), a % 0x10000);
      n += 2;
      break;
    }
    if (ipv4Only || j === i || j - i > 4 || n === 8) return false;
    out?.push(v);
    n++;
    if (j === e) break;
    if (text.charCodeAt(j) !== COLON) return false;
    j++;
    if (j < e && text.charCodeAt(j) === COLON) {
      if (gap >= 0) return false; // at most one "::"
      gap = n;
      j++;
      if (j === e) break;
      if (text.charCodeAt(j) === COLON) {
        ipv4Only = true;
        j++;
      }
    } else if (j === e) {
      return false; // a single trailing ":"
    }
    i = j;
  }
  return finishIpv6(n, gap, out);
}

function finishIpv6(n: number, gap: number, out: number[] | null): boolean {
  if (gap < 0) return n === 8;
  if (n > 7) return false; // "::" stands for at least one zero group
  if (out !== null) {
    const tail = out.splice(gap);
    while (out.length + tail.length < 8) out.push(0);
    for (const g of tail) out.push(g);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Parsing.

/** Index of the ":" ending the scheme, or a parse error (scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )). */
function schemeEnd(text: string): number {
  if (!isAlpha(text.charCodeAt(0))) fail('URI does not start with a scheme');
  let i = 1;
  const len = text.length;
  while (i < len && ((CLASS[text.charCodeAt(i)] ?? 0) & C_SCHEME) !== 0) i++;
  if (i >= len || text.charCodeAt(i) !== COLON) {
    return i >= len ? fail('URI has no ":" after its scheme') : badChar(text, i, 'scheme');
  }
  return i;
}

/** 'sip' | 'sips' | 'tel' when the scheme is one of those (any case), else null. */
function knownScheme(text: string, end: number): 'sip' | 'sips' | 'tel' | null {
  if (end !== 3 && end !== 4) return null;
  const a = text.charCodeAt(0) | 0x20;
  const b = text.charCodeAt(1) | 0x20;
  const c = text.charCodeAt(2) | 0x20;
  if (a === 0x73 && b === 0x69 && c === 0x70) {
    if (end === 3) return 'sip';
    return (text.charCodeAt(3) | 0x20) === 0x73 ? 'sips' : null;
  }
  if (end === 3 && a === 0x74 && b === 0x65 && c === 0x6c) return 'tel';
  return null;
}

/** Records the text of a URI whose scheme was not written in lower case (see AS_WRITTEN). */
function remember<T extends object>(uri: T, text: string, scheme: 'sip' | 'sips' | 'tel'): T {
  // The scheme's letters are known (any case): it is lower case when each has the 0x20 bit.
  let bits = text.charCodeAt(0) & text.charCodeAt(1) & text.charCodeAt(2);
  if (scheme.length === 4) bits &= text.charCodeAt(3);
  if ((bits & 0x20) === 0) AS_WRITTEN.set(uri, text);
  return uri;
}

function parseSipAt(text: string, scheme: 'sip' | 'sips', start: number): SipUri {
  const len = text.length;
  let user: string | null = null;
  let password: string | null = null;
  let h = start;
  // RFC 3261 §25.1: "@" may not appear unescaped in user, password, host, parameters or
  // headers, so the first "@" is the only possible end of the userinfo. Any later "@" makes
  // the URI malformed (a host cannot hold it), e.g. `sips:user@example.com@example.net`;
  // an escaped one (`sips%3Auser%40example.com@…`, RFC 4475 esc01) is just user text.
  const at = text.indexOf('@', start);
  if (at >= 0) {
    const userEnd = scan(text, start, at, C_USER);
    if (userEnd === start) fail('empty user in URI');
    user = text.slice(start, userEnd);
    if (userEnd < at) {
      if (text.charCodeAt(userEnd) !== COLON) badChar(text, userEnd, 'user');
      const pwEnd = scan(text, userEnd + 1, at, C_PASSWORD);
      if (pwEnd < at) badChar(text, pwEnd, 'password');
      password = text.slice(userEnd + 1, at);
    }
    h = at + 1;
  }

  let i: number;
  if (h < len && text.charCodeAt(h) === LBRACKET) {
    // RFC 3261 §25.1 IPv6reference; a port can only follow the closing bracket (RFC 5118 §4.4)
    const close = text.indexOf(']', h + 1);
    if (close < 0) fail('unbalanced "[" in URI host');
    if (!ipv6At(text, h + 1, close, null)) fail('bad IPv6 reference in URI host');
    i = close + 1;
  } else {
    i = scanHostAt(text, h, len);
    const valid = i >= 0;
    if (!valid) i = -i - 1;
    if (i === h) {
      if (i < len && text.charCodeAt(i) !== COLON && text.charCodeAt(i) !== SEMI && text.charCodeAt(i) !== QUESTION) {
        badChar(text, i, 'host');
      }
      fail('empty host in URI');
    }
    // An unbracketed IPv6 address (RFC 5118 §4.9 ipv6-bad) fails here or at the port.
    if (!valid) fail('bad host name or IPv4 address in URI');
  }
  const host = text.slice(h, i);

  let port: number | null = null;
  let oddPort = false;
  if (i < len && text.charCodeAt(i) === COLON) {
    const ds = ++i;
    let v = 0;
    while (i < len && isDigit(text.charCodeAt(i))) v = v * 10 + text.charCodeAt(i++) - 0x30;
    if (i === ds) fail('empty or non-numeric port in URI');
    if (i - ds > 5 || v > 65535) fail('port out of range in URI');
    // leading zeros are legal (port = 1*DIGIT) but a number cannot carry them
    oddPort = i - ds > 1 && text.charCodeAt(ds) === 0x30;
    port = v;
  }

  let params: readonly UriParam[] = EMPTY;
  if (i < len && text.charCodeAt(i) === SEMI) {
    const list: UriParam[] = [];
    while (i < len && text.charCodeAt(i) === SEMI) {
      const ns = i + 1;
      const ne = scan(text, ns, len, C_PARAM);
      // RFC 3261 §25.1 pname = 1*paramchar: rejects ";;", ";=x" and a trailing ";"
      if (ne === ns) {
        const c = text.charCodeAt(ne);
        if (ne < len && c !== SEMI && c !== EQUALS && c !== QUESTION) badChar(text, ne, 'parameter');
        fail('empty URI parameter name');
      }
      let value: string | null = null;
      i = ne;
      if (i < len && text.charCodeAt(i) === EQUALS) {
        const vs = i + 1;
        i = scan(text, vs, len, C_PARAM);
        // pvalue = 1*paramchar
        if (i === vs) fail('empty URI parameter value');
        value = text.slice(vs, i);
      }
      list.push({ name: text.slice(ns, ne), value });
    }
    params = list;
  }

  let headers: readonly UriParam[] = EMPTY;
  if (i < len && text.charCodeAt(i) === QUESTION) {
    // RFC 3261 §19.1.1: headers stay escaped data; nothing here ever becomes a header field
    const list: UriParam[] = [];
    do {
      const ns = i + 1;
      const ne = scan(text, ns, len, C_HNV);
      if (ne === ns) fail('empty URI header name');
      if (ne >= len || text.charCodeAt(ne) !== EQUALS) {
        return ne >= len || text.charCodeAt(ne) === AMP ? fail('URI header without "="') : badChar(text, ne, 'header');
      }
      const vs = ne + 1;
      i = scan(text, vs, len, C_HNV);
      list.push({ name: text.slice(ns, ne), value: text.slice(vs, i) });
    } while (i < len && text.charCodeAt(i) === AMP);
    headers = list;
  }

  if (i < len) badChar(text, i, headers !== EMPTY ? 'header' : params !== EMPTY ? 'parameter' : 'host');
  const uri: SipUri = { scheme, user, password, host, port, params, headers };
  if (oddPort) {
    AS_WRITTEN.set(uri, text);
    return uri;
  }
  return remember(uri, text, scheme);
}

/** RFC 3966 §3: global-number-digits = "+" *phonedigit DIGIT *phonedigit, or local-number-digits. */
function isTelNumberAt(text: string, s: number, e: number): boolean {
  if (s >= e) return false;
  const global = text.charCodeAt(s) === PLUS;
  let digits = 0;
  for (let k = global ? s + 1 : s; k < e; k++) {
    const c = text.charCodeAt(k);
    // visual-separator = "-" / "." / "(" / ")"
    if (c === HYPHEN || c === DOT || c === 0x28 || c === 0x29) continue;
    if (isDigit(c) || (!global && (hexValue(c) >= 0 || c === 0x2a || c === 0x23))) digits++;
    else return false;
  }
  return digits > 0;
}

function parseTelAt(text: string, start: number): TelUri {
  const len = text.length;
  let semi = text.indexOf(';', start);
  if (semi < 0) semi = len;
  if (!isTelNumberAt(text, start, semi)) fail('bad telephone number in tel URI');
  const number = text.slice(start, semi);
  let params: readonly UriParam[] = EMPTY;
  let i = semi;
  if (i < len) {
    const list: UriParam[] = [];
    while (i < len && text.charCodeAt(i) === SEMI) {
      const ns = i + 1;
      let ne = ns;
      // RFC 3966 §3 pname = 1*( alphanum / "-" )
      while (ne < len) {
        const c = text.charCodeAt(ne);
        if (c !== HYPHEN && !isAlpha(c) && !isDigit(c)) break;
        ne++;
      }
      if (ne === ns) fail('empty tel URI parameter name');
      let value: string | null = null;
      i = ne;
      if (i < len && text.charCodeAt(i) === EQUALS) {
        const vs = i + 1;
        // isdn-subaddress = ";isub=" 1*uric; other values are 1*paramchar
        const isub = ne - ns === 4 && (text.charCodeAt(ns) | 0x20) === 0x69 && (text.charCodeAt(ns + 1) | 0x20) === 0x73 &&
          (text.charCodeAt(ns + 2) | 0x20) === 0x75 && (text.charCodeAt(ns + 3) | 0x20) === 0x62;
        i = scan(text, vs, len, isub ? C_URIC : C_PARAM);
        if (i === vs) fail('empty tel URI parameter value');
        value = text.slice(vs, i);
      }
      list.push({ name: text.slice(ns, ne), value });
    }
    if (i < len) badChar(text, i, 'tel parameter');
    params = list;
  }
  const uri: TelUri = { scheme: 'tel', number, params };
  return remember(uri, text, 'tel');
}

function parseAbsoluteAt(text: string, end: number): AbsoluteUri {
  const len = text.length;
  // RFC 2396 opaque-part / hier-part: at least one octet, and never whitespace, controls, raw
  // non-ASCII or the "<" ">" '"' delimiters that would let it escape its header.
  if (end + 1 >= len) fail('empty URI after scheme');
  for (let k = end + 1; k < len; k++) {
    const c = text.charCodeAt(k);
    if (c <= 0x20 || c >= 0x7f || c === 0x3c || c === 0x3e || c === 0x22) badChar(text, k, 'value');
  }
  const written = text.slice(0, end);
  const scheme = lowerAscii(written);
  const uri: AbsoluteUri = { scheme, value: text.slice(end + 1) };
  if (scheme !== written) AS_WRITTEN.set(uri, text);
  return uri;
}

/**
 * Parses a URI as found in a Request-URI or inside `<…>` (RFC 3261 §19.1, §25.1).
 *
 * @param text - The URI alone, as a binary (latin1) string: no `<>`, no surrounding whitespace.
 * @returns A {@link SipUri} for `sip:`/`sips:`, a {@link TelUri} for `tel:`, otherwise an
 *   {@link AbsoluteUri} (RFC 4475 novelsc/unkscm/unksm2 carry such schemes).
 * @throws {@link SipParseError} of kind `'uri'` when the text is not `scheme ":" …` with a valid
 *   scheme token, or when a sip/sips/tel URI breaks its grammar.
 * @remarks Scheme names are matched without regard to case and returned in lower case. Unknown
 *   schemes are not an error here; answering 416 is the message layer's decision (GUARANTEES G08).
 */
export function parseUri(text: string): Uri {
  const end = schemeEnd(text);
  const known = knownScheme(text, end);
  if (known === 'sip' || known === 'sips') return parseSipAt(text, known, end + 1);
  if (known === 'tel') return parseTelAt(text, end + 1);
  return parseAbsoluteAt(text, end);
}

/**
 * Parses a `sip:` or `sips:` URI.
 *
 * @throws {@link SipParseError} of kind `'uri'` for any other scheme or a malformed URI.
 */
export function parseSipUri(text: string): SipUri {
  const end = schemeEnd(text);
  const known = knownScheme(text, end);
  if (known !== 'sip' && known !== 'sips') fail('not a sip or sips URI');
  return parseSipAt(text, known, end + 1);
}

// ---------------------------------------------------------------------------------------------
// Formatting.

/** True for the octets that no URI field may hold: they could end the URI or its header. */
function unsafeOctet(c: number): boolean {
  return c <= 0x20 || c >= 0x7f || c === 0x3c || c === 0x3e || c === 0x22;
}

function formatParams(out: string, list: readonly UriParam[], first: string, sep: string): string {
  for (let k = 0; k < list.length; k++) {
    const p = list[k]!;
    out += (k === 0 ? first : sep) + p.name;
    if (p.value !== null) out += '=' + p.value;
  }
  return out;
}

/**
 * Serialises a URI.
 *
 * @returns For an object returned by {@link parseUri} or {@link parseSipUri}, exactly the text it
 *   was parsed from (including an upper-case scheme or a zero-padded port). For other objects,
 *   the fields joined with their delimiters; fields are taken as already escaped.
 * @throws `TypeError` when a field holds whitespace, a control character, a raw non-ASCII octet,
 *   `<`, `>` or `"`, so that a URI built from untrusted text cannot inject header lines (GUARANTEES
 *   G19); `RangeError` for a port that is not an integer in 0..65535.
 * @remarks It does not otherwise validate: build URIs with escaped components.
 */
export function formatUri(uri: Uri): string {
  const raw = AS_WRITTEN.get(uri);
  if (raw !== undefined) return raw;
  let out: string;
  if (isSipUri(uri)) {
    out = uri.scheme + ':';
    if (uri.user !== null) {
      out += uri.user;
      if (uri.password !== null) out += ':' + uri.password;
      out += '@';
    }
    out += uri.host;
    if (uri.port !== null) {
      if (!Number.isInteger(uri.port) || uri.port < 0 || uri.port > 65535) {
        throw new RangeError(`URI port out of range: ${String(uri.port)}`);
      }
      out += ':' + String(uri.port);
    }
    out = formatParams(out, uri.params, ';', ';');
    out = formatParams(out, uri.headers, '?', '&');
  } else if (isTelUri(uri)) {
    out = formatParams('tel:' + uri.number, uri.params, ';', ';');
  } else {
    out = uri.scheme + ':' + uri.value;
  }
  for (let k = 0; k < out.length; k++) {
    if (unsafeOctet(out.charCodeAt(k))) throw new TypeError(`URI field holds an unsafe octet at offset ${k}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Predicates and accessors.

/** Whether `uri` is a `sip:` or `sips:` URI. */
export function isSipUri(uri: Uri): uri is SipUri {
  return (uri.scheme === 'sip' || uri.scheme === 'sips') && 'host' in uri;
}

function isTelUri(uri: Uri): uri is TelUri {
  return uri.scheme === 'tel' && 'number' in uri;
}

function eqIgnoreAsciiCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    const x = a.charCodeAt(k);
    const y = b.charCodeAt(k);
    if (x === y) continue;
    const lx = x | 0x20;
    if (lx !== (y | 0x20) || lx < 0x61 || lx > 0x7a) return false;
  }
  return true;
}

/**
 * The value of a URI parameter.
 *
 * @param name - Matched without regard to ASCII case, and to %-escapes in the written name
 *   (`;%6C%72` is `lr`, RFC 4475 esc01; RFC 3261 §19.1.4).
 * @returns The value as written (still escaped); `null` for a flag such as `;lr`; `undefined`
 *   when absent. With repeated names, the first wins.
 */
export function uriParam(uri: SipUri | TelUri, name: string): string | null | undefined {
  const params = uri.params;
  for (let k = 0; k < params.length; k++) {
    const p = params[k]!;
    if (eqIgnoreAsciiCase(p.name, name)) return p.value;
  }
  // rare: a name written with escapes
  let wanted: string | null = null;
  for (let k = 0; k < params.length; k++) {
    const p = params[k]!;
    if (p.name.indexOf('%') < 0) continue;
    wanted ??= canon(name, true);
    if (canon(p.name, true) === wanted) return p.value;
  }
  return undefined;
}

/**
 * Replaces each well-formed `%HH` with the octet it encodes, in one pass (never recursively:
 * `%2541` becomes `%41`, not `A`). The result is a binary string; `%00` yields a NUL octet and
 * does not truncate.
 *
 * @remarks A `%` not followed by two hex digits is left as it is rather than thrown on: the URI
 *   parser has already rejected such escapes in sip/sips/tel URIs, so this only meets them in
 *   text from elsewhere, where keeping the octets loses nothing.
 */
export function unescapeUriComponent(text: string): string {
  let pct = text.indexOf('%');
  if (pct < 0) return text;
  let out = '';
  let seg = 0;
  const len = text.length;
  while (pct >= 0) {
    const hi = hexValue(text.charCodeAt(pct + 1));
    const lo = hi < 0 ? -1 : hexValue(text.charCodeAt(pct + 2));
    if (lo >= 0) {
      out += text.slice(seg, pct) + String.fromCharCode(hi * 16 + lo);
      seg = pct + 3;
      pct = text.indexOf('%', seg);
    } else {
      pct = text.indexOf('%', pct + 1);
    }
  }
  return seg === 0 ? text : seg < len ? out + text.slice(seg) : out;
}

/** The host without IPv6 brackets (ready for `net`/`dgram`), and the port. */
export function hostPort(uri: SipUri): { host: string; port: number | null } {
  const h = uri.host;
  const host = h.length >= 2 && h.charCodeAt(0) === LBRACKET && h.charCodeAt(h.length - 1) === RBRACKET ? h.slice(1, -1) : h;
  return { host, port: uri.port };
}

/**
 * Whether `host` is an IPv6 reference: a valid IPv6 address inside brackets (RFC 3261 §25.1),
 * including the RFC 5118 §4.10 three-colon form. A bare address without brackets is `false`.
 */
export function isIpv6Reference(host: string): boolean {
  const n = host.length;
  return n > 2 && host.charCodeAt(0) === LBRACKET && host.charCodeAt(n - 1) === RBRACKET && ipv6At(host, 1, n - 1, null);
}

/** Whether `host` is a dotted-quad IPv4 address (1–3 digits per part, each at most 255). */
export function isIpv4Address(host: string): boolean {
  return isIpv4At(host, 0, host.length);
}

// ---------------------------------------------------------------------------------------------
// Comparison (RFC 3261 §19.1.4; RFC 3966 §4).

/** Lower-cases A–Z only: the URI "case-insensitive" rules are ASCII, and octets ≥ 0x80 are data. */
function lowerAscii(s: string): string {
  let out = '';
  let seg = 0;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) {
      let j = i + 1;
      while (j < n) {
        const d = s.charCodeAt(j);
        if (d < 0x41 || d > 0x5a) break;
        j++;
      }
      out += s.slice(seg, i) + s.slice(i, j).toLowerCase();
      seg = i = j;
    } else {
      i++;
    }
  }
  return seg === 0 ? s : out + s.slice(seg);
}

/**
 * A comparison key: RFC 3261 §19.1.4 says characters outside the reserved set equal their
 * `%HH` form, so those escapes are decoded; an escaped reserved octet stays distinct from the
 * literal (`a%3Bb` ≠ `a;b`), so it becomes U+0100+octet, which no binary string can hold.
 */
function canon(s: string, fold: boolean): string {
  let pct = s.indexOf('%');
  if (pct < 0) return fold ? lowerAscii(s) : s;
  let out = '';
  let seg = 0;
  while (pct >= 0) {
    const hi = hexValue(s.charCodeAt(pct + 1));
    const lo = hi < 0 ? -1 : hexValue(s.charCodeAt(pct + 2));
    if (lo >= 0) {
      const v = hi * 16 + lo;
      out += s.slice(seg, pct) + String.fromCharCode(RESERVED[v] === 1 ? 0x100 + v : v);
      seg = pct + 3;
      pct = s.indexOf('%', seg);
    } else {
      pct = s.indexOf('%', pct + 1);
    }
  }
  out += s.slice(seg);
  return fold ? lowerAscii(out) : out;
}

function hostKey(host: string): string {
  const n = host.length;
  if (n > 2 && host.charCodeAt(0) === LBRACKET) {
    // compare addresses, not spellings: [2001:DB8::1] = [2001:db8:0::1] = the RFC 5118 §4.10 form
    const groups: number[] = [];
    if (ipv6At(host, 1, n - 1, groups)) return '[' + groups.map((g) => g.toString(16)).join(':') + ']';
  }
  return lowerAscii(host);
}

/** uri-parameters that must match when present in either URI (RFC 3261 §19.1.4). */
const MUST_MATCH: readonly string[] = ['user', 'ttl', 'method', 'maddr', 'transport'];

function paramMap(list: readonly UriParam[], foldValues: boolean): Map<string, string | null> {
  const map = new Map<string, string | null>();
  for (const p of list) {
    const name = canon(p.name, true);
    // a repeated name: the first occurrence is the one that counts (as in uriParam)
    if (!map.has(name)) map.set(name, p.value === null ? null : canon(p.value, foldValues));
  }
  return map;
}

function sipEquals(a: SipUri, b: SipUri): boolean {
  // RFC 3261 §19.1.4: a SIP and a SIPS URI are never equivalent; an absent port is not 5060
  if (a.scheme !== b.scheme || a.port !== b.port) return false;
  // userinfo is case-sensitive, including passwords and telephone-subscribers
  if (a.user !== b.user && (a.user === null || b.user === null || canon(a.user, false) !== canon(b.user, false))) return false;
  if (a.password !== b.password && (a.password === null || b.password === null || canon(a.password, false) !== canon(b.password, false))) return false;
  if (a.host !== b.host && hostKey(a.host) !== hostKey(b.host)) return false;

  if (a.params.length > 0 || b.params.length > 0) {
    const pa = paramMap(a.params, true);
    const pb = paramMap(b.params, true);
    for (const [name, va] of pa) {
      const vb = pb.get(name);
      if (vb === undefined) {
        // user, ttl, method, maddr, transport in one URI only never match, even at the default
        if (MUST_MATCH.includes(name)) return false;
      } else if (va !== vb) {
        return false;
      }
    }
    for (const name of MUST_MATCH) if (pb.has(name) && !pa.has(name)) return false;
  }

  // headers are never ignored: the same set, in any order; names case-insensitive, values exact
  if (a.headers.length !== b.headers.length) return false;
  if (a.headers.length > 0) {
    const key = (h: UriParam): [string, string] => [canon(h.name, true), canon(h.value ?? '', false)];
    const order = (x: [string, string], y: [string, string]): number =>
      x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0;
    const ha = a.headers.map(key).sort(order);
    const hb = b.headers.map(key).sort(order);
    for (let k = 0; k < ha.length; k++) {
      if (ha[k]![0] !== hb[k]![0] || ha[k]![1] !== hb[k]![1]) return false;
    }
  }
  return true;
}

/** Drops RFC 3966 visual separators, for digit-by-digit comparison. */
function stripSeparators(s: string): string {
  let out = '';
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c !== HYPHEN && c !== DOT && c !== 0x28 && c !== 0x29) out += s[k];
  }
  return out;
}

function telEquals(a: TelUri, b: TelUri): boolean {
  // RFC 3966 §4: both global or both local; digits equal once visual separators are removed;
  // the same parameter names; everything case-insensitive
  if (stripSeparators(canon(a.number, true)) !== stripSeparators(canon(b.number, true))) return false;
  const pa = paramMap(a.params, true);
  const pb = paramMap(b.params, true);
  if (pa.size !== pb.size) return false;
  for (const [name, va] of pa) {
    if (!pb.has(name)) return false;
    let x = va;
    let y = pb.get(name) ?? null;
    // ext, and a phone-context given as global-number-digits, compare digit by digit
    if (x !== null && y !== null && (name === 'ext' || (name === 'phone-context' && x.charCodeAt(0) === PLUS))) {
      x = stripSeparators(x);
      y = stripSeparators(y);
    }
    if (x !== y) return false;
  }
  return true;
}

/**
 * Whether two URIs are equivalent.
 *
 * @remarks
 * - sip/sips: RFC 3261 §19.1.4. Userinfo is case-sensitive, everything else is not; escapes of
 *   non-reserved octets equal the octet (`%61lice` = `alice`) but an escaped reserved octet does
 *   not equal the literal one. An absent port or transport differs from an explicit default.
 *   `user`, `ttl`, `method`, `maddr` and `transport` must match when present in either URI; other
 *   parameters only when present in both (so equality is not transitive). Headers must be the
 *   same set: names without regard to case, values exact after unescaping. IPv6 hosts compare
 *   as addresses. A name repeated in the parameters counts once, with its first value.
 * - tel: RFC 3966 §4, ignoring visual separators in the number, `ext` and a global
 *   `phone-context`; the same parameter names on both sides; case-insensitive.
 * - Any other scheme: same scheme and byte-identical value. Different kinds never match.
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a === b) return true;
  if (isSipUri(a)) return isSipUri(b) && sipEquals(a, b);
  if (isSipUri(b)) return false;
  if (isTelUri(a)) return isTelUri(b) && telEquals(a, b);
  if (isTelUri(b)) return false;
  return lowerAscii(a.scheme) === lowerAscii(b.scheme) && a.value === b.value;
}
