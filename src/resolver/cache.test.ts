import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/clock.js';
import { FakeDns } from '../testing/fake-dns.js';
import { CachingDnsClient } from './cache.js';
import { DnsLookupError } from './errors.js';

interface Ctx {
  clock: FakeClock;
  dns: FakeDns;
  cache: CachingDnsClient;
}

describe('CachingDnsClient', () => {
  let ctx: Ctx;
  beforeEach(() => {
    const clock = new FakeClock();
    const dns = new FakeDns();
    ctx = { clock, dns, cache: new CachingDnsClient(dns, clock, { negativeTtlSeconds: 30, maxTtlSeconds: 3600 }) };
  });

  test('a positive answer lives for the smallest TTL of its RRset, then is asked again', async () => {
    ctx.dns.srv('_sip._udp.example.com', [
      { priority: 1, port: 5060, target: 'a.example.com', ttl: 120 },
      { priority: 2, port: 5060, target: 'b.example.com', ttl: 60 },
    ]);
    await ctx.cache.resolveSrv('_sip._udp.example.com');
    ctx.clock.advance(59_999);
    await ctx.cache.resolveSrv('_SIP._udp.Example.com.'); // case and trailing dot do not matter
    assert.equal(ctx.dns.count('SRV'), 1);
    ctx.clock.advance(1);
    const again = await ctx.cache.resolveSrv('_sip._udp.example.com');
    assert.equal(ctx.dns.count('SRV'), 2);
    assert.equal(again.length, 2);
  });

  test('A/AAAA TTLs are per name and type', async () => {
    ctx.dns.a('h.example.com', ['192.0.2.1'], 10).aaaa('h.example.com', ['2001:db8::1'], 100);
    await ctx.cache.resolve4('h.example.com');
    await ctx.cache.resolve6('h.example.com');
    ctx.clock.advance(10_000);
    await ctx.cache.resolve4('h.example.com');
    await ctx.cache.resolve6('h.example.com');
    assert.equal(ctx.dns.count('A'), 2);
    assert.equal(ctx.dns.count('AAAA'), 1);
  });

  test('TTL 0 is not cached; very long TTLs are capped by maxTtlSeconds', async () => {
    ctx.dns.a('zero.example.com', ['192.0.2.1'], 0).a('long.example.com', ['192.0.2.2'], 7 * 86_400);
    await ctx.cache.resolve4('zero.example.com');
    await ctx.cache.resolve4('zero.example.com');
    assert.equal(ctx.dns.count('A', 'zero.example.com'), 2);
    await ctx.cache.resolve4('long.example.com');
    ctx.clock.advance(3_600_000);
    await ctx.cache.resolve4('long.example.com');
    assert.equal(ctx.dns.count('A', 'long.example.com'), 2);
  });

  test('an empty answer is cached for negativeTtlSeconds (RFC 2308), then asked again', async () => {
    await ctx.cache.resolveNaptr('example.com');
    ctx.clock.advance(29_999);
    await ctx.cache.resolveNaptr('example.com');
    assert.equal(ctx.dns.count('NAPTR'), 1);
    ctx.clock.advance(1);
    ctx.dns.naptr('example.com', [{ order: 1, preference: 1, service: 'SIP+D2U', replacement: '_sip._udp.example.com' }]);
    assert.equal((await ctx.cache.resolveNaptr('example.com')).length, 1);
    assert.equal(ctx.dns.count('NAPTR'), 2);
  });

  test('negative entries are bounded separately and cannot push positive ones out', async () => {
    const cache = new CachingDnsClient(ctx.dns, ctx.clock, { maxEntries: 2, maxNegativeEntries: 3 });
    ctx.dns.a('kept.example.com', ['192.0.2.1']);
    await cache.resolve4('kept.example.com');
    for (let i = 0; i < 50; i++) await cache.resolve4(`nx${i}.example.com`);
    assert.deepEqual(cache.size, { positive: 1, negative: 3 });
    await cache.resolve4('kept.example.com');
    assert.equal(ctx.dns.count('A', 'kept.example.com'), 1);
    // the most recent negative answers are the ones kept
    await cache.resolve4('nx49.example.com');
    assert.equal(ctx.dns.count('A', 'nx49.example.com'), 1);
    await cache.resolve4('nx0.example.com');
    assert.equal(ctx.dns.count('A', 'nx0.example.com'), 2);
  });

  test('positive entries are evicted least recently used first', async () => {
    const cache = new CachingDnsClient(ctx.dns, ctx.clock, { maxEntries: 2 });
    for (const n of ['a', 'b', 'c']) ctx.dns.a(`${n}.example.com`, ['192.0.2.1']);
    await cache.resolve4('a.example.com');
    await cache.resolve4('b.example.com');
    await cache.resolve4('a.example.com'); // a is now the most recently used
    await cache.resolve4('c.example.com'); // evicts b
    ctx.dns.clearCalls();
    await cache.resolve4('a.example.com');
    await cache.resolve4('b.example.com');
    assert.deepEqual(ctx.dns.calls, [{ type: 'A', name: 'b.example.com' }]);
  });

  test('failures are not cached', async () => {
    ctx.dns.fail('example.com', 'NAPTR', 'ETIMEOUT');
    await assert.rejects(ctx.cache.resolveNaptr('example.com'), (e: unknown) => e instanceof DnsLookupError && e.dnsCode === 'ETIMEOUT');
    await assert.rejects(ctx.cache.resolveNaptr('example.com'), DnsLookupError);
    assert.equal(ctx.dns.count('NAPTR'), 2);
  });

  test('concurrent lookups of one name share one query', async () => {
    ctx.dns.a('h.example.com', ['192.0.2.1']);
    ctx.dns.hold();
    const both = Promise.all([ctx.cache.resolve4('h.example.com'), ctx.cache.resolve4('H.example.com')]);
    ctx.dns.release();
    const [one, two] = await both;
    assert.equal(one, two);
    assert.equal(ctx.dns.count('A'), 1);
  });

  test('clear() forgets everything; bad limits throw RangeError', async () => {
    ctx.dns.a('h.example.com', ['192.0.2.1']);
    await ctx.cache.resolve4('h.example.com');
    ctx.cache.clear();
    await ctx.cache.resolve4('h.example.com');
    assert.equal(ctx.dns.count('A'), 2);
    assert.throws(() => new CachingDnsClient(ctx.dns, ctx.clock, { maxEntries: -1 }), RangeError);
    assert.throws(() => new CachingDnsClient(ctx.dns, ctx.clock, { negativeTtlSeconds: Number.NaN }), RangeError);
  });
});
