/**
 * The SIP message parser (RFC 3261 §7, §25). Two stages:
 *
 * 1. {@link scanMessage} frames the octets and splits the start line and header fields without
 *    judging their values. It is lenient enough that a server can still build a 400 for a
 *    message whose headers are bad.
 * 2. {@link parseMessage} checks the start line and the headers every layer relies on (Via, From,
 *    To, Call-ID, CSeq, Max-Forwards, Content-Length, Contact) and returns a typed message, or
 *    throws a {@link SipParseError} that says what to answer.
 */
import { SipParseError } from './errors.js';
import { headerKeyAt, Headers, ReceivedHeaderField, type HeaderField } from './headers.js';
import { DEFAULT_LIMITS, type ParseLimits } from './limits.js';
import { EMPTY_BODY, SipRequest, SipResponse, type SipMessage } from './message.js';
import { scanToken, TOKEN } from './grammar.js';
import { isSipUri, parseUri } from './uri.js';

/** How the octets arrived: a datagram is one message; a stream message was framed by Content-Length. */
export type FramingMode = 'datagram' | 'stream';

export interface ParseOptions {
  readonly limits?: ParseLimits;
  /**
   * `datagram` (default): the octets are one UDP datagram; without Content-Length the body is
   * the rest of the datagram, and octets after Content-Length are ignored (RFC 3261 §18.3).
   * `stream`: Content-Length is required (G02).
   */
  readonly mode?: FramingMode;
}

