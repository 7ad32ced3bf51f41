import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError } from './errors.js';
import {
  formatUri,
  hostPort,
  isIpv4Address,
  isIpv6Reference,
  isSipUri,
  parseSipUri,
  parseUri,
  unescapeUriComponent,
  uriEquals,
  uriParam,
} from './uri.js';
import type { AbsoluteUri, SipUri, TelUri, Uri } from './uri.js';

function sip(text: string): SipUri {
  return parseSipUri(text);
}

function tel(text: string): TelUri {
  const uri = parseUri(text);
  assert.equal(uri.scheme, 'tel');
  return uri as TelUri;
}

function rejects(text: string, why?: RegExp): void {
  assert.throws(
    () => parseUri(text),
    (error: unknown) => {
      assert.ok(error instanceof SipParseError, `${JSON.stringify(text)} threw a non-SipParseError`);
      assert.equal(error.kind, 'uri');
      assert.equal(error.status, 400);
      if (why !== undefined) assert.match(error.message, why);
      return true;
    },
    `${JSON.stringify(text)} was accepted`,
  );
}

function equal(a: string, b: string): boolean {
  const x = parseUri(a);
  const y = parseUri(b);
  const forward = uriEquals(x, y);
  assert.equal(uriEquals(y, x), forward, `uriEquals is not symmetric for ${a} / ${b}`);
  return forward;
}

describe('scheme', () => {
  test('sip, sips and tel are matched without regard to case and kept in lower case', () => {
    assert.equal(sip('SIP:alice@atlanta.com').scheme, 'sip');
    assert.equal(sip('SiPs:alice@atlanta.com').scheme, 'sips');
    assert.equal(parseUri('TEL:+12015550123').scheme, 'tel');
    // the spelling on the wire still round-trips
    assert.equal(formatUri(parseUri('SIP:alice@atlanta.com')), 'SIP:alice@atlanta.com');
    assert.equal(formatUri(parseUri('TEL:+12015550123')), 'TEL:+12015550123');
  });

  test('an invalid scheme or a missing ":" is an error', () => {
    for (const text of ['', ':x', '1sip:a@b', 'si_p:a@b', 'sip', 'sip@host', '<sip:user@example.com>', ' sip:a@b', 'sip :a@b']) {
      rejects(text);
    }
  });

  test('parseSipUri refuses other schemes', () => {
    assert.throws(() => parseSipUri('tel:+12015550123'), SipParseError);
    assert.throws(() => parseSipUri('http://www.example.com'), SipParseError);
    assert.throws(() => parseSipUri('sipx:a@b'), SipParseError);
  });
});

describe('userinfo', () => {
  test('a user part may hold ";" (RFC 4475 semiuri)', () => {
    const uri = sip('sip:user;par=u%40example.net@example.com');
    assert.equal(uri.user, 'user;par=u%40example.net');
    assert.equal(uri.host, 'example.com');
    assert.deepEqual(uri.params, []);
  });

  test('escaped "@" and ":" in the user are user text (RFC 4475 esc01)', () => {
    const uri = sip('sip:sips%3Auser%40example.com@example.net');
    assert.equal(uri.user, 'sips%3Auser%40example.com');
    assert.equal(uri.password, null);
    assert.equal(uri.host, 'example.net');
    assert.equal(unescapeUriComponent(uri.user ?? ''), 'sips:user@example.com');
  });

  test('a second unescaped "@" is rejected', () => {
    rejects('sips:user@example.com@example.net', /"@"/);
    rejects('sip:example.com;x=a@b@c');
  });

  test('%00 is kept escaped and does not truncate (RFC 4475 escnull)', () => {
    const uri = sip('sip:null-%00-null@example.com');
    assert.equal(uri.user, 'null-%00-null');
    assert.equal(unescapeUriComponent(uri.user ?? ''), 'null-\u0000-null');
    assert.equal(sip('sip:%00%00@host5.example.com').user, '%00%00');
  });

  test('escapes (RFC 4475 esc01 To and From)', () => {
    assert.equal(unescapeUriComponent(sip('sip:%75se%72@example.com').user ?? ''), 'user');
    assert.equal(unescapeUriComponent(sip('sip:I%20have%20spaces@example.net').user ?? ''), 'I have spaces');
  });

  test('password after ":"', () => {
    const uri = sip('sip:alice:secretword@atlanta.com;transport=tcp');
    assert.equal(uri.user, 'alice');
    assert.equal(uri.password, 'secretword');
    assert.equal(sip('sip:alice:@atlanta.com').password, '');
    assert.equal(sip('sip:+1-212-555-1212:1234@gateway.com;user=phone').password, '1234');
  });

  test('bad userinfo is rejected', () => {
    rejects('sip:@example.com', /empty user/);
    rejects('sip::pw@example.com', /empty user/);
    rejects('sip:a:b;c@example.com', /password/);
    rejects('sip:a:b:c@example.com', /password/);
    rejects('sip:a%4@example.com', /escape/);
    rejects('sip:a%zz@example.com', /escape/);
    rejects('sip:a b@example.com', /whitespace/);
  });
});

