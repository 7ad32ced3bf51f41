/**
 * WWW-Authenticate / Proxy-Authenticate challenges and Authorization / Proxy-Authorization
 * credentials: one value each (RFC 3261 §25.1, RFC 7616 §3.3–3.4, RFC 8760 §2).
 *
 * ```
 * challenge   = auth-scheme LWS auth-param *(COMMA auth-param)
 * auth-param  = auth-param-name EQUAL ( token / quoted-string )
 * EQUAL       = SWS "=" SWS          COMMA = SWS "," SWS
 * ```
 *
 * Text is a "binary string" (latin1: one char per octet), as everywhere in the SIP layer, so
 * UTF-8 inside quoted strings survives untouched. The parser is a single left-to-right scan.
 */
import { SipParseError } from './errors.js';

/** One `name=value` pair of a challenge or credentials. */
export interface AuthParam {
  /** The name as written (compare case-insensitively, RFC 7235 §2.1). */
  readonly name: string;
  /** The value with quotes removed and quoted-pairs unescaped. */
  readonly value: string;
  /** Whether the value was (or is to be) written as a quoted-string. */
  readonly quoted: boolean;
}

/** One challenge or one set of credentials. */
export interface AuthHeaderValue {
  /** The scheme as written, e.g. `Digest` (compare case-insensitively). */
  readonly scheme: string;
  /** Parameters in order of appearance. */
  readonly params: readonly AuthParam[];
  /**
   * For a scheme other than Digest whose remainder is not an auth-param list (a token68 such as
   * Basic's `QWxhZGRpbjpvcGVu`, or anything else without control characters): that remainder,
   * kept verbatim so a proxy can pass it on (RFC 3261 §22.3). Unrelated to Digest's `opaque`
   * parameter. When present, `params` is empty.
   */
  readonly unparsed?: string;
}

/** The four header fields whose values this module reads, lower-case canonical names. */
export type AuthHeaderName = 'authorization' | 'proxy-authorization' | 'www-authenticate' | 'proxy-authenticate';

/** Longest accepted parameter value, in octets after unescaping. */
export const MAX_AUTH_PARAM_VALUE_LENGTH = 1024;

const TAB = 0x09;
const SP = 0x20;
const DQUOTE = 0x22;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;

// RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
const TOKEN_CHARS = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~') {
  TOKEN_CHARS[c.charCodeAt(0)] = 1;
}

function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN_CHARS[code] === 1;
}

/**
 * Octets accepted in an unquoted value. Wider than `token` on purpose (Postel): deployed UAs send
 * things like `cnonce=Zm9v/+=` or `uri=sip:a@b` bare. Still excludes whitespace, DQUOTE, comma and
 * backslash, so the list structure stays unambiguous.
 */
function isBareValueChar(code: number): boolean {
  return code > SP && code < 0x7f && code !== DQUOTE && code !== COMMA && code !== BACKSLASH;
}

function isWhitespace(code: number): boolean {
  return code === SP || code === TAB;
}

// RFC 7235 §2.1: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Whether `text` is a SIP token (RFC 3261 §25.1). */
export function isAuthToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false;
  return true;
}

/** Thrown internally when the auth-param grammar does not match; hard errors are SipParseError. */
class GrammarMismatch {
  constructor(readonly message: string) {}
}

/**
 * Parses one challenge or credentials value.
 *
 * @param text - The header value, folded whitespace already turned into spaces.
 * @param header - Which header it came from; named in the error so a 400 reason points at it.
 * @returns The scheme and its parameters (or, for a non-Digest scheme that is not a parameter
 *   list, the verbatim remainder in `unparsed`).
 * @throws {@link SipParseError} (`header-value`, status 400) on control characters (NUL
 *   included), chars above 0xFF, an unterminated quoted-string, a duplicate parameter name
 *   (RFC 7235 §2.1, G27), a value over {@link MAX_AUTH_PARAM_VALUE_LENGTH} octets, or a Digest
 *   value that is not a parameter list.
 * @remarks Runs in time linear in `text.length`.
 */
export function parseAuthHeader(text: string, header: AuthHeaderName = 'authorization'): AuthHeaderValue {
  const fail = (message: string): never => {
    throw new SipParseError('header-value', message, { header });
  };

  // Control characters are refused everywhere, even escaped inside a quoted-string: a NUL or a
  // bare CR/LF has no business in a credential and is a classic injection vector (G27).
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) fail('NUL in auth header');
    if ((code < SP && code !== TAB) || code === 0x7f) fail(`control character 0x${code.toString(16)} in auth header`);
    if (code > 0xff) fail('auth header is not a binary string (char above 0xFF)');
  }

  let start = 0;
  let end = text.length;
  while (start < end && isWhitespace(text.charCodeAt(start))) start++;
  while (end > start && isWhitespace(text.charCodeAt(end - 1))) end--;

  let pos = start;
  while (pos < end && isTokenChar(text.charCodeAt(pos))) pos++;
  const scheme = text.slice(start, pos);
  if (scheme.length === 0) fail('auth header has no scheme');
  if (pos < end && !isWhitespace(text.charCodeAt(pos))) fail('auth scheme is not a token');
  while (pos < end && isWhitespace(text.charCodeAt(pos))) pos++;
  if (pos === end) return { scheme, params: [] };

  const isDigest = scheme.toLowerCase() === 'digest';
  const rest = text.slice(pos, end);
  // RFC 7235 §2.1: a token68 (e.g. Basic credentials) instead of a parameter list. `abc=` is
  // never a valid auth-param (values are non-empty), so matching token68 first is unambiguous.
  if (!isDigest && TOKEN68.test(rest)) return { scheme, params: [], unparsed: rest };

  try {
    return { scheme, params: parseParams(text, pos, end, fail) };
  } catch (err) {
    if (!(err instanceof GrammarMismatch)) throw err;
    // RFC 3261 §22.3 / RFC 4475 §3.1.2.x: an unknown scheme is opaque to us; keep it verbatim so
    // it can be passed on. Digest is ours, so a malformed Digest value is a 400 (G27).
    if (isDigest) return fail(err.message);
    return { scheme, params: [], unparsed: rest };
  }
}