/** The start line and header fields of a message, split but not validated. */
export interface ScannedMessage {
  readonly startLine: string;
  readonly fields: HeaderField[];
  /** Offset of the first body octet in the input. */
  readonly bodyOffset: number;
  /** Whether the header section ended with an empty line. */
  readonly terminated: boolean;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Finds the end of the header section: the offset of the empty line's first octet and the
 * offset of the body. Accepts CRLF and, liberally, bare LF line ends. Returns null when the
 * header section is not terminated within `searchLimit` octets.
 */
export function findHeaderEnd(
  buf: Buffer,
  from: number,
  searchLimit = buf.length,
  lookForBareLf = true,
): { headerEnd: number; bodyOffset: number } | null {
  const end = Math.min(buf.length, searchLimit);
  const firstLf = buf.indexOf(0x0a, from);
  if (firstLf < 0 || firstLf >= end) return null;
  if (firstLf > from && buf[firstLf - 1] === 0x0d) {
    // The usual case, CRLF line ends: one native search for the empty line.
    const crlf = buf.indexOf(CRLFCRLF, from);
    // A bare LF LF before it (mixed line ends) ends the headers earlier. Framing a stream must
    // look for one (G03: a body is never read as headers); scanMessage stops at the first empty
    // line itself, so it skips this second search.
    if (crlf >= 0 && crlf < end && (!lookForBareLf || buf.lastIndexOf(LFLF, crlf) < from)) {
      return { headerEnd: crlf + 2, bodyOffset: crlf + 4 };
    }
  }
  // Bare LF or mixed line ends: walk the lines.
  let i = firstLf;
  while (i >= 0 && i < end) {
    // i is a line end; the header section ends when the next line is empty.
    const next = i + 1;
    if (next < buf.length && buf[next] === 0x0a) return { headerEnd: i + 1, bodyOffset: next + 1 };
    if (next + 1 < buf.length && buf[next] === 0x0d && buf[next + 1] === 0x0a) {
      return { headerEnd: i + 1, bodyOffset: next + 2 };
    }
    i = buf.indexOf(0x0a, next);
  }
  return null;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

/** Skips CRLFs before the start line (RFC 3261 §7.5). */
function skipLeadingLineEnds(buf: Buffer): number {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  return i;
}

/**
 * Splits a message into start line and header fields. Folding is kept inside each field's
 * raw value. Enforces the header-section, line and count limits.
 * @throws SipParseError on framing or header-line syntax errors.
 */
export function scanMessage(bytes: Uint8Array, limits: ParseLimits = DEFAULT_LIMITS): ScannedMessage {
  const buf = asBuffer(bytes);
  const start = skipLeadingLineEnds(buf);
  try {
    return scanLines(buf, start, limits);
  } catch (error) {
    // A header section over the limit gets 513 whatever else is wrong in it, as if the limit
    // had been checked first (the line walk meets a bad line before it learns the size).
    if (error instanceof SipParseError && error.status !== 513) {
      const found = findHeaderEnd(buf, start, start + limits.maxHeaderSectionBytes + 4, false);
      const sectionEnd = found === null ? buf.length : found.headerEnd;
      if (sectionEnd - start > limits.maxHeaderSectionBytes) throw tooLargeHeaderSection();
    }
    throw error;
  }
}

function scanLines(buf: Buffer, start: number, limits: ParseLimits): ScannedMessage {
  // One pass over the lines finds the empty line that ends the header section (RFC 3261 §7:
  // the first one, whatever the mix of CRLF and LF) while it splits the fields. The text may
  // run into the body; nothing past the empty line is looked at. Beyond the header-section
  // limit nothing is converted at all.
  const textEnd = Math.min(buf.length, start + limits.maxHeaderSectionBytes + 4);
  const truncated = textEnd < buf.length;
  const text = buf.toString('latin1', start, textEnd);
  const length = text.length;
  const fields: HeaderField[] = [];
  let bodyOffset = buf.length;
  let terminated = false;
  let headerEnd = length;
  let lineEnd = text.indexOf('\n');
  if (lineEnd < 0) {
    if (truncated) throw tooLargeHeaderSection();
    lineEnd = length;
  }
  const startLine = text.slice(0, lineEnd > 0 && text.charCodeAt(lineEnd - 1) === 0x0d ? lineEnd - 1 : lineEnd);
  let pos = lineEnd + 1;
  if (pos < length) {
    const c = text.charCodeAt(pos);
    if (c === 0x20 || c === 0x09) throw new SipParseError('start-line', 'folding in the start line');
  }
  while (pos < length) {
    const first = text.charCodeAt(pos);
    if (first === 0x0a || (first === 0x0d && pos + 1 < length && text.charCodeAt(pos + 1) === 0x0a)) {
      // The empty line (CRLF or a bare LF): the body starts after it.
      headerEnd = pos;
      bodyOffset = start + pos + (first === 0x0a ? 1 : 2);
      terminated = true;
      break;
    }
    // One header field: its first line and every continuation line (starting with SP/HTAB).
    let end = text.indexOf('\n', pos);
    if (end < 0) {
      // The last line ends at the end of the text: of the datagram (scanned so that its headers
      // can still be judged and answered, RFC 4475 baddn as archived), or of the limit.
      if (truncated) throw tooLargeHeaderSection();
      end = length;
    }
    for (;;) {
      const next = end + 1;
      if (next >= length) break;
      const c = text.charCodeAt(next);
      if (c !== 0x20 && c !== 0x09) break;
      const after = text.indexOf('\n', next);
      if (after < 0 && truncated) throw tooLargeHeaderSection();
      end = after < 0 ? length : after;
    }
    let lineStop = end;
    if (lineStop > pos && text.charCodeAt(lineStop - 1) === 0x0d) lineStop--;
    if (lineStop === pos) break; // a lone CR at the very end: the section never ends
    // field-name = token, then HCOLON (optional whitespace, ':'); folding there is illegal (G05).
    const nameEnd = scanToken(text, pos, lineStop);
    let colon = nameEnd;
    while (colon < lineStop) {
      const c = text.charCodeAt(colon);
      if (c !== 0x20 && c !== 0x09) break;
      colon++;
    }
    if (colon >= lineStop || text.charCodeAt(colon) !== 0x3a) {
      const anyColon = text.indexOf(':', pos);
      if (anyColon < 0 || anyColon >= lineStop) {
        throw new SipParseError('header-syntax', `header line without a colon: "${text.slice(pos, Math.min(lineStop, pos + 40))}"`);
      }
      throw new SipParseError('header-syntax', `bad header name "${text.slice(pos, Math.min(anyColon, pos + 40))}"`);
    }
    if (nameEnd === pos) throw new SipParseError('header-syntax', 'empty header name');
    const name = text.slice(pos, nameEnd);
    const key = headerKeyAt(text, pos, nameEnd);
    if (lineStop - pos > limits.maxHeaderLineBytes) {
      throw new SipParseError('too-large-header-line', `${key}: header line over the limit`, { header: key });
    }
    let valueStart = colon + 1;
    while (valueStart < lineStop) {
      const c = text.charCodeAt(valueStart);
      if (c !== 0x20 && c !== 0x09) break;
      valueStart++;
    }
    const raw = text.slice(valueStart, lineStop);
    // Written back as received when it is exactly "name: raw" CRLF (see ReceivedHeaderField).
    if (colon === nameEnd && valueStart === colon + 2 && end < length && lineStop === end - 1 && text.charCodeAt(colon + 1) === 0x20) {
      fields.push(new ReceivedHeaderField(name, key, raw, text.slice(pos, end + 1)));
    } else {
      fields.push({ name, key, raw });
    }
    if (fields.length > limits.maxHeaders) {
      throw new SipParseError('too-many-headers', `more than ${limits.maxHeaders} header fields`);
    }
    pos = end + 1;
  }
  if (!terminated && truncated) throw tooLargeHeaderSection();
  if (headerEnd > limits.maxHeaderSectionBytes) throw tooLargeHeaderSection();
  return { startLine, fields, bodyOffset, terminated };
}

function tooLargeHeaderSection(): SipParseError {
  return new SipParseError('too-large-header-section', 'header section over the limit', { status: 513 });
}

const VERSION_RE = /^SIP\/([0-9]+)\.([0-9]+)$/i;

function checkToken(text: string, what: string): void {
  if (text.length === 0) throw new SipParseError('start-line', `empty ${what}`);
  for (let i = 0; i < text.length; i++) {
    if (TOKEN[text.charCodeAt(i)] !== 1) throw new SipParseError('start-line', `bad character in ${what}`);
  }
}

function checkVersion(version: string): void {
  if (version === 'SIP/2.0') return; // nearly every message: no regex
  const m = VERSION_RE.exec(version);
  if (m === null) throw new SipParseError('start-line', 'malformed SIP version');
  // G04: lower-case "sip/2.0" is accepted; any version other than 2.0 gets 505.
  if (Number(m[1]) !== 2 || Number(m[2]) !== 0) {
    throw new SipParseError('version', `unsupported version ${version}`, { status: 505 });
  }
}

function parseStartLine(line: string, limits: ParseLimits, headers: Headers): SipRequest | SipResponse {
  if (
    line.length >= 4 &&
    line.charCodeAt(3) === 0x2f &&
    (line.charCodeAt(0) | 0x20) === 0x73 &&
    (line.charCodeAt(1) | 0x20) === 0x69 &&
    (line.charCodeAt(2) | 0x20) === 0x70
  ) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2)
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) throw new SipParseError('start-line', 'malformed status line');
    const version = line.slice(0, sp1);
    checkVersion(version);
    const c0 = line.charCodeAt(sp1 + 1);
    const c1 = line.charCodeAt(sp1 + 2);
    const c2 = line.charCodeAt(sp1 + 3);
    // Status-Code = 3DIGIT, the first 1-6 (RFC 3261 §7.2, §21)
    if (!(c0 >= 0x31 && c0 <= 0x36 && c1 >= 0x30 && c1 <= 0x39 && c2 >= 0x30 && c2 <= 0x39)) {
      throw new SipParseError('start-line', `bad status code "${line.slice(sp1 + 1, sp1 + 8)}"`);
    }
    const status = (c0 - 0x30) * 100 + (c1 - 0x30) * 10 + (c2 - 0x30);
    const rest = line.slice(sp1 + 4);
    if (rest.length > 0 && rest.charCodeAt(0) !== 0x20) throw new SipParseError('start-line', 'bad status code');
    const reason = rest.slice(1);
    for (let i = 0; i < reason.length; i++) {
      const c = reason.charCodeAt(i);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new SipParseError('start-line', 'control character in reason phrase');
    }
    return new SipResponse({ status, reason, version, headers });
  }
  // Request-Line = Method SP Request-URI SP SIP-Version (RFC 3261 §7.1): exactly two single
  // spaces; extra or trailing whitespace is rejected (RFC 4475 lwsstart, trws, lwsruri).
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 < 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) {
    throw new SipParseError('start-line', 'malformed request line');
  }
  const method = line.slice(0, sp1);
  checkToken(method, 'method');
  const uri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (uri.length === 0) throw new SipParseError('start-line', 'empty Request-URI');
  if (uri.length > limits.maxRequestUriBytes) {
    throw new SipParseError('too-large-uri', 'Request-URI over the limit', { status: 414 });
  }
  checkVersion(version);
  let parsed;
  try {
    parsed = parseUri(uri);
  } catch (error) {
    if (error instanceof SipParseError) throw new SipParseError('uri', `Request-URI: ${error.message}`);
    throw error;
  }
  // Headers in a SIP Request-URI are not allowed (RFC 3261 §19.1.1 Table 1; RFC 4475 escruri).
  if (isSipUri(parsed) && parsed.headers.length > 0) {
    throw new SipParseError('uri', 'Request-URI carries escaped headers');
  }
  return new SipRequest({ method, uri, version, headers });
}

