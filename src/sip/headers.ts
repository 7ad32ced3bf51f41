/**
 * Header fields, kept in arrival order with their values exactly as received (RFC 3261 §7.3).
 * Names are matched case-insensitively and compact forms (§7.3.3) are the same header as
 * their long forms; lookups go through a canonical lower-case long name (the `key`).
 */
import { skipWs, splitList, trimEnd } from './grammar.js';

/** RFC 3261 §7.3.3 and later RFCs' compact forms, mapped to lower-case long names. */
const COMPACT: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** Keys of the headers seen on nearly every message, grouped by length for a quick case-insensitive match. */
const COMMON_KEYS: readonly (readonly string[])[] = (() => {
  const keys = ['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'max-forwards', 'content-length', 'content-type',
    'route', 'record-route', 'user-agent', 'server', 'allow', 'supported', 'require', 'expires', 'authorization',
    'www-authenticate', 'proxy-authorization', 'proxy-authenticate', 'accept', 'subject', 'date', 'event',
    'allow-events', 'session-expires', 'min-se', 'content-disposition', 'timestamp', 'organization', 'min-expires',
    'proxy-require', 'unsupported', 'retry-after', 'reason', 'warning', 'path', 'p-asserted-identity'];
  const byLength: string[][] = [];
  for (const key of keys) (byLength[key.length] ??= []).push(key);
  return byLength;
})();

/** `name` compared with a lower-case `key` of the same length, ignoring ASCII case. */
function sameIgnoringCase(name: string, key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = name.charCodeAt(i);
    const lower = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    if (lower !== key.charCodeAt(i)) return false;
  }
  return true;
}

/** How each well-known header is spelled when voxlite writes it. */
const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

/**
 * Headers whose value is a comma-separated list (RFC 3261 §7.3.1) and may be split into
 * elements. Headers not listed (From, To, Call-ID, the auth headers, Date, unknown headers…)
 * are never split: a comma inside them is data.
 */
const LIST_HEADERS = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'path',
  'service-route',
  'allow',
  'allow-events',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'content-language',
  'in-reply-to',
  'warning',
  'error-info',
  'alert-info',
  'call-info',
  'reason',
]);

/**
 * The common keys by a hash of length, first and last octet (any case), so that a parser can
 * find a received name's key with one comparison, made on the message text itself.
 */
const KEY_SLOTS = 1024;
const KEY_BY_SLOT: readonly string[] = (() => {
  const table = new Array<string>(KEY_SLOTS).fill('');
  for (const list of COMMON_KEYS) {
    for (const key of list ?? []) {
      const slot = keySlot(key.length, key.charCodeAt(0), key.charCodeAt(key.length - 1));
      // a collision keeps the first key; the second is still found by headerKey
      if (table[slot] === '') table[slot] = key;
    }
  }
  return table;
})();

function keySlot(length: number, first: number, last: number): number {
  return ((length * 31 + (first | 0x20)) * 31 + (last | 0x20)) & (KEY_SLOTS - 1);
}

/**
 * The key of the header name `text[start, end)`: like {@link headerKey}, without cutting the
 * name out first for the common headers.
 */
export function headerKeyAt(text: string, start: number, end: number): string {
  const length = end - start;
  if (length > 1) {
    const key = KEY_BY_SLOT[keySlot(length, text.charCodeAt(start), text.charCodeAt(end - 1))]!;
    if (key.length === length) {
      let i = 0;
      while (i < length) {
        const c = text.charCodeAt(start + i);
        if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== key.charCodeAt(i)) break;
        i++;
      }
      if (i === length) return key;
    }
  }
  return headerKey(text.slice(start, end));
}

/** The canonical lookup key of a header name: lower case, compact forms expanded. */
export function headerKey(name: string): string {
  // The common keys come back as the same interned strings, which also makes the
  // `field.key === 'via'` comparisons everywhere else cheap.
  const candidates = COMMON_KEYS[name.length];
  if (candidates !== undefined) {
    for (const key of candidates) if (sameIgnoringCase(name, key)) return key;
  }
  const lower = name.toLowerCase();
  if (lower.length === 1) return COMPACT[lower] ?? lower;
  return lower;
}

/** The spelling voxlite uses when it writes a header: `call-id` → `Call-ID`, `via` → `Via`. */
export function canonicalHeaderName(name: string): string {
  const cached = canonicalCache.get(name);
  if (cached !== undefined) return cached;
  const key = headerKey(name);
  const canonical = CANONICAL[key] ?? key.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
  // Builders name the same few headers over and over; the cache is bounded against odd names.
  if (canonicalCache.size < 512) canonicalCache.set(name, canonical);
  return canonical;
}

const canonicalCache = new Map<string, string>();

/** Whether a header's value is a comma-separated list that may be split. */
export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(headerKey(name));
}

/** One header field as it stands in a message. */
export interface HeaderField {
  /** The name as received or given (e.g. `v`, `MaX-fOrWaRdS`). */
  readonly name: string;
  /** Canonical lower-case long name (`via`, `max-forwards`). */
  readonly key: string;
  /**
   * The value exactly as received, as a binary string (one char per octet), without the
   * leading whitespace after the colon and without the final line end. Folded lines keep
   * their CRLF and leading whitespace, so formatting writes back the same octets.
   */
  readonly raw: string;
}

/**
 * A header field read by the parser, which also keeps the field's line as received when that
 * line is exactly what the serializer would write for it (`name: raw` CRLF), so that writing an
 * unchanged field back is one piece instead of four (a proxy forwards most fields untouched).
 * The line is private: a copy or spread of the field does not carry it, and it is only used
 * while `name` and `raw` are still the strings it was read with.
 */
