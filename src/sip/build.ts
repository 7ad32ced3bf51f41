/**
 * Builders for messages the stack derives from others: responses (RFC 3261 §8.2.6), the ACK
 * for a non-2xx final response (§17.1.1.3), CANCEL (§9.1), and fresh branches, tags and Call-IDs.
 */
import { CryptoRandom, randomToken, type Random } from '../core/random.js';
import type { SipParseError } from './errors.js';
import { Headers, type HeaderField } from './headers.js';
import { DEFAULT_LIMITS } from './limits.js';
import { EMPTY_BODY, SipRequest, SipResponse } from './message.js';
import { scanMessage } from './parser.js';
import { formatMessage } from './serializer.js';
import { reasonPhrase } from './status.js';

const defaultRandom = new CryptoRandom();

/** RFC 3261 §8.1.1.7: branches of RFC 3261 elements start with this magic cookie. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

/** A new Via branch: the magic cookie plus 22 random token characters (~131 bits). */
export function newBranch(random: Random = defaultRandom): string {
  return BRANCH_MAGIC_COOKIE + randomToken(random, 22);
}

/** A new From/To tag (RFC 3261 §19.3: at least 32 bits of randomness; we use ~59). */
export function newTag(random: Random = defaultRandom): string {
  return randomToken(random, 10);
}

/** A new Call-ID, optionally `…@host` (RFC 3261 §8.1.1.4). */
export function newCallId(random: Random = defaultRandom, host?: string): string {
  const id = randomToken(random, 24);
  return host === undefined ? id : `${id}@${host}`;
}

/** The headers a response copies from its request, octet for octet (RFC 3261 §8.2.6.2). */
const COPIED_INTO_RESPONSE = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

function hasTag(toRaw: string): boolean {
  // A ";tag=" outside the URI: the URI in <> cannot hide one, and an addr-spec's params are header params.
  const close = toRaw.lastIndexOf('>');
  return /;\s*tag\s*=/i.test(close >= 0 ? toRaw.slice(close) : toRaw);
}

export interface ResponseOptions {
  /** Reason phrase; defaults to the standard one. */
  reason?: string;
  /** To tag to add when the request's To has none (ignored for 100 Trying, RFC 3261 §8.2.6.2). */
  toTag?: string;
  /** Extra header fields, appended in order. */
  headers?: ReadonlyArray<readonly [name: string, value: string]>;
  body?: Uint8Array | string;
  contentType?: string;
}

function copyFields(fields: Iterable<HeaderField>, status: number, toTag: string | undefined): HeaderField[] {
  const out: HeaderField[] = [];
  for (const f of fields) {
    if (!COPIED_INTO_RESPONSE.has(f.key)) continue;
    if (f.key === 'to' && toTag !== undefined && status !== 100 && !hasTag(f.raw)) {
      out.push({ name: f.name, key: f.key, raw: `${f.raw};tag=${toTag}` });
    } else {
      out.push(f);
    }
  }
  return out;
}

/**
 * Builds a response to `request`: Via, From, To, Call-ID and CSeq copied octet for octet, in
 * their original order; a To tag added when asked and the To has none; Content-Length set.
 */
export function createResponse(request: SipRequest, status: number, options: ResponseOptions = {}): SipResponse {
  const headers = new Headers(copyFields(request.headers, status, options.toTag));
  for (const [name, value] of options.headers ?? []) headers.append(name, value);
  const response = new SipResponse({ status, reason: options.reason ?? reasonPhrase(status) , headers });
  response.setBody(options.body ?? EMPTY_BODY, options.body === undefined ? undefined : options.contentType);
  return response;
}

/**
 * The ACK for a non-2xx final response, built by the INVITE client transaction
 * (RFC 3261 §17.1.1.3): same Request-URI, Call-ID, From, top Via and CSeq number as the
 * INVITE, To from the response (with its tag), the INVITE's Route headers.
 */
export function createNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const headers = new Headers();
  const topVia = invite.headers.fieldsOf('via')[0];
  if (topVia !== undefined) headers.append('Via', invite.via().length > 1 ? firstListValue(topVia.raw) : topVia.raw);
  for (const f of invite.headers.fieldsOf('route')) headers.append('Route', f.raw);
  headers.append('Max-Forwards', '70');
  headers.append('From', rawOf(invite, 'from'));
  headers.append('To', rawOf(response, 'to'));
  headers.append('Call-ID', rawOf(invite, 'call-id'));
  headers.append('CSeq', `${invite.cseq().seq} ACK`);
  headers.append('Content-Length', '0');
  return new SipRequest({ method: 'ACK', uri: invite.uri, headers });
}

/**
 * A CANCEL for `request` (RFC 3261 §9.1): same Request-URI, Call-ID, To, From, CSeq number
 * and top Via (so it matches the same server transaction), the request's Route headers.
 */
export function createCancel(request: SipRequest): SipRequest {
  const headers = new Headers();
  const topVia = request.headers.fieldsOf('via')[0];
  if (topVia !== undefined) headers.append('Via', request.via().length > 1 ? firstListValue(topVia.raw) : topVia.raw);
  for (const f of request.headers.fieldsOf('route')) headers.append('Route', f.raw);
  headers.append('Max-Forwards', '70');
  headers.append('From', rawOf(request, 'from'));
  headers.append('To', rawOf(request, 'to'));
  headers.append('Call-ID', rawOf(request, 'call-id'));
  headers.append('CSeq', `${request.cseq().seq} CANCEL`);
  headers.append('Content-Length', '0');
  return new SipRequest({ method: 'CANCEL', uri: request.uri, headers });
}

function rawOf(message: SipRequest | SipResponse, key: string): string {
  const field = message.headers.fieldsOf(key)[0];
  if (field === undefined) throw new TypeError(`message has no ${key}`);
  return field.raw;
}

function firstListValue(raw: string): string {
  // The top Via field may hold several comma-separated hops; only the first belongs here.
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) return raw.slice(0, i).trimEnd();
  }
  return raw;
}

/**
 * For a request that failed to parse: the octets of the response to send (400, 413, 414, 505,
 * 513 as the error says), built from whatever Via/From/To/Call-ID/CSeq could be read, or null
 * when no response can be routed (a response was received, the start line is unreadable, or
 * there is no Via — G07 drops those silently).
 */
export function createResponseToUnparsable(bytes: Uint8Array, error: SipParseError): Buffer | null {
  let fields: HeaderField[];
  let startLine: string;
  try {
    const scanned = scanMessage(bytes, { ...DEFAULT_LIMITS, maxHeaders: 10_000, maxHeaderLineBytes: 64 * 1024 });
    fields = scanned.fields;
    startLine = scanned.startLine;
  } catch {
    return null;
  }
  if (/^SIP\//i.test(startLine)) return null;
  if (!/^[A-Za-z0-9.!%*_+`'~-]+ \S/.test(startLine)) return null;
  const copied = fields.filter((f) => COPIED_INTO_RESPONSE.has(f.key));
  if (!copied.some((f) => f.key === 'via')) return null;
  const headers = new Headers(copied);
  headers.append('Content-Length', '0');
  const response = new SipResponse({ status: error.status, reason: error.reason, headers });
  return formatMessage(response);
}
