/**
 * Incremental framing for stream transports (TCP, TLS): octets in, whole messages out
 * (RFC 3261 §18.3). Content-Length frames every message (G02); CRLF keep-alives are reported
 * (RFC 5626 §3.5.1); limits are enforced while reading, so a peer can make us buffer at most
 * one header section plus one body within the limits (G09). Segmentation never changes the
 * result (G37): the search for the end of the header section resumes where it stopped, so
 * one-octet writes cost linear time.
 */
import { SipParseError } from './errors.js';
import { DEFAULT_LIMITS, type ParseLimits } from './limits.js';
import type { SipMessage } from './message.js';
import { findHeaderEnd, parseMessage } from './parser.js';

export type StreamEvent =
  /** A complete, valid message and its octets. */
  | { readonly type: 'message'; readonly message: SipMessage; readonly bytes: Buffer }
  /** RFC 5626 §3.5.1 ping (CRLFCRLF): a server answers with a CRLF pong. */
  | { readonly type: 'ping' }
  /** A lone CRLF: a pong, or a harmless CRLF before a start line (RFC 3261 §7.5). */
  | { readonly type: 'pong' }
  /**
   * A message that could not be accepted. `bytes` holds the octets read so far for it, so a
   * server can answer a request (see `createResponseToUnparsable`). When `fatal`, framing is
   * lost: the connection must be closed and the parser accepts nothing more (G03).
   */
  | { readonly type: 'error'; readonly error: SipParseError; readonly bytes: Buffer; readonly fatal: boolean };

export interface StreamParserOptions {
  readonly limits?: ParseLimits;
  /**
   * `server` (default) waits to see whether a CRLF is the start of a CRLFCRLF ping; `client`
   * reports every CRLF at once as a pong, since servers answer pings with a single CRLF.
   */
  readonly role?: 'server' | 'client';
}

const INITIAL_CAPACITY = 4096;

export class StreamParser {
  private readonly limits: ParseLimits;
  private readonly role: 'server' | 'client';
  private buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private length = 0;
  /** Where the search for the end of the header section resumes. */
  private scanFrom = 0;
  /** Once the header section is known: where the body starts and how long it is. */
  private frame: { bodyOffset: number; contentLength: number } | null = null;
  private failed = false;

  constructor(options: StreamParserOptions = {}) {
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.role = options.role ?? 'server';
  }

  /** Octets held for an incomplete message. */
  get buffered(): number {
    return this.length;
  }

  /** Whether a fatal error happened (the connection should be closed). */
  get closed(): boolean {
    return this.failed;
  }

  /** Feeds octets; returns the events they complete, in order. */
  push(chunk: Uint8Array): StreamEvent[] {
    const events: StreamEvent[] = [];
    if (this.failed) return events;
    this.append(chunk);
    for (;;) {
      const event = this.next();
      if (event === null) break;
      events.push(event);
      if (event.type === 'error' && event.fatal) {
        this.failed = true;
        this.length = 0;
        break;
      }
    }
    return events;
  }

  private append(chunk: Uint8Array): void {
    const needed = this.length + chunk.length;
    if (needed > this.buffer.length) {
      let capacity = this.buffer.length * 2;
      while (capacity < needed) capacity *= 2;
      const grown = Buffer.allocUnsafe(capacity);
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.length);
    this.length = needed;
  }

  private consume(count: number): void {
    this.buffer.copy(this.buffer, 0, count, this.length);
    this.length -= count;
    this.scanFrom = 0;
    this.frame = null;
    // Give memory back after a large message instead of keeping the high-water mark.
    if (this.buffer.length > 4 * INITIAL_CAPACITY && this.length < INITIAL_CAPACITY) {
      const shrunk = Buffer.allocUnsafe(INITIAL_CAPACITY);
      this.buffer.copy(shrunk, 0, 0, this.length);
      this.buffer = shrunk;
    }
  }

  private fatal(error: SipParseError): StreamEvent {
    return { type: 'error', error, bytes: Buffer.from(this.buffer.subarray(0, this.length)), fatal: true };
  }