/**
 * Parses one SIP message.
 * @param bytes a whole UDP datagram, or one message framed by the stream parser.
 * @throws SipParseError with the status to answer (400/413/414/505/513) when the message is
 *   malformed, over a limit, or lacks a mandatory header. For responses the caller drops it.
 */
export function parseMessage(bytes: Uint8Array, options: ParseOptions = {}): SipMessage {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const mode = options.mode ?? 'datagram';
  const buf = asBuffer(bytes);
  if (buf.length > limits.maxMessageBytes) {
    throw new SipParseError('too-large-message', `message of ${buf.length} octets over the limit`, { status: 513 });
  }
  const scanned = scanMessage(buf, limits);
  if (!scanned.terminated) throw new SipParseError('incomplete', 'header section not terminated by an empty line');
  const message = parseStartLine(scanned.startLine, limits, new Headers(scanned.fields));
  message.validate(limits.maxVias);
  if (message.kind === 'request' && message.cseq().method !== message.method) {
    throw new SipParseError('cseq-method', `CSeq method ${message.cseq().method} differs from ${message.method}`, { header: 'cseq' });
  }

  const available = buf.length - scanned.bodyOffset;
  const contentLength = message.contentLength();
  let bodyLength: number;
  if (contentLength === undefined) {
    if (mode === 'stream') {
      throw new SipParseError('content-length', 'Content-Length is required on a stream', { header: 'content-length' });
    }
    // RFC 3261 §18.3: over UDP, a missing Content-Length means the body runs to the datagram's end.
    bodyLength = available;
  } else {
    if (contentLength > available) {
      throw new SipParseError('content-length', `Content-Length ${contentLength} beyond the ${available} octets received`, {
        header: 'content-length',
      });
    }
    bodyLength = contentLength;
  }
  if (bodyLength > limits.maxBodyBytes) {
    throw new SipParseError('too-large-body', `body of ${bodyLength} octets over the limit`, { status: 413 });
  }
  message.body = bodyLength === 0 ? EMPTY_BODY : buf.subarray(scanned.bodyOffset, scanned.bodyOffset + bodyLength);
  return message;
}