describe('host', () => {
  test('host names and IPv4 addresses', () => {
    assert.equal(sip('sip:alice@atlanta.com').host, 'atlanta.com');
    assert.equal(sip('sip:alice@AtLanTa.CoM').host, 'AtLanTa.CoM');
    assert.equal(sip('sip:alice@atlanta.com.').host, 'atlanta.com.');
    assert.equal(sip('sip:alice@hyphenated-host.example.com').host, 'hyphenated-host.example.com');
    assert.equal(sip('sip:alice@localhost').host, 'localhost');
    assert.equal(sip('sip:alice@192.0.2.4').host, '192.0.2.4');
    assert.equal(sip('sip:192.0.2.4:5060').port, 5060);
  });

  test('bad host names are rejected', () => {
    for (const host of ['-a.com', 'a-.com', 'a..com', '.com', 'example.123', '256.0.0.1', '1.2.3', '1.2.3.4.5', 'a_b.com', 'ex%41mple.com']) {
      rejects(`sip:user@${host}`);
    }
  });

  test('IPv6 references keep their brackets (RFC 5118 ipv6-good, ipv6-in-sdp)', () => {
    assert.equal(sip('sip:[2001:db8::10]').host, '[2001:db8::10]');
    assert.equal(sip('sip:caller@[2001:db8::1]').host, '[2001:db8::1]');
    assert.equal(sip('sip:user@[2001:db8::192.0.2.1]').host, '[2001:db8::192.0.2.1]');
    assert.equal(sip('sip:[1:2:3:4:5:6:7:8]').host, '[1:2:3:4:5:6:7:8]');
    assert.equal(sip('sip:[::1]').host, '[::1]');
    assert.equal(sip('sip:[::]').host, '[::]');
  });

  test('a port inside the brackets is part of the address (RFC 5118 port-ambiguous, port-unambiguous)', () => {
    const ambiguous = sip('sip:[2001:db8::10:5070]');
    assert.equal(ambiguous.host, '[2001:db8::10:5070]');
    assert.equal(ambiguous.port, null);
    const unambiguous = sip('sip:[2001:db8::10]:5070');
    assert.equal(unambiguous.host, '[2001:db8::10]');
    assert.equal(unambiguous.port, 5070);
  });

  test('an IPv6 address without brackets is rejected (RFC 5118 ipv6-bad)', () => {
    rejects('sip:2001:db8::10');
    rejects('sip:user@2001:db8::10');
  });

  test('three colons before an IPv4 tail are tolerated (RFC 5118 §4.10)', () => {
    assert.equal(sip('sip:user@[2001:db8:::192.0.2.1]').host, '[2001:db8:::192.0.2.1]');
    assert.equal(sip('sip:[:::192.0.2.1]').host, '[:::192.0.2.1]');
    assert.ok(equal('sip:user@[2001:db8:::192.0.2.1]', 'sip:user@[2001:db8::192.0.2.1]'));
    rejects('sip:[2001:db8:::1]'); // only before an IPv4 tail
  });

  test('IPv4-mapped IPv6 (RFC 5118 ipv4-mapped-ipv6)', () => {
    assert.equal(sip('sip:ted@[::ffff:192.0.2.2]').host, '[::ffff:192.0.2.2]');
    assert.equal(sip('sip:[::ffff:192.0.2.10]:19823').port, 19823);
  });

  test('malformed IPv6 and unbalanced brackets are rejected', () => {
    for (const text of [
      'sip:[2001:db8::10',
      'sip:2001:db8::10]',
      'sip:user@example.com]',
      'sip:[]',
      'sip:[:]',
      'sip:[1:2:3:4:5:6:7:8:9]',
      'sip:[1:2:3:4:5:6:7]',
      'sip:[1::2::3]',
      'sip:[12345::1]',
      'sip:[gggg::1]',
      'sip:[1:]',
      'sip:[::1]x',
      'sip:[::1]]',
      'sip:[[::1]]',
      'sip:[::ffff:192.0.2.256]',
      'sip:[1:2:3:4:5:6:7:192.0.2.1]',
      'sip:[fe80::1%25eth0]',
    ]) {
      rejects(text);
    }
  });

  test('empty host is rejected', () => {
    rejects('sip:', /empty host/);
    rejects('sip:user@', /empty host/);
    rejects('sip:user@:5060', /empty host/);
    rejects('sip:user@;lr', /empty host/);
    rejects('sip:;lr', /empty host/);
  });
});

