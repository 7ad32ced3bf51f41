import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamParser, type StreamEvent } from './stream-parser.js';
import { withLimits } from './limits.js';

function request(n: number, body = ''): string {
  return [
    `MESSAGE sip:bob@example.com SIP/2.0`,
    `Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK${n}`,
    'To: <sip:bob@example.com>',
    'From: <sip:alice@example.com>;tag=1',
    `Call-ID: call-${n}`,
    `CSeq: ${n} MESSAGE`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

function summarize(events: StreamEvent[]): string[] {
  return events.map((e) => {
    if (e.type === 'message') return `message ${e.message.callId()} ${e.message.body.toString()}`;
    if (e.type === 'error') return `error ${e.error.kind} fatal=${e.fatal}`;
    return e.type;
  });
}

function feed(parser: StreamParser, data: Buffer, split: (i: number) => number): StreamEvent[] {
  const events: StreamEvent[] = [];
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const size = Math.max(1, split(i++));
    events.push(...parser.push(data.subarray(offset, offset + size)));
    offset += size;
  }
  return events;
}

const PIPELINE = Buffer.from(
  request(1, 'hello') + '\r\n\r\n' + request(2, 'body with \r\n\r\n inside') + '\r\n' + request(3, ''),
  'latin1',
);
const EXPECTED = ['message call-1 hello', 'ping', 'message call-2 body with \r\n\r\n inside', 'pong', 'message call-3 '];

test('pipelined messages and keep-alives come out in order, whole (G37)', () => {
  assert.deepEqual(summarize(new StreamParser().push(PIPELINE)), EXPECTED);
});

test('any segmentation gives the same result: one octet per write and random splits (G37)', () => {
  assert.deepEqual(summarize(feed(new StreamParser(), PIPELINE, () => 1)), EXPECTED);
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let round = 0; round < 50; round++) {
    assert.deepEqual(summarize(feed(new StreamParser(), PIPELINE, () => random() % 40)), EXPECTED);
  }
});

test('splits inside CRLFCRLF and inside the Content-Length digits are harmless', () => {
  const data = Buffer.from(request(9, '0123456789'), 'latin1');
  const crlf = data.indexOf('\r\n\r\n');
  const digits = data.indexOf('Content-Length: 10') + 'Content-Length: 1'.length;
  for (const cut of [crlf + 1, crlf + 2, crlf + 3, digits]) {
    const parser = new StreamParser();
    const events = [...parser.push(data.subarray(0, cut)), ...parser.push(data.subarray(cut))];
    assert.deepEqual(summarize(events), ['message call-9 0123456789']);
  }
});

test('octets inside a body are never parsed as a message (G03)', () => {
  const inner = request(5, 'x');
  const outer = Buffer.from(request(4, inner), 'latin1');
  const events = new StreamParser().push(outer);
  assert.equal(events.length, 1);
  assert.equal(summarize(events)[0], `message call-4 ${inner}`);
});

test('missing, conflicting or malformed Content-Length is fatal on a stream (G02, G03)', () => {
  const noLength = request(1).replace('Content-Length: 0\r\n', '');
  const conflicting = request(1, 'abcde').replace('Content-Length: 5', 'Content-Length: 5\r\nl: 13');
  const negative = request(1).replace('Content-Length: 0', 'Content-Length: -999');
  const overflow = request(1).replace('Content-Length: 0', 'Content-Length: 18446744073709551616');
  for (const text of [noLength, conflicting, negative, overflow]) {
    const parser = new StreamParser();
    const events = parser.push(Buffer.from(text + request(2), 'latin1'));
    assert.deepEqual(summarize(events), ['error content-length fatal=true']);
    assert.equal(parser.closed, true);
    assert.deepEqual(parser.push(Buffer.from(request(3))), []);
  }
});

test('a framed but invalid message is reported without losing the stream', () => {
  const bad = request(1).replace('CSeq: 1 MESSAGE', 'CSeq: 1 INVITE');
  const events = new StreamParser().push(Buffer.from(bad + request(2, 'ok'), 'latin1'));
  assert.deepEqual(summarize(events), ['error cseq-method fatal=false', 'message call-2 ok']);
  const first = events[0];
  assert.ok(first?.type === 'error' && first.bytes.toString('latin1') === bad);
});

test('limits stop buffering early (G09)', () => {
  const parser = new StreamParser({ limits: withLimits({ maxHeaderSectionBytes: 1024 }) });
  const events = parser.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n' + 'X: y\r\n'.repeat(400)));
  assert.deepEqual(summarize(events), ['error too-large-header-section fatal=true']);
  assert.equal(parser.buffered, 0);
  const bodyParser = new StreamParser({ limits: withLimits({ maxBodyBytes: 100 }) });
  const huge = request(1).replace('Content-Length: 0', 'Content-Length: 9999');
  const bodyEvents = bodyParser.push(Buffer.from(huge));
  assert.equal(bodyEvents[0]?.type === 'error' ? bodyEvents[0].error.status : 0, 413);
});

test('an incomplete body waits without allocating the claimed length', () => {
  const parser = new StreamParser();
  const partial = request(1).replace('Content-Length: 0', 'Content-Length: 30000') + 'short';
  assert.deepEqual(parser.push(Buffer.from(partial)), []);
  assert.ok(parser.buffered < 1024);
});

test('client role reports a lone CRLF pong immediately', () => {
  assert.deepEqual(summarize(new StreamParser({ role: 'client' }).push(Buffer.from('\r\n'))), ['pong']);
  assert.deepEqual(summarize(new StreamParser().push(Buffer.from('\r\n'))), []);
});
