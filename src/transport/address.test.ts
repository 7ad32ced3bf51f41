import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressKey,
  defaultPort,
  formatHostPort,
  ipFamily,
  isBroadcastOrMulticast,
  isUnspecified,
  localDirectedBroadcasts,
  normalizeHost,
  protocolFromVia,
  sameHost,
} from './address.js';

test('normalizeHost: brackets, case, canonical IPv6, IPv4-mapped', () => {
  assert.equal(normalizeHost('[::1]'), '::1');
  assert.equal(normalizeHost('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(normalizeHost('2001:DB8:0:0::1'), '2001:db8::1');
  assert.equal(normalizeHost('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeHost('[::FFFF:7f00:1]'), '127.0.0.1');
  assert.equal(normalizeHost('Example.COM'), 'example.com');
  assert.equal(normalizeHost('192.0.2.1'), '192.0.2.1');
  assert.ok(sameHost('[2001:db8::1]', '2001:0db8::0001'));
  assert.ok(!sameHost('192.0.2.1', '192.0.2.2'));
});

test('ipFamily', () => {
  assert.equal(ipFamily('127.0.0.1'), 4);
  assert.equal(ipFamily('[::1]'), 6);
  assert.equal(ipFamily('::'), 6);
  assert.equal(ipFamily('example.com'), 0);
  assert.equal(ipFamily('999.1.1.1'), 0);
});

test('isBroadcastOrMulticast (G17)', () => {
  for (const h of ['255.255.255.255', '224.0.0.1', '239.255.255.250', 'ff02::1', '[FF05::1:3]']) {
    assert.ok(isBroadcastOrMulticast(h), h);
  }
  for (const h of ['192.0.2.1', '223.255.255.255', '240.0.0.1', '::1', '2001:db8::1', 'example.com']) {
    assert.ok(!isBroadcastOrMulticast(h), h);
  }
  assert.ok(isBroadcastOrMulticast('10.1.2.255', new Set(['10.1.2.255'])));
  assert.ok(isUnspecified('0.0.0.0') && isUnspecified('[::]') && !isUnspecified('::1'));
});

test('localDirectedBroadcasts computes the subnet broadcast of each IPv4 interface', () => {
  const set = localDirectedBroadcasts();
  // Loopback 127.0.0.1/8 is present on every host the tests run on.
  assert.ok(set.has('127.255.255.255'), [...set].join(','));
});

test('defaultPort, formatHostPort, addressKey, protocolFromVia', () => {
  assert.equal(defaultPort('udp'), 5060);
  assert.equal(defaultPort('tls'), 5061);
  assert.equal(defaultPort('wss'), 443);
  assert.equal(formatHostPort('::1', 5060), '[::1]:5060');
  assert.equal(formatHostPort('[::1]', 5060), '[::1]:5060');
  assert.equal(formatHostPort('127.0.0.1', 5060), '127.0.0.1:5060');
  assert.equal(addressKey({ protocol: 'tcp', host: '[0::1]', port: 5 }), addressKey({ protocol: 'tcp', host: '::1', port: 5 }));
  assert.notEqual(addressKey({ protocol: 'tcp', host: '::1', port: 5 }), addressKey({ protocol: 'tls', host: '::1', port: 5 }));
  assert.equal(protocolFromVia('WSS'), 'wss');
  assert.equal(protocolFromVia('SCTP'), undefined);
});
