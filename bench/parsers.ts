/**
 * The parsers the benchmark compares, each behind the same bytes-in / bytes-out adapter so that
 * every library pays for its own decoding and encoding, as a server reading UDP datagrams would.
 *
 * @remarks
 * `sip` and `jssip` ship no types for the modules used here, so they are loaded with
 * `createRequire` as `unknown` and narrowed once at load time. `sip.js` ships `.d.ts` files,
 * including one for its internal `Parser`, so it is imported with its own types.
 */
import { createRequire } from 'node:module';
import { LoggerFactory } from 'sip.js/lib/core/log/logger-factory.js';
import { Parser as SipJsParser } from 'sip.js/lib/core/messages/parser.js';
import { formatMessage, parseMessage } from '../src/sip/index.js';

/**
 * How a library turns a parsed incoming message back into octets.
 * - `serialise`: rebuilt from the parsed structure.
 * - `echo`: the library keeps the received text and `toString()` returns it unchanged; there is
 *   no serialiser for incoming messages, so "format" costs only the string→Buffer encode.
 */
export type FormatKind = 'serialise' | 'echo';

export interface ParserUnderTest {
  readonly name: string;
  readonly formatKind: FormatKind;
  /** Octets in, parsed message out. Throws or returns undefined when the library rejects it. */
  parse(bytes: Buffer): unknown;
  /** Octets in, octets out: the library's parse followed by its serialisation. */
  parseAndFormat(bytes: Buffer): Buffer;
  /** Checks that the library accepts `bytes` fully; returns why not, or undefined. */
  check(bytes: Buffer): string | undefined;
}

const require = createRequire(import.meta.url);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Header names as written in `text`, lower-cased, in order (no folding in the corpus). */
function headerNames(text: string): string[] {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  return head
    .split('\r\n')
    .slice(1)
    .map((line) => line.slice(0, line.indexOf(':')).trim().toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// voxlite

export const voxlite: ParserUnderTest = {
  name: 'voxlite',
  formatKind: 'serialise',
  parse: (bytes) => parseMessage(bytes),
  parseAndFormat: (bytes) => formatMessage(parseMessage(bytes)),
  check(bytes) {
    try {
      const out = formatMessage(parseMessage(bytes));
      return out.equals(bytes) ? undefined : 'formatMessage(parseMessage(x)) is not byte-exact';
    } catch (error) {
      return errorText(error);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// sip (kirm/sip.js on npm, 0.0.6): regex parser, object → string serialiser.

/** The part of a `sip` message the adapter looks at. */
interface KirmMessage {
  readonly headers: Record<string, unknown>;
}

function isKirmMessage(value: unknown): value is KirmMessage {
  return isRecord(value) && isRecord(value['headers']);
}

function loadKirmSip(): { parse: (text: string) => unknown; stringify: (message: KirmMessage) => unknown } {
  const mod: unknown = require('sip');
  if (!isRecord(mod) || typeof mod['parse'] !== 'function' || typeof mod['stringify'] !== 'function') {
    throw new TypeError('sip: expected parse() and stringify() exports');
  }
  return {
    parse: mod['parse'] as (text: string) => unknown,
    stringify: mod['stringify'] as (message: KirmMessage) => unknown,
  };
}

const kirm = loadKirmSip();

/** `sip` decodes as 'binary' (latin1) in its own transports; we do the same outside its parse. */
function kirmParse(bytes: Buffer): KirmMessage {
  const message = kirm.parse(bytes.toString('latin1'));
  if (!isKirmMessage(message)) throw new Error('sip.parse returned no message');
  return message;
}

function kirmFormat(message: KirmMessage): Buffer {
  const text = kirm.stringify(message);
  if (typeof text !== 'string') throw new Error('sip.stringify returned no string');
  return Buffer.from(text, 'latin1');
}

export const sip: ParserUnderTest = {
  name: 'sip',
  formatKind: 'serialise',
  parse: kirmParse,
  parseAndFormat: (bytes) => kirmFormat(kirmParse(bytes)),
  check(bytes) {
    try {
      const message = kirmParse(bytes);
      // sip.parse swallows a header parser's exception and drops that header, so look for gaps.
      const missing = headerNames(bytes.toString('latin1')).filter((n) => message.headers[n] === undefined);
      if (missing.length > 0) return `dropped header(s): ${missing.join(', ')}`;
      const via = message.headers['via'];
      if (!Array.isArray(via) || via.length === 0) return 'no parsed Via';
      const again = kirmParse(kirmFormat(message));
      if (again.headers['call-id'] !== message.headers['call-id']) return 'stringify output does not re-parse';
      return undefined;
    } catch (error) {
      return errorText(error);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// jssip 3.x: PEG grammar (RFC 3261 ABNF) parser; incoming messages keep their text.

interface JssipIncoming {
  toString(): string;
}

function isJssipIncoming(value: unknown): value is JssipIncoming {
  return isRecord(value) && typeof value['toString'] === 'function' && 'headers' in value;
}

function loadJssipParser(): (data: string, ua: undefined) => unknown {
  // lib/Parser.js is what JsSIP's Transport calls on each received string; its `ua` argument is
  // only stored on IncomingRequest objects (for replying), so parsing needs no UA or socket.
  const mod: unknown = require('jssip/lib/Parser.js');
  if (!isRecord(mod) || typeof mod['parseMessage'] !== 'function') {
    throw new TypeError('jssip: expected lib/Parser.js to export parseMessage()');
  }
  return mod['parseMessage'] as (data: string, ua: undefined) => unknown;
}

const jssipParseMessage = loadJssipParser();

function jssipParse(bytes: Buffer): JssipIncoming {
  const message = jssipParseMessage(bytes.toString('utf8'), undefined);
  if (!isJssipIncoming(message)) throw new Error('jssip Parser.parseMessage returned no message');
  return message;
}

export const jssip: ParserUnderTest = {
  name: 'jssip',
  formatKind: 'echo',
  parse: jssipParse,
  parseAndFormat: (bytes) => Buffer.from(jssipParse(bytes).toString(), 'utf8'),
  check(bytes) {
    try {
      jssipParse(bytes);
      return undefined;
    } catch (error) {
      return errorText(error);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// sip.js 0.21: a TypeScript port of the JsSIP parser (same PEG grammar), with typings.

const sipJsLogs: string[] = [];
const sipJsLoggerFactory = new LoggerFactory();
sipJsLoggerFactory.builtinEnabled = false;
sipJsLoggerFactory.connector = (level, _category, _label, content) => {
  sipJsLogs.push(`${level}: ${String(content)}`);
};
const sipJsLogger = sipJsLoggerFactory.getLogger('bench');

function sipJsParse(bytes: Buffer): { toString(): string } {
  const message = SipJsParser.parseMessage(bytes.toString('utf8'), sipJsLogger);
  if (message === undefined) throw new Error(`sip.js Parser.parseMessage rejected it (${sipJsLogs.at(-1) ?? 'no log'})`);
  return message;
}

export const sipJs: ParserUnderTest = {
  name: 'sip.js',
  formatKind: 'echo',
  parse: sipJsParse,
  parseAndFormat: (bytes) => Buffer.from(sipJsParse(bytes).toString(), 'utf8'),
  check(bytes) {
    try {
      sipJsParse(bytes);
      return undefined;
    } catch (error) {
      return errorText(error);
    }
  },
};

/** voxlite first, then the reference libraries. */
export const PARSERS: readonly ParserUnderTest[] = Object.freeze([voxlite, sip, jssip, sipJs]);
