import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressScope, addressTypeOf, isFqdn, isIPv4, isIPv6 } from './address.js';

test('isIPv4', () => {
  for (const a of ['0.0.0.0', '127.0.0.1', '255.255.255.255', '192.0.2.10']) assert.ok(isIPv4(a), a);
  for (const a of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.4 ', '', 'a.b.c.d']) assert.ok(!isIPv4(a), a);
});

test('isIPv6', () => {
  for (const a of ['::', '::1', '2001:db8::1', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '::ffff:192.0.2.1', 'FF15::101', '1::']) {
    assert.ok(isIPv6(a), a);
  }
  for (const a of ['', ':', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '[::1]', 'fe80::1%eth0', '1:2:3:4:5:6:7::8:9']) {
    assert.ok(!isIPv6(a), a);
  }
});

test('isFqdn needs a letter and DNS label shape', () => {
  for (const a of ['example.com', 'media-1.example.com', 'host', 'a.example.com.']) assert.ok(isFqdn(a), a);
  for (const a of ['999.1.1.1', '-bad.example', 'bad-.example', 'sp ace', '', 'a..b']) assert.ok(!isFqdn(a), a);
});

test('addressScope flags multicast, broadcast and old-style hold (G39, RFC 3264 §8.4)', () => {
  assert.equal(addressScope('IP4', '192.0.2.1'), 'unicast');
  assert.equal(addressScope('IP4', '0.0.0.0'), 'unspecified');
  assert.equal(addressScope('IP4', '255.255.255.255'), 'broadcast');
  assert.equal(addressScope('IP4', '224.0.0.1'), 'multicast');
  assert.equal(addressScope('IP4', '239.255.255.250'), 'multicast');
  assert.equal(addressScope('IP4', '240.0.0.1'), 'unicast');
  assert.equal(addressScope('IP4', 'media.example.com'), 'hostname');
  assert.equal(addressScope('IP6', '::'), 'unspecified');
  assert.equal(addressScope('IP6', 'ff02::1'), 'multicast');
  assert.equal(addressScope('IP6', 'ff::1'), 'unicast');
  assert.equal(addressScope('IP6', '2001:db8::1'), 'unicast');
});

test('addressTypeOf', () => {
  assert.equal(addressTypeOf('::1'), 'IP6');
  assert.equal(addressTypeOf('127.0.0.1'), 'IP4');
});