describe('port', () => {
  test('0..65535', () => {
    assert.equal(sip('sip:a@b.com:0').port, 0);
    assert.equal(sip('sip:a@b.com:5060').port, 5060);
    assert.equal(sip('sip:a@b.com:65535').port, 65535);
    assert.equal(sip('sip:a@b.com').port, null);
  });

  test('leading zeros are legal and round-trip', () => {
    const uri = sip('sip:a@b.com:05060;lr');
    assert.equal(uri.port, 5060);
    assert.equal(formatUri(uri), 'sip:a@b.com:05060;lr');
  });

  test('out of range, too long, empty or non-numeric ports are rejected', () => {
    rejects('sip:a@b.com:65536', /port/);
    rejects('sip:a@b.com:123456', /port/);
    rejects('sip:a@b.com:000001', /port/);
    rejects('sip:a@b.com:', /port/);
    rejects('sip:a@b.com:;lr', /port/);
    rejects('sip:a@b.com:50a0');
    rejects('sip:a@b.com:-1', /port/);
    rejects('sip:a@b.com:5060:5060');
  });
});

describe('octets that a SIP URI may never hold', () => {
  test('whitespace, controls, NUL, DEL, raw octets >= 0x80, "<" and ">" anywhere', () => {
    const bad = [' ', '\t', '\r', '\n', '\r\n', '\u0000', '\u0001', '\u001f', '\u007f', '\u0080', '\u00e9', '\u00ff', '<', '>', '"'];
    const places = [
      (c: string) => `sip:us${c}er@example.com`,
      (c: string) => `sip:user:pa${c}ss@example.com`,
      (c: string) => `sip:user@exa${c}mple.com`,
      (c: string) => `sip:user@example.com:50${c}60`,
      (c: string) => `sip:user@example.com;tr${c}ansport=tcp`,
      (c: string) => `sip:user@example.com;transport=t${c}cp`,
      (c: string) => `sip:user@example.com?Sub${c}ject=x`,
      (c: string) => `sip:user@example.com?Subject=x${c}y`,
      (c: string) => `sip:user@example.com${c}`,
      (c: string) => `tel:+1201${c}5550123`,
      (c: string) => `tel:+12015550123;ext=1${c}2`,
      (c: string) => `http://www.exa${c}mple.com`,
    ];
    for (const place of places) for (const c of bad) rejects(place(c));
  });

  test('a Request-URI with whitespace before a parameter is rejected (RFC 4475 lwsruri)', () => {
    rejects('sip:user@example.com; lr');
    rejects('sip:user@example.com;', /empty URI parameter name/);
  });
});

