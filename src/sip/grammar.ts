/**
 * Character classes and small scanners shared by the SIP parsers (RFC 3261 §25.1).
 * All text is a "binary string": one JS char per octet (latin1), so octets 0x80–0xFF are
 * seen as themselves and nothing is decoded.
 */

const TOKEN_EXTRA = '-.!%*_+`\'~';

/** `TOKEN[c]` is 1 when octet c may appear in a token (RFC 3261 §25.1). */
export const TOKEN: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1;
  for (const ch of TOKEN_EXTRA) table[ch.charCodeAt(0)] = 1;
  return table;
})();

export const SP = 0x20;
export const HTAB = 0x09;
export const CR = 0x0d;
export const LF = 0x0a;

export function isWhitespace(c: number): boolean {
  return c === SP || c === HTAB || c === CR || c === LF;
}

export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    if (TOKEN[text.charCodeAt(i)] !== 1) return false;
  }
  return true;
}

/** Index of the first non-whitespace octet at or after `from` (LWS includes folded line ends). */
export function skipWs(text: string, from: number, end = text.length): number {
  let i = from;
  while (i < end && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the last non-whitespace octet before `end`. */
export function trimEnd(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && isWhitespace(text.charCodeAt(e - 1))) e--;
  return e;
}

/** Index just past the token starting at `from` (equal to `from` when there is none). */
export function scanToken(text: string, from: number, end = text.length): number {
  let i = from;
  while (i < end && TOKEN[text.charCodeAt(i)] === 1) i++;
  return i;
}

/**
 * Scans a quoted-string starting at the opening quote at `from` (RFC 3261 §25.1: qdtext and
 * quoted-pair). Returns the index just past the closing quote, or -1 when it never closes or
 * holds an octet a quoted-string may not (a bare CR/LF not part of folding).
 */
export function scanQuoted(text: string, from: number, end = text.length): number {
  let i = from + 1;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F); the octet after it is taken literally
      if (i + 1 >= end) return -1;
      const next = text.charCodeAt(i + 1);
      if (next === CR || next === LF || next > 0x7f) return -1;
      i += 2;
      continue;
    }
    if (c === CR || c === LF) {
      // Only folding (line end followed by whitespace) may appear inside a header value.
      const after = c === CR && text.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
      const w = text.charCodeAt(after);
      if (w !== SP && w !== HTAB) return -1;
      i = after;
      continue;
    }
    if (c < 0x20 && c !== HTAB) return -1;
    if (c === 0x7f) return -1;
    i++;
  }
  return -1;
}

/** The content of a quoted-string (without quotes), with quoted-pairs resolved. */
export function unquote(quoted: string): string {
  if (quoted.length < 2 || quoted.charCodeAt(0) !== 0x22) return quoted;
  const inner = quoted.slice(1, -1);
  if (inner.indexOf('\\') === -1) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '\\' && i + 1 < inner.length) {
      out += inner[i + 1];
      i++;
    } else {
      out += c;
    }
  }
  return out;
}

/** Quotes `text` as a quoted-string, escaping `"` and `\`. */
export function quote(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

/**
 * Splits a header value into its comma-separated elements, ignoring commas inside quoted
 * strings and angle brackets (RFC 3261 §7.3.1). Returns null when a quote or bracket is
 * left open in a value that has a comma. Elements are trimmed; empty elements are kept so
 * callers can reject them.
 */
export function splitList(value: string): string[] | null {
  // Without a comma there is nothing to split; an open quote or bracket is then the element
  // parser's to report (parseNameAddr, parseVia), so the common single value takes no scan.
  if (value.indexOf(',') === -1) {
    return [value.slice(skipWs(value, 0), trimEnd(value, 0, value.length))];
  }
  const parts: string[] = [];
  let start = 0;
  let angle = false;
  const end = value.length;
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) {
      const close = scanQuoted(value, i, end);
      if (close < 0) return null;
      i = close - 1;
    } else if (c === 0x3c) {
      angle = true;
    } else if (c === 0x3e) {
      angle = false;
    } else if (c === 0x2c && !angle) {
      parts.push(value.slice(skipWs(value, start, i), trimEnd(value, start, i)));
      start = i + 1;
    }
  }
  if (angle) return null;
  parts.push(value.slice(skipWs(value, start, end), trimEnd(value, start, end)));
  return parts;
}
