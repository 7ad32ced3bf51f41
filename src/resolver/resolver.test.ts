import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/clock.js';
import { SeededRandom } from '../core/random.js';
import { parseSipUri } from '../sip/uri.js';
import { FakeDns } from '../testing/fake-dns.js';
import { DnsLookupError, ResolverError } from './errors.js';
import type { ResolverErrorCode } from './errors.js';
import { Resolver } from './resolver.js';
import type { ResolverOptions, Target } from './resolver.js';

interface Ctx {
  clock: FakeClock;
  dns: FakeDns;
  make(options?: Partial<ResolverOptions>): Resolver;
  resolver: Resolver;
}

function rejectsWith(code: ResolverErrorCode): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ResolverError, `expected a ResolverError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  };
}

/** `proto host:port` strings: short and readable in assertions. */
const show = (targets: readonly Target[]): string[] =>
  targets.map((t) => `${t.protocol} ${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`);

/** A zone with NAPTR → SRV → A/AAAA for example.com (RFC 3263 §4.1 example shape). */
function fullZone(dns: FakeDns): void {
  dns
    .naptr('example.com', [
      { order: 50, preference: 50, service: 'SIPS+D2T', replacement: '_sips._tcp.example.com' },
      { order: 90, preference: 50, service: 'SIP+D2U', replacement: '_sip._udp.example.com' },
      { order: 50, preference: 40, service: 'SIP+D2T', replacement: '_sip._tcp.example.com' },
    ])
    .srv('_sip._tcp.example.com', [
      { priority: 10, port: 5060, target: 'tcp2.example.com' },
      { priority: 0, port: 5062, target: 'tcp1.example.com' },
    ])
    .srv('_sips._tcp.example.com', [{ priority: 0, port: 5061, target: 'tls.example.com' }])
    .srv('_sip._udp.example.com', [{ priority: 0, port: 5060, target: 'udp.example.com' }])
    .a('tcp1.example.com', ['192.0.2.1'])
    .a('tcp2.example.com', ['192.0.2.2'])
    .a('tls.example.com', ['192.0.2.3'])
    .aaaa('tls.example.com', ['2001:db8::3'])
    .a('udp.example.com', ['192.0.2.4']);
}

describe('Resolver (RFC 3263 §4)', () => {
  let ctx: Ctx;
  beforeEach(() => {
    const clock = new FakeClock();
    const dns = new FakeDns();
    const make = (options: Partial<ResolverOptions> = {}): Resolver =>
      new Resolver({ dns, clock, random: new SeededRandom(1), protocols: ['udp', 'tcp', 'tls'], ...options });
    ctx = { clock, dns, make, resolver: make() };
  });

  describe('numeric hosts: no DNS at all', () => {
    test('IPv4 without port: UDP 5060 for sip, TLS 5061 for sips', async () => {
      assert.deepEqual(await ctx.resolver.resolve('sip:bob@192.0.2.9'), [{ protocol: 'udp', host: '192.0.2.9', port: 5060 }]);
      assert.deepEqual(await ctx.resolver.resolve('sips:bob@192.0.2.9'), [{ protocol: 'tls', host: '192.0.2.9', port: 5061 }]);
      assert.equal(ctx.dns.calls.length, 0);
    });

    test('IPv6 reference with port: brackets removed, port kept', async () => {
      assert.deepEqual(await ctx.resolver.resolve(parseSipUri('sip:[2001:db8::1]:5070')), [
        { protocol: 'udp', host: '2001:db8::1', port: 5070 },
      ]);
      assert.equal(ctx.dns.calls.length, 0);
    });

    test('transport parameter picks the protocol and its default port', async () => {
      assert.deepEqual(show(await ctx.resolver.resolve('sip:192.0.2.9;transport=TCP')), ['tcp 192.0.2.9:5060']);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:192.0.2.9;transport=tls')), ['tls 192.0.2.9:5061']);
      assert.deepEqual(show(await ctx.resolver.resolve('sips:192.0.2.9;transport=tcp')), ['tls 192.0.2.9:5061']);
      const ws = ctx.make({ protocols: ['ws', 'wss'] });
      assert.deepEqual(show(await ws.resolve('sip:192.0.2.9;transport=ws')), ['ws 192.0.2.9:80']);
      assert.deepEqual(show(await ws.resolve('sips:192.0.2.9;transport=ws')), ['wss 192.0.2.9:443']);
      assert.equal(ctx.dns.calls.length, 0);
    });

    test('without UDP enabled, a sip URI falls back to TCP', async () => {
      const tcpOnly = ctx.make({ protocols: ['tcp'] });
      assert.deepEqual(show(await tcpOnly.resolve('sip:192.0.2.9')), ['tcp 192.0.2.9:5060']);
      await assert.rejects(tcpOnly.resolve('sips:192.0.2.9'), rejectsWith('RESOLVER_ERR_UNSUPPORTED_TRANSPORT'));
    });

    test('an IPv4 literal with ipPreference ipv6-only cannot be reached', async () => {
      await assert.rejects(ctx.make({ ipPreference: 'ipv6-only' }).resolve('sip:192.0.2.9'), rejectsWith('RESOLVER_ERR_NOT_FOUND'));
    });
  });

  describe('maddr', () => {
    test('maddr overrides the host (RFC 3263 §4), numeric maddr needs no DNS', async () => {
      assert.deepEqual(show(await ctx.resolver.resolve('sip:alice@example.com:5080;maddr=192.0.2.7')), ['udp 192.0.2.7:5080']);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:alice@example.com;maddr=[2001:db8::7]')), ['udp [2001:db8::7]:5060']);
      assert.equal(ctx.dns.calls.length, 0);
    });

    test('a maddr host name is what gets looked up', async () => {
      ctx.dns.a('proxy.example.net', ['198.51.100.1']);
      const targets = await ctx.resolver.resolve('sip:alice@example.com;maddr=proxy.example.net');
      assert.deepEqual(targets, [{ protocol: 'udp', host: '198.51.100.1', port: 5060, hostname: 'proxy.example.net' }]);
      assert.ok(ctx.dns.calls.every((c) => c.name.endsWith('example.net')));
    });

    test('a maddr that is not a host is a bad URI', async () => {
      for (const uri of ['sip:a@example.com;maddr', 'sip:a@example.com;maddr=', 'sip:a@example.com;maddr=a%40b', 'sip:a@example.com;maddr=1.2.3']) {
        await assert.rejects(ctx.resolver.resolve(uri), rejectsWith('RESOLVER_ERR_BAD_URI'), uri);
      }
    });
  });

  describe('explicit port: A/AAAA only (RFC 3263 §4.2)', () => {
    test('no NAPTR or SRV query; every address at that port; sips means TLS', async () => {
      fullZone(ctx.dns);
      ctx.dns.a('example.com', ['192.0.2.50', '192.0.2.51']).aaaa('example.com', ['2001:db8::50']);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com:5070')), [
        'udp 192.0.2.50:5070',
        'udp 192.0.2.51:5070',
        'udp [2001:db8::50]:5070',
      ]);
      assert.deepEqual(show(await ctx.resolver.resolve('sips:example.com:5071')), [
        'tls 192.0.2.50:5071',
        'tls 192.0.2.51:5071',
        'tls [2001:db8::50]:5071',
      ]);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com:5072;transport=tcp')).slice(0, 1), ['tcp 192.0.2.50:5072']);
      assert.deepEqual(new Set(ctx.dns.calls.map((c) => c.type)), new Set(['A', 'AAAA']));
    });

    test('port 0 cannot be contacted', async () => {
      await assert.rejects(ctx.resolver.resolve('sip:192.0.2.1:0'), rejectsWith('RESOLVER_ERR_BAD_URI'));
    });
  });

  describe('explicit transport: SRV for it, then A/AAAA (RFC 3263 §4.1, §4.2)', () => {
    test('transport=tcp asks _sip._tcp and never NAPTR', async () => {
      fullZone(ctx.dns);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com;transport=tcp')), ['tcp 192.0.2.1:5062', 'tcp 192.0.2.2:5060']);
      assert.equal(ctx.dns.count('NAPTR'), 0);
      assert.deepEqual(ctx.dns.calls.filter((c) => c.type === 'SRV'), [{ type: 'SRV', name: '_sip._tcp.example.com' }]);
    });

    test('TLS (sip;transport=tls or sips;transport=tcp) asks _sips._tcp', async () => {
      fullZone(ctx.dns);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com;transport=tls')), ['tls 192.0.2.3:5061', 'tls [2001:db8::3]:5061']);
      assert.deepEqual(show(await ctx.resolver.resolve('sips:example.com;transport=tcp')), ['tls 192.0.2.3:5061', 'tls [2001:db8::3]:5061']);
      assert.equal(ctx.dns.count('SRV', '_sips._tcp.example.com'), 1); // second time from the cache
    });

    test('no SRV for the transport: A/AAAA of the domain with the default port', async () => {
      ctx.dns.a('example.org', ['203.0.113.5']);
      assert.deepEqual(await ctx.resolver.resolve('sip:example.org;transport=tcp'), [
        { protocol: 'tcp', host: '203.0.113.5', port: 5060, hostname: 'example.org' },
      ]);
    });

    test('transport=ws has no SRV name: A/AAAA on port 80', async () => {
      ctx.dns.a('example.org', ['203.0.113.5']);
      const ws = ctx.make({ protocols: ['ws'] });
      assert.deepEqual(show(await ws.resolve('sip:example.org;transport=ws')), ['ws 203.0.113.5:80']);
      assert.equal(ctx.dns.count('SRV'), 0);
    });

    test('unusable or disabled transports are refused', async () => {
      for (const uri of ['sips:example.com;transport=udp', 'sip:example.com;transport=sctp', 'sip:example.com;transport', 'sip:example.com;transport=ws']) {
        await assert.rejects(ctx.resolver.resolve(uri), rejectsWith('RESOLVER_ERR_UNSUPPORTED_TRANSPORT'), uri);
      }
      await assert.rejects(
        ctx.resolver.resolve('sip:example.com;transport=tcp', { protocols: ['udp'] }),
        rejectsWith('RESOLVER_ERR_UNSUPPORTED_TRANSPORT'),
      );
      assert.equal(ctx.dns.calls.length, 0);
    });
  });

  describe('NAPTR (RFC 3263 §4.1, RFC 3403)', () => {
    test('records are used in order, then preference; each SRV set in priority order', async () => {
      fullZone(ctx.dns);
      const targets = await ctx.resolver.resolve('sip:alice@example.com');
      assert.deepEqual(show(targets), [
        'tcp 192.0.2.1:5062', // order 50 pref 40, SRV priority 0
        'tcp 192.0.2.2:5060', // order 50 pref 40, SRV priority 10
        'tls 192.0.2.3:5061', // order 50 pref 50
        'tls [2001:db8::3]:5061',
        'udp 192.0.2.4:5060', // order 90
      ]);
      assert.equal(targets[0]!.hostname, 'tcp1.example.com');
    });

    test('a SIPS URI uses only SIPS services', async () => {
      fullZone(ctx.dns);
      assert.deepEqual(show(await ctx.resolver.resolve('sips:alice@example.com')), ['tls 192.0.2.3:5061', 'tls [2001:db8::3]:5061']);
      assert.equal(ctx.dns.count('SRV', '_sip._tcp.example.com'), 0);
    });

    test('only "s" flags and known SIP services count; case does not matter', async () => {
      ctx.dns
        .naptr('example.com', [
          { order: 1, preference: 1, flags: 'a', service: 'SIP+D2U', replacement: 'a-flag.example.com' },
          { order: 1, preference: 2, flags: 'u', service: 'SIP+D2U', regexp: '!^.*$!sip:x@example.net!', replacement: '' },
          { order: 1, preference: 3, service: 'E2U+sip', replacement: '_sip._udp.example.com' },
          { order: 1, preference: 4, service: 'SIP+D2S', replacement: '_sip._sctp.example.com' },
          { order: 2, preference: 1, flags: 'S', service: 'sip+d2t', replacement: '_sip._tcp.example.com.' },
        ])
        .srv('_sip._tcp.example.com', [{ priority: 1, port: 5060, target: 'b.example.com' }])
        .a('b.example.com', ['192.0.2.20'])
        .a('a-flag.example.com', ['192.0.2.99']);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com')), ['tcp 192.0.2.20:5060']);
      assert.equal(ctx.dns.count('SRV'), 1);
    });

    test('services outside the enabled protocols are skipped', async () => {
      fullZone(ctx.dns);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com', { protocols: ['udp'] })), ['udp 192.0.2.4:5060']);
    });

    test('SIP+D2W / SIPS+D2W follow the replacement to WebSocket targets (RFC 7118 §7)', async () => {
      ctx.dns
        .naptr('example.com', [
          { order: 10, preference: 10, service: 'SIPS+D2W', replacement: '_sips._ws.example.com' },
          { order: 20, preference: 10, service: 'SIP+D2W', replacement: '_sip._ws.example.com' },
        ])
        .srv('_sips._ws.example.com', [{ priority: 1, port: 443, target: 'ws.example.com' }])
        .srv('_sip._ws.example.com', [{ priority: 1, port: 8080, target: 'ws.example.com' }])
        .a('ws.example.com', ['192.0.2.30']);
      const ws = ctx.make({ protocols: ['wss', 'ws'] });
      assert.deepEqual(show(await ws.resolve('sip:example.com')), ['wss 192.0.2.30:443', 'ws 192.0.2.30:8080']);
      assert.deepEqual(show(await ws.resolve('sips:example.com')), ['wss 192.0.2.30:443']);
    });

    test('NAPTR whose SRV is empty: A/AAAA of the domain with the NAPTR transport (RFC 3263 §4.2)', async () => {
      ctx.dns
        .naptr('example.com', [{ order: 1, preference: 1, service: 'SIP+D2T', replacement: '_sip._tcp.example.com' }])
        .a('example.com', ['192.0.2.40']);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com')), ['tcp 192.0.2.40:5060']);
    });

    test('a NAPTR failure (SERVFAIL) falls through to SRV', async () => {
      ctx.dns
        .fail('example.com', 'NAPTR', 'ESERVFAIL')
        .srv('_sip._udp.example.com', [{ priority: 1, port: 5060, target: 'u.example.com' }])
        .a('u.example.com', ['192.0.2.60']);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com')), ['udp 192.0.2.60:5060']);
    });
  });

  describe('no NAPTR: SRV per supported transport (RFC 3263 §4.1)', () => {
    beforeEach(() => {
      ctx.dns
        .srv('_sip._udp.example.com', [{ priority: 1, port: 5060, target: 'u.example.com' }])
        .srv('_sip._tcp.example.com', [{ priority: 1, port: 5060, target: 't.example.com' }])
        .srv('_sips._tcp.example.com', [{ priority: 1, port: 5061, target: 's.example.com' }])
        .a('u.example.com', ['192.0.2.1'])
        .a('t.example.com', ['192.0.2.2'])
        .a('s.example.com', ['192.0.2.3']);
    });

    test('sip URIs ask _sip._udp and _sip._tcp, listed in the protocols order', async () => {
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com')), ['udp 192.0.2.1:5060', 'tcp 192.0.2.2:5060']);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com', { protocols: ['tcp', 'udp'] })), [
        'tcp 192.0.2.2:5060',
        'udp 192.0.2.1:5060',
      ]);
      assert.equal(ctx.dns.count('SRV', '_sips._tcp.example.com'), 0);
    });

    test('sips URIs ask _sips._tcp only', async () => {
      assert.deepEqual(show(await ctx.resolver.resolve('sips:example.com')), ['tls 192.0.2.3:5061']);
      assert.equal(ctx.dns.count('SRV', '_sip._udp.example.com'), 0);
    });

    test('a usable-less NAPTR set counts as none', async () => {
      ctx.dns.naptr('example.com', [{ order: 1, preference: 1, service: 'SIP+D2U', replacement: '_sip._udp.example.com' }]);
      assert.deepEqual(show(await ctx.resolver.resolve('sips:example.com')), ['tls 192.0.2.3:5061']);
    });

    test('an SRV target of "." means the service is not available: no A/AAAA fallback (RFC 2782)', async () => {
      ctx.dns.remove('_sip._tcp.example.com').srv('_sip._udp.example.com', [{ priority: 0, port: 0, target: '.' }]);
      await assert.rejects(ctx.resolver.resolve('sip:example.com'), rejectsWith('RESOLVER_ERR_NOT_FOUND'));
      assert.equal(ctx.dns.count('A', 'example.com'), 0);
    });
  });

  describe('no SRV: A/AAAA with default port (RFC 3263 §4.1, §4.2)', () => {
    beforeEach(() => {
      ctx.dns.a('example.com', ['192.0.2.1', '192.0.2.2']).aaaa('example.com', ['2001:db8::1']);
    });

    test('UDP 5060 for sip, TLS 5061 for sips, IPv4 first by default', async () => {
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com')), [
        'udp 192.0.2.1:5060',
        'udp 192.0.2.2:5060',
        'udp [2001:db8::1]:5060',
      ]);
      assert.deepEqual(show(await ctx.resolver.resolve('sips:example.com')), [
        'tls 192.0.2.1:5061',
        'tls 192.0.2.2:5061',
        'tls [2001:db8::1]:5061',
      ]);
    });

    test('ipPreference: ipv6-first, ipv4-only (no AAAA query), ipv6-only', async () => {
      assert.deepEqual(show(await ctx.make({ ipPreference: 'ipv6-first' }).resolve('sip:example.com')), [
        'udp [2001:db8::1]:5060',
        'udp 192.0.2.1:5060',
        'udp 192.0.2.2:5060',
      ]);
      ctx.dns.clearCalls();
      assert.deepEqual(show(await ctx.make({ ipPreference: 'ipv4-only' }).resolve('sip:example.com')), ['udp 192.0.2.1:5060', 'udp 192.0.2.2:5060']);
      assert.equal(ctx.dns.count('AAAA'), 0);
      assert.deepEqual(show(await ctx.make({ ipPreference: 'ipv6-only' }).resolve('sip:example.com')), ['udp [2001:db8::1]:5060']);
    });

    test('a failed A lookup still yields the AAAA addresses', async () => {
      ctx.dns.fail('example.com', 'A', 'ETIMEOUT');
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com')), ['udp [2001:db8::1]:5060']);
    });

    test('localhost is loopback without DNS (RFC 6761 §6.3)', async () => {
      assert.deepEqual(show(await ctx.resolver.resolve('sip:localhost')), ['udp 127.0.0.1:5060', 'udp [::1]:5060']);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:x.localhost:5070;transport=tcp')), ['tcp 127.0.0.1:5070', 'tcp [::1]:5070']);
      assert.equal(ctx.dns.calls.length, 0);
    });
  });

  describe('errors', () => {
    test('nothing anywhere: RESOLVER_ERR_NOT_FOUND', async () => {
      await assert.rejects(ctx.resolver.resolve('sip:nowhere.example.com'), rejectsWith('RESOLVER_ERR_NOT_FOUND'));
    });

    test('nothing found and a lookup failed: RESOLVER_ERR_LOOKUP_FAILED with the DNS error as cause', async () => {
      ctx.dns.fail('example.com', 'A', 'ETIMEOUT').fail('example.com', 'AAAA', 'ETIMEOUT');
      await assert.rejects(ctx.resolver.resolve('sip:example.com'), (e: unknown) => {
        assert.ok(e instanceof ResolverError);
        assert.equal(e.code, 'RESOLVER_ERR_LOOKUP_FAILED');
        assert.ok(e.cause instanceof DnsLookupError);
        assert.equal(e.cause.dnsCode, 'ETIMEOUT');
        return true;
      });
    });

    test('a client that throws something else is wrapped as a DNS failure', async () => {
      const broken = new Resolver({
        dns: {
          resolveNaptr: () => Promise.reject(new Error('boom')),
          resolveSrv: () => Promise.reject(new Error('boom')),
          resolve4: () => Promise.reject(new Error('boom')),
          resolve6: () => Promise.reject(new Error('boom')),
        },
        clock: ctx.clock,
      });
      await assert.rejects(broken.resolve('sip:example.com'), (e: unknown) => {
        assert.ok(e instanceof ResolverError && e.code === 'RESOLVER_ERR_LOOKUP_FAILED');
        assert.ok(e.cause instanceof DnsLookupError && e.cause.dnsCode === 'EUNKNOWN');
        return true;
      });
    });

    test('text that is not a sip/sips URI: RESOLVER_ERR_BAD_URI', async () => {
      for (const uri of ['tel:+15551234567', 'sip:', 'not a uri']) {
        await assert.rejects(ctx.resolver.resolve(uri), rejectsWith('RESOLVER_ERR_BAD_URI'), uri);
      }
    });

    test('bad options throw TypeError / RangeError', () => {
      assert.throws(() => ctx.make({ protocols: [] }), RangeError);
      assert.throws(() => ctx.make({ maxTargets: 0 }), RangeError);
      assert.throws(() => ctx.make({ protocols: ['sctp' as 'udp'] }), TypeError);
      assert.throws(() => ctx.make({ ipPreference: 'both' as 'ipv4-first' }), TypeError);
    });
  });

  describe('cache on the injected clock', () => {
    test('a second resolve within the TTLs asks nothing; after expiry only expired answers are asked again', async () => {
      fullZone(ctx.dns); // FakeDns default TTL: 300 s
      const resolver = ctx.make({ cache: { negativeTtlSeconds: 600 } });
      await resolver.resolve('sip:example.com');
      // NAPTR, 3 SRV, 4 A and 4 AAAA, of which 3 AAAA are empty (negative)
      assert.equal(ctx.dns.calls.length, 12);
      ctx.clock.advance(299_999);
      await resolver.resolve('sip:example.com');
      assert.equal(ctx.dns.calls.length, 12);
      ctx.clock.advance(1);
      await resolver.resolve('sip:example.com');
      assert.equal(ctx.dns.calls.length, 12 + 9);
      ctx.clock.advance(300_000);
      await resolver.resolve('sip:example.com');
      assert.equal(ctx.dns.calls.length, 12 + 9 + 12);
    });

    test('a change in DNS is seen once the old TTL runs out', async () => {
      ctx.dns.a('example.com', ['192.0.2.1'], 60);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com:5060')), ['udp 192.0.2.1:5060']);
      ctx.dns.a('example.com', ['192.0.2.2'], 60);
      ctx.clock.advance(59_000);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com:5060')), ['udp 192.0.2.1:5060']);
      ctx.clock.advance(1_000);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com:5060')), ['udp 192.0.2.2:5060']);
    });

    test('negative answers are cached for negativeTtlSeconds', async () => {
      const resolver = ctx.make({ cache: { negativeTtlSeconds: 10 } });
      await assert.rejects(resolver.resolve('sip:nowhere.example.com'));
      const first = ctx.dns.calls.length;
      await assert.rejects(resolver.resolve('sip:nowhere.example.com'));
      assert.equal(ctx.dns.calls.length, first);
      ctx.clock.advance(10_000);
      await assert.rejects(resolver.resolve('sip:nowhere.example.com'));
      assert.equal(ctx.dns.calls.length, 2 * first);
    });

    test('cache: false asks every time; clearCache() forgets', async () => {
      ctx.dns.a('example.com', ['192.0.2.1']);
      const uncached = ctx.make({ cache: false });
      await uncached.resolve('sip:example.com:5060');
      await uncached.resolve('sip:example.com:5060');
      assert.equal(ctx.dns.count('A'), 2);
      await ctx.resolver.resolve('sip:example.com:5060');
      ctx.resolver.clearCache();
      await ctx.resolver.resolve('sip:example.com:5060');
      assert.equal(ctx.dns.count('A'), 4);
    });

    test('the SRV order is drawn per resolve, not cached', async () => {
      ctx.dns
        .srv('_sip._udp.example.com', [
          { priority: 1, weight: 50, port: 5060, target: 'a.example.com' },
          { priority: 1, weight: 50, port: 5060, target: 'b.example.com' },
        ])
        .a('a.example.com', ['192.0.2.1'])
        .a('b.example.com', ['192.0.2.2']);
      const firsts = new Set<string>();
      for (let i = 0; i < 20; i++) firsts.add((await ctx.resolver.resolve('sip:example.com'))[0]!.host);
      assert.deepEqual([...firsts].sort(), ['192.0.2.1', '192.0.2.2']);
      assert.equal(ctx.dns.count('SRV', '_sip._udp.example.com'), 1);
    });
  });

  describe('limits and cancellation', () => {
    test('duplicate targets are removed and the list is capped at maxTargets', async () => {
      ctx.dns
        .srv('_sip._udp.example.com', [
          { priority: 1, port: 5060, target: 'a.example.com' },
          { priority: 2, port: 5060, target: 'alias.example.com' },
        ])
        .a('a.example.com', ['192.0.2.1', '192.0.2.2', '192.0.2.3'])
        .a('alias.example.com', ['192.0.2.1', '192.0.2.9']);
      assert.deepEqual(show(await ctx.resolver.resolve('sip:example.com')), [
        'udp 192.0.2.1:5060',
        'udp 192.0.2.2:5060',
        'udp 192.0.2.3:5060',
        'udp 192.0.2.9:5060',
      ]);
      assert.equal((await ctx.make({ maxTargets: 2 }).resolve('sip:example.com')).length, 2);
    });

    test('an aborted signal rejects with its reason, before or during the lookups', async () => {
      const before = new AbortController();
      before.abort(new Error('gone'));
      await assert.rejects(ctx.resolver.resolve('sip:example.com', { signal: before.signal }), /gone/);
      assert.equal(ctx.dns.calls.length, 0);

      ctx.dns.hold();
      const during = new AbortController();
      const pending = ctx.resolver.resolve('sip:example.com', { signal: during.signal });
      during.abort(new Error('stop'));
      await assert.rejects(pending, /stop/);
      ctx.dns.release();
    });
  });
});