describe('parameters', () => {
  test('values and flags, in order, names as written', () => {
    const uri = sip('sip:alice@atlanta.com;Transport=TCP;lr;maddr=239.255.255.1;ttl=15;user=phone;method=REGISTER');
    assert.deepEqual(uri.params, [
      { name: 'Transport', value: 'TCP' },
      { name: 'lr', value: null },
      { name: 'maddr', value: '239.255.255.1' },
      { name: 'ttl', value: '15' },
      { name: 'user', value: 'phone' },
      { name: 'method', value: 'REGISTER' },
    ]);
    assert.equal(uriParam(uri, 'transport'), 'TCP');
    assert.equal(uriParam(uri, 'TRANSPORT'), 'TCP');
    assert.equal(uriParam(uri, 'LR'), null);
    assert.equal(uriParam(uri, 'foo'), undefined);
  });

  test('param-unreserved characters and IPv6 maddr', () => {
    const uri = sip('sip:b.com;maddr=[2001:db8::1];x=/a:b&c+$d;y=%41');
    assert.equal(uriParam(uri, 'maddr'), '[2001:db8::1]');
    assert.equal(uriParam(uri, 'x'), '/a:b&c+$d');
    assert.equal(uriParam(uri, 'y'), '%41');
  });

  test('escaped names and values stay as written (RFC 4475 esc01 Contact)', () => {
    const uri = sip('sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31');
    assert.deepEqual(uri.params, [
      { name: '%6C%72', value: null },
      { name: 'n%61me', value: 'v%61lue%25%34%31' },
    ]);
    assert.equal(uriParam(uri, 'lr'), null);
    assert.equal(uriParam(uri, 'name'), 'v%61lue%25%34%31');
    // unescaped once: %25 gives "%", and "%41" is not decoded again
    assert.equal(unescapeUriComponent('v%61lue%25%34%31'), 'value%41');
  });

  test('contact-style unknown flag parameter (RFC 4475 cparam02)', () => {
    const uri = sip('sip:+19725552222@gw1.example.net;unknownparam');
    assert.equal(uri.user, '+19725552222');
    assert.equal(uriParam(uri, 'unknownparam'), null);
  });

  test('repeated names: the first wins', () => {
    assert.equal(uriParam(sip('sip:b.com;transport=tcp;transport=udp'), 'transport'), 'tcp');
  });

  test('empty names, empty values, ";;" and stray characters are rejected (RFC 4475 badinv01 style)', () => {
    rejects('sip:user@example.com;;lr', /empty URI parameter name/);
    rejects('sip:user@example.com;;;;');
    rejects('sip:user@example.com;=tcp', /empty URI parameter name/);
    rejects('sip:user@example.com;transport=', /empty URI parameter value/);
    rejects('sip:user@example.com;a=b=c');
    rejects('sip:user@example.com;a=b@c');
    rejects('sip:user@example.com;a=%G0');
    rejects('sip:user@example.com;a,b');
  });
});

describe('headers', () => {
  test('escaped headers stay escaped data inside the URI (RFC 4475 escruri, regescrt)', () => {
    const uri = sip('sip:user@example.com?Route=%3Csip:example.com%3E');
    assert.deepEqual(uri.headers, [{ name: 'Route', value: '%3Csip:example.com%3E' }]);
    assert.deepEqual(uri.params, []);
    assert.equal(formatUri(uri), 'sip:user@example.com?Route=%3Csip:example.com%3E');
    const crlf = sip('sip:user@example.com?Subject=a%0D%0AVia:%20x');
    assert.equal(crlf.headers[0]?.value, 'a%0D%0AVia:%20x');
  });

  test('several headers, empty values, and hnv-unreserved characters', () => {
    const uri = sip('sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com&Subject=&x=[a]/?:+$');
    assert.deepEqual(uri.headers, [
      { name: 'to', value: 'sip:bob%40biloxi.com' },
      { name: 'Subject', value: '' },
      { name: 'x', value: '[a]/?:+$' },
    ]);
  });

  test('malformed headers are rejected', () => {
    rejects('sip:user@example.com?', /header/);
    rejects('sip:user@example.com?Subject', /"="/);
    rejects('sip:user@example.com?=x', /header/);
    rejects('sip:user@example.com?a=b&', /header/);
    rejects('sip:user@example.com?a=b&&c=d', /header/);
    rejects('sip:user@example.com?a=b=c');
    rejects('sip:user@example.com?a=b;c');
    rejects('sip:user@example.com?a=b@c');
  });
});

