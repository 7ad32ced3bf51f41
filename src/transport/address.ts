/**
 * IP address helpers for the transport layer: normalisation (so `[::1]`, `::1` and
 * `0:0:0:0:0:0:0:1` compare equal, and IPv4-mapped sources read as IPv4), families, the
 * broadcast/multicast test of G17, and the keys the connection pool indexes on.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { TransportAddress, TransportProtocol } from './transport.js';

/** Removes the brackets of an IPv6 reference (`[::1]` → `::1`); other text is returned as is. */
export function stripBrackets(host: string): string {
  return host.length >= 2 && host.charCodeAt(0) === 0x5b && host.charCodeAt(host.length - 1) === 0x5d
    ? host.slice(1, -1)
    : host;
}

/** 4 or 6 for an IP literal (brackets allowed around IPv6), 0 for anything else (a domain name). */
export function ipFamily(host: string): 0 | 4 | 6 {
  const family = isIP(stripBrackets(host));
  return family === 4 ? 4 : family === 6 ? 6 : 0;
}

/**
 * A canonical form for comparisons and map keys: brackets removed, lower case, IPv6 in its
 * shortest form (RFC 5952), IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket
 * reports for an IPv4 peer) written as plain IPv4. Domain names are only lower-cased.
 */
export function normalizeHost(host: string): string {
  const bare = stripBrackets(host).toLowerCase();
  const family = isIP(bare);
  if (family !== 6) return bare;
  // The WHATWG URL parser serialises IPv6 canonically (RFC 5952 §4).
  let canonical: string;
  try {
    canonical = stripBrackets(new URL(`http://[${bare}]/`).hostname);
  } catch {
    return bare;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped !== null) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return canonical;
}

/** Whether two hosts name the same IP (or the same domain name, case-insensitively). */
export function sameHost(a: string, b: string): boolean {
  return normalizeHost(a) === normalizeHost(b);
}

function ipv4ToNumber(host: string): number {
  const parts = host.split('.');
  let n = 0;
  for (const p of parts) n = n * 256 + Number(p);
  return n >>> 0;
}

/**
 * Whether `host` is a broadcast or multicast IP address: 255.255.255.255, 224.0.0.0/4,
 * ff00::/8, or one of `directedBroadcasts` (the subnet broadcast addresses of local
 * interfaces). Responses are never sent there (G17; RFC 4475 §3.1.2.13 bcast).
 */
export function isBroadcastOrMulticast(host: string, directedBroadcasts?: ReadonlySet<string>): boolean {
  const h = normalizeHost(host);
  const family = isIP(h);
  if (family === 4) {
    if (h === '255.255.255.255') return true;
    const first = Number(h.slice(0, h.indexOf('.')));
    if (first >= 224 && first <= 239) return true;
    return directedBroadcasts?.has(h) ?? false;
  }
  if (family === 6) return h.startsWith('ff');
  return false;
}

/** Whether `host` is the unspecified address (`0.0.0.0`, `::`), which can be bound but not sent to. */
export function isUnspecified(host: string): boolean {
  const h = normalizeHost(host);
  return h === '0.0.0.0' || h === '::';
}

/** The subnet broadcast address of every local IPv4 interface (e.g. 192.0.2.255 for 192.0.2.7/24). */
export function localDirectedBroadcasts(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family !== 'IPv4' || info.cidr === null) continue;
      const bits = Number(info.cidr.slice(info.cidr.indexOf('/') + 1));
      if (!(bits >= 0 && bits < 31)) continue;
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      const broadcast = (ipv4ToNumber(info.address) | (~mask >>> 0)) >>> 0;
      out.add([broadcast >>> 24, (broadcast >>> 16) & 0xff, (broadcast >>> 8) & 0xff, broadcast & 0xff].join('.'));
    }
  }
  return out;
}

/** Every address of every local interface, normalised (used when a listener binds a wildcard). */
export function localInterfaceAddresses(family: 4 | 6): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if ((family === 4) === (info.family === 'IPv4')) out.push(normalizeHost(info.address));
    }
  }
  return out;
}

/**
 * The port a sent-by without a port means (RFC 3261 §18.2.2, §19.1.2): 5060, or 5061 for TLS.
 * RFC 7118 gives no SIP default for WebSocket; voxlite uses the HTTP ones (80, 443).
 */
export function defaultPort(protocol: TransportProtocol): number {
  switch (protocol) {
    case 'udp':
    case 'tcp':
      return 5060;
    case 'tls':
      return 5061;
    case 'ws':
      return 80;
    case 'wss':
      return 443;
  }
}

/** `host:port`, with IPv6 in brackets, for logs and URLs. */
export function formatHostPort(host: string, port: number): string {
  const bare = stripBrackets(host);
  return isIP(bare) === 6 ? `[${bare}]:${port}` : `${bare}:${port}`;
}

/** A map key for a transport address: protocol, normalised host and port. */
export function addressKey(address: TransportAddress): string {
  return `${address.protocol}|${normalizeHost(address.host)}|${address.port}`;
}

/** Maps a Via transport token (any case) to a protocol voxlite speaks, or undefined. */
export function protocolFromVia(transport: string): TransportProtocol | undefined {
  switch (transport.toLowerCase()) {
    case 'udp':
      return 'udp';
    case 'tcp':
      return 'tcp';
    case 'tls':
      return 'tls';
    case 'ws':
      return 'ws';
    case 'wss':
      return 'wss';
    default:
      return undefined;
  }
}
