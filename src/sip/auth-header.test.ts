import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_AUTH_PARAM_VALUE_LENGTH, authParam, formatAuthHeader, parseAuthHeader } from './auth-header.js';
import type { AuthHeaderValue } from './auth-header.js';
import { SipParseError } from './errors.js';

function rejects(text: string, pattern?: RegExp, header?: string): void {
  assert.throws(
    () => parseAuthHeader(text),
    (err: unknown) => {
      assert.ok(err instanceof SipParseError, `expected SipParseError, got ${String(err)}`);
      assert.equal(err.kind, 'header-value');
      assert.equal(err.status, 400);
      assert.equal(err.details.header, header ?? 'authorization');
      if (pattern !== undefined) assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('parseAuthHeader', () => {
  test('RFC 3261 §22.4-style Digest credentials', () => {
    const v = parseAuthHeader(
      'Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
        'uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", ' +
        'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    assert.equal(v.scheme, 'Digest');
    assert.equal(v.unparsed, undefined);
    assert.deepEqual(
      v.params.map((p) => [p.name, p.value, p.quoted]),
      [
        ['username', 'bob', true],
        ['realm', 'biloxi.com', true],
        ['nonce', 'dcd98b7102dd2f0e8b11d0f600bfb0c093', true],
        ['uri', 'sip:bob@biloxi.com', true],
        ['qop', 'auth', false],
        ['nc', '00000001', false],
        ['cnonce', '0a4f113b', true],
        ['response', '6629fae49393a05397450978507c4ef1', true],
        ['opaque', '5ccc069c403ebaf9f0171e9517f40e41', true],
      ],
    );
  });

  test('commas inside quoted strings do not split parameters', () => {
    const v = parseAuthHeader('Digest realm="a, b", qop="auth,auth-int", nonce="n"');
    assert.equal(authParam(v, 'realm'), 'a, b');
    assert.equal(authParam(v, 'qop'), 'auth,auth-int');
    assert.equal(v.params.length, 3);
  });

  test('quoted-pairs are unescaped', () => {
    const v = parseAuthHeader('Digest nonce="x\\"y", realm="back\\\\slash", opaque="\\a\\,b"');
    assert.equal(authParam(v, 'nonce'), 'x"y');
    assert.equal(authParam(v, 'realm'), 'back\\slash');
    assert.equal(authParam(v, 'opaque'), 'a,b');
  });

  test('an escaped quote followed by a comma stays inside the value', () => {
    const v = parseAuthHeader('Digest nonce="x\\", realm=evil", realm2=ok');
    assert.equal(authParam(v, 'nonce'), 'x", realm=evil');
    assert.equal(authParam(v, 'realm'), undefined);
    assert.equal(authParam(v, 'realm2'), 'ok');
  });

  test('LWS around "=" and ",", tabs, leading and trailing blanks', () => {
    const v = parseAuthHeader(' \tDigest \t realm =\t"r" ,nonce= "n"\t,  algorithm = MD5 \t');
    assert.deepEqual(
      v.params.map((p) => [p.name, p.value]),
      [
        ['realm', 'r'],
        ['nonce', 'n'],
        ['algorithm', 'MD5'],
      ],
    );
  });

  test('scheme and parameter names keep their case; lookups ignore it', () => {
    const v = parseAuthHeader('dIgEsT ReAlM="r"');
    assert.equal(v.scheme, 'dIgEsT');
    assert.equal(v.params[0]?.name, 'ReAlM');
    assert.equal(authParam(v, 'realm'), 'r');
    assert.equal(authParam(v, 'REALM'), 'r');
    assert.equal(authParam(v, 'nonce'), undefined);
  });

  test('RFC 4475 §3.1.2.x regaut01: unknown scheme with params', () => {
    const v = parseAuthHeader('NoOneKnowsThisScheme opaque-data=here');
    assert.equal(v.scheme, 'NoOneKnowsThisScheme');
    assert.deepEqual(v.params, [{ name: 'opaque-data', value: 'here', quoted: false }]);
  });

  test('token68 (Basic) and other non-param text of unknown schemes is kept verbatim', () => {
    assert.deepEqual(parseAuthHeader('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='), {
      scheme: 'Basic',
      params: [],
      unparsed: 'QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
    });
    assert.deepEqual(parseAuthHeader('Weird some free text; x'), { scheme: 'Weird', params: [], unparsed: 'some free text; x' });
    assert.deepEqual(parseAuthHeader('Bearer'), { scheme: 'Bearer', params: [] });
  });

  test('bare values may hold URI and base64 characters', () => {
    const v = parseAuthHeader('Digest uri=sip:bob@biloxi.com;transport=tcp, cnonce=Zm9v/+=');
    assert.equal(authParam(v, 'uri'), 'sip:bob@biloxi.com;transport=tcp');
    assert.equal(authParam(v, 'cnonce'), 'Zm9v/+=');
  });

  test('octets above 0x7F (UTF-8 as a binary string) pass through quoted strings', () => {
    const utf8 = Buffer.from('Jäsøn Doe', 'utf8').toString('latin1');
    const v = parseAuthHeader(`Digest username="${utf8}"`);
    assert.equal(authParam(v, 'username'), utf8);
  });

  test('empty quoted string is a value', () => {
    assert.equal(authParam(parseAuthHeader('Digest opaque=""'), 'opaque'), '');
  });

  test('duplicate parameter names are refused, case-insensitively (G27)', () => {
    rejects('Digest realm="a", realm="b"', /duplicate/);
    rejects('Digest realm="a", REALM="a"', /duplicate/);
    rejects('Other x=1, X=2', /duplicate/);
  });

  test('NUL, control characters and DEL are refused, quoted or not (G27)', () => {
    rejects('Digest realm="a\0b"', /NUL/);
    rejects('Digest realm=a\0b', /NUL/);
    rejects('Digest realm="a\\\0b"', /NUL/);
    rejects('Digest realm="a\r\nb"', /control/);
    rejects('Digest realm="a\x1bb"', /control/);
    rejects('Digest realm="a\x7fb"', /control/);
    rejects('Basic abc\x01', /control/);
  });

  test('chars above 0xFF are refused (not a binary string)', () => {
    rejects('Digest realm="€"', /binary/);
  });

  test('unterminated quoted strings are refused', () => {
    rejects('Digest realm="abc', /unterminated/);
    rejects('Digest realm="abc\\"', /unterminated/);
    rejects('Digest realm="abc\\', /unterminated/);
    rejects('Other realm="abc', /unterminated/);
  });

  test('values are limited to 1024 octets after unescaping', () => {
    const max = 'a'.repeat(MAX_AUTH_PARAM_VALUE_LENGTH);
    assert.equal(authParam(parseAuthHeader(`Digest nonce="${max}"`), 'nonce'), max);
    assert.equal(authParam(parseAuthHeader(`Digest nonce=${max}`), 'nonce'), max);
    // 1024 escaped chars are 2048 on the wire but 1024 octets of value.
    const escaped = '\\a'.repeat(MAX_AUTH_PARAM_VALUE_LENGTH);
    assert.equal(authParam(parseAuthHeader(`Digest nonce="${escaped}"`), 'nonce'), max);
    rejects(`Digest nonce="${max}a"`, /longer than 1024/);
    rejects(`Digest nonce=${max}a`, /longer than 1024/);
    rejects(`Digest nonce="${max}a`, /longer than 1024/);
    rejects(`Digest nonce="${'\\"'.repeat(2000)}"`, /longer than 1024/);
  });

  test('malformed Digest parameter lists are refused', () => {
    rejects('Digest realm', /expected "="/);
    rejects('Digest realm=', /no value/);
    rejects('Digest realm="a" nonce="b"', /expected ","/);
    rejects('Digest realm="a"x', /expected ","/);
    rejects('Digest realm="a",', /trailing comma/);
    rejects('Digest realm="a",, nonce="b"', /parameter name/);
    rejects('Digest ,realm="a"', /parameter name/);
    rejects('Digest "realm"="a"', /parameter name/);
    rejects('Digest abc', /expected "="/);
  });

  test('a missing or malformed scheme is refused', () => {
    rejects('', /no scheme/);
    rejects('   ', /no scheme/);
    rejects('"Digest" realm="a"', /no scheme/);
    rejects('Digest,realm="a"', /not a token/);
  });

  test('the header named in the error follows the caller', () => {
    assert.throws(
      () => parseAuthHeader('Digest realm="a', 'proxy-authenticate'),
      (err: unknown) => err instanceof SipParseError && err.details.header === 'proxy-authenticate' && err.reason === 'Bad Request (proxy-authenticate)',
    );
  });

  test('many parameters and long quoted runs parse in one pass', () => {
    const params = Array.from({ length: 5000 }, (_, i) => `p${i}="v, ${i}"`).join(', ');
    const v = parseAuthHeader(`Other ${params}`);
    assert.equal(v.params.length, 5000);
    assert.equal(authParam(v, 'p4999'), 'v, 4999');
    // A long run of backslashes is bounded by the value limit rather than rescanned.
    rejects(`Digest nonce="${'\\'.repeat(200_000)}`, /longer than 1024|unterminated/);
  });
});

describe('formatAuthHeader', () => {
  const canonical = [
    'Digest realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e", algorithm=SHA-256, qop="auth,auth-int"',
    'Digest username="Mufasa", realm="a, b", nonce="x\\"y", uri="sip:bob@biloxi.com", response="0123", nc=00000001',
    'NoOneKnowsThisScheme opaque-data=here',
    'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
    'Digest',
  ];
  for (const text of canonical) {
    test(`round-trips ${text.slice(0, 40)}…`, () => {
      assert.equal(formatAuthHeader(parseAuthHeader(text)), text);
      const reparsed = parseAuthHeader(formatAuthHeader(parseAuthHeader(text)));
      assert.deepEqual(reparsed, parseAuthHeader(text));
    });
  }

  test('normalises LWS and escapes quotes and backslashes', () => {
    assert.equal(
      formatAuthHeader(parseAuthHeader('Digest  realm = "a\\"b\\\\c" ,qop=auth')),
      'Digest realm="a\\"b\\\\c", qop=auth',
    );
  });

  test('quotes an "unquoted" value that is not a token, so it parses back the same', () => {
    const value: AuthHeaderValue = {
      scheme: 'Digest',
      params: [
        { name: 'a', value: 'x y', quoted: false },
        { name: 'b', value: '', quoted: false },
        { name: 'c', value: 'sip:x@y', quoted: false },
      ],
    };
    const text = formatAuthHeader(value);
    assert.equal(text, 'Digest a="x y", b="", c="sip:x@y"');
    assert.deepEqual(
      parseAuthHeader(text).params.map((p) => p.value),
      ['x y', '', 'sip:x@y'],
    );
  });

  test('refuses what cannot go on the wire (header injection)', () => {
    const bad = (value: AuthHeaderValue): void => assert.throws(() => formatAuthHeader(value), TypeError);
    bad({ scheme: 'Digest', params: [{ name: 'realm', value: 'a\r\nVia: x', quoted: true }] });
    bad({ scheme: 'Digest', params: [{ name: 'realm', value: 'a\0', quoted: true }] });
    bad({ scheme: 'Digest', params: [{ name: 'realm', value: '€', quoted: true }] });
    bad({ scheme: 'Digest', params: [{ name: 're alm', value: 'a', quoted: true }] });
    bad({ scheme: 'Dig est', params: [] });
    bad({ scheme: 'Basic', params: [], unparsed: 'a\nb' });
    bad({ scheme: 'Basic', params: [{ name: 'a', value: 'b', quoted: false }], unparsed: 'x' });
  });
});