describe('tel', () => {
  test('global number with parameters', () => {
    const uri = tel('tel:+1-201-555-0123;phone-context=example.com;ext=1234');
    assert.equal(uri.number, '+1-201-555-0123');
    assert.deepEqual(uri.params, [
      { name: 'phone-context', value: 'example.com' },
      { name: 'ext', value: '1234' },
    ]);
    assert.equal(uriParam(uri, 'Phone-Context'), 'example.com');
  });

  test('local numbers, isub, flags', () => {
    assert.equal(tel('tel:7042;phone-context=example.com').number, '7042');
    assert.equal(tel('tel:*21#;phone-context=+1-201').number, '*21#');
    assert.equal(tel('tel:(0)30.123;phone-context=+49').number, '(0)30.123');
    const isub = tel('tel:+1234;isub=a?b@c=d,e;flag');
    assert.deepEqual(isub.params, [
      { name: 'isub', value: 'a?b@c=d,e' },
      { name: 'flag', value: null },
    ]);
  });

  test('malformed tel URIs are rejected', () => {
    for (const text of ['tel:', 'tel:+', 'tel:+-', 'tel:+12a', 'tel:12 34', 'tel:12;', 'tel:12;;a', 'tel:12;=a', 'tel:12;a=', 'tel:12;a.b=c', 'tel:12;a=b c', 'tel:12@x']) {
      rejects(text);
    }
  });
});

describe('other schemes (absoluteURI)', () => {
  test('opaque values (RFC 4475 novelsc, unkscm, unksm2)', () => {
    const cases: readonly [string, string, string][] = [
      ['soap.beep://192.0.2.103:3002', 'soap.beep', '//192.0.2.103:3002'],
      ['nobodyKnowsThisScheme:totallyopaquecontent', 'nobodyknowsthisscheme', 'totallyopaquecontent'],
      ['http://www.example.com', 'http', '//www.example.com'],
      ['name:John_Smith', 'name', 'John_Smith'],
      ['isbn:2983792873', 'isbn', '2983792873'],
      ['mailto:alice@example.com?subject=hi', 'mailto', 'alice@example.com?subject=hi'],
      ['urn:service:sos', 'urn', 'service:sos'],
      ['im:a+b-c.d@example.com', 'im', 'a+b-c.d@example.com'],
    ];
    for (const [text, scheme, value] of cases) {
      const uri = parseUri(text);
      assert.equal(isSipUri(uri), false);
      assert.deepEqual(uri, { scheme, value });
      assert.equal(formatUri(uri), text);
    }
  });

  test('empty value or unsafe octets are rejected', () => {
    rejects('mailto:', /empty/);
    rejects('http://a b');
    rejects('http://a\u0000b');
    rejects('http://a\u00e9');
    rejects('http://a>');
  });
});

