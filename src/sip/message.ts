/**
 * SIP requests and responses (RFC 3261 §7). Header values and the start line are binary
 * strings (one JS char per octet, latin1), so every octet — invalid UTF-8, a quoted NUL —
 * survives parse and format unchanged (G06). The body is a `Buffer` and is never decoded.
 */
import { SipParseError } from './errors.js';
import { Headers, unfold, type HeaderField } from './headers.js';
import {
  parseContactList,
  parseCSeq,
  parseDecimal,
  parseNameAddr,
  parseNameAddrList,
  parseViaList,
  type Contact,
  type CSeq,
  type NameAddr,
  type Via,
  WILDCARD_CONTACT,
} from './header-values.js';
import { parseUri, type Uri } from './uri.js';

/** The body of a message without one: shared, since zero octets cannot be changed. */
export const EMPTY_BODY: Buffer = Buffer.alloc(0);

/** Headers that may appear at most once (RFC 3261 §7.3.1, G05). */
export const SINGLE_VALUED_HEADERS = ['call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length'] as const;

/** Parsed header values, valid while the headers' revision is unchanged. */
interface ParsedValues {
  via?: Via[];
  from?: NameAddr;
  to?: NameAddr;
  callId?: string;
  cseq?: CSeq;
  maxForwards?: number | null;
  contentLength?: number | null;
  contacts?: Contact[] | typeof WILDCARD_CONTACT;
  routes?: NameAddr[];
  recordRoutes?: NameAddr[];
}

function missing(key: string): never {
  throw new SipParseError('missing-header', `missing ${key}`, { header: key });
}

function duplicate(key: string): never {
  throw new SipParseError('duplicate-header', `more than one ${key}`, { header: key });
}

function hasWhitespace(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) return true;
  }
  return false;
}

function checkCallId(value: string): string {
  // callid = word [ "@" word ]: not empty, no whitespace
  if (value.length === 0 || hasWhitespace(value)) {
    throw new SipParseError('header-value', 'call-id: malformed', { header: 'call-id' });
  }
  return value;
}

function parseContacts(fields: readonly HeaderField[]): Contact[] | typeof WILDCARD_CONTACT {
  const out: Contact[] = [];
  for (const f of fields) {
    const list = parseContactList(unfold(f.raw));
    if (list === WILDCARD_CONTACT) {
      if (fields.length > 1) throw new SipParseError('header-value', 'contact: * must stand alone', { header: 'contact' });
      return WILDCARD_CONTACT;
    }
    for (const c of list) out.push(c);
  }
  return out;
}

abstract class SipMessageBase {
  /** SIP version as written (`SIP/2.0`, or `sip/2.0`). */
  version: string;
  headers: Headers;
  /** The body octets (possibly empty). Use {@link setBody} to keep Content-Length right. */
  body: Buffer;
  private parsed: ParsedValues = {};
  /** The headers object and revision {@link parsed} was computed from. */
  private parsedRevision: number;
  private parsedHeaders: Headers;

  constructor(version: string, headers: Headers, body: Buffer) {
    this.version = version;
    this.headers = headers;
    this.body = body;
    this.parsedRevision = headers.version;
    this.parsedHeaders = headers;
  }

  /** The parsed values, emptied whenever the headers changed since they were computed. */
  private values(): ParsedValues {
    if (this.parsedRevision !== this.headers.version || this.parsedHeaders !== this.headers) {
      this.parsed = {};
      this.parsedRevision = this.headers.version;
      this.parsedHeaders = this.headers;
    }
    return this.parsed;
  }
  private single(key: string): string {
    let found: HeaderField | undefined;
    for (const f of this.headers) {
      if (f.key !== key) continue;
      if (found !== undefined) duplicate(key);
      found = f;
    }
    if (found === undefined) missing(key);
    return unfold(found.raw);
  }

  /**
   * Checks, in one pass over the headers, everything a message must satisfy before any layer
   * sees it (G05, G07, G09), and keeps the parsed values. Called by the parser.
   * @throws SipParseError
   */
  validate(maxVias: number): void {
    const values = this.values();
    let from: HeaderField | undefined;
    let to: HeaderField | undefined;
    let callId: HeaderField | undefined;
    let cseq: HeaderField | undefined;
    let maxForwards: HeaderField | undefined;
    let contentLength: HeaderField | undefined;
    const vias: Via[] = [];
    let contacts: HeaderField[] | undefined;
    for (const f of this.headers) {
      switch (f.key) {
        case 'via':
          for (const v of parseViaList(unfold(f.raw))) vias.push(v);
          if (vias.length > maxVias) {
            throw new SipParseError('too-many-vias', `more than ${maxVias} Via values`, { header: 'via' });
          }
          break;
        case 'from':
          if (from !== undefined) duplicate('from');
          from = f;
          break;
        case 'to':
          if (to !== undefined) duplicate('to');
          to = f;
          break;
        case 'call-id':
          if (callId !== undefined) duplicate('call-id');
          callId = f;
          break;
        case 'cseq':
          if (cseq !== undefined) duplicate('cseq');
          cseq = f;
          break;
        case 'max-forwards':
          if (maxForwards !== undefined) duplicate('max-forwards');
          maxForwards = f;
          break;
        case 'content-length':
          if (contentLength !== undefined) duplicate('content-length');
          contentLength = f;
          break;
        case 'contact':
          (contacts ??= []).push(f);
          break;
      }
    }
    if (vias.length === 0) missing('via');
    if (from === undefined) missing('from');
    if (to === undefined) missing('to');
    if (callId === undefined) missing('call-id');
    if (cseq === undefined) missing('cseq');
    values.via = vias;
    values.from = parseNameAddr(unfold(from.raw), 'from');
    values.to = parseNameAddr(unfold(to.raw), 'to');
    values.callId = checkCallId(unfold(callId.raw));
    values.cseq = parseCSeq(unfold(cseq.raw));
    values.maxForwards = maxForwards === undefined ? null : parseDecimal(unfold(maxForwards.raw), 'max-forwards', 255);
    values.contentLength = contentLength === undefined ? null : parseDecimal(unfold(contentLength.raw), 'content-length');
    values.contacts = contacts === undefined ? [] : parseContacts(contacts);
  }

