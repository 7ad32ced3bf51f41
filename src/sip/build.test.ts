import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCancel, createNon2xxAck, createResponse, createResponseToUnparsable, newBranch, newCallId, newTag } from './build.js';
import { parseMessage } from './parser.js';
import { formatMessage } from './serializer.js';
import { SipParseError } from './errors.js';
import { SeededRandom } from '../core/random.js';
import { tagOf } from './header-values.js';
import type { SipRequest } from './message.js';

const INVITE = Buffer.from(
  [
    'INVITE sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa1;rport, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKa0',
    'v: SIP/2.0/TCP 192.0.2.8;branch=z9hG4bKzz',
    'Route: <sip:proxy.example.com;lr>',
    'Max-Forwards: 70',
    'To:   "B\xe9b"   <sip:bob@example.com>',
    'f: <sip:alice@example.com>;tag=abc',
    'Call-ID: weird\xff@id',
    'CSeq:   7   INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
  'latin1',
);

function invite(): SipRequest {
  const m = parseMessage(INVITE);
  assert.equal(m.kind, 'request');
  return m as SipRequest;
}

test('responses copy Via/From/To/Call-ID/CSeq octet for octet and add a To tag (RFC 3261 §8.2.6.2, G06)', () => {
  const request = invite();
  const response = createResponse(request, 180, { toTag: 'xyz' });
  const text = formatMessage(response).toString('latin1');
  assert.ok(text.startsWith('SIP/2.0 180 Ringing\r\n'));
  assert.ok(text.includes('Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa1;rport, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKa0\r\n'));
  assert.ok(text.includes('v: SIP/2.0/TCP 192.0.2.8;branch=z9hG4bKzz\r\n'));
  assert.ok(text.includes('To: "B\xe9b"   <sip:bob@example.com>;tag=xyz\r\n'));
  assert.ok(text.includes('Call-ID: weird\xff@id\r\n'));
  assert.ok(text.includes('CSeq: 7   INVITE\r\n'));
  assert.ok(!text.includes('Route'));
  const reparsed = parseMessage(formatMessage(response));
  assert.equal(tagOf(reparsed.to()), 'xyz');
  assert.equal(reparsed.contentLength(), 0);
});

test('100 Trying gets no To tag; an existing To tag is kept', () => {
  const trying = createResponse(invite(), 100, { toTag: 'no' });
  assert.equal(tagOf(trying.to()), undefined);
  const ok = createResponse(parseMessage(formatMessage(createResponse(invite(), 200, { toTag: 'one' }))) as never, 200, { toTag: 'two' });
  assert.equal(tagOf(ok.to()), 'one');
});

test('responses carry extra headers and a body with the right Content-Length', () => {
  const r = createResponse(invite(), 200, { toTag: 't', headers: [['Contact', '<sip:bob@192.0.2.2>']], body: 'v=0\r\n', contentType: 'application/sdp' });
  const again = parseMessage(formatMessage(r));
  assert.equal(again.body.toString(), 'v=0\r\n');
  assert.equal(again.headers.get('content-type'), 'application/sdp');
  assert.equal(again.contentLength(), 5);
});

test('ACK for a non-2xx keeps the top Via only, the Route set and the response To (RFC 3261 §17.1.1.3)', () => {
  const request = invite();
  const failure = parseMessage(formatMessage(createResponse(request, 486, { toTag: 'busy' })));
  assert.equal(failure.kind, 'response');
  const ack = createNon2xxAck(request, failure as never);
  assert.equal(ack.method, 'ACK');
  assert.equal(ack.uri, 'sip:bob@example.com');
  assert.equal(ack.via().length, 1);
  assert.equal(ack.via()[0]!.host, '192.0.2.1');
  assert.equal(tagOf(ack.to()), 'busy');
  assert.deepEqual(ack.cseq(), { seq: 7, method: 'ACK' });
  assert.equal(ack.routes().length, 1);
  assert.ok(parseMessage(formatMessage(ack)));
});

test('CANCEL matches the INVITE: same top Via, Call-ID, From, To, CSeq number (RFC 3261 §9.1)', () => {
  const cancel = createCancel(invite());
  assert.equal(cancel.method, 'CANCEL');
  assert.equal(cancel.via().length, 1);
  assert.equal(cancel.headers.get('via'), 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa1;rport');
  assert.deepEqual(cancel.cseq(), { seq: 7, method: 'CANCEL' });
  assert.equal(cancel.callId(), 'weird\xff@id');
  assert.equal(tagOf(cancel.to()), undefined);
  assert.ok(parseMessage(formatMessage(cancel)));
});

test('branches, tags and Call-IDs: magic cookie, token characters, repeatable with a seeded random', () => {
  assert.match(newBranch(), /^z9hG4bK[A-Za-z0-9]{22}$/);
  assert.match(newTag(), /^[A-Za-z0-9]{10}$/);
  assert.match(newCallId(undefined, 'host.example'), /^[A-Za-z0-9]{24}@host\.example$/);
  assert.equal(newBranch(new SeededRandom(1)), newBranch(new SeededRandom(1)));
  assert.notEqual(newBranch(), newBranch());
});

test('a 400 for an unparsable request copies what it can; none for responses or without Via', () => {
  const bad = Buffer.from(INVITE.toString('latin1').replace('CSeq:   7   INVITE', 'CSeq: 7 BYE'), 'latin1');
  let error: SipParseError | undefined;
  try {
    parseMessage(bad);
  } catch (e) {
    error = e as SipParseError;
  }
  assert.ok(error instanceof SipParseError);
  const answer = createResponseToUnparsable(bad, error);
  assert.ok(answer);
  const parsedAnswer = parseMessage(answer);
  assert.ok(parsedAnswer.kind === 'response' && parsedAnswer.status === 400 && parsedAnswer.reason === 'Bad Request (cseq)');
  const noVia = Buffer.from(bad.toString('latin1').replace(/^(Via|v):.*\r\n/gm, ''), 'latin1');
  assert.equal(createResponseToUnparsable(noVia, error), null);
  assert.equal(createResponseToUnparsable(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n'), error), null);
  assert.equal(createResponseToUnparsable(Buffer.from('\x00\x01garbage'), error), null);
});