describe('formatUri', () => {
  const accepted = [
    'sip:alice@atlanta.com',
    'SIP:ALICE@AtLanTa.CoM;Transport=udp',
    'sips:alice:secretword@atlanta.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent',
    'sip:user;par=u%40example.net@example.com',
    'sip:sips%3Auser%40example.com@example.net',
    'sip:null-%00-null@example.com',
    'sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31',
    'sip:[2001:db8::10:5070]',
    'sip:[2001:db8::10]:5070',
    'sip:user@[2001:db8:::192.0.2.1]',
    'sip:ted@[::FFFF:192.0.2.2]',
    'sip:user@example.com?Route=%3Csip:example.com%3E',
    'sip:a@b.com:0',
    'sip:a@b.com:00',
    'sIpS:a@b.com:0007',
    'sip:alice:@atlanta.com',
    'sip:h?a=',
    'tel:+1-201-555-0123;phone-context=example.com',
    'Tel:7042;phone-context=example.com;flag',
    'soap.beep://192.0.2.103:3002',
    'HTTP://www.example.com',
  ];

  test('parse then format is byte-identical', () => {
    for (const text of accepted) assert.equal(formatUri(parseUri(text)), text);
  });

  test('a modified copy is formatted from its fields', () => {
    const uri = sip('SIP:alice@atlanta.com:05060');
    assert.equal(formatUri({ ...uri, port: 5070 }), 'sip:alice@atlanta.com:5070');
    assert.equal(formatUri({ ...uri, params: [{ name: 'lr', value: null }] }), 'sip:alice@atlanta.com:5060;lr');
  });

  test('built objects', () => {
    const built: SipUri = {
      scheme: 'sips',
      user: 'bob',
      password: null,
      host: '[2001:db8::1]',
      port: 5061,
      params: [
        { name: 'transport', value: 'tcp' },
        { name: 'lr', value: null },
      ],
      headers: [{ name: 'Subject', value: 'hi%20there' }],
    };
    assert.equal(formatUri(built), 'sips:bob@[2001:db8::1]:5061;transport=tcp;lr?Subject=hi%20there');
    const telUri: TelUri = { scheme: 'tel', number: '+12015550123', params: [] };
    assert.equal(formatUri(telUri), 'tel:+12015550123');
    const absolute: AbsoluteUri = { scheme: 'urn', value: 'service:sos' };
    assert.equal(formatUri(absolute), 'urn:service:sos');
  });

  test('fields that could inject header lines are refused (GUARANTEES G19)', () => {
    const base = sip('sip:bob@example.com');
    assert.throws(() => formatUri({ ...base, user: 'bob\r\nVia: x' }), TypeError);
    assert.throws(() => formatUri({ ...base, host: 'example.com>' }), TypeError);
    assert.throws(() => formatUri({ ...base, headers: [{ name: 'Subject', value: 'a b' }] }), TypeError);
    assert.throws(() => formatUri({ ...base, port: 70000 }), RangeError);
    assert.throws(() => formatUri({ ...base, port: 50.5 }), RangeError);
  });
});