  /** Every Via hop, top first. @throws SipParseError when a Via is malformed. */
  via(): Via[] {
    const values = this.values();
    if (values.via === undefined) {
      const out: Via[] = [];
      for (const f of this.headers) if (f.key === 'via') for (const v of parseViaList(unfold(f.raw))) out.push(v);
      values.via = out;
    }
    return values.via;
  }

  /** The top Via, or undefined when there is none. */
  topVia(): Via | undefined {
    return this.via()[0];
  }

  from(): NameAddr {
    const values = this.values();
    return (values.from ??= parseNameAddr(this.single('from'), 'from'));
  }

  to(): NameAddr {
    const values = this.values();
    return (values.to ??= parseNameAddr(this.single('to'), 'to'));
  }

  callId(): string {
    const values = this.values();
    return (values.callId ??= checkCallId(this.single('call-id')));
  }

  cseq(): CSeq {
    const values = this.values();
    return (values.cseq ??= parseCSeq(this.single('cseq')));
  }

  /** Max-Forwards (clamped to 255), or undefined when absent (G07: tolerated). */
  maxForwards(): number | undefined {
    const values = this.values();
    if (values.maxForwards === undefined) {
      values.maxForwards = this.headers.has('max-forwards') ? parseDecimal(this.single('max-forwards'), 'max-forwards', 255) : null;
    }
    return values.maxForwards ?? undefined;
  }

  /** Content-Length, or undefined when absent. */
  contentLength(): number | undefined {
    const values = this.values();
    if (values.contentLength === undefined) {
      values.contentLength = this.headers.has('content-length') ? parseDecimal(this.single('content-length'), 'content-length') : null;
    }
    return values.contentLength ?? undefined;
  }

  /** Contact values, `'*'` for the REGISTER wildcard, or an empty list. */
  contacts(): Contact[] | typeof WILDCARD_CONTACT {
    const values = this.values();
    return (values.contacts ??= parseContacts(this.headers.fieldsOf('contact')));
  }

  /** Route values in order. */
  routes(): NameAddr[] {
    const values = this.values();
    return (values.routes ??= this.nameAddrs('route'));
  }

  /** Record-Route values in order. */
  recordRoutes(): NameAddr[] {
    const values = this.values();
    return (values.recordRoutes ??= this.nameAddrs('record-route'));
  }

  private nameAddrs(key: string): NameAddr[] {
    const out: NameAddr[] = [];
    for (const f of this.headers) if (f.key === key) for (const v of parseNameAddrList(unfold(f.raw), key)) out.push(v);
    return out;
  }

  /** Replaces the body and sets Content-Length (and Content-Type when given). */
  setBody(body: Uint8Array | string, contentType?: string): void {
    this.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (contentType !== undefined) this.headers.set('content-type', contentType);
    else if (this.body.length === 0) this.headers.delete('content-type');
    this.headers.set('content-length', String(this.body.length));
  }
}

/** A SIP request. */
export class SipRequest extends SipMessageBase {
  readonly kind = 'request' as const;
  /** Method as written; methods are case-sensitive (RFC 3261 §7.1). */
  method: string;
  /** Request-URI exactly as written. */
  uri: string;

  constructor(init: { method: string; uri: string; version?: string; headers?: Headers; body?: Buffer }) {
    super(init.version ?? 'SIP/2.0', init.headers ?? new Headers(), init.body ?? EMPTY_BODY);
    this.method = init.method;
    this.uri = init.uri;
  }

  /** The Request-URI, parsed. @throws SipParseError */
  requestUri(): Uri {
    return parseUri(this.uri);
  }

  clone(): SipRequest {
    return new SipRequest({
      method: this.method,
      uri: this.uri,
      version: this.version,
      headers: this.headers.clone(),
      body: this.body,
    });
  }
}

/** A SIP response. */
export class SipResponse extends SipMessageBase {
  readonly kind = 'response' as const;
  status: number;
  /** Reason phrase as written (binary string; may be empty). */
  reason: string;

  constructor(init: { status: number; reason: string; version?: string; headers?: Headers; body?: Buffer }) {
    super(init.version ?? 'SIP/2.0', init.headers ?? new Headers(), init.body ?? EMPTY_BODY);
    this.status = init.status;
    this.reason = init.reason;
  }

  clone(): SipResponse {
    return new SipResponse({
      status: this.status,
      reason: this.reason,
      version: this.version,
      headers: this.headers.clone(),
      body: this.body,
    });
  }
}

export type SipMessage = SipRequest | SipResponse;

export function isRequest(message: SipMessage): message is SipRequest {
  return message.kind === 'request';
}

export function isResponse(message: SipMessage): message is SipResponse {
  return message.kind === 'response';
}