  private next(): StreamEvent | null {
    const buf = this.buffer;
    const len = this.length;
    if (this.frame === null) {
      // Keep-alives between messages (RFC 5626 §3.5.1).
      if (len >= 1 && (buf[0] === 0x0d || buf[0] === 0x0a)) {
        if (len >= 4 && buf[0] === 0x0d && buf[1] === 0x0a && buf[2] === 0x0d && buf[3] === 0x0a) {
          this.consume(4);
          return { type: 'ping' };
        }
        if (len >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) {
          if (this.role === 'client' || (len >= 3 && buf[2] !== 0x0d)) {
            this.consume(2);
            return { type: 'pong' };
          }
          if (len === 3 || len === 2) return null;
        }
        if (buf[0] === 0x0a) {
          this.consume(1);
          return { type: 'pong' };
        }
        if (len === 1) return null;
        // A CR not followed by LF is not a keep-alive; let the header parser reject it.
      }
      const limit = this.limits.maxHeaderSectionBytes;
      const from = Math.max(0, this.scanFrom - 3);
      const found = findHeaderEnd(buf.subarray(0, len), from, limit + 4);
      if (found === null) {
        if (len > limit) {
          return this.fatal(new SipParseError('too-large-header-section', 'header section over the limit', { status: 513 }));
        }
        this.scanFrom = len;
        return null;
      }
      const contentLength = readContentLength(buf, found.headerEnd);
      if (contentLength instanceof SipParseError) return this.fatal(contentLength);
      if (contentLength > this.limits.maxBodyBytes) {
        return this.fatal(new SipParseError('too-large-body', `body of ${contentLength} octets over the limit`, { status: 413 }));
      }
      if (found.bodyOffset + contentLength > this.limits.maxMessageBytes) {
        return this.fatal(new SipParseError('too-large-message', 'message over the limit', { status: 513 }));
      }
      this.frame = { bodyOffset: found.bodyOffset, contentLength };
    }
    const total = this.frame.bodyOffset + this.frame.contentLength;
    if (this.length < total) return null;
    const bytes = Buffer.from(this.buffer.subarray(0, total));
    this.consume(total);
    try {
      return { type: 'message', message: parseMessage(bytes, { limits: this.limits, mode: 'stream' }), bytes };
    } catch (error) {
      if (error instanceof SipParseError) return { type: 'error', error, bytes, fatal: false };
      throw error;
    }
  }
}

/**
 * Reads Content-Length (or its compact form `l`) from a header section without parsing the
 * rest, so the body can be framed. Missing, non-numeric, overflowing or conflicting values are
 * framing errors on a stream (G02, G03).
 */
function readContentLength(buf: Buffer, headerEnd: number): number | SipParseError {
  const text = buf.toString('latin1', 0, headerEnd);
  let value: string | undefined;
  let pos = text.indexOf('\n') + 1;
  while (pos > 0 && pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const c = text.charCodeAt(pos) | 0x20;
    if (c === 0x6c /* l */ || c === 0x63 /* c */) {
      const colon = text.indexOf(':', pos);
      if (colon > 0 && colon < end) {
        const name = text.slice(pos, colon).trimEnd().toLowerCase();
        if (name === 'content-length' || name === 'l') {
          // Folded continuation lines are part of the value.
          let stop = end;
          while (stop + 1 < text.length && (text.charCodeAt(stop + 1) === 0x20 || text.charCodeAt(stop + 1) === 0x09)) {
            const after = text.indexOf('\n', stop + 1);
            stop = after < 0 ? text.length : after;
          }
          const v = text.slice(colon + 1, stop).trim();
          if (value !== undefined && value !== v) {
            return new SipParseError('content-length', 'conflicting Content-Length values', { header: 'content-length' });
          }
          value = v;
          end = stop;
        }
      }
    }
    pos = end + 1;
  }
  if (value === undefined) {
    return new SipParseError('content-length', 'Content-Length is required on a stream', { header: 'content-length' });
  }
  if (!/^[0-9]{1,10}$/.test(value) || Number(value) > 0xffffffff) {
    return new SipParseError('content-length', `bad Content-Length "${value.slice(0, 20)}"`, { header: 'content-length' });
  }
  return Number(value);
}
