/**
 * Locating SIP servers (RFC 3263 §4): from a SIP or SIPS URI to an ordered list of
 * (transport, IP address, port) targets to try in turn.
 *
 * ```
 *   URI ── maddr? ──► TARGET                                   (§4)
 *   TARGET numeric ─────────────────────────► [IP:port|default] (§4.2, no DNS)
 *   port in URI ────────────────► A/AAAA ───► [IP:port]         (§4.2)
 *   transport= in URI ──► SRV ──► A/AAAA ───► [IP:srv-port]     (§4.1, §4.2)
 *   otherwise: NAPTR ──► SRV (replacement) ──► A/AAAA          (§4.1, RFC 3403)
 *              no usable NAPTR ──► SRV per supported transport  (§4.1)
 *              no SRV ──► A/AAAA, UDP (sip) or TLS (sips), default port (§4.1, §4.2)
 * ```
 *
 * The resolver knows nothing of sockets: it returns targets, and the UA or proxy tries them
 * (see {@link TargetList}). DNS comes from an injected {@link DnsClient}; answers are cached by
 * TTL on the injected {@link Clock}, and SRV weights are drawn from the injected {@link Random}.
 */
import { SystemClock, type Clock } from '../core/clock.js';
import { CryptoRandom, type Random } from '../core/random.js';
import { SipParseError } from '../sip/errors.js';
import { isIpv4Address, isIpv6Reference, parseSipUri, unescapeUriComponent, uriParam, type SipUri } from '../sip/uri.js';
import { CachingDnsClient, type DnsCacheOptions } from './cache.js';
import type { AddressRecord, DnsClient, NaptrRecord, SrvRecord } from './dns.js';
import { DnsLookupError, ResolverError, type DnsRecordType } from './errors.js';
import { orderSrvRecords } from './srv.js';

/** The transports a target can name; the lower-case Via transport tokens (RFC 3261 §18, RFC 7118). */
export type TargetProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** Every {@link TargetProtocol}. */
export const TARGET_PROTOCOLS: readonly TargetProtocol[] = Object.freeze(['udp', 'tcp', 'tls', 'ws', 'wss']);

/** One place to send a request to. */
export interface Target {
  readonly protocol: TargetProtocol;
  /** An IP address literal; IPv6 without brackets (ready for `net`/`dgram`). */
  readonly host: string;
  readonly port: number;
  /**
   * The DNS name the address was found under (the SRV target, or the URI's host or `maddr`);
   * absent when the URI named an IP address. Useful for logs and for a WebSocket `Host`.
   * For TLS server identity use the URI's domain, not this name (RFC 5922 §4).
   */
  readonly hostname?: string;
}

/** Which address families to use and which first, for every name looked up. */
export type IpPreference = 'ipv4-first' | 'ipv6-first' | 'ipv4-only' | 'ipv6-only';

/**
 * Default ports when neither the URI nor an SRV record gives one: 5060 and 5061 (RFC 3261
 * §19.1.2, RFC 3263 §4.2), 80 and 443 for WebSocket (RFC 6455 §3, as RFC 7118 uses it).
 */
export const DEFAULT_PORTS: Readonly<Record<TargetProtocol, number>> = Object.freeze({
  udp: 5060,
  tcp: 5060,
  tls: 5061,
  ws: 80,
  wss: 443,
});

/** Options of {@link Resolver}. */
export interface ResolverOptions {
  /** Where DNS answers come from: {@link createNodeDnsClient} or a `FakeDns`. */
  readonly dns: DnsClient;
  /** Time for the cache. Default: a `SystemClock`. */
  readonly clock?: Clock;
  /** Drives the RFC 2782 weighted order. Default: a `CryptoRandom`. */
  readonly random?: Random;
  /**
   * The transports the caller can use, most preferred first. NAPTR services and explicit
   * `transport` parameters outside this list are not used (RFC 3263 §4.1), and without NAPTR
   * the SRV lookups are made, and their targets listed, in this order.
   * Default `['udp', 'tcp', 'tls']`.
   */
  readonly protocols?: readonly TargetProtocol[];
  /** Address families to look up and their order. Default `'ipv4-first'`. */
  readonly ipPreference?: IpPreference;
  /** Cache limits, or `false` to ask the {@link DnsClient} every time. Default: cache on. */
  readonly cache?: DnsCacheOptions | false;
  /** Most targets one `resolve()` returns (bounds the work a hostile zone can cause). Default 64. */
  readonly maxTargets?: number;
}

