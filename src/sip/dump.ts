/**
 * A plain, JSON-friendly dump of a parsed message: the fields most tools and tests look at.
 * Binary-string values are written with \xNN escapes for octets outside printable ASCII, so
 * the output is readable and still exact.
 */
import { createHash } from 'node:crypto';
import type { SipParseError } from './errors.js';
import { paramValue, tagOf, WILDCARD_CONTACT, type NameAddr } from './header-values.js';
import type { SipMessage } from './message.js';
import { formatUri, isSipUri, unescapeUriComponent, type Uri } from './uri.js';

/** `text` with octets outside printable ASCII (and backslash) written as \\xNN escapes. */
export function printable(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? text[i] : c === 0x5c ? '\\\\' : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}

function dumpUri(uri: Uri): Record<string, unknown> {
  if (isSipUri(uri)) {
    return {
      scheme: uri.scheme,
      user: uri.user === null ? null : printable(uri.user),
      userUnescaped: uri.user === null ? null : printable(unescapeUriComponent(uri.user)),
      password: uri.password,
      host: uri.host,
      port: uri.port,
      params: uri.params.map((p) => [p.name, p.value]),
      headers: uri.headers.map((p) => [p.name, p.value]),
    };
  }
  if (uri.scheme === 'tel' && 'number' in uri) return { scheme: 'tel', number: uri.number, params: uri.params.map((p) => [p.name, p.value]) };
  return { scheme: uri.scheme, text: printable(formatUri(uri)) };
}

function dumpNameAddr(value: NameAddr): Record<string, unknown> {
  return {
    displayName: value.displayName === null ? null : printable(value.displayName),
    uri: dumpUri(value.uri),
    params: value.params.map((p) => [p.name, p.value === null ? null : printable(p.value)]),
  };
}

/** The fields of a parsed message as a plain object (for `voxlite parse`, logs and golden tests). */
export function dumpMessage(message: SipMessage): Record<string, unknown> {
  const start =
    message.kind === 'request'
      ? { kind: 'request', method: printable(message.method), uri: dumpUri(message.requestUri()) }
      : { kind: 'response', status: message.status, reason: printable(message.reason) };
  const contacts = message.contacts();
  return {
    ...start,
    version: message.version,
    via: message.via().map((v) => ({
      transport: v.transport,
      host: v.host,
      port: v.port,
      branch: paramValue(v.params, 'branch') ?? null,
      received: paramValue(v.params, 'received') ?? null,
      params: v.params.map((p) => [p.name, p.value]),
    })),
    from: dumpNameAddr(message.from()),
    fromTag: tagOf(message.from()) ?? null,
    to: dumpNameAddr(message.to()),
    toTag: tagOf(message.to()) ?? null,
    callId: printable(message.callId()),
    cseq: message.cseq(),
    maxForwards: message.maxForwards() ?? null,
    contentLength: message.contentLength() ?? null,
    contacts:
      contacts === WILDCARD_CONTACT
        ? '*'
        : contacts.map((c) => ({ ...dumpNameAddr(c), expires: c.expires ?? null, q: c.q ?? null })),
    headerNames: message.headers.all().map((f) => printable(f.name)),
    body: { octets: message.body.length, sha256: createHash('sha256').update(message.body).digest('hex') },
  };
}

/** A parse error as a plain object. */
export function dumpParseError(error: SipParseError): Record<string, unknown> {
  return { error: { kind: error.kind, status: error.status, header: error.details.header ?? null } };
}
