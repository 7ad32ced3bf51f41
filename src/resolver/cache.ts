/**
 * A TTL-respecting cache in front of a {@link DnsClient}, on an injected {@link Clock}.
 *
 * - Positive answers live for the smallest TTL in the RRset (RFC 2181 §5.2: the TTLs of an
 *   RRset should agree; using the smallest is the safe reading when they do not), capped at
 *   `maxTtlSeconds`. A TTL of 0 is not cached (RFC 1035 §3.2.1).
 * - Negative answers (NXDOMAIN/NODATA) live for `negativeTtlSeconds`. RFC 2308 §5 derives that
 *   from the SOA, which node:dns does not expose, so it is a fixed, small number, and negative
 *   entries have their own size bound so a flood of lookups for names that do not exist cannot
 *   push the useful entries out.
 * - Failures (timeout, SERVFAIL…) are never cached: the next resolve asks again.
 * - Concurrent lookups of the same name and type share one query.
 */
import type { Clock } from '../core/clock.js';
import type { AddressRecord, DnsClient, NaptrRecord, SrvRecord } from './dns.js';
import type { DnsRecordType } from './errors.js';

/** Limits of a {@link CachingDnsClient}; every field has a default. */
export interface DnsCacheOptions {
  /** Upper bound on how long a positive answer is kept, in seconds. Default 3600. */
  readonly maxTtlSeconds?: number;
  /** How long an empty answer (NXDOMAIN/NODATA) is kept, in seconds. Default 30. */
  readonly negativeTtlSeconds?: number;
  /** Most positive entries kept; the least recently used goes first. Default 1000. */
  readonly maxEntries?: number;
  /** Most negative entries kept; the least recently used goes first. Default 256. */
  readonly maxNegativeEntries?: number;
}

/** The defaults of {@link DnsCacheOptions}. */
export const DEFAULT_DNS_CACHE_OPTIONS = Object.freeze({
  maxTtlSeconds: 3600,
  negativeTtlSeconds: 30,
  maxEntries: 1000,
  maxNegativeEntries: 256,
} as const satisfies Required<DnsCacheOptions>);

interface Entry {
  readonly records: readonly unknown[];
  readonly expiresAt: number;
}

/** A {@link DnsClient} that remembers answers of another one (see the module notes). */
export class CachingDnsClient implements DnsClient {
  private readonly positive = new Map<string, Entry>();
  private readonly negative = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<readonly unknown[]>>();
  private readonly limits: Required<DnsCacheOptions>;

  /**
   * @throws `RangeError` when a limit is negative, or a size limit is not an integer.
   */
  constructor(
    private readonly dns: DnsClient,
    private readonly clock: Clock,
    options: DnsCacheOptions = {},
  ) {
    this.limits = { ...DEFAULT_DNS_CACHE_OPTIONS, ...options };
    const { maxTtlSeconds, negativeTtlSeconds, maxEntries, maxNegativeEntries } = this.limits;
    if (!(maxTtlSeconds >= 0) || !(negativeTtlSeconds >= 0)) throw new RangeError('cache TTLs must be >= 0');
    if (!Number.isInteger(maxEntries) || maxEntries < 0 || !Number.isInteger(maxNegativeEntries) || maxNegativeEntries < 0) {
      throw new RangeError('cache sizes must be integers >= 0');
    }
  }

  resolveNaptr(name: string): Promise<readonly NaptrRecord[]> {
    return this.lookup('NAPTR', name, () => this.dns.resolveNaptr(name));
  }

  resolveSrv(name: string): Promise<readonly SrvRecord[]> {
    return this.lookup('SRV', name, () => this.dns.resolveSrv(name));
  }

  resolve4(name: string): Promise<readonly AddressRecord[]> {
    return this.lookup('A', name, () => this.dns.resolve4(name));
  }

  resolve6(name: string): Promise<readonly AddressRecord[]> {
    return this.lookup('AAAA', name, () => this.dns.resolve6(name));
  }

  /** Number of live-or-expired entries held: `{ positive, negative }`. */
  get size(): { positive: number; negative: number } {
    return { positive: this.positive.size, negative: this.negative.size };
  }

  /** Forgets every cached answer (queries in flight still complete). */
  clear(): void {
    this.positive.clear();
    this.negative.clear();
  }

  private lookup<T extends { readonly ttl: number }>(
    type: DnsRecordType,
    name: string,
    query: () => Promise<readonly T[]>,
  ): Promise<readonly T[]> {
    // DNS names compare without regard to ASCII case (RFC 4343); "x." and "x" are one name.
    const lower = name.toLowerCase();
    const key = `${type} ${lower.endsWith('.') ? lower.slice(0, -1) : lower}`;
    const now = this.clock.now();
    for (const map of [this.positive, this.negative]) {
      const hit = map.get(key);
      if (hit === undefined) continue;
      map.delete(key);
      if (now < hit.expiresAt) {
        map.set(key, hit); // most recently used goes last
        return Promise.resolve(hit.records as readonly T[]);
      }
    }
    const pending = this.inflight.get(key);
    if (pending !== undefined) return pending as Promise<readonly T[]>;
    const started = query().then(
      (records) => {
        this.inflight.delete(key);
        this.store(key, records);
        return records;
      },
      (error: unknown) => {
        this.inflight.delete(key);
        throw error;
      },
    );
    this.inflight.set(key, started);
    return started;
  }

  private store(key: string, records: readonly { readonly ttl: number }[]): void {
    const isNegative = records.length === 0;
    let ttlSeconds: number;
    if (isNegative) {
      ttlSeconds = this.limits.negativeTtlSeconds;
    } else {
      ttlSeconds = Math.min(this.limits.maxTtlSeconds, ...records.map((r) => (Number.isFinite(r.ttl) && r.ttl > 0 ? r.ttl : 0)));
    }
    if (ttlSeconds <= 0) return;
    const map = isNegative ? this.negative : this.positive;
    (isNegative ? this.positive : this.negative).delete(key);
    const max = isNegative ? this.limits.maxNegativeEntries : this.limits.maxEntries;
    map.set(key, { records, expiresAt: this.clock.now() + ttlSeconds * 1000 });
    while (map.size > max) {
      const oldest = map.keys().next();
      if (oldest.done === true) break;
      map.delete(oldest.value);
    }
  }
}
