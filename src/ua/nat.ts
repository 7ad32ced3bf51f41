/**
 * rtclite's `--fix-nat` (RTCLITE.md §2.1): a peer behind NAT puts its private address in Contact;
 * when the request came from a public address, the source is where its dialog really is.
 */
import { isSipUri, parseNameAddr, type SipRequest } from '../sip/index.js';
import type { TransportAddress } from '../transport/transport.js';

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** RFC 1918 private IPv4 space. */
export function isPrivateIpv4(host: string): boolean {
  const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(host);
  if (m === null) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

function isLocalOrPrivate(host: string): boolean {
  return isPrivateIpv4(host) || host.startsWith('127.') || host === '::1' || /^f[cd]/i.test(host) || /^fe80:/i.test(host);
}

/** rtclite's fix-nat: a private Contact from a public source is replaced by that source. */
export function fixNatContact(request: SipRequest, source: TransportAddress): void {
  const field = request.headers.fieldsOf('contact')[0];
  if (field === undefined) return;
  let contact;
  try {
    contact = parseNameAddr(field.raw, 'contact');
  } catch {
    return;
  }
  if (!isSipUri(contact.uri) || !isPrivateIpv4(contact.uri.host) || isLocalOrPrivate(source.host)) return;
  const hostPort = `${contact.uri.host}${contact.uri.port === null ? '' : `:${contact.uri.port}`}`;
  const fixed = `${formatHost(source.host)}:${source.port}`;
  request.headers.set('Contact', field.raw.replace(hostPort, fixed));
}

