import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, scanMessage } from './parser.js';
import { formatMessage } from './serializer.js';
import { SipParseError } from './errors.js';
import { DEFAULT_LIMITS, withLimits } from './limits.js';
import { isSipUri } from './uri.js';
import { tagOf, viaBranch } from './header-values.js';
import type { HeaderField } from './headers.js';

function msg(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1');
}

const INVITE = [
  'INVITE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@example.com>',
  'From: "Alice" <sip:alice@example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@192.0.2.1:5060>;expires=60',
  'Content-Type: application/sdp',
];

function parseError(bytes: Buffer): SipParseError {
  try {
    parseMessage(bytes);
  } catch (error) {
    assert.ok(error instanceof SipParseError, `expected SipParseError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a parse error');
}

test('parses a request with typed header access', () => {
  const body = 'v=0\r\n';
  const m = parseMessage(msg([...INVITE, `Content-Length: ${body.length}`], body));
  assert.equal(m.kind, 'request');
  if (m.kind !== 'request') return;
  assert.equal(m.method, 'INVITE');
  assert.equal(m.uri, 'sip:bob@example.com');
  assert.equal(m.via().length, 1);
  assert.equal(viaBranch(m.via()[0]!), 'z9hG4bK776asdhds');
  assert.equal(m.via()[0]!.port, 5060);
  assert.equal(m.from().displayName, 'Alice');
  assert.equal(tagOf(m.from()), '1928301774');
  assert.equal(tagOf(m.to()), undefined);
  assert.equal(m.callId(), 'a84b4c76e66710@pc33.example.com');
  assert.deepEqual(m.cseq(), { seq: 314159, method: 'INVITE' });
  assert.equal(m.maxForwards(), 70);
  assert.equal(m.body.toString(), body);
  const contacts = m.contacts();
  assert.ok(Array.isArray(contacts));
  assert.equal(contacts[0]!.expires, 60);
  const uri = m.requestUri();
  assert.ok(isSipUri(uri));
});

test('parses a response, including an empty reason phrase', () => {
  const lines = [
    'SIP/2.0 200 ',
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx',
    'To: <sip:bob@example.com>;tag=a',
    'From: <sip:alice@example.com>;tag=b',
    'Call-ID: x',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
  ];
  const m = parseMessage(msg(lines));
  assert.equal(m.kind, 'response');
  if (m.kind !== 'response') return;
  assert.equal(m.status, 200);
  assert.equal(m.reason, '');
});

test('compact forms and any case name the same header; order is kept', () => {
  const m = parseMessage(
    msg([
      'OPTIONS sip:a@example.com SIP/2.0',
      'v: SIP/2.0/UDP h1;branch=z9hG4bK1',
      'VIA: SIP/2.0/UDP h2;branch=z9hG4bK2, SIP/2.0/TCP h3;branch=z9hG4bK3',
      't: <sip:a@example.com>',
      'f: <sip:b@example.com>;tag=1',
      'i: cid',
      'cseq: 1 OPTIONS',
      'l: 0',
    ]),
  );
  assert.deepEqual(
    m.via().map((v) => v.host),
    ['h1', 'h2', 'h3'],
  );
  assert.equal(m.headers.get('Call-ID'), 'cid');
  assert.deepEqual(
    m.headers.all().map((f) => f.key),
    ['via', 'via', 'to', 'from', 'call-id', 'cseq', 'content-length'],
  );
});

test('folded values are unfolded for reading and kept byte for byte for writing', () => {
  const bytes = msg([
    'OPTIONS sip:a@example.com SIP/2.0',
    'Via: SIP/2.0/UDP h1',
    ' ;branch=z9hG4bK1',
    'To: <sip:a@example.com>',
    'From: <sip:b@example.com>',
    '\t;tag=1',
    'Subject: first',
    '   second',
    'Call-ID: cid',
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
  ]);
  const m = parseMessage(bytes);
  assert.equal(m.headers.get('subject'), 'first second');
  assert.equal(tagOf(m.from()), '1');
  assert.deepEqual(formatMessage(m), bytes);
});

test('the body is a view of the octets, never decoded (G06)', () => {
  const body = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80, 0x41]);
  const head = Buffer.from([...INVITE, `Content-Length: ${body.length}`].join('\r\n') + '\r\n\r\n', 'latin1');
  const m = parseMessage(Buffer.concat([head, body]));
  assert.deepEqual(m.body, body);
  assert.deepEqual(formatMessage(m), Buffer.concat([head, body]));
});

test('non-UTF-8 octets in headers survive a round trip (G06)', () => {
  const lines = [...INVITE];
  lines[4] = 'From: "\xe9\xff\\\x00" <sip:alice@example.com>;tag=1';
  const bytes = msg([...lines, 'Content-Length: 0']);
  const m = parseMessage(bytes);
  assert.equal(m.from().displayName, '\xe9\xff\x00');
  assert.deepEqual(formatMessage(m), bytes);
});

test('UDP framing: trailing octets ignored, missing Content-Length takes the rest, too long is 400 (G02)', () => {
  const trailing = Buffer.concat([msg([...INVITE, 'Content-Length: 0']), Buffer.from('INVITE junk')]);
  assert.equal(parseMessage(trailing).body.length, 0);
  const noLength = Buffer.concat([msg(INVITE), Buffer.from('abc')]);
  assert.equal(parseMessage(noLength).body.toString(), 'abc');
  const tooLong = parseError(msg([...INVITE, 'Content-Length: 10'], 'abc'));
  assert.equal(tooLong.kind, 'content-length');
  assert.equal(tooLong.status, 400);
  assert.equal(parseError(msg([...INVITE, 'Content-Length: -1'])).kind, 'header-value');
  assert.equal(parseError(msg([...INVITE, 'Content-Length: 0x10'])).kind, 'header-value');
  assert.equal(parseError(msg([...INVITE, 'Content-Length: 0', 'l: 0'])).kind, 'duplicate-header');
  assert.equal(parseError(msg([...INVITE, 'Content-Length: 99999999999999999999'])).kind, 'content-length');
});

test('stream mode requires Content-Length (G02)', () => {
  assert.throws(() => parseMessage(msg(INVITE), { mode: 'stream' }), (e: unknown) => e instanceof SipParseError && e.kind === 'content-length');
});

test('illegal syntax is rejected with 400 naming the header (G05)', () => {
  const base = [...INVITE, 'Content-Length: 0'];
  const cases: Array<[string[], string]> = [
    [[base[0]!, ' folded start line', ...base.slice(1)], 'start-line'],
    [[...base, 'Bad Name: x'], 'header-syntax'],
    [[...base, 'NoColon'], 'header-syntax'],
    [[...base, 'Call-ID: second'], 'duplicate-header'],
    [[...base, 'i: second'], 'duplicate-header'],
    [[...base, 'Max-Forwards: 1'], 'duplicate-header'],
    [base.map((l) => (l.startsWith('CSeq') ? 'CSeq: 1 BYE' : l)), 'cseq-method'],
    [base.map((l) => (l.startsWith('CSeq') ? 'CSeq: 4294967296 INVITE' : l)), 'header-value'],
    [base.map((l) => (l.startsWith('CSeq') ? 'CSeq: -1 INVITE' : l)), 'header-value'],
    [base.map((l) => (l.startsWith('CSeq') ? 'CSeq: 1' : l)), 'header-value'],
    [base.map((l) => (l.startsWith('Max-Forwards') ? 'Max-Forwards: -1' : l)), 'header-value'],
    [base.map((l) => (l.startsWith('Max-Forwards') ? 'Max-Forwards: ten' : l)), 'header-value'],
    [base.map((l) => (l.startsWith('INVITE') ? 'invite sip:bob@example.com SIP/2.0' : l)), 'cseq-method'],
    [base.map((l) => (l.startsWith('INVITE') ? 'INVITE sip:bob@exa\x00mple.com SIP/2.0' : l)), 'uri'],
    [base.map((l) => (l.startsWith('INVITE') ? 'INV\xe9TE sip:bob@example.com SIP/2.0' : l)), 'start-line'],
    [base.filter((l) => !l.startsWith('From')), 'missing-header'],
    [base.filter((l) => !l.startsWith('Call-ID')), 'missing-header'],
  ];
  for (const [lines, kind] of cases) {
    const error = parseError(msg(lines));
    assert.equal(error.kind, kind, `${lines.join(' | ')} → ${error.message}`);
    assert.equal(error.status, 400);
  }
  const dup = parseError(msg([...base, 'Call-ID: second']));
  assert.equal(dup.reason, 'Bad Request (call-id)');
});

test('missing Via is its own error so UDP can drop silently (G07); missing Max-Forwards is fine', () => {
  const error = parseError(msg(INVITE.filter((l) => !l.startsWith('Via')).concat('Content-Length: 0')));
  assert.equal(error.kind, 'missing-header');
  assert.equal(error.details.header, 'via');
  const m = parseMessage(msg(INVITE.filter((l) => !l.startsWith('Max-Forwards')).concat('Content-Length: 0')));
  assert.equal(m.maxForwards(), undefined);
});

test('huge Max-Forwards is clamped, never wrapped (G15)', () => {
  const m = parseMessage(msg(INVITE.map((l) => (l.startsWith('Max-Forwards') ? 'Max-Forwards: 4294967296' : l)).concat('Content-Length: 0')));
  assert.equal(m.maxForwards(), 255);
});

test('version other than 2.0 is 505; lower-case sip/2.0 is accepted (G04, G08)', () => {
  const error = parseError(msg(INVITE.map((l) => (l.startsWith('INVITE') ? 'INVITE sip:bob@example.com SIP/7.0' : l))));
  assert.equal(error.status, 505);
  const m = parseMessage(msg(INVITE.map((l) => (l.startsWith('INVITE') ? 'INVITE sip:bob@example.com sip/2.0' : l)).concat('Content-Length: 0')));
  assert.equal(m.version, 'sip/2.0');
});

test('responses with a code outside 100..699 are rejected', () => {
  const base = ['Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'To: <sip:a@b>;tag=1', 'From: <sip:a@b>;tag=2', 'Call-ID: c', 'CSeq: 1 OPTIONS', 'l: 0'];
  assert.equal(parseError(msg(['SIP/2.0 4294967301 better not break the receiver', ...base])).kind, 'start-line');
  assert.equal(parseError(msg(['SIP/2.0 099 Too Low', ...base])).kind, 'start-line');
  assert.equal(parseMessage(msg(['SIP/2.0 699 Fine', ...base])).kind, 'response');
});

test('leading CRLFs before the start line are ignored; LF-only messages are accepted (G04)', () => {
  const crlf = Buffer.concat([Buffer.from('\r\n\r\n'), msg([...INVITE, 'Content-Length: 0'])]);
  assert.equal(parseMessage(crlf).kind, 'request');
  const lf = Buffer.from([...INVITE, 'Content-Length: 3'].join('\n') + '\n\nabc', 'latin1');
  assert.equal(parseMessage(lf).body.toString(), 'abc');
});

test('limits are enforced with the right status (G09)', () => {
  const big = 'x'.repeat(70 * 1024);
  assert.equal(parseError(msg([...INVITE, 'Content-Length: 0'], big)).status, 513);
  const longUri = 'sip:' + 'a'.repeat(1100) + '@example.com';
  assert.equal(parseError(msg(INVITE.map((l) => (l.startsWith('INVITE') ? `INVITE ${longUri} SIP/2.0` : l)))).status, 414);
  const bodyLimited = withLimits({ maxBodyBytes: 10 });
  assert.throws(
    () => parseMessage(msg([...INVITE, 'Content-Length: 20'], 'y'.repeat(20)), { limits: bodyLimited }),
    (e: unknown) => e instanceof SipParseError && e.status === 413,
  );
  const manyHeaders = Array.from({ length: 300 }, (_, i) => `X-H${i}: v`);
  assert.equal(parseError(msg([...INVITE, ...manyHeaders, 'Content-Length: 0'])).kind, 'too-many-headers');
  const manyVias = Array.from({ length: 71 }, (_, i) => `Via: SIP/2.0/UDP h${i};branch=z9hG4bK${i}`);
  assert.equal(parseError(msg([...INVITE, ...manyVias, 'Content-Length: 0'])).kind, 'too-many-vias');
  assert.equal(parseError(msg([...INVITE, `X-Long: ${'z'.repeat(9000)}`, 'Content-Length: 0'])).kind, 'too-large-header-line');
});

/** Fastest of `runs` parses: the minimum is what interference from a busy machine distorts least. */
function fastestParseMs(bytes: Buffer, limits: ReturnType<typeof withLimits>, runs = 7): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    try {
      parseMessage(bytes, { limits });
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
}

test('parsing grows linearly with header lines and continuation lines (G10)', () => {
  // Judged by growth from 1,000 to 10,000 lines, not by wall-clock: linear is ~10x, quadratic ~100x.
  const open = withLimits({ maxHeaders: 20_000, maxHeaderSectionBytes: 4 << 20, maxHeaderLineBytes: 4 << 20, maxMessageBytes: 8 << 20 });
  const headerLines = (n: number): Buffer => msg([...INVITE, ...Array.from({ length: n }, (_, i) => `X-Filler-${i}: value ${i}`), 'Content-Length: 0']);
  const continuation = (n: number): Buffer => msg([...INVITE, 'Subject: start', ...Array.from({ length: n }, (_, i) => ` more ${i}`), 'Content-Length: 0']);
  for (const make of [headerLines, continuation]) {
    fastestParseMs(make(10_000), open, 2); // warm up
    const small = Math.max(fastestParseMs(make(1000), open), 0.05);
    const large = fastestParseMs(make(10_000), open);
    assert.ok(large / small < 40, `1k lines: ${small.toFixed(3)} ms, 10k lines: ${large.toFixed(3)} ms`);
  }
  // With the default limits, 10,000 header lines are refused before any header is judged.
  assert.ok(['too-many-headers', 'too-large-message'].includes(parseError(headerLines(10_000)).kind));
  assert.equal(parseError(headerLines(1000)).kind, 'too-many-headers');
});

test('scanMessage splits headers without judging values', () => {
  const scanned = scanMessage(msg(['INVITE sip:a@b SIP/2.0', 'From: garbage <<<', 'Via: SIP/2.0/UDP h']));
  assert.equal(scanned.startLine, 'INVITE sip:a@b SIP/2.0');
  assert.deepEqual(
    scanned.fields.map((f) => [f.key, f.raw]),
    [
      ['from', 'garbage <<<'],
      ['via', 'SIP/2.0/UDP h'],
    ],
  );
});

test('mixed line ends: the first empty line ends the headers, even with CRLFCRLF in the body', () => {
  const bytes = Buffer.from(
    'MESSAGE sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@example.com>\r\nFrom: <sip:b@example.com>;tag=1\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n\nX-Not-A-Header: body\r\n\r\n',
    'latin1',
  );
  const m = parseMessage(bytes);
  assert.equal(m.headers.has('x-not-a-header'), false);
  assert.equal(m.body.toString('latin1'), 'X-Not-A-Header: body\r\n\r\n');
});

test('the first empty line ends the header section, even a bare LF one before a CRLF one', () => {
  // "From:" is followed by an empty line: what comes after it is body, even though it starts
  // with whitespace and a later CRLF CRLF exists (RFC 3261 §7; G03).
  const text = 'OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:b@example.com>;tag=1\n\n To: x\r\n\r\n';
  const scanned = scanMessage(Buffer.from(text, 'latin1'));
  assert.deepEqual(scanned.fields.map((f) => f.key), ['via', 'from']);
  assert.equal(scanned.terminated, true);
  assert.equal(text.slice(scanned.bodyOffset), ' To: x\r\n\r\n');
});

test('a header section over the limit gets 513 even when a line in it is malformed', () => {
  const lines = ['INVITE sip:a@example.com SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'no colon here'];
  for (let i = 0; i < 20; i++) lines.push(`X-Filler-${i}: ${'y'.repeat(40)}`);
  const text = lines.join('\r\n') + '\r\n\r\n';
  assert.throws(
    () => parseMessage(Buffer.from(text, 'latin1'), { limits: { ...DEFAULT_LIMITS, maxHeaderSectionBytes: 400 } }),
    (error: unknown) => error instanceof SipParseError && error.status === 513,
  );
  assert.throws(
    () => parseMessage(Buffer.from(text, 'latin1')),
    (error: unknown) => error instanceof SipParseError && error.status === 400 && /colon/.test(error.message),
  );
});

test('a received field is written back from its line only while its name and value are unchanged', () => {
  const text = 'OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nSubject:  two spaces\r\n\r\n';
  const message = parseMessage(Buffer.from(text, 'latin1'));
  assert.equal(formatMessage(message).toString('latin1'), text.replace('Subject:  two', 'Subject: two'));
  // Changed through the API, through a spread copy, and behind TypeScript's back.
  message.headers.set('Call-ID', 'y');
  const fields = message.headers.all() as HeaderField[];
  const cseq = fields.findIndex((f) => f.key === 'cseq');
  fields[cseq] = { ...fields[cseq]!, raw: '2 OPTIONS' };
  (fields.find((f) => f.key === 'to') as { raw: string }).raw = '<sip:c@example.com>';
  const out = formatMessage(message).toString('latin1');
  assert.match(out, /\r\nCall-ID: y\r\n/);
  assert.match(out, /\r\nCSeq: 2 OPTIONS\r\n/);
  assert.match(out, /\r\nTo: <sip:c@example\.com>\r\n/);
  assert.doesNotMatch(out, /a@example\.com>\r\n|Call-ID: x|1 OPTIONS/);
});
