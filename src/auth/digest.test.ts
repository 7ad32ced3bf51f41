import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  algorithmStrength,
  baseAlgorithm,
  computeHa1,
  computeResponse,
  computeSessionHa1,
  digestEquals,
  digestHash,
  formatNonceCount,
  isDigestHex,
  parseDigestAlgorithm,
  parseNonceCount,
  utf8ToBinary,
} from './digest.js';

// RFC 7616 §3.9.1: user Mufasa, password "Circle of Life", realm http-auth@example.org.
const RFC7616 = Object.freeze({
  username: 'Mufasa',
  realm: 'http-auth@example.org',
  password: 'Circle of Life',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  nc: '00000001',
  method: 'GET',
  uri: '/dir/index.html',
});

// RFC 2617 §3.5: user Mufasa, password "Circle Of Life", realm testrealm@host.com.
const RFC2617 = Object.freeze({
  username: 'Mufasa',
  realm: 'testrealm@host.com',
  password: 'Circle Of Life',
  nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
  cnonce: '0a4f113b',
  nc: '00000001',
  method: 'GET',
  uri: '/dir/index.html',
});

const h = (alg: string, s: string | Buffer): string => createHash(alg).update(s).digest('hex');

describe('computeResponse against published examples', () => {
  test('RFC 7616 §3.9.1, MD5, qop=auth', () => {
    const ha1 = computeHa1('MD5', RFC7616.username, RFC7616.realm, RFC7616.password);
    const response = computeResponse({ algorithm: 'MD5', ha1, qop: 'auth', ...RFC7616 });
    assert.equal(response, '8ca523f5e9506fed4657c9700eebdbec');
  });

  test('RFC 7616 §3.9.1, SHA-256, qop=auth', () => {
    const ha1 = computeHa1('SHA-256', RFC7616.username, RFC7616.realm, RFC7616.password);
    const response = computeResponse({ algorithm: 'SHA-256', ha1, qop: 'auth', ...RFC7616 });
    assert.equal(response, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  test('RFC 2617 §3.5 classic example, MD5, qop=auth', () => {
    const ha1 = computeHa1('MD5', RFC2617.username, RFC2617.realm, RFC2617.password);
    const response = computeResponse({ algorithm: 'MD5', ha1, qop: 'auth', ...RFC2617 });
    assert.equal(response, '6629fae49393a05397450978507c4ef1');
  });

  test('RFC 2069 form (no qop), value as corrected by the RFC 2069 erratum', () => {
    const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'CircleOfLife');
    const response = computeResponse({
      algorithm: 'MD5',
      ha1,
      nonce: RFC2617.nonce,
      method: 'GET',
      uri: '/dir/index.html',
    });
    assert.equal(response, '1949323746fe6a43ef61f9606e7febea');
  });

  test('SHA-512-256 is SHA-512/256 (FIPS 180-4 "abc" vector), not truncated SHA-512', () => {
    assert.equal(digestHash('SHA-512-256', 'abc'), '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');
    assert.notEqual(digestHash('SHA-512-256', 'abc'), h('sha512', 'abc').slice(0, 64));
  });
});

describe('computeResponse formulas', () => {
  const ha1 = computeHa1('SHA-512-256', 'alice', 'example.com', 'pw');

  test('-sess: HA1 replaced by H(HA1:nonce:cnonce) (RFC 7616 §3.4.2)', () => {
    const sessHa1 = h('sha512-256', `${ha1}:N:C`);
    assert.equal(computeSessionHa1('SHA-512-256-sess', ha1, 'N', 'C'), sessHa1);
    const ha2 = h('sha512-256', 'REGISTER:sip:example.com');
    const expected = h('sha512-256', `${sessHa1}:N:00000002:C:auth:${ha2}`);
    const got = computeResponse({
      algorithm: 'SHA-512-256-sess',
      ha1,
      nonce: 'N',
      cnonce: 'C',
      nc: '00000002',
      qop: 'auth',
      method: 'REGISTER',
      uri: 'sip:example.com',
    });
    assert.equal(got, expected);
  });

  test('auth-int: HA2 = H(method:uri:H(body)); no body means H("") (RFC 3261 §22.4)', () => {
    const body = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n';
    const base = { algorithm: 'MD5', ha1: 'x'.repeat(32), nonce: 'N', cnonce: 'C', nc: '00000001', qop: 'auth-int', method: 'INVITE', uri: 'sip:b@x' } as const;
    const ha2 = h('md5', `INVITE:sip:b@x:${h('md5', body)}`);
    assert.equal(computeResponse({ ...base, body }), h('md5', `${'x'.repeat(32)}:N:00000001:C:auth-int:${ha2}`));
    assert.equal(computeResponse({ ...base, body: Buffer.from(body, 'latin1') }), computeResponse({ ...base, body }));
    const emptyHa2 = h('md5', `INVITE:sip:b@x:${h('md5', '')}`);
    assert.equal(computeResponse(base), h('md5', `${'x'.repeat(32)}:N:00000001:C:auth-int:${emptyHa2}`));
  });

  test('missing nc/cnonce with qop, or cnonce with -sess, is a RangeError', () => {
    assert.throws(() => computeResponse({ algorithm: 'MD5', ha1, nonce: 'N', qop: 'auth', method: 'A', uri: 'u' }), RangeError);
    assert.throws(() => computeResponse({ algorithm: 'MD5-sess', ha1, nonce: 'N', method: 'A', uri: 'u' }), RangeError);
  });

  test('binary strings hash as octets; Unicode must be converted explicitly', () => {
    const name = 'Jäsøn';
    assert.equal(
      computeHa1('SHA-256', utf8ToBinary(name), 'r', 'p'),
      h('sha256', Buffer.from(`${name}:r:p`, 'utf8')),
    );
    assert.throws(() => computeHa1('SHA-256', 'x', 'r', 'pass€'), RangeError);
  });
});

describe('helpers', () => {
  test('parseDigestAlgorithm: absent is MD5, case-insensitive, unknown is undefined', () => {
    assert.equal(parseDigestAlgorithm(undefined), 'MD5');
    assert.equal(parseDigestAlgorithm('sha-256'), 'SHA-256');
    assert.equal(parseDigestAlgorithm('Sha-512-256-Sess'), 'SHA-512-256-sess');
    assert.equal(parseDigestAlgorithm('SHA-1'), undefined);
    assert.equal(parseDigestAlgorithm(''), undefined);
  });

  test('strength ranks SHA-512-256 > SHA-256 > MD5, sess with its hash', () => {
    assert.ok(algorithmStrength('SHA-512-256') > algorithmStrength('SHA-256'));
    assert.ok(algorithmStrength('SHA-256') > algorithmStrength('MD5-sess'));
    assert.equal(algorithmStrength('SHA-256-sess'), algorithmStrength('SHA-256'));
    assert.equal(baseAlgorithm('MD5-sess'), 'MD5');
  });

  test('nonce counts are 8 lower-case hex digits', () => {
    assert.equal(formatNonceCount(1), '00000001');
    assert.equal(formatNonceCount(0xabc), '00000abc');
    assert.throws(() => formatNonceCount(0), RangeError);
    assert.throws(() => formatNonceCount(2 ** 32), RangeError);
    assert.equal(parseNonceCount('0000000A'), 10);
    assert.equal(parseNonceCount('1'), undefined);
    assert.equal(parseNonceCount('0000000g'), undefined);
    assert.equal(parseNonceCount('+0000001'), undefined);
  });

  test('isDigestHex checks length per hash', () => {
    assert.ok(isDigestHex('MD5', 'a'.repeat(32)));
    assert.ok(!isDigestHex('SHA-256', 'a'.repeat(32)));
    assert.ok(isDigestHex('SHA-512-256-sess', '0'.repeat(64)));
    assert.ok(!isDigestHex('MD5', 'A'.repeat(32)));
  });

  test('digestEquals compares hex case-insensitively on the received side and any length', () => {
    assert.ok(digestEquals('abcd', 'ABCD'));
    assert.ok(!digestEquals('abcd', 'abce'));
    assert.ok(!digestEquals('abcd', 'abc'));
    assert.ok(!digestEquals('abcd', ''));
  });
});