/** Per-call options of {@link Resolver.resolve}. */
export interface ResolveOptions {
  /** Overrides {@link ResolverOptions.protocols} for this call. */
  readonly protocols?: readonly TargetProtocol[];
  /** Abandons the resolution; the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

/** NAPTR services of RFC 3263 §4.1 and RFC 7118 §7, lower case, with what they mean. */
const NAPTR_SERVICES: ReadonlyMap<string, { readonly protocol: TargetProtocol; readonly secure: boolean }> = new Map([
  ['sip+d2u', { protocol: 'udp', secure: false }],
  ['sip+d2t', { protocol: 'tcp', secure: false }],
  ['sips+d2t', { protocol: 'tls', secure: true }],
  ['sip+d2w', { protocol: 'ws', secure: false }],
  ['sips+d2w', { protocol: 'wss', secure: true }],
]);

/** At most this many NAPTR records are followed per resolution (each costs an SRV query). */
const MAX_NAPTR_FOLLOWED = 8;

/** A host to look up, with the transport and port its addresses will be used with. */
interface HostPort {
  readonly protocol: TargetProtocol;
  readonly hostname: string;
  readonly port: number;
}

/** State of one `resolve()` call. */
interface Run {
  readonly failures: DnsLookupError[];
  readonly signal: AbortSignal | undefined;
}

/**
 * RFC 3263 §4 client-side server location.
 *
 * ```ts
 * const resolver = new Resolver({ dns: createNodeDnsClient() });
 * const targets = await resolver.resolve('sip:alice@example.com');
 * // [{ protocol: 'tcp', host: '192.0.2.10', port: 5060, hostname: 'sip1.example.com' }, …]
 * ```
 */
export class Resolver {
  private readonly dns: DnsClient;
  private readonly cache: CachingDnsClient | undefined;
  private readonly random: Random;
  private readonly protocols: readonly TargetProtocol[];
  private readonly ipPreference: IpPreference;
  private readonly maxTargets: number;

  /** @throws `TypeError` or `RangeError` for unusable options. */
  constructor(options: ResolverOptions) {
    this.cache = options.cache === false ? undefined : new CachingDnsClient(options.dns, options.clock ?? new SystemClock(), options.cache);
    this.dns = this.cache ?? options.dns;
    this.random = options.random ?? new CryptoRandom();
    this.protocols = checkProtocols(options.protocols ?? ['udp', 'tcp', 'tls']);
    this.ipPreference = options.ipPreference ?? 'ipv4-first';
    if (!['ipv4-first', 'ipv6-first', 'ipv4-only', 'ipv6-only'].includes(this.ipPreference)) {
      throw new TypeError(`unknown ipPreference ${String(this.ipPreference)}`);
    }
    this.maxTargets = options.maxTargets ?? 64;
    if (!Number.isInteger(this.maxTargets) || this.maxTargets < 1) throw new RangeError(`maxTargets must be a positive integer, got ${this.maxTargets}`);
  }

