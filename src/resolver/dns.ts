/**
 * The DNS the resolver needs (RFC 3263 §4: NAPTR, SRV, A and AAAA), behind one small interface,
 * and its node:dns adapter. This is the only file of the resolver that touches the network.
 *
 * A {@link DnsClient} answers with records and TTLs; a negative answer (NXDOMAIN or NODATA,
 * RFC 2308) is an empty array, and anything else that keeps DNS from answering (timeout,
 * SERVFAIL, REFUSED, no route to the server) rejects with a {@link DnsLookupError}. The split
 * matters: an empty answer can be cached and means "go to the next RFC 3263 step", a failure
 * cannot be cached and may succeed a moment later.
 */
import { promises as dnsPromises } from 'node:dns';
import { DnsLookupError, type DnsRecordType } from './errors.js';

/** A NAPTR record (RFC 3403 §4.1). */
export interface NaptrRecord {
  /** Lower is processed first. */
  readonly order: number;
  /** Among records of equal `order`, lower is preferred. */
  readonly preference: number;
  /** Flags as written (`s`, `a`, `u`, `p`, or empty); RFC 3263 uses `s` ("next lookup is SRV"). */
  readonly flags: string;
  /** The service field, e.g. `SIP+D2U` (RFC 3263 §4.1), `SIPS+D2W` (RFC 7118 §7). */
  readonly service: string;
  /** The substitution expression; empty for the records RFC 3263 uses. */
  readonly regexp: string;
  /** The next domain name to look up; `''` or `'.'` when there is none. */
  readonly replacement: string;
  /** Time to live in seconds. */
  readonly ttl: number;
}

/** An SRV record (RFC 2782). */
export interface SrvRecord {
  /** Lower is tried first. */
  readonly priority: number;
  /** Relative weight among records of equal priority (0 = only if nothing else, RFC 2782). */
  readonly weight: number;
  readonly port: number;
  /** The host to look up with A/AAAA; `''` or `'.'` means "service decidedly not available". */
  readonly target: string;
  /** Time to live in seconds. */
  readonly ttl: number;
}

/** An A or AAAA record: an address literal (IPv6 without brackets) and its TTL in seconds. */
export interface AddressRecord {
  readonly address: string;
  readonly ttl: number;
}

/**
 * The four queries RFC 3263 needs. Names are absolute domain names without a trailing dot.
 * Each method resolves with `[]` for NXDOMAIN/NODATA and rejects with {@link DnsLookupError}
 * for any other failure. Implemented by {@link createNodeDnsClient} and, for tests, by
 * `FakeDns` in `voxlite/testing`.
 */
export interface DnsClient {
  resolveNaptr(name: string): Promise<readonly NaptrRecord[]>;
  resolveSrv(name: string): Promise<readonly SrvRecord[]>;
  resolve4(name: string): Promise<readonly AddressRecord[]>;
  resolve6(name: string): Promise<readonly AddressRecord[]>;
}

/** Options of {@link createNodeDnsClient}. */
export interface NodeDnsClientOptions {
  /**
   * DNS servers as `ip` or `ip:port` (`'127.0.0.1:5353'`, `'[::1]:53'`), handed to
   * `Resolver.setServers()`. Default: the system's (`/etc/resolv.conf`).
   */
  readonly servers?: readonly string[];
  /** Per-try timeout in milliseconds (c-ares backs off on later tries). Default 2000. */
  readonly timeoutMs?: number;
  /** Tries per server before a query fails with `ETIMEOUT`. Default 2. */
  readonly tries?: number;
  /**
   * The TTL, in seconds, reported for NAPTR and SRV records. node:dns gives no TTL for those
   * types (only `resolve4`/`resolve6` take `{ ttl: true }`), so the resolver would otherwise
   * cache them forever or never. Default {@link DEFAULT_NAPTR_SRV_TTL_SECONDS} (60): an operator's
   * change to NAPTR/SRV is seen within a minute, at the cost of about one query a minute per
   * domain in use.
   */
  readonly defaultTtlSeconds?: number;
}

/** The TTL {@link createNodeDnsClient} reports for NAPTR and SRV records, in seconds. */
export const DEFAULT_NAPTR_SRV_TTL_SECONDS = 60;

/** A {@link DnsClient} over node:dns, with a way to abandon queries in flight. */
export interface NodeDnsClient extends DnsClient {
  /** Cancels every outstanding query; each rejects with a {@link DnsLookupError} (`ECANCELLED`). */
  cancel(): void;
}

/** node:dns codes for a negative answer (RFC 2308): NXDOMAIN and NODATA. */
const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * A {@link DnsClient} built on `dns.promises.Resolver` (c-ares; it does not read `/etc/hosts`).
 *
 * @throws `TypeError` (from node) when a server address in `servers` is not an IP literal.
 * @throws `RangeError` when `timeoutMs`, `tries` or `defaultTtlSeconds` is out of range.
 */
export function createNodeDnsClient(options: NodeDnsClientOptions = {}): NodeDnsClient {
  const timeoutMs = options.timeoutMs ?? 2000;
  const tries = options.tries ?? 2;
  const defaultTtl = options.defaultTtlSeconds ?? DEFAULT_NAPTR_SRV_TTL_SECONDS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive integer, got ${timeoutMs}`);
  if (!Number.isInteger(tries) || tries <= 0) throw new RangeError(`tries must be a positive integer, got ${tries}`);
  if (!(defaultTtl >= 0)) throw new RangeError(`defaultTtlSeconds must be >= 0, got ${defaultTtl}`);

  const resolver = new dnsPromises.Resolver({ timeout: timeoutMs, tries });
  if (options.servers !== undefined) resolver.setServers([...options.servers]);

  async function query<T>(type: DnsRecordType, name: string, run: () => Promise<T[]>): Promise<T[]> {
    try {
      return await run();
    } catch (error) {
      const code = errorCode(error);
      if (NEGATIVE.has(code)) return [];
      throw new DnsLookupError(name, type, code, { cause: error });
    }
  }

  return {
    resolveNaptr: (name) =>
      query('NAPTR', name, async () =>
        (await resolver.resolveNaptr(name)).map((r) => ({
          order: r.order,
          preference: r.preference,
          flags: r.flags,
          service: r.service,
          regexp: r.regexp,
          replacement: r.replacement,
          ttl: defaultTtl,
        })),
      ),
    resolveSrv: (name) =>
      query('SRV', name, async () =>
        (await resolver.resolveSrv(name)).map((r) => ({
          priority: r.priority,
          weight: r.weight,
          port: r.port,
          target: r.name,
          ttl: defaultTtl,
        })),
      ),
    resolve4: (name) =>
      query('A', name, async () => (await resolver.resolve4(name, { ttl: true })).map((r) => ({ address: r.address, ttl: r.ttl }))),
    resolve6: (name) =>
      query('AAAA', name, async () => (await resolver.resolve6(name, { ttl: true })).map((r) => ({ address: r.address, ttl: r.ttl }))),
    cancel: () => resolver.cancel(),
  };
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return 'EUNKNOWN';
}
