/**
 * An in-memory {@link DnsClient} for tests: records by name and type with TTLs, injected
 * failures, a call log, and a switch to hold answers back (for abort and concurrency tests).
 *
 * ```ts
 * const dns = new FakeDns()
 *   .naptr('example.com', [{ order: 10, preference: 10, service: 'SIP+D2T', replacement: '_sip._tcp.example.com' }])
 *   .srv('_sip._tcp.example.com', [{ priority: 10, weight: 0, port: 5060, target: 'sip1.example.com' }])
 *   .a('sip1.example.com', ['192.0.2.1']);
 * const resolver = new Resolver({ dns, clock: new FakeClock(), random: new SeededRandom(1) });
 * ```
 *
 * Names match without regard to case and to a trailing dot, as DNS names do (RFC 4343).
 * A name with no records of the asked type answers `[]` (NXDOMAIN/NODATA), like the real client.
 */
import type { AddressRecord, DnsClient, NaptrRecord, SrvRecord } from '../resolver/dns.js';
import { DnsLookupError, type DnsRecordType } from '../resolver/errors.js';

/** A NAPTR record to serve; `flags` defaults to `'s'`, `regexp` to `''`, `ttl` to the default TTL. */
export interface FakeNaptrRecord {
  readonly order: number;
  readonly preference: number;
  readonly service: string;
  readonly replacement: string;
  readonly flags?: string;
  readonly regexp?: string;
  readonly ttl?: number;
}

/** An SRV record to serve; `weight` defaults to 0, `ttl` to the default TTL. */
export interface FakeSrvRecord {
  readonly priority: number;
  readonly port: number;
  readonly target: string;
  readonly weight?: number;
  readonly ttl?: number;
}

/** One query the fake answered (or failed). */
export interface FakeDnsCall {
  readonly type: DnsRecordType;
  /** The name as asked. */
  readonly name: string;
}

/** Options of {@link FakeDns}. */
export interface FakeDnsOptions {
  /** TTL in seconds for records added without one. Default 300. */
  readonly defaultTtl?: number;
}

type Answer = { readonly kind: 'records'; readonly records: readonly unknown[] } | { readonly kind: 'fail'; readonly dnsCode: string };

/** See the module notes. */
export class FakeDns implements DnsClient {
  /** Every query in the order it was made. */
  readonly calls: FakeDnsCall[] = [];
  private readonly answers = new Map<string, Answer>();
  private readonly defaultTtl: number;
  private held: (() => void)[] | undefined;

  constructor(options: FakeDnsOptions = {}) {
    this.defaultTtl = options.defaultTtl ?? 300;
  }

  /** Serves these NAPTR records for `name` (replacing any). */
  naptr(name: string, records: readonly FakeNaptrRecord[]): this {
    return this.set('NAPTR', name, records.map((r): NaptrRecord => ({
      order: r.order,
      preference: r.preference,
      flags: r.flags ?? 's',
      service: r.service,
      regexp: r.regexp ?? '',
      replacement: r.replacement,
      ttl: r.ttl ?? this.defaultTtl,
    })));
  }

  /** Serves these SRV records for `name` (replacing any). */
  srv(name: string, records: readonly FakeSrvRecord[]): this {
    return this.set('SRV', name, records.map((r): SrvRecord => ({
      priority: r.priority,
      weight: r.weight ?? 0,
      port: r.port,
      target: r.target,
      ttl: r.ttl ?? this.defaultTtl,
    })));
  }

  /** Serves these A records for `name` (replacing any); `ttl` applies to each. */
  a(name: string, addresses: readonly string[], ttl?: number): this {
    return this.set('A', name, this.addressRecords(addresses, ttl));
  }

  /** Serves these AAAA records for `name` (replacing any); addresses without brackets. */
  aaaa(name: string, addresses: readonly string[], ttl?: number): this {
    return this.set('AAAA', name, this.addressRecords(addresses, ttl));
  }

  /**
   * Makes queries for `name` and `type` reject with a {@link DnsLookupError} carrying `dnsCode`
   * (`ESERVFAIL`, `ETIMEOUT`, `EREFUSED`, …), until records are set again or {@link FakeDns.remove}.
   */
  fail(name: string, type: DnsRecordType, dnsCode = 'ESERVFAIL'): this {
    this.answers.set(key(type, name), { kind: 'fail', dnsCode });
    return this;
  }

  /** Removes what is served for `name` (one type, or all); it then answers `[]`. */
  remove(name: string, type?: DnsRecordType): this {
    for (const t of type === undefined ? (['NAPTR', 'SRV', 'A', 'AAAA'] as const) : [type]) this.answers.delete(key(t, name));
    return this;
  }

  /** Queries of `type` (and `name`, if given) made so far. */
  count(type?: DnsRecordType, name?: string): number {
    return this.calls.filter((c) => (type === undefined || c.type === type) && (name === undefined || key(c.type, c.name) === key(c.type, name))).length;
  }

  /** Empties the call log. */
  clearCalls(): void {
    this.calls.length = 0;
  }

  /** From now on, answers wait until {@link FakeDns.release}. */
  hold(): void {
    this.held ??= [];
  }

  /** Lets every held answer through and stops holding. */
  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const go of waiting) go();
  }

  resolveNaptr(name: string): Promise<readonly NaptrRecord[]> {
    return this.answer<NaptrRecord>('NAPTR', name);
  }

  resolveSrv(name: string): Promise<readonly SrvRecord[]> {
    return this.answer<SrvRecord>('SRV', name);
  }

  resolve4(name: string): Promise<readonly AddressRecord[]> {
    return this.answer<AddressRecord>('A', name);
  }

  resolve6(name: string): Promise<readonly AddressRecord[]> {
    return this.answer<AddressRecord>('AAAA', name);
  }

  private addressRecords(addresses: readonly string[], ttl: number | undefined): AddressRecord[] {
    return addresses.map((address) => ({ address, ttl: ttl ?? this.defaultTtl }));
  }

  private set(type: DnsRecordType, name: string, records: readonly unknown[]): this {
    this.answers.set(key(type, name), { kind: 'records', records: Object.freeze(records) });
    return this;
  }

  private answer<T>(type: DnsRecordType, name: string): Promise<readonly T[]> {
    this.calls.push({ type, name });
    // Looked up now, so a change made while the answer is held does not leak into it.
    const answer = this.answers.get(key(type, name));
    const settle = (): Promise<readonly T[]> => {
      if (answer?.kind === 'fail') return Promise.reject(new DnsLookupError(name, type, answer.dnsCode));
      return Promise.resolve((answer?.records ?? []) as readonly T[]);
    };
    const held = this.held;
    if (held === undefined) return settle();
    return new Promise<void>((go) => held.push(go)).then(settle);
  }
}

function key(type: DnsRecordType, name: string): string {
  const lower = name.toLowerCase();
  return `${type} ${lower.endsWith('.') ? lower.slice(0, -1) : lower}`;
}
