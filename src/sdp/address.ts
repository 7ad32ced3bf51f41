import type { AddressScope, AddressType } from './types.js';

// Pure address checks for `o=` and `c=` (RFC 8866 §9 grammar: IP4-address, IP6-address, FQDN).
// Written here rather than taken from node:net so the SDP layer stays free of Node I/O modules.

const DEC_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`^${DEC_OCTET}(?:\\.${DEC_OCTET}){3}$`);
const HEX_GROUP_RE = /^[0-9A-Fa-f]{1,4}$/;
// RFC 8866 §9: FQDN = 4*(alpha-numeric / "-" / "."); we also insist on DNS label shape.
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const FQDN_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);

/** True for a dotted-quad IPv4 address without leading zeros (`192.0.2.1`). */
export function isIPv4(text: string): boolean {
  return IPV4_RE.test(text);
}

/** The eight 16-bit groups of an IPv6 address (RFC 4291 §2.2 text forms), or `undefined`. */
function ipv6Groups(text: string): number[] | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        // Embedded IPv4 in the last 32 bits (::ffff:192.0.2.1).
        if (!isIPv4(piece)) return undefined;
        const o = piece.split('.').map(Number);
        out.push((o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!);
      } else if (HEX_GROUP_RE.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = parse(halves[0]!);
  if (head === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const tail = parse(halves[1]!);
  if (tail === undefined || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** True for any RFC 4291 §2.2 text form of an IPv6 address (no zone index, no brackets). */
export function isIPv6(text: string): boolean {
  return ipv6Groups(text) !== undefined;
}

/**
 * True for a host name SDP allows in place of an address (RFC 8866 §9 `FQDN`). A name made of
 * digits and dots only is not one: `999.1.1.1` is a bad IPv4 address, not a host.
 */
export function isFqdn(text: string): boolean {
  return text.length >= 1 && text.length <= 253 && FQDN_RE.test(text) && /[A-Za-z]/.test(text);
}

/**
 * True when `address` is acceptable for `addressType` as a unicast or multicast address
 * (RFC 8866 §5.7): an IPv4 literal for IP4, an IPv6 literal for IP6, or an FQDN for either.
 */
export function isValidAddress(addressType: AddressType, address: string): boolean {
  if (addressType === 'IP4' ? isIPv4(address) : isIPv6(address)) return true;
  return isFqdn(address);
}

/**
 * Classifies an address so callers can refuse to send media to multicast or broadcast
 * destinations unless configured (GUARANTEES G39).
 *
 * @remarks Only the limited broadcast `255.255.255.255` can be recognised from the address
 * alone; a subnet-directed broadcast depends on a netmask SDP does not carry, which is why the
 * RTP socket must also leave `SO_BROADCAST` off (the kernel then refuses such sends).
 * An address that is not a valid literal of `addressType` is classified as `hostname`.
 */
export function addressScope(addressType: AddressType, address: string): AddressScope {
  if (addressType === 'IP4') {
    if (!isIPv4(address)) return 'hostname';
    const first = Number(address.slice(0, address.indexOf('.')));
    if (address === '0.0.0.0') return 'unspecified'; // RFC 3264 §8.4 old-style hold
    if (address === '255.255.255.255') return 'broadcast';
    if (first >= 224 && first <= 239) return 'multicast'; // RFC 5771
    return 'unicast';
  }
  const groups = ipv6Groups(address);
  if (groups === undefined) return 'hostname';
  if (groups.every((g) => g === 0)) return 'unspecified';
  if ((groups[0]! & 0xff00) === 0xff00) return 'multicast'; // RFC 4291 §2.7 ff00::/8
  return 'unicast';
}

/** `IP6` when the text is an IPv6 literal, else `IP4` (for building `c=`/`o=` from a bare address). */
export function addressTypeOf(address: string): AddressType {
  return isIPv6(address) ? 'IP6' : 'IP4';
}