describe('uriEquals (RFC 3261 §19.1.4)', () => {
  test('the RFC examples of equivalent URIs', () => {
    assert.ok(equal('sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'));
    assert.ok(equal('sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'));
    assert.ok(equal('sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'));
    assert.ok(equal('sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'));
    assert.ok(
      equal(
        'sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com',
        'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com',
      ),
    );
    assert.ok(
      equal(
        'sip:alice@atlanta.com?subject=project%20x&priority=urgent',
        'sip:alice@atlanta.com?priority=urgent&subject=project%20x',
      ),
    );
  });

  test('the RFC examples of URIs that are not equivalent', () => {
    assert.equal(equal('SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'), false);
    assert.equal(equal('sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'), false);
    assert.equal(equal('sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'), false);
    assert.equal(equal('sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'), false);
    assert.equal(equal('sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'), false);
    assert.equal(equal('sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'), false);
  });

  test('equality is not transitive (the RFC note)', () => {
    assert.ok(equal('sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'));
    assert.ok(equal('sip:carol@chicago.com', 'sip:carol@chicago.com;security=off'));
    assert.equal(equal('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'), false);
  });

  test('sip and sips are never equal', () => {
    assert.equal(equal('sip:alice@atlanta.com', 'sips:alice@atlanta.com'), false);
  });

  test('userinfo is case-sensitive after unescaping; other parts are not', () => {
    assert.ok(equal('sip:alice:Secret@atlanta.com', 'sip:%61lice:%53ecret@ATLANTA.com'));
    assert.equal(equal('sip:alice:Secret@atlanta.com', 'sip:alice:secret@atlanta.com'), false);
    assert.equal(equal('sip:alice:x@atlanta.com', 'sip:alice@atlanta.com'), false);
    assert.equal(equal('sip:alice@atlanta.com', 'sip:atlanta.com'), false);
    assert.ok(equal('sip:alice@atlanta.com', 'sip:alice@atlanta.com'));
    // %61 and %41 differ in case once decoded
    assert.equal(equal('sip:%61lice@atlanta.com', 'sip:%41lice@atlanta.com'), false);
    // hex digits of an escape are not case-sensitive
    assert.ok(equal('sip:a%3bb@atlanta.com', 'sip:a%3Bb@atlanta.com'));
  });

  test('an escaped reserved character is not the literal one', () => {
    assert.equal(equal('sip:a%3Bb@atlanta.com', 'sip:a;b@atlanta.com'), false);
    // decoding happens once: %253B is "%3B" as text, not ";" and not the escape %3B
    assert.equal(equal('sip:a%253Bb@atlanta.com', 'sip:a%3Bb@atlanta.com'), false);
    assert.equal(equal('sip:a%2541@atlanta.com', 'sip:aA@atlanta.com'), false);
  });

  test('user, ttl, method and maddr must match when present in either', () => {
    for (const param of ['user=phone', 'ttl=1', 'method=INVITE', 'maddr=192.0.2.1', 'transport=udp']) {
      assert.equal(equal('sip:b@example.com', `sip:b@example.com;${param}`), false, param);
      assert.ok(equal(`sip:b@example.com;${param}`, `sip:b@example.com;${param.toUpperCase()}`), param);
    }
    assert.equal(equal('sip:b@example.com;ttl=1', 'sip:b@example.com;ttl=2'), false);
    assert.ok(equal('sip:b@example.com;lr', 'sip:b@example.com'));
    assert.equal(equal('sip:b@example.com;lr', 'sip:b@example.com;lr=on'), false);
    assert.ok(equal('sip:b@example.com;%6C%72', 'sip:b@example.com;LR'));
  });

  test('headers: same set in any order, names case-insensitive, values exact', () => {
    assert.ok(equal('sip:a@b.com?Subject=x&To=y', 'sip:a@b.com?to=y&subject=x'));
    assert.ok(equal('sip:a@b.com?Subject=%78', 'sip:a@b.com?Subject=x'));
    assert.equal(equal('sip:a@b.com?Subject=x', 'sip:a@b.com?Subject=X'), false);
    assert.equal(equal('sip:a@b.com?Subject=x', 'sip:a@b.com?Subject=x&Subject=x'), false);
  });

  test('IPv6 hosts compare as addresses; IPv4 is not a host name', () => {
    assert.ok(equal('sip:[2001:DB8::1]', 'sip:[2001:db8:0::0001]'));
    assert.ok(equal('sip:[::ffff:192.0.2.10]', 'sip:[::ffff:c000:20a]'));
    assert.equal(equal('sip:[2001:db8::10]:5070', 'sip:[2001:db8::10:5070]'), false);
    assert.equal(equal('sip:[::1]', 'sip:[::2]'), false);
  });

  test('tel (RFC 3966 §4)', () => {
    assert.ok(equal('tel:+1-201-555-0123', 'tel:+12015550123'));
    assert.ok(equal('tel:+1-201-555-0123', 'TEL:+1.201.(555).0123'));
    assert.ok(equal('tel:7042;phone-context=EXAMPLE.com', 'tel:7042;Phone-Context=example.com'));
    assert.ok(equal('tel:7042;phone-context=+1-201', 'tel:7042;phone-context=+1201'));
    assert.ok(equal('tel:+1234;ext=1-2;x=a', 'tel:+1234;X=A;ext=12'));
    assert.ok(equal('tel:abc;phone-context=+1', 'tel:ABC;phone-context=+1'));
    assert.equal(equal('tel:+12015550123', 'tel:12015550123'), false);
    assert.equal(equal('tel:+12015550123', 'tel:+12015550124'), false);
    assert.equal(equal('tel:+1234;x=1', 'tel:+1234'), false);
    assert.equal(equal('tel:+1234;x=1', 'tel:+1234;x=2'), false);
  });

  test('other schemes compare exactly; different kinds never match', () => {
    assert.ok(equal('http://www.example.com', 'HTTP://www.example.com'));
    assert.equal(equal('http://www.example.com', 'http://WWW.example.com'), false);
    assert.equal(equal('sip:+12015550123@example.com;user=phone', 'tel:+12015550123'), false);
    assert.equal(equal('tel:+12015550123', 'urn:+12015550123'), false);
    const built: Uri = { scheme: 'tel', value: '+1' };
    assert.equal(uriEquals(built, parseUri('tel:+1')), false);
  });
});