function parseParams(text: string, from: number, end: number, fail: (message: string) => never): AuthParam[] {
  const params: AuthParam[] = [];
  const seen = new Set<string>();
  let pos = from;
  for (;;) {
    const nameStart = pos;
    while (pos < end && isTokenChar(text.charCodeAt(pos))) pos++;
    const name = text.slice(nameStart, pos);
    if (name.length === 0) throw new GrammarMismatch(`expected a parameter name at offset ${nameStart}`);
    while (pos < end && isWhitespace(text.charCodeAt(pos))) pos++;
    if (pos >= end || text.charCodeAt(pos) !== EQUALS) throw new GrammarMismatch(`expected "=" after ${name}`);
    pos++;
    while (pos < end && isWhitespace(text.charCodeAt(pos))) pos++;

    let value: string;
    let quoted: boolean;
    if (pos < end && text.charCodeAt(pos) === DQUOTE) {
      // RFC 3261 §25.1: quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE
      quoted = true;
      pos++;
      let segmentStart = pos;
      let out = '';
      let closed = false;
      while (pos < end) {
        const code = text.charCodeAt(pos);
        if (code === DQUOTE) {
          out += text.slice(segmentStart, pos);
          pos++;
          closed = true;
          break;
        }
        if (code === BACKSLASH) {
          // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F); controls were refused above.
          if (pos + 1 >= end) break;
          out += text.slice(segmentStart, pos);
          segmentStart = pos + 1;
          pos += 2;
        } else {
          pos++;
        }
        // Checked as we go so a huge value costs no more than the limit.
        if (out.length + (pos - segmentStart) > MAX_AUTH_PARAM_VALUE_LENGTH + 1) break;
      }
      if (!closed) {
        if (out.length + (pos - segmentStart) > MAX_AUTH_PARAM_VALUE_LENGTH) {
          fail(`value of ${name} is longer than ${MAX_AUTH_PARAM_VALUE_LENGTH} octets`);
        }
        fail(`unterminated quoted-string in ${name}`);
      }
      value = out;
    } else {
      quoted = false;
      const valueStart = pos;
      while (pos < end && isBareValueChar(text.charCodeAt(pos))) pos++;
      value = text.slice(valueStart, pos);
      if (value.length === 0) throw new GrammarMismatch(`parameter ${name} has no value`);
    }
    if (value.length > MAX_AUTH_PARAM_VALUE_LENGTH) {
      fail(`value of ${name} is longer than ${MAX_AUTH_PARAM_VALUE_LENGTH} octets`);
    }

    // RFC 7235 §2.1: "Each parameter name MUST only occur once per challenge"; G27: 400.
    const key = name.toLowerCase();
    if (seen.has(key)) fail(`duplicate parameter ${name}`);
    seen.add(key);
    params.push({ name, value, quoted });

    while (pos < end && isWhitespace(text.charCodeAt(pos))) pos++;
    if (pos >= end) return params;
    if (text.charCodeAt(pos) !== COMMA) throw new GrammarMismatch(`expected "," after ${name}`);
    pos++;
    while (pos < end && isWhitespace(text.charCodeAt(pos))) pos++;
    if (pos >= end) throw new GrammarMismatch('trailing comma');
  }
}

/**
 * Serialises a challenge or credentials value. A value marked unquoted that is not a token is
 * quoted anyway, so the output always parses back to the same values.
 *
 * @throws TypeError when the scheme or a parameter name is not a token, or a value (or
 *   `unparsed`) holds a control character or a char above 0xFF (header injection).
 */
export function formatAuthHeader(value: AuthHeaderValue): string {
  if (!isAuthToken(value.scheme)) throw new TypeError(`auth scheme is not a token: ${JSON.stringify(value.scheme)}`);
  if (value.unparsed !== undefined) {
    if (value.params.length > 0) throw new TypeError('an auth header value has either params or unparsed, not both');
    assertPrintable(value.unparsed, 'unparsed');
    return value.unparsed.length === 0 ? value.scheme : `${value.scheme} ${value.unparsed}`;
  }
  if (value.params.length === 0) return value.scheme;
  const parts: string[] = [];
  for (const p of value.params) {
    if (!isAuthToken(p.name)) throw new TypeError(`auth parameter name is not a token: ${JSON.stringify(p.name)}`);
    assertPrintable(p.value, p.name);
    if (!p.quoted && isAuthToken(p.value)) parts.push(`${p.name}=${p.value}`);
    else parts.push(`${p.name}="${p.value.replace(/[\\"]/g, '\\$&')}"`);
  }
  return `${value.scheme} ${parts.join(', ')}`;
}

function assertPrintable(text: string, what: string): void {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < SP && code !== TAB) || code === 0x7f || code > 0xff) {
      throw new TypeError(`auth parameter ${what} holds char 0x${code.toString(16)}, which cannot go on the wire`);
    }
  }
}

/** The value of parameter `name` (case-insensitive), or `undefined` when absent. */
export function authParam(value: AuthHeaderValue, name: string): string | undefined {
  const key = name.toLowerCase();
  for (const p of value.params) if (p.name.toLowerCase() === key) return p.value;
  return undefined;
}