export class ReceivedHeaderField implements HeaderField {
  readonly #line: string;
  readonly #name: string;
  readonly #raw: string;

  /** @internal Made by the parser. */
  constructor(
    readonly name: string,
    readonly key: string,
    readonly raw: string,
    line: string,
  ) {
    this.#line = line;
    this.#name = name;
    this.#raw = raw;
  }

  /** The line as received, CRLF included, while name and value are unchanged. */
  receivedLine(): string | undefined {
    return this.name === this.#name && this.raw === this.#raw ? this.#line : undefined;
  }
}

/** A header value with folding turned into single spaces and outer whitespace removed (§7.3.1). */
export function unfold(raw: string): string {
  // Raw values come from lines split at LF, so folding always shows as an LF.
  const text = raw.indexOf('\n') === -1 ? raw : raw.replace(/[ \t]*\r?\n[ \t]+/g, ' ');
  const start = skipWs(text, 0);
  const end = trimEnd(text, start, text.length);
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/**
 * The ordered header fields of one message. Mutations keep the order of the fields that stay;
 * new fields go at the end unless `prepend` is used (as a proxy does for Via and Record-Route).
 */
export class Headers implements Iterable<HeaderField> {
  private fields: HeaderField[];
  /** Bumped on every change, so cached typed values know when to re-parse. */
  private revision = 0;

  constructor(fields: HeaderField[] = []) {
    this.fields = fields;
  }

  /** Creates a header field from a name and a value (the value is written as given). */
  static field(name: string, value: string): HeaderField {
    return { name, key: headerKey(name), raw: value };
  }

  get version(): number {
    return this.revision;
  }

  get size(): number {
    return this.fields.length;
  }

  [Symbol.iterator](): Iterator<HeaderField> {
    return this.fields[Symbol.iterator]();
  }

  /** All fields, in order. */
  all(): readonly HeaderField[] {
    return this.fields;
  }

  has(name: string): boolean {
    const key = headerKey(name);
    for (const f of this.fields) if (f.key === key) return true;
    return false;
  }

  /** The fields with this name, in order. */
  fieldsOf(name: string): HeaderField[] {
    const key = headerKey(name);
    const out: HeaderField[] = [];
    for (const f of this.fields) if (f.key === key) out.push(f);
    return out;
  }

  /** The first field's value, unfolded and trimmed; undefined when absent. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const f of this.fields) if (f.key === key) return unfold(f.raw);
    return undefined;
  }

  /**
   * Every value of a header across all its fields. List headers (§7.3.1) are split on commas
   * outside quotes and angle brackets; other headers give one value per field.
   * @throws SyntaxError when a quote or angle bracket is left open in a list header.
   */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const split = LIST_HEADERS.has(key);
    const out: string[] = [];
    for (const f of this.fields) {
      if (f.key !== key) continue;
      const value = unfold(f.raw);
      if (!split) {
        out.push(value);
        continue;
      }
      const parts = splitList(value);
      if (parts === null) throw new SyntaxError(`unbalanced quote or bracket in ${f.name}`);
      for (const p of parts) out.push(p);
    }
    return out;
  }

  /** Replaces every field of this name by one field with `value` at the place of the first. */
  set(name: string, value: string): void {
    const key = headerKey(name);
    const out: HeaderField[] = [];
    let placed = false;
    for (const f of this.fields) {
      if (f.key !== key) {
        out.push(f);
      } else if (!placed) {
        out.push({ name: f.name, key, raw: value });
        placed = true;
      }
    }
    if (!placed) out.push({ name: canonicalHeaderName(name), key, raw: value });
    this.fields = out;
    this.revision++;
  }

  /** Adds a field after all others. */
  append(name: string, value: string): void {
    this.fields.push({ name: canonicalHeaderName(name), key: headerKey(name), raw: value });
    this.revision++;
  }

  /** Adds a field before all others of the same name (or first when there is none). */
  prepend(name: string, value: string): void {
    const key = headerKey(name);
    const field = { name: canonicalHeaderName(name), key, raw: value };
    const index = this.fields.findIndex((f) => f.key === key);
    if (index < 0) this.fields.unshift(field);
    else this.fields.splice(index, 0, field);
    this.revision++;
  }

  /** Removes every field of this name; returns how many were removed. */
  delete(name: string): number {
    const key = headerKey(name);
    const before = this.fields.length;
    this.fields = this.fields.filter((f) => f.key !== key);
    const removed = before - this.fields.length;
    if (removed > 0) this.revision++;
    return removed;
  }

  /**
   * Removes the first value of a list header (e.g. the top Via when a proxy forwards a
   * response, RFC 3261 §16.7 step 3): drops the first element of the first field, or the
   * whole field when it held one element. Returns the removed value.
   */
  shift(name: string): string | undefined {
    const key = headerKey(name);
    const index = this.fields.findIndex((f) => f.key === key);
    if (index < 0) return undefined;
    const field = this.fields[index]!;
    const parts = splitList(unfold(field.raw));
    if (parts === null || parts.length <= 1) {
      this.fields.splice(index, 1);
      this.revision++;
      return parts?.[0] ?? unfold(field.raw);
    }
    this.fields[index] = { name: field.name, key, raw: parts.slice(1).join(', ') };
    this.revision++;
    return parts[0];
  }

  clone(): Headers {
    return new Headers([...this.fields]);
  }
}
