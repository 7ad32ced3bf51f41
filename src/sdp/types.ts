/**
 * The SDP data model (RFC 8866). Lines whose syntax voxlite must check before it allocates or
 * sends anything (`v=`, `o=`, `c=`, `b=`, `t=`, `m=`) are parsed eagerly into typed fields.
 * Attributes stay as `{ name, value }` pairs in their original order and are given types lazily
 * by the getters in `attributes.ts`, so an attribute voxlite does not know survives a round trip
 * byte for byte. Lines with a type letter RFC 8866 does not define are kept in
 * {@link UnknownLine}s, with the position they had.
 *
 * @module
 */

/** Line ending written by `formatSdp` (RFC 8866 §5 mandates CRLF; `lf` is for peers that need it). */
export type LineEnding = 'crlf' | 'lf';

/** The address types voxlite accepts in `o=` and `c=` (RFC 8866 §5.2, §5.7). */
export type AddressType = 'IP4' | 'IP6';

/** The stream directions of RFC 3264 §5.1 / RFC 8866 §6.7. */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/**
 * What an address is, for the "never send media to broadcast or multicast unless configured"
 * rule (GUARANTEES G39). `unspecified` is `0.0.0.0` / `::` (RFC 3264 §8.4 old-style hold);
 * `hostname` is an FQDN the caller still has to resolve.
 */
export type AddressScope = 'unicast' | 'multicast' | 'broadcast' | 'unspecified' | 'hostname';

/** `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2). */
export interface Origin {
  /** `-` when the host has no concept of users. */
  username: string;
  /** A numeric string (1*DIGIT); kept as text because only its identity matters. */
  sessionId: string;
  /**
   * Increments with every change to the session (RFC 3264 §8). A `bigint` because real peers
   * use NTP timestamps and other values beyond 2^53.
   */
  sessionVersion: bigint;
  /** Always `IN` (the only network type voxlite accepts). */
  netType: 'IN';
  addressType: AddressType;
  /** IP address or FQDN of the originating host. */
  address: string;
}

/**
 * `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7). For IPv4 multicast the address
 * carries `/<ttl>[/<number of addresses>]`; for IPv6 multicast `/<number of addresses>`.
 */
export interface Connection {
  netType: 'IN';
  addressType: AddressType;
  /** The base address, without the `/ttl/count` suffix. */
  address: string;
  /** IPv4 multicast only (required there, RFC 8866 §5.7), 0–255. */
  ttl?: number;
  /** Multicast only: how many consecutive addresses, at least 1. */
  numberOfAddresses?: number;
}

/** `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8), e.g. `AS:64`, `TIAS:64000`. */
export interface Bandwidth {
  /** `CT`, `AS`, `TIAS`, `RS`, `RR` or an extension token; kept as written. */
  type: string;
  /** Kilobits per second for CT/AS, bits per second for TIAS (RFC 3890). */
  value: number;
}

/** `t=<start-time> <stop-time>` with its `r=` lines (RFC 8866 §5.9, §5.10). */
export interface Timing {
  /** NTP seconds; 0 = unbounded. Kept as the decimal text, which may exceed 2^53 in theory. */
  start: string;
  stop: string;
  /** The `r=` lines that follow this `t=`, verbatim (their value after `r=`). */
  repeats: string[];
}

/**
 * An `a=` line (RFC 8866 §5.13): `a=<name>` (property attribute, `value` absent) or
 * `a=<name>:<value>` (value attribute, `value` verbatim, possibly empty).
 */
export interface Attribute {
  name: string;
  value?: string;
}

/** SDP line type letters known to RFC 8866 (§5, in their mandatory order). */
export type KnownLineType = 'v' | 'o' | 's' | 'i' | 'u' | 'e' | 'p' | 'c' | 'b' | 't' | 'r' | 'z' | 'k' | 'a' | 'm';

/**
 * A line with a type letter RFC 8866 does not define. RFC 8866 §5 lets a parser ignore such
 * lines; voxlite keeps them so that re-sent SDP is not silently changed.
 */
export interface UnknownLine {
  /** The type character before `=`. */
  type: string;
  /** Everything after `=`, verbatim. */
  value: string;
  /**
   * The known line it followed inside its section: its type letter and its 0-based index among
   * the section's lines of that type. `formatSdp` writes it back right after that line (or at
   * the end of the section if that line is gone).
   */
  after: { type: KnownLineType; index: number };
}

/** One `m=` section (RFC 8866 §5.14) with the lines that belong to it. */
export interface MediaDescription {
  /** `audio`, `video`, `text`, `application`, `message` or an extension token. */
  type: string;
  /** 0–65535; 0 = stream rejected or disabled (RFC 3264 §5.1, §6). */
  port: number;
  /** `m=audio 49170/2 …`: number of ports (RTP uses every second one), at least 1. */
  numberOfPorts?: number;
  /** Transport protocol, e.g. `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`; kept as written. */
  protocol: string;
  /** Media formats; for RTP profiles these are payload type numbers 0–127 as decimal text. */
  formats: string[];
  /** `i=` media title. */
  information?: string;
  /** Media-level `c=` lines (several are allowed for layered multicast, RFC 8866 §5.7). */
  connections: Connection[];
  bandwidths: Bandwidth[];
  /** `k=` (obsolete, RFC 8866 §5.12), verbatim. */
  key?: string;
  attributes: Attribute[];
  unknownLines: UnknownLine[];
}

/** A whole session description (RFC 8866 §5). */
export interface SessionDescription {
  /** `v=0`, the only version there is. */
  version: 0;
  origin: Origin;
  /** `s=`; RFC 8866 recommends `-` when there is no meaningful name. */
  sessionName: string;
  /** `i=` session information. */
  information?: string;
  /** `u=` URI. */
  uri?: string;
  /** `e=` lines. */
  emails: string[];
  /** `p=` lines. */
  phones: string[];
  /** Session-level `c=` (at most one). */
  connection?: Connection;
  bandwidths: Bandwidth[];
  /** `t=` lines (each with its `r=` lines). */
  timing: Timing[];
  /** `z=` time zone adjustments, verbatim. */
  timeZones?: string;
  /** `k=` (obsolete), verbatim. */
  key?: string;
  attributes: Attribute[];
  media: MediaDescription[];
  unknownLines: UnknownLine[];
}
