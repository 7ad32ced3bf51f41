import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsLookupError } from '../resolver/errors.js';
import { FakeDns } from './fake-dns.js';

test('FakeDns serves records by name and type, with defaults and TTLs', async () => {
  const dns = new FakeDns({ defaultTtl: 42 })
    .naptr('Example.COM.', [{ order: 1, preference: 2, service: 'SIP+D2U', replacement: '_sip._udp.example.com' }])
    .srv('_sip._udp.example.com', [{ priority: 1, port: 5060, target: 'a.example.com', ttl: 7 }])
    .a('a.example.com', ['192.0.2.1'], 9)
    .aaaa('a.example.com', ['2001:db8::1']);
  assert.deepEqual(await dns.resolveNaptr('example.com'), [
    { order: 1, preference: 2, flags: 's', service: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.com', ttl: 42 },
  ]);
  assert.deepEqual(await dns.resolveSrv('_SIP._udp.example.com'), [{ priority: 1, weight: 0, port: 5060, target: 'a.example.com', ttl: 7 }]);
  assert.deepEqual(await dns.resolve4('a.example.com'), [{ address: '192.0.2.1', ttl: 9 }]);
  assert.deepEqual(await dns.resolve6('a.example.com'), [{ address: '2001:db8::1', ttl: 42 }]);
  assert.deepEqual(await dns.resolve4('missing.example.com'), []);
});

test('FakeDns logs calls, fails on demand, and forgets on remove', async () => {
  const dns = new FakeDns().a('h.example.com', ['192.0.2.1']).fail('h.example.com', 'AAAA', 'ETIMEOUT');
  await dns.resolve4('h.example.com');
  await assert.rejects(dns.resolve6('h.example.com'), (e: unknown) => e instanceof DnsLookupError && e.dnsCode === 'ETIMEOUT' && e.type === 'AAAA');
  assert.deepEqual(dns.calls, [
    { type: 'A', name: 'h.example.com' },
    { type: 'AAAA', name: 'h.example.com' },
  ]);
  assert.equal(dns.count('A', 'H.example.com'), 1);
  dns.remove('h.example.com');
  assert.deepEqual(await dns.resolve6('h.example.com'), []);
  dns.clearCalls();
  assert.equal(dns.count(), 0);
});

test('FakeDns hold() keeps answers back until release()', async () => {
  const dns = new FakeDns().a('h.example.com', ['192.0.2.1']);
  dns.hold();
  let answered = false;
  const pending = dns.resolve4('h.example.com').then((r) => {
    answered = true;
    return r;
  });
  await Promise.resolve();
  assert.equal(answered, false);
  dns.release();
  assert.deepEqual(await pending, [{ address: '192.0.2.1', ttl: 300 }]);
});