  /**
   * Finds the targets for `uri`, in the order to try them (RFC 3263 §4).
   *
   * @param uri - A `sip:` or `sips:` URI, parsed or as text.
   * @returns At least one target; duplicates removed; at most `maxTargets`.
   * @throws {@link ResolverError} `RESOLVER_ERR_BAD_URI`, `RESOLVER_ERR_UNSUPPORTED_TRANSPORT`,
   *   `RESOLVER_ERR_NOT_FOUND` or `RESOLVER_ERR_LOOKUP_FAILED` (with the first
   *   {@link DnsLookupError} as `cause`); `signal.reason` when aborted.
   * @remarks A DNS failure at the NAPTR or SRV step does not stop the resolution: like an empty
   * answer, it moves on to the next step, so a server that mishandles NAPTR queries does not
   * make a domain unreachable. Only when no target is found at all does the failure surface.
   * Targets from every usable NAPTR record are listed (in order/preference order), not only
   * from the most preferred, so fail-over can reach another transport.
   */
  resolve(uri: SipUri | string, options: ResolveOptions = {}): Promise<Target[]> {
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    let work: Promise<Target[]>;
    try {
      const protocols = options.protocols === undefined ? this.protocols : checkProtocols(options.protocols);
      work = this.run(typeof uri === 'string' ? parseTarget(uri) : uri, protocols, { failures: [], signal });
    } catch (error) {
      return Promise.reject(error);
    }
    return raceAbort(work, signal);
  }

  /** Forgets every cached DNS answer. */
  clearCache(): void {
    this.cache?.clear();
  }

  private async run(uri: SipUri, protocols: readonly TargetProtocol[], run: Run): Promise<Target[]> {
    const secure = uri.scheme === 'sips';
    const host = targetHost(uri);
    if (uri.port !== null && (!Number.isInteger(uri.port) || uri.port < 1 || uri.port > 65535)) {
      throw new ResolverError('RESOLVER_ERR_BAD_URI', `port ${uri.port} cannot be contacted`);
    }
    const explicit = explicitProtocol(uri, secure, protocols);

    // RFC 3263 §4.1/§4.2: a numeric TARGET needs no DNS; UDP for sip, TLS for sips by default.
    const ip = ipLiteral(host);
    if (ip !== undefined) {
      const protocol = explicit ?? defaultProtocol(secure, protocols);
      if (!this.familyAllowed(ip)) {
        throw new ResolverError('RESOLVER_ERR_NOT_FOUND', `${host} is outside ipPreference ${this.ipPreference}`);
      }
      return [{ protocol, host: ip, port: uri.port ?? DEFAULT_PORTS[protocol] }];
    }
    const name = normalizeName(host);

    // RFC 3263 §4.2: a port in the URI means A/AAAA only, with the transport of §4.1.
    if (uri.port !== null) {
      const protocol = explicit ?? defaultProtocol(secure, protocols);
      return this.finish(await this.expand(run, [{ protocol, hostname: name, port: uri.port }]), run, name);
    }

    // RFC 3263 §4.2: an explicit transport means SRV for that transport, then A/AAAA.
    if (explicit !== undefined) {
      const service = srvService(explicit);
      const records = service === undefined || isLocalhost(name) ? [] : await this.records(run, 'SRV', `${service}.${name}`);
      return this.finish(await this.fromSrv(run, [{ protocol: explicit, records }], name, explicit), run, name);
    }

    // RFC 3263 §4.1: NAPTR first.
    if (!isLocalhost(name)) {
      const naptr = usableNaptr(await this.records(run, 'NAPTR', name), secure, protocols);
      if (naptr.length > 0) {
        this.checkAborted(run);
        const sets = await Promise.all(
          naptr.map(async (r) => ({ protocol: r.protocol, records: await this.records(run, 'SRV', r.replacement) })),
        );
        // RFC 3263 §4.2: no SRV behind the NAPTR → A/AAAA with the transport NAPTR chose.
        return this.finish(await this.fromSrv(run, sets, name, naptr[0]!.protocol), run, name);
      }
    }

    // RFC 3263 §4.1: no (usable) NAPTR → SRV for each supported transport, "_sip" for SIP URIs
    // and "_sips" for SIPS URIs; the caller's protocol order is the preference.
    const candidates = protocols.filter((p) => (secure ? p === 'tls' : p === 'udp' || p === 'tcp'));
    this.checkAborted(run);
    const sets = isLocalhost(name)
      ? []
      : await Promise.all(candidates.map(async (protocol) => ({ protocol, records: await this.records(run, 'SRV', `${srvService(protocol)!}.${name}`) })));
    // RFC 3263 §4.1: no SRV → UDP for a SIP URI, TCP (TLS) for a SIPS URI.
    return this.finish(await this.fromSrv(run, sets, name, defaultProtocol(secure, protocols)), run, name);
  }

