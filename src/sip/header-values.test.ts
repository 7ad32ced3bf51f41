import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatNameAddr,
  formatVia,
  paramValue,
  parseContactList,
  parseCSeq,
  parseDecimal,
  parseNameAddr,
  parseVia,
  parseViaList,
  tagOf,
  viaBranch,
  WILDCARD_CONTACT,
  withParam,
} from './header-values.js';
import { SipParseError } from './errors.js';
import { isSipUri } from './uri.js';

const rejects = (fn: () => unknown): void => {
  assert.throws(fn, (e: unknown) => e instanceof SipParseError && e.status === 400);
};

test('Via: LWS around slashes and params, IPv6 sent-by, received/rport', () => {
  const v = parseVia('SIP  /   2.0  /  UDP   [2001:db8::9]:5070 ; branch = z9hG4bK1 ;rport; received=2001:db8::9:255');
  assert.equal(v.transport, 'UDP');
  assert.equal(v.host, '[2001:db8::9]');
  assert.equal(v.port, 5070);
  assert.equal(viaBranch(v), 'z9hG4bK1');
  assert.equal(paramValue(v.params, 'rport'), null);
  assert.equal(paramValue(v.params, 'received'), '2001:db8::9:255');
  assert.equal(formatVia(v), 'SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bK1;rport;received=2001:db8::9:255');
  assert.equal(parseViaList('SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b:5061').length, 2);
});

test('Via: malformed values are 400', () => {
  rejects(() => parseVia('SIP/2.0/UDP 192.0.2.15;;,;,,'));
  rejects(() => parseViaList('SIP/2.0/UDP a,,'));
  rejects(() => parseVia('SIP/2.0 a'));
  rejects(() => parseVia('SIP/2.0/UDP a:99999'));
  rejects(() => parseVia('SIP/2.0/UDP a:'));
  rejects(() => parseVia('SIP/2.0/UDP a;branch'));
  rejects(() => parseVia('SIP/2.0/UDP a;rport=abc'));
  rejects(() => parseVia('SIP/2.0/UDP [2001:db8::1'));
  rejects(() => parseVia('SIP/2.0/UDP ho st'));
});

test('name-addr: quoted and token display names, no LWS before <, addr-spec params belong to the header', () => {
  const quoted = parseNameAddr('"Alice \\"A\\" Smith" <sip:alice@example.com;transport=tcp>;tag=1');
  assert.equal(quoted.displayName, 'Alice "A" Smith');
  assert.equal(tagOf(quoted), '1');
  assert.ok(isSipUri(quoted.uri) && quoted.uri.params.length === 1);
  assert.equal(formatNameAddr(quoted), '"Alice \\"A\\" Smith" <sip:alice@example.com;transport=tcp>;tag=1');
  const tokens = parseNameAddr('Bob  Jones <sip:bob@example.com>');
  assert.equal(tokens.displayName, 'Bob  Jones');
  assert.equal(parseNameAddr('"caller"<sip:caller@example.com>;tag=2').displayName, 'caller');
  const bare = parseNameAddr('sip:carol@example.com;tag=3;unknownparam');
  assert.equal(bare.bracketed, false);
  assert.ok(isSipUri(bare.uri) && bare.uri.params.length === 0);
  assert.deepEqual(bare.params.map((p) => p.name), ['tag', 'unknownparam']);
  assert.equal(formatNameAddr({ ...bare, params: withParam(bare.params, 'tag', '4') }), '<sip:carol@example.com>;tag=4;unknownparam');
  const other = parseNameAddr('<http://www.example.com>;tag=5');
  assert.equal(other.uri.scheme, 'http');
});

test('name-addr: malformed values are 400', () => {
  rejects(() => parseNameAddr('"Mr. J. User <sip:j.user@example.com>'));
  rejects(() => parseNameAddr('Bell, Alexander <sip:a.g.bell@example.com>'));
  rejects(() => parseNameAddr('"Watson" < sip:t.watson@example.org >'));
  rejects(() => parseNameAddr('sip:user@example.com?Route=%3Csip:sip.example.com%3E'));
  rejects(() => parseNameAddr('<sip:user@example.com'));
  rejects(() => parseNameAddr('<sip:user@example.com>;;'));
  rejects(() => parseNameAddr('<>'));
});

test('Contact: wildcard, expires and q; bad values are 400', () => {
  assert.equal(parseContactList(' * '), WILDCARD_CONTACT);
  const list = parseContactList('<sip:a@192.0.2.1>;expires=60;q=0.5, "B" <sip:b@192.0.2.2>;+sip.instance="<urn:uuid:1>";reg-id=1');
  assert.ok(list !== WILDCARD_CONTACT);
  assert.equal(list[0]!.expires, 60);
  assert.equal(list[0]!.q, 0.5);
  assert.equal(paramValue(list[1]!.params, '+sip.instance'), '<urn:uuid:1>');
  assert.equal(paramValue(list[1]!.params, 'reg-id'), '1');
  const huge = parseContactList('<sip:a@b>;expires=99999999999999999999');
  assert.ok(huge !== WILDCARD_CONTACT && huge[0]!.expires === 2 ** 32 - 1);
  rejects(() => parseContactList('<sip:a@b>;expires=-1'));
  rejects(() => parseContactList('<sip:a@b>;q=1.5'));
  rejects(() => parseContactList('<sip:a@b>;;'));
});

test('CSeq: leading zeros, LWS, range and method', () => {
  assert.deepEqual(parseCSeq('0009\r\n  INVITE'.replace('\r\n', '')), { seq: 9, method: 'INVITE' });
  assert.deepEqual(parseCSeq('4294967295 ACK'), { seq: 4294967295, method: 'ACK' });
  rejects(() => parseCSeq('4294967296 ACK'));
  rejects(() => parseCSeq('1INVITE'));
  rejects(() => parseCSeq('1 INVITE extra'));
  rejects(() => parseCSeq(' INVITE'));
});

test('decimal scalars clamp instead of wrapping', () => {
  assert.equal(parseDecimal('0068', 'max-forwards', 255), 68);
  assert.equal(parseDecimal('300', 'max-forwards', 255), 255);
  assert.equal(parseDecimal('18446744073709551616', 'expires'), 0xffffffff);
  rejects(() => parseDecimal('-1', 'expires'));
  rejects(() => parseDecimal('', 'expires'));
});
