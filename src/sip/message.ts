/**
 * SIP requests and responses (RFC 3261 §7). Header values and the start line are binary
 * strings (one JS char per octet, latin1), so every octet — invalid UTF-8, a quoted NUL —
 * survives parse and format unchanged (G06). The body is a `Buffer` and is never decoded.
 */
import { SipParseError } from './errors.js';
import { Headers, unfold } from './headers.js';
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

/** Headers that may appear at most once (RFC 3261 §7.3.1, G05). */
export const SINGLE_VALUED_HEADERS = ['call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length'] as const;

abstract class SipMessageBase {
  /** SIP version as written (`SIP/2.0`, or `sip/2.0`). */
  version: string;
  headers: Headers;
  /** The body octets (possibly empty). Use {@link setBody} to keep Content-Length right. */
  body: Buffer;
  private cache = new Map<string, unknown>();
  private cacheVersion = -1;

  constructor(version: string, headers: Headers, body: Buffer) {
    this.version = version;
    this.headers = headers;
    this.body = body;
  }

  private cached<T>(key: string, compute: () => T): T {
    if (this.cacheVersion !== this.headers.version) {
      this.cache.clear();
      this.cacheVersion = this.headers.version;
    }
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const value = compute();
    this.cache.set(key, value);
    return value;
  }

  private single(key: string): string {
    const fields = this.headers.fieldsOf(key);
    if (fields.length === 0) throw new SipParseError('missing-header', `missing ${key}`, { header: key });
    if (fields.length > 1) throw new SipParseError('duplicate-header', `more than one ${key}`, { header: key });
    return unfold(fields[0]!.raw);
  }

  /** Every Via hop, top first. @throws SipParseError when a Via is malformed. */
  via(): Via[] {
    return this.cached('via', () => {
      const out: Via[] = [];
      for (const f of this.headers.fieldsOf('via')) for (const v of parseViaList(unfold(f.raw))) out.push(v);
      return out;
    });
  }

  /** The top Via, or undefined when there is none. */
  topVia(): Via | undefined {
    return this.via()[0];
  }

  from(): NameAddr {
    return this.cached('from', () => parseNameAddr(this.single('from'), 'from'));
  }

  to(): NameAddr {
    return this.cached('to', () => parseNameAddr(this.single('to'), 'to'));
  }

  callId(): string {
    return this.cached('call-id', () => {
      const value = this.single('call-id');
      // callid = word [ "@" word ]: no whitespace, not empty
      if (value.length === 0 || /[\s]/.test(value)) {
        throw new SipParseError('header-value', 'call-id: malformed', { header: 'call-id' });
      }
      return value;
    });
  }

  cseq(): CSeq {
    return this.cached('cseq', () => parseCSeq(this.single('cseq')));
  }

  /** Max-Forwards (clamped to 255), or undefined when absent (G07: tolerated). */
  maxForwards(): number | undefined {
    return this.cached('max-forwards', () => {
      if (!this.headers.has('max-forwards')) return undefined;
      return parseDecimal(this.single('max-forwards'), 'max-forwards', 255);
    });
  }

  /** Content-Length, or undefined when absent. */
  contentLength(): number | undefined {
    return this.cached('content-length', () => {
      if (!this.headers.has('content-length')) return undefined;
      return parseDecimal(this.single('content-length'), 'content-length');
    });
  }

  /** Contact values, `'*'` for the REGISTER wildcard, or an empty list. */
  contacts(): Contact[] | typeof WILDCARD_CONTACT {
    return this.cached('contact', () => {
      const fields = this.headers.fieldsOf('contact');
      if (fields.length === 0) return [];
      const out: Contact[] = [];
      for (const f of fields) {
        const list = parseContactList(unfold(f.raw));
        if (list === WILDCARD_CONTACT) {
          if (fields.length > 1) {
            throw new SipParseError('header-value', 'contact: * must stand alone', { header: 'contact' });
          }
          return WILDCARD_CONTACT;
        }
        for (const c of list) out.push(c);
      }
      return out;
    });
  }

  /** Route values in order. */
  routes(): NameAddr[] {
    return this.cached('route', () => this.nameAddrs('route'));
  }

  /** Record-Route values in order. */
  recordRoutes(): NameAddr[] {
    return this.cached('record-route', () => this.nameAddrs('record-route'));
  }

  private nameAddrs(key: string): NameAddr[] {
    const out: NameAddr[] = [];
    for (const f of this.headers.fieldsOf(key)) for (const v of parseNameAddrList(unfold(f.raw), key)) out.push(v);
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
    super(init.version ?? 'SIP/2.0', init.headers ?? new Headers(), init.body ?? Buffer.alloc(0));
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
    super(init.version ?? 'SIP/2.0', init.headers ?? new Headers(), init.body ?? Buffer.alloc(0));
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