describe('helpers', () => {
  test('unescapeUriComponent decodes once and leaves malformed escapes alone', () => {
    assert.equal(unescapeUriComponent('plain'), 'plain');
    assert.equal(unescapeUriComponent('%41%42c'), 'ABc');
    assert.equal(unescapeUriComponent('%2541'), '%41');
    assert.equal(unescapeUriComponent('%00'), '\u0000');
    assert.equal(unescapeUriComponent('%FF%e9'), '\u00ff\u00e9'); // octets, not UTF-8 decoding
    assert.equal(unescapeUriComponent('%C3%A9'), '\u00c3\u00a9');
    assert.equal(unescapeUriComponent('100%'), '100%');
    assert.equal(unescapeUriComponent('%4'), '%4');
    assert.equal(unescapeUriComponent('%zz%41'), '%zzA');
    assert.equal(unescapeUriComponent('%%41'), '%A');
  });

  test('hostPort drops IPv6 brackets', () => {
    assert.deepEqual(hostPort(sip('sip:[2001:db8::10]:5070')), { host: '2001:db8::10', port: 5070 });
    assert.deepEqual(hostPort(sip('sip:a@example.com')), { host: 'example.com', port: null });
    assert.deepEqual(hostPort(sip('sip:192.0.2.1:5060')), { host: '192.0.2.1', port: 5060 });
  });

  test('isIpv6Reference and isIpv4Address', () => {
    assert.ok(isIpv6Reference('[2001:db8::1]'));
    assert.ok(isIpv6Reference('[2001:db8:::192.0.2.1]'));
    assert.ok(isIpv6Reference('[::ffff:192.0.2.10]'));
    assert.equal(isIpv6Reference('2001:db8::1'), false);
    assert.equal(isIpv6Reference('[2001:db8::1'), false);
    assert.equal(isIpv6Reference('[]'), false);
    assert.equal(isIpv6Reference('[example.com]'), false);
    assert.ok(isIpv4Address('192.0.2.1'));
    assert.ok(isIpv4Address('0.0.0.0'));
    assert.ok(isIpv4Address('255.255.255.255'));
    for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.', '1.2.3.4.5', '1..2.3', 'a.b.c.d', '1234.1.1.1', '', '[::1]']) {
      assert.equal(isIpv4Address(bad), false, bad);
    }
  });

  test('isSipUri', () => {
    assert.ok(isSipUri(parseUri('sips:a@b.com')));
    assert.equal(isSipUri(parseUri('tel:+1')), false);
    assert.equal(isSipUri(parseUri('http://a')), false);
  });
});

describe('size and shape', () => {
  test('no internal limit; pathological inputs are handled in one pass', () => {
    const user = 'u'.repeat(1 << 20);
    assert.equal(sip(`sip:${user}@example.com`).user?.length, 1 << 20);
    const params = ';p'.repeat(100_000);
    assert.equal(sip(`sip:example.com${params}`).params.length, 100_000);
    const headers = '&h=v'.repeat(50_000);
    assert.equal(sip(`sip:example.com?a=b${headers}`).headers.length, 50_001);
    rejects(`sip:${'['.repeat(100_000)}`);
    rejects(`sip:${'@'.repeat(100_000)}`);
    rejects(`sip:${'a.'.repeat(100_000)}-`);
    rejects(`sip:[${':'.repeat(100_000)}]`);
    rejects(`sip:${'%4'.repeat(100_000)}@x`);
    assert.equal(unescapeUriComponent('%'.repeat(100_000)).length, 100_000);
  });
});