  /**
   * Orders each SRV RRset (RFC 2782) and expands it to targets; if no set holds any record,
   * falls back to A/AAAA of `name` with `fallback` and its default port (RFC 3263 §4.2).
   */
  private async fromSrv(
    run: Run,
    sets: readonly { readonly protocol: TargetProtocol; readonly records: readonly SrvRecord[] }[],
    name: string,
    fallback: TargetProtocol,
  ): Promise<Target[]> {
    if (!sets.some((s) => s.records.length > 0)) {
      return this.expand(run, [{ protocol: fallback, hostname: name, port: DEFAULT_PORTS[fallback] }]);
    }
    const hosts: HostPort[] = [];
    for (const set of sets) {
      // RFC 2782: a target of "." means the service is decidedly not available here; it is an
      // answer (no A/AAAA fallback), with nothing to contact.
      const usable = set.records.filter((r) => normalizeName(r.target) !== '' && r.port > 0);
      for (const record of orderSrvRecords(usable, this.random)) {
        if (hosts.length >= this.maxTargets) break;
        hosts.push({ protocol: set.protocol, hostname: normalizeName(record.target), port: record.port });
      }
    }
    return this.expand(run, hosts);
  }

  /** A/AAAA for each host (in parallel, each name once), then targets in host order. */
  private async expand(run: Run, hosts: readonly HostPort[]): Promise<Target[]> {
    this.checkAborted(run);
    const names = [...new Set(hosts.map((h) => h.hostname))];
    const found = await Promise.all(names.map((n) => this.addresses(run, n)));
    const byName = new Map(names.map((n, k) => [n, found[k] ?? []]));
    const out: Target[] = [];
    const seen = new Set<string>();
    for (const h of hosts) {
      for (const address of byName.get(h.hostname) ?? []) {
        const key = `${h.protocol} ${address} ${h.port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ protocol: h.protocol, host: address, port: h.port, hostname: h.hostname });
        if (out.length >= this.maxTargets) return out;
      }
    }
    return out;
  }

  /** The addresses of `name` in {@link IpPreference} order (RFC 3263 §4.2: "A or AAAA"). */
  private async addresses(run: Run, name: string): Promise<string[]> {
    // An SRV target written as an address literal is a zone error, but harmless to honour.
    const literal = ipLiteral(name);
    if (literal !== undefined) return this.familyAllowed(literal) ? [literal] : [];
    const want4 = this.ipPreference !== 'ipv6-only';
    const want6 = this.ipPreference !== 'ipv4-only';
    let v4: readonly AddressRecord[];
    let v6: readonly AddressRecord[];
    if (isLocalhost(name)) {
      // RFC 6761 §6.3: localhost names are loopback and are not sent to DNS.
      v4 = [{ address: '127.0.0.1', ttl: 0 }];
      v6 = [{ address: '::1', ttl: 0 }];
    } else {
      [v4, v6] = await Promise.all([
        want4 ? this.records(run, 'A', name) : Promise.resolve([]),
        want6 ? this.records(run, 'AAAA', name) : Promise.resolve([]),
      ]);
    }
    const four = want4 ? v4.map((r) => r.address) : [];
    const six = want6 ? v6.map((r) => r.address) : [];
    return this.ipPreference === 'ipv6-first' || this.ipPreference === 'ipv6-only' ? [...six, ...four] : [...four, ...six];
  }

  /** One query through the cache; a failure is recorded in `run` and reads as an empty answer. */
  private records(run: Run, type: 'NAPTR', name: string): Promise<readonly NaptrRecord[]>;
  private records(run: Run, type: 'SRV', name: string): Promise<readonly SrvRecord[]>;
  private records(run: Run, type: 'A' | 'AAAA', name: string): Promise<readonly AddressRecord[]>;
  private async records(run: Run, type: DnsRecordType, name: string): Promise<readonly unknown[]> {
    this.checkAborted(run);
    try {
      switch (type) {
        case 'NAPTR':
          return await this.dns.resolveNaptr(name);
        case 'SRV':
          return await this.dns.resolveSrv(name);
        case 'A':
          return await this.dns.resolve4(name);
        case 'AAAA':
          return await this.dns.resolve6(name);
      }
    } catch (error) {
      run.failures.push(error instanceof DnsLookupError ? error : new DnsLookupError(name, type, 'EUNKNOWN', { cause: error }));
      return [];
    }
  }

  private finish(targets: Target[], run: Run, name: string): Target[] {
    if (targets.length > 0) return targets;
    const first = run.failures[0];
    if (first !== undefined) {
      throw new ResolverError('RESOLVER_ERR_LOOKUP_FAILED', `could not resolve ${name}: ${first.message}`, { cause: first });
    }
    throw new ResolverError('RESOLVER_ERR_NOT_FOUND', `no SIP server found for ${name}`);
  }

  private checkAborted(run: Run): void {
    if (run.signal?.aborted === true) throw run.signal.reason;
  }

  private familyAllowed(ip: string): boolean {
    const v6 = ip.includes(':');
    return v6 ? this.ipPreference !== 'ipv4-only' : this.ipPreference !== 'ipv6-only';
  }
}

function checkProtocols(protocols: readonly TargetProtocol[]): readonly TargetProtocol[] {
  if (protocols.length === 0) throw new RangeError('protocols must name at least one transport');
  for (const p of protocols) {
    if (!TARGET_PROTOCOLS.includes(p)) throw new TypeError(`unknown transport protocol ${String(p)}`);
  }
  return Object.freeze([...new Set(protocols)]);
}

function parseTarget(text: string): SipUri {
  try {
    return parseSipUri(text);
  } catch (error) {
    if (error instanceof SipParseError) throw new ResolverError('RESOLVER_ERR_BAD_URI', error.message, { cause: error });
    throw error;
  }
}

/** RFC 3263 §4: "If the URI contains an maddr parameter, TARGET is set to the maddr value." */
function targetHost(uri: SipUri): string {
  const maddr = uriParam(uri, 'maddr');
  if (maddr === undefined) return uri.host;
  const value = maddr === null ? '' : unescapeUriComponent(maddr);
  // maddr = host (RFC 3261 §25.1): reuse the URI grammar's host rule to validate it.
  let valid = false;
  if (value !== '') {
    try {
      const parsed = parseSipUri(`sip:${value}`);
      valid = parsed.host === value && parsed.port === null && parsed.params.length === 0 && parsed.headers.length === 0;
    } catch {
      valid = false;
    }
  }
  if (!valid) throw new ResolverError('RESOLVER_ERR_BAD_URI', 'maddr is not a host name or IP address');
  return value;
}

/** The transport the URI's `transport` parameter selects (RFC 3263 §4.1), if any. */
function explicitProtocol(uri: SipUri, secure: boolean, protocols: readonly TargetProtocol[]): TargetProtocol | undefined {
  const param = uriParam(uri, 'transport');
  if (param === undefined) return undefined;
  const value = param === null ? '' : unescapeUriComponent(param).toLowerCase();
  let protocol: TargetProtocol | undefined;
  switch (value) {
    case 'udp':
      // RFC 3261 §26.2.2: a SIPS URI needs TLS (over TCP) on each hop; UDP cannot carry it.
      protocol = secure ? undefined : 'udp';
      break;
    case 'tcp':
      protocol = secure ? 'tls' : 'tcp'; // RFC 3263 §4.1: sips + tcp is TLS over TCP
      break;
    case 'tls':
      protocol = 'tls'; // deprecated (RFC 5630 §3.2), still understood
      break;
    case 'ws':
      protocol = secure ? 'wss' : 'ws'; // RFC 7118 §5: sips over WebSocket is WSS
      break;
    case 'wss':
      protocol = 'wss';
      break;
    default:
      protocol = undefined;
  }
  if (protocol === undefined || !protocols.includes(protocol)) {
    throw new ResolverError(
      'RESOLVER_ERR_UNSUPPORTED_TRANSPORT',
      `transport=${value || '(empty)'} ${protocol === undefined ? 'cannot be used' : 'is not enabled'} for a ${uri.scheme} URI`,
    );
  }
  return protocol;
}

/** RFC 3263 §4.1: UDP for a SIP URI, TCP (TLS) for a SIPS URI; the nearest enabled one if not. */
function defaultProtocol(secure: boolean, protocols: readonly TargetProtocol[]): TargetProtocol {
  const order: readonly TargetProtocol[] = secure ? ['tls', 'wss'] : ['udp', 'tcp', 'tls', 'ws', 'wss'];
  const chosen = order.find((p) => protocols.includes(p));
  if (chosen === undefined) {
    throw new ResolverError('RESOLVER_ERR_UNSUPPORTED_TRANSPORT', `no enabled transport can carry a ${secure ? 'sips' : 'sip'} URI`);
  }
  return chosen;
}

/**
 * The SRV owner-name prefix for a transport (RFC 3263 §4.1, §4.2). WebSocket has NAPTR services
 * (RFC 7118 §7) but no SRV name of its own, so ws/wss are reached through a NAPTR replacement
 * or, with `transport=ws`, through A/AAAA.
 */
function srvService(protocol: TargetProtocol): string | undefined {
  switch (protocol) {
    case 'udp':
      return '_sip._udp';
    case 'tcp':
      return '_sip._tcp';
    case 'tls':
      return '_sips._tcp';
    case 'ws':
    case 'wss':
      return undefined;
  }
}

/**
 * The NAPTR records RFC 3263 §4.1 lets a client use, sorted by order then preference
 * (RFC 3403 §4.1): flag "s" (the replacement is an SRV name), a SIP service the caller
 * supports and, for a SIPS URI, only SIPS services.
 */
function usableNaptr(
  records: readonly NaptrRecord[],
  secure: boolean,
  protocols: readonly TargetProtocol[],
): { protocol: TargetProtocol; replacement: string }[] {
  const usable: { protocol: TargetProtocol; replacement: string; order: number; preference: number }[] = [];
  for (const r of records) {
    if (r.flags.toLowerCase() !== 's') continue;
    const service = NAPTR_SERVICES.get(r.service.toLowerCase());
    if (service === undefined || (secure && !service.secure) || !protocols.includes(service.protocol)) continue;
    const replacement = normalizeName(r.replacement);
    if (replacement === '') continue;
    usable.push({ protocol: service.protocol, replacement, order: r.order, preference: r.preference });
  }
  usable.sort((a, b) => a.order - b.order || a.preference - b.preference);
  const seen = new Set<string>();
  const out: { protocol: TargetProtocol; replacement: string }[] = [];
  for (const u of usable) {
    const key = `${u.protocol} ${u.replacement}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ protocol: u.protocol, replacement: u.replacement });
    if (out.length >= MAX_NAPTR_FOLLOWED) break;
  }
  return out;
}

/** The address inside an IPv4 literal or IPv6 reference (brackets removed), else undefined. */
function ipLiteral(host: string): string | undefined {
  if (isIpv4Address(host)) return host;
  if (isIpv6Reference(host)) return host.slice(1, -1);
  // SRV targets are plain names; an IPv6 literal there comes without brackets.
  if (host.includes(':') && isIpv6Reference(`[${host}]`)) return host;
  return undefined;
}

/** Lower case, without the trailing dot of an absolute name; `''` for the root ("."). */
function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function isLocalhost(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
