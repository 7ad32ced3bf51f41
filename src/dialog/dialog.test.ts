import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../core/random.js';
import { tagOf } from '../sip/header-values.js';
import type { SipMessage, SipRequest, SipResponse } from '../sip/message.js';
import { parseMessage } from '../sip/parser.js';
import { formatMessage } from '../sip/serializer.js';
import { formatUri, parseUri } from '../sip/uri.js';
import { computeRequestTarget, Dialog } from './dialog.js';
import { DialogRequestError, DialogStateError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: real messages parsed from wire text (each call returns a fresh message).

function wire(lines: readonly string[]): SipMessage {
  return parseMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
}
function request(lines: readonly string[]): SipRequest {
  const m = wire(lines);
  assert.equal(m.kind, 'request');
  return m;
}
function response(lines: readonly string[]): SipResponse {
  const m = wire(lines);
  assert.equal(m.kind, 'response');
  return m;
}
/**
 * What the peer sees: formatted, then parsed again. A request built without a Via gets one
 * first, as the transaction layer would add it.
 */
function onWire<T extends SipMessage>(message: T): T {
  if (!message.headers.has('via')) {
    const copy = message.clone();
    copy.headers.prepend('Via', 'SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKtxlayer');
    return parseMessage(formatMessage(copy)) as T;
  }
  return parseMessage(formatMessage(message)) as T;
}
function text(message: SipMessage): string {
  return formatMessage(message).toString('latin1');
}
function routeUris(message: SipMessage): string[] {
  return message.routes().map((r) => r.uriText);
}

const CALL_ID = 'a84b4c76e66710@pc33.atlanta.example.com';
const ALICE_FROM = 'Alice <sip:alice@atlanta.example.com>;tag=1928301774';
const BOB_TO = '"B\xe9b"  <sip:bob@biloxi.example.com>';

/** Alice's INVITE as she sent it (the UAC's request), RFC 3261 §24.2 style. */
function aliceInvite(extra: readonly string[] = []): SipRequest {
  return request([
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8',
    'Max-Forwards: 70',
    `To: ${BOB_TO}`,
    `From: ${ALICE_FROM}`,
    `Call-ID: ${CALL_ID}`,
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@pc33.atlanta.example.com>',
    ...extra,
    'Content-Length: 0',
  ]);
}

/** A response to Alice's INVITE (or to `cseq`) from Bob's side. */
function bobResponse(
  status: number,
  toTag: string | undefined,
  options: { contact?: string; recordRoute?: readonly string[]; cseq?: string } = {},
): SipResponse {
  const lines = [
    `SIP/2.0 ${status} Whatever`,
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;received=192.0.2.1',
    ...(options.recordRoute ?? []).map((r) => `Record-Route: ${r}`),
    `To: ${BOB_TO}${toTag === undefined ? '' : `;tag=${toTag}`}`,
    `From: ${ALICE_FROM}`,
    `Call-ID: ${CALL_ID}`,
    `CSeq: ${options.cseq ?? '314159 INVITE'}`,
  ];
  if (options.contact !== undefined) lines.push(`Contact: ${options.contact}`);
  lines.push('Content-Length: 0');
  return response(lines);
}

/** A request Bob sends within the dialog with tag `a6c85cf` (Alice receives it). */
function bobRequest(method: string, seq: number, extra: readonly string[] = [], toTag = '1928301774'): SipRequest {
  return request([
    `${method} sip:alice@pc33.atlanta.example.com SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKbob' + String(seq) + method,
    'Max-Forwards: 70',
    `From: ${BOB_TO};tag=a6c85cf`,
    `To: Alice <sip:alice@atlanta.example.com>;tag=${toTag}`,
    `Call-ID: ${CALL_ID}`,
    `CSeq: ${seq} ${method}`,
    ...extra,
    'Content-Length: 0',
  ]);
}

/** RFC 3261 §16.12.1.2: the INVITE arriving at U2 across four proxies, P3 a strict router. */
function strictTrapezoidInvite(): SipRequest {
  return request([
    'INVITE sip:callee@u2.domain.com SIP/2.0',
    'Via: SIP/2.0/UDP p4.domain.com;branch=z9hG4bKp4',
    'Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1',
    'Max-Forwards: 66',
    'From: <sip:caller@u1.example.com>;tag=u1tag',
    'To: <sip:callee@u2.domain.com>',
    'Call-ID: trapezoid@u1.example.com',
    'CSeq: 1 INVITE',
    'Contact: sip:caller@u1.example.com',
    'Record-Route: <sip:p4.domain.com;lr>',
    'Record-Route: <sip:p3.middle.com>',
    'Record-Route: <sip:p2.example.com;lr>',
    'Record-Route: <sip:p1.example.com;lr>',
    'Content-Length: 0',
  ]);
}

const RR_TRAPEZOID = ['<sip:p4.domain.com;lr>', '<sip:p3.middle.com>', '<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>'];

function uacConfirmed(options: { recordRoute?: readonly string[] } = {}): { invite: SipRequest; dialog: Dialog } {
  const invite = aliceInvite();
  const ok = bobResponse(200, 'a6c85cf', { contact: '<sip:bob@192.0.2.4>', ...options });
  return { invite, dialog: Dialog.fromUacResponse(invite, ok, { random: new SeededRandom(7) }) };
}

function uasDialog(invite: SipRequest = strictTrapezoidInvite()): Dialog {
  return Dialog.fromUasRequest(invite, 'u2tag', '<sip:callee@192.0.2.20>', { random: new SeededRandom(3) });
}

// ---------------------------------------------------------------------------------------------

describe('UAC dialog creation (RFC 3261 §12.1.2)', () => {
  test('a 2xx makes a confirmed dialog: IDs, URIs, CSeq, target, reversed route set', () => {
    const { dialog } = uacConfirmed({ recordRoute: ['<sip:ss2.biloxi.example.com;lr>', '<sip:ss1.atlanta.example.com;lr;ftag=x>'] });
    assert.equal(dialog.role, 'uac');
    assert.equal(dialog.state, 'confirmed');
    assert.deepEqual(dialog.id, { callId: CALL_ID, localTag: '1928301774', remoteTag: 'a6c85cf' });
    assert.equal(formatUri(dialog.localUri), 'sip:alice@atlanta.example.com');
    assert.equal(formatUri(dialog.remoteUri), 'sip:bob@biloxi.example.com');
    assert.equal(dialog.localSeq, 314159);
    assert.equal(dialog.remoteSeq, undefined);
    assert.equal(formatUri(dialog.remoteTarget), 'sip:bob@192.0.2.4');
    // "taken in reverse order and preserving all URI parameters"
    assert.deepEqual(dialog.routeSet.map((u) => formatUri(u)), ['sip:ss1.atlanta.example.com;lr;ftag=x', 'sip:ss2.biloxi.example.com;lr']);
    assert.equal(dialog.secure, false);
    assert.equal(dialog.localContact, '<sip:alice@pc33.atlanta.example.com>');
  });

  test('a 1xx with a To tag makes an early dialog; its 2xx confirms it and recomputes the route set', () => {
    const invite = aliceInvite();
    const ringing = bobResponse(180, 'a6c85cf', { recordRoute: ['<sip:old.example.com;lr>'] });
    const dialog = Dialog.fromUacResponse(invite, ringing);
    assert.equal(dialog.state, 'early');
    // no Contact in the 180: the Request-URI stands in as the target
    assert.equal(formatUri(dialog.remoteTarget), 'sip:bob@biloxi.example.com');
    dialog.receiveResponse(bobResponse(200, 'a6c85cf', { contact: '<sip:bob@192.0.2.4>', recordRoute: ['<sip:new.example.com;lr>'] }));
    assert.equal(dialog.state, 'confirmed');
    assert.deepEqual(dialog.routeSet.map((u) => formatUri(u)), ['sip:new.example.com;lr']);
    assert.equal(formatUri(dialog.remoteTarget), 'sip:bob@192.0.2.4');
  });

  test('responses that create no dialog are refused', () => {
    assert.throws(() => Dialog.fromUacResponse(aliceInvite(), bobResponse(100, undefined)), RangeError);
    assert.throws(() => Dialog.fromUacResponse(aliceInvite(), bobResponse(180, undefined)), RangeError);
    assert.throws(() => Dialog.fromUacResponse(aliceInvite(), bobResponse(486, 'x')), RangeError);
    assert.throws(() => Dialog.fromUacResponse(aliceInvite(), bobResponse(200, 'x', { cseq: '2 INVITE' })), TypeError);
  });

  test('a 2xx without a To tag (RFC 2543 UAS) gives an empty remote tag', () => {
    const dialog = Dialog.fromUacResponse(aliceInvite(), bobResponse(200, undefined, { contact: '<sip:bob@192.0.2.4>' }));
    assert.equal(dialog.remoteTag, '');
    const bye = onWire(dialog.createRequest('BYE'));
    assert.equal(tagOf(bye.to()), undefined);
  });

  test('a SIPS Request-URI sets the secure flag; the option overrides it', () => {
    const invite = request([
      'INVITE sips:bob@biloxi.example.com SIP/2.0',
      'Via: SIP/2.0/TLS pc33.atlanta.example.com;branch=z9hG4bKs',
      `To: <sips:bob@biloxi.example.com>`,
      `From: <sips:alice@atlanta.example.com>;tag=s1`,
      'Call-ID: secure@x',
      'CSeq: 1 INVITE',
      'Contact: <sips:alice@pc33.atlanta.example.com>',
      'Content-Length: 0',
    ]);
    const ok = response([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/TLS pc33.atlanta.example.com;branch=z9hG4bKs',
      `To: <sips:bob@biloxi.example.com>;tag=s2`,
      `From: <sips:alice@atlanta.example.com>;tag=s1`,
      'Call-ID: secure@x',
      'CSeq: 1 INVITE',
      'Contact: <sips:bob@192.0.2.4>',
      'Content-Length: 0',
    ]);
    assert.equal(Dialog.fromUacResponse(invite, ok).secure, true);
    assert.equal(Dialog.fromUacResponse(invite, ok, { secure: false }).secure, false);
  });
});

describe('forked responses (RFC 3261 §12.1.2, §13.2.2.4)', () => {
  test('each To tag makes its own dialog; a 2xx confirms only its own', () => {
    const invite = aliceInvite();
    const a = Dialog.fromUacResponse(invite, bobResponse(180, 'forkA', { contact: '<sip:bob@192.0.2.10>' }));
    const b = Dialog.fromUacResponse(invite, bobResponse(183, 'forkB', { contact: '<sip:bob@192.0.2.11>' }));
    assert.notDeepEqual(a.id, b.id);
    assert.equal(a.callId, b.callId);
    assert.equal(a.localTag, b.localTag);
    assert.equal(formatUri(a.remoteTarget), 'sip:bob@192.0.2.10');
    assert.equal(formatUri(b.remoteTarget), 'sip:bob@192.0.2.11');

    const okB = bobResponse(200, 'forkB', { contact: '<sip:bob@192.0.2.11>' });
    a.receiveResponse(okB);
    b.receiveResponse(okB);
    assert.equal(a.state, 'early');
    assert.equal(b.state, 'confirmed');
    // the requests of each dialog carry that dialog's To tag
    assert.equal(tagOf(onWire(b.createRequest('BYE')).to()), 'forkB');
  });

  test('a non-2xx final response ends every early fork, whatever its To tag (§12.3)', () => {
    const invite = aliceInvite();
    const a = Dialog.fromUacResponse(invite, bobResponse(180, 'forkA'));
    const b = Dialog.fromUacResponse(invite, bobResponse(180, 'forkB'));
    const busy = bobResponse(486, 'proxyTag');
    a.receiveResponse(busy);
    b.receiveResponse(busy);
    assert.equal(a.state, 'terminated');
    assert.equal(a.terminationReason, 'reject');
    assert.equal(b.state, 'terminated');
  });
});

describe('UAS dialog creation (RFC 3261 §12.1.1)', () => {
  test('route set = Record-Route in order, target = Contact, remote CSeq = request CSeq', () => {
    const dialog = uasDialog();
    assert.equal(dialog.role, 'uas');
    assert.equal(dialog.state, 'early');
    assert.deepEqual(dialog.id, { callId: 'trapezoid@u1.example.com', localTag: 'u2tag', remoteTag: 'u1tag' });
    assert.deepEqual(dialog.routeSet.map((u) => formatUri(u)), [
      'sip:p4.domain.com;lr',
      'sip:p3.middle.com',
      'sip:p2.example.com;lr',
      'sip:p1.example.com;lr',
    ]);
    assert.equal(formatUri(dialog.remoteTarget), 'sip:caller@u1.example.com');
    assert.equal(dialog.remoteSeq, 1);
    assert.equal(dialog.localSeq, undefined);
    assert.equal(formatUri(dialog.localUri), 'sip:callee@u2.domain.com');
    assert.equal(formatUri(dialog.remoteUri), 'sip:caller@u1.example.com');
  });

  test('sending the 2xx confirms; a non-2xx final instead terminates the early dialog', () => {
    const invite = strictTrapezoidInvite();
    const confirmed = uasDialog(invite);
    confirmed.responseSent(confirmed.createResponse(invite, 180));
    assert.equal(confirmed.state, 'early');
    confirmed.responseSent(confirmed.createResponse(invite, 200));
    assert.equal(confirmed.state, 'confirmed');

    const rejected = uasDialog(strictTrapezoidInvite());
    rejected.responseSent(rejected.createResponse(invite, 486));
    assert.equal(rejected.state, 'terminated');
    assert.equal(rejected.terminationReason, 'reject');
  });

  test('dialog responses copy Record-Route in order, add Contact and our To tag', () => {
    const invite = strictTrapezoidInvite();
    const dialog = uasDialog(invite);
    const ok = onWire(dialog.createResponse(invite, 200, { body: 'v=0\r\n', contentType: 'application/sdp' }));
    assert.equal(tagOf(ok.to()), 'u2tag');
    assert.deepEqual(ok.recordRoutes().map((r) => r.uriText), ['sip:p4.domain.com;lr', 'sip:p3.middle.com', 'sip:p2.example.com;lr', 'sip:p1.example.com;lr']);
    assert.equal(ok.headers.get('contact'), '<sip:callee@192.0.2.20>');
    assert.equal(ok.headers.get('content-type'), 'application/sdp');
    const busy = onWire(dialog.createResponse(invite, 486));
    assert.equal(busy.recordRoutes().length, 0);
    assert.equal(busy.headers.get('contact'), undefined);
  });

  test('a dialog-creating request without exactly one Contact gets a 400 error', () => {
    const lines = [
      'INVITE sip:callee@u2.domain.com SIP/2.0',
      'Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1',
      'From: <sip:caller@u1.example.com>;tag=u1tag',
      'To: <sip:callee@u2.domain.com>',
      'Call-ID: nocontact@u1.example.com',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
    ];
    assert.throws(
      () => Dialog.fromUasRequest(request(lines), 't', '<sip:callee@192.0.2.20>'),
      (error: unknown) => error instanceof DialogRequestError && error.status === 400 && error.code === 'DIALOG_ERR_BAD_REQUEST',
    );
    assert.throws(() => Dialog.fromUasRequest(strictTrapezoidInvite(), 't', 'not a contact <'), TypeError);
    assert.throws(() => Dialog.fromUasRequest(bobRequest('INVITE', 1, ['Contact: <sip:bob@192.0.2.4>']), 't', '<sip:a@b>'), TypeError);
  });
});

describe('request construction (RFC 3261 §12.2.1.1)', () => {
  test('loose routing: U2 BYE of §16.12.1.2 — R-URI is the remote target, Route is the route set', () => {
    const dialog = uasDialog();
    dialog.responseSent(dialog.createResponse(strictTrapezoidInvite(), 200));
    const bye = onWire(dialog.createRequest('BYE'));
    assert.equal(bye.uri, 'sip:caller@u1.example.com');
    assert.deepEqual(routeUris(bye), ['sip:p4.domain.com;lr', 'sip:p3.middle.com', 'sip:p2.example.com;lr', 'sip:p1.example.com;lr']);
    assert.equal(bye.maxForwards(), 70);
    assert.equal(bye.callId(), 'trapezoid@u1.example.com');
    assert.equal(tagOf(bye.from()), 'u2tag');
    assert.equal(tagOf(bye.to()), 'u1tag');
    assert.equal(bye.headers.get('from'), '<sip:callee@u2.domain.com>;tag=u2tag');
    assert.equal(bye.headers.get('to'), '<sip:caller@u1.example.com>;tag=u1tag');
    assert.equal(bye.headers.get('contact'), undefined, 'BYE is not a target refresh request');
    assert.equal(bye.contentLength(), 0);
  });

  test('UAC side of §16.12.1.2: the reversed route set starts with a loose router', () => {
    const { dialog } = uacConfirmed({ recordRoute: RR_TRAPEZOID });
    const bye = onWire(dialog.createRequest('BYE'));
    assert.equal(bye.uri, 'sip:bob@192.0.2.4');
    assert.deepEqual(routeUris(bye), ['sip:p1.example.com;lr', 'sip:p2.example.com;lr', 'sip:p3.middle.com', 'sip:p4.domain.com;lr']);
  });

  test('strict routing: the §12.2.1.1 example', () => {
    const invite = request([
      'INVITE sip:me@here.example.com SIP/2.0',
      'Via: SIP/2.0/UDP remoteua;branch=z9hG4bKr',
      'From: <sip:user@remoteua>;tag=r',
      'To: <sip:me@here.example.com>',
      'Call-ID: strict@remoteua',
      'CSeq: 10 INVITE',
      'Contact: <sip:user@remoteua>',
      'Record-Route: <sip:proxy1>,<sip:proxy2>,<sip:proxy3;lr>,<sip:proxy4>',
      'Content-Length: 0',
    ]);
    const dialog = Dialog.fromUasRequest(invite, 'l', '<sip:me@192.0.2.9>', { state: 'confirmed', random: new SeededRandom(1) });
    const info = onWire(dialog.createRequest('INFO'));
    // METHOD sip:proxy1 / Route: <sip:proxy2>,<sip:proxy3;lr>,<sip:proxy4>,<sip:user@remoteua>
    assert.equal(info.uri, 'sip:proxy1');
    assert.deepEqual(routeUris(info), ['sip:proxy2', 'sip:proxy3;lr', 'sip:proxy4', 'sip:user@remoteua']);
    assert.ok(text(info).includes('Route: <sip:proxy2>, <sip:proxy3;lr>, <sip:proxy4>, <sip:user@remoteua>\r\n'));
  });

  test('strict routing strips what a Request-URI may not carry (method param, headers) but keeps the rest in Route', () => {
    const target = computeRequestTarget(
      [parseUri('sip:proxy1;method=INVITE;transport=tcp?X-Foo=bar'), parseUri('sip:proxy2;lr')],
      parseUri('sip:user@remoteua;ob'),
    );
    assert.deepEqual(target, { requestUri: 'sip:proxy1;transport=tcp', route: ['sip:proxy2;lr', 'sip:user@remoteua;ob'] });
    assert.deepEqual(computeRequestTarget([], parseUri('sip:user@remoteua')), { requestUri: 'sip:user@remoteua', route: [] });
  });

  test('CSeq increments from the local sequence number; a UAS starts at a random value below 2^31', () => {
    const { dialog } = uacConfirmed();
    assert.equal(onWire(dialog.createRequest('INFO')).cseq().seq, 314160);
    assert.equal(onWire(dialog.createRequest('OPTIONS')).cseq().seq, 314161);
    assert.equal(dialog.localSeq, 314161);

    const uas = uasDialog();
    const first = onWire(uas.createRequest('INFO')).cseq().seq;
    assert.ok(first >= 1 && first < 2 ** 31);
    assert.equal(onWire(uas.createRequest('INFO')).cseq().seq, first + 1);
  });

  test('From, To and Call-ID are the octets the dialog was made from (G06)', () => {
    const { dialog } = uacConfirmed();
    const out = text(dialog.createRequest('INFO', { body: 'signal=1\r\n', contentType: 'application/dtmf-relay' }));
    assert.ok(out.startsWith('INFO sip:bob@192.0.2.4 SIP/2.0\r\n'));
    assert.ok(out.includes(`From: ${ALICE_FROM}\r\n`));
    assert.ok(out.includes(`To: ${BOB_TO};tag=a6c85cf\r\n`));
    assert.ok(out.includes(`Call-ID: ${CALL_ID}\r\n`));
    assert.ok(out.includes('CSeq: 314160 INFO\r\n'));
    assert.ok(out.includes('Content-Type: application/dtmf-relay\r\nContent-Length: 10\r\n\r\nsignal=1\r\n'));
  });

  test('target refresh requests carry Contact; the contact option replaces it for later ones', () => {
    const { dialog } = uacConfirmed();
    assert.equal(onWire(dialog.createRequest('INVITE')).headers.get('contact'), '<sip:alice@pc33.atlanta.example.com>');
    assert.equal(onWire(dialog.createRequest('UPDATE', { contact: '<sip:alice@198.51.100.7>' })).headers.get('contact'), '<sip:alice@198.51.100.7>');
    assert.equal(onWire(dialog.createRequest('INVITE')).headers.get('contact'), '<sip:alice@198.51.100.7>');
    assert.equal(onWire(dialog.createRequest('MESSAGE')).headers.get('contact'), undefined);
  });

  test('a Via is added when asked, with a fresh branch each time', () => {
    const { dialog } = uacConfirmed();
    const one = onWire(dialog.createRequest('INFO', { via: { transport: 'udp', host: '192.0.2.1', port: 5062, rport: true } }));
    const two = onWire(dialog.createRequest('INFO', { via: { transport: 'tcp', host: 'pc33.atlanta.example.com' } }));
    const v1 = one.topVia();
    const v2 = two.topVia();
    assert.ok(v1 !== undefined && v2 !== undefined);
    assert.equal(v1.transport, 'UDP');
    assert.equal(v1.port, 5062);
    assert.ok(v1.params.some((p) => p.name === 'rport'));
    const b1 = v1.params.find((p) => p.name === 'branch')?.value;
    const b2 = v2.params.find((p) => p.name === 'branch')?.value;
    assert.ok(b1?.startsWith('z9hG4bK') && b2?.startsWith('z9hG4bK'));
    assert.notEqual(b1, b2);
    assert.equal(dialog.createRequest('INFO').headers.has('via'), false);
  });

  test('bad requests and bad states are refused without consuming a CSeq', () => {
    const { dialog } = uacConfirmed();
    assert.throws(() => dialog.createRequest('ACK'), TypeError);
    assert.throws(() => dialog.createRequest('CANCEL'), TypeError);
    assert.throws(() => dialog.createRequest('BAD METHOD'), TypeError);
    assert.throws(() => dialog.createRequest('INFO', { headers: [['CSeq', '1 INFO']] }), TypeError);
    assert.throws(() => dialog.createRequest('INFO', { headers: [['X-Evil', 'a\r\nVia: x']] }), TypeError);
    assert.throws(() => dialog.createRequest('INFO', { body: 'x' }), TypeError);
    assert.throws(() => dialog.createRequest('INFO', { via: { transport: 'UDP', host: 'bad host' } }), TypeError);
    assert.equal(dialog.localSeq, 314159);
    dialog.terminate();
    assert.throws(() => dialog.createRequest('INFO'), (e: unknown) => e instanceof DialogStateError && e.code === 'DIALOG_ERR_STATE');
  });

  test('the callee may not BYE an early dialog (§15)', () => {
    const dialog = uasDialog();
    assert.throws(() => dialog.createRequest('BYE'), DialogStateError);
    assert.doesNotThrow(() => Dialog.fromUacResponse(aliceInvite(), bobResponse(180, 't')).createRequest('BYE'));
  });
});

describe('ACK for a 2xx (RFC 3261 §13.2.2.4)', () => {
  test('the INVITE CSeq number, the route set, a new branch, the INVITE credentials', () => {
    const { dialog } = uacConfirmed({ recordRoute: RR_TRAPEZOID });
    const reinvite = dialog.createRequest('INVITE', { headers: [['Proxy-Authorization', 'Digest username="alice", realm="x"']] });
    const ack = onWire(dialog.createAck(reinvite, { via: { transport: 'UDP', host: '192.0.2.1' }, body: 'v=0\r\n', contentType: 'application/sdp' }));
    assert.equal(ack.method, 'ACK');
    assert.deepEqual(ack.cseq(), { seq: 314160, method: 'ACK' });
    assert.equal(ack.uri, 'sip:bob@192.0.2.4');
    assert.deepEqual(routeUris(ack), ['sip:p1.example.com;lr', 'sip:p2.example.com;lr', 'sip:p3.middle.com', 'sip:p4.domain.com;lr']);
    assert.equal(ack.headers.get('proxy-authorization'), 'Digest username="alice", realm="x"');
    assert.equal(ack.headers.get('contact'), undefined);
    assert.equal(ack.body.toString(), 'v=0\r\n');
    assert.ok(ack.topVia()?.params.some((p) => p.name === 'branch' && p.value?.startsWith('z9hG4bK') === true));
    assert.equal(dialog.localSeq, 314160, 'ACK takes no new CSeq');
  });

  test('from a CSeq number; allowed even on a terminated dialog (ACK then BYE)', () => {
    const { dialog } = uacConfirmed();
    dialog.terminate();
    const ack = onWire(dialog.createAck(314159));
    assert.deepEqual(ack.cseq(), { seq: 314159, method: 'ACK' });
    assert.throws(() => dialog.createAck(-1), RangeError);
    assert.throws(() => dialog.createAck(dialog.createAck(1)), TypeError);
  });
});

describe('in-dialog requests at the UAS (RFC 3261 §12.2.2)', () => {
  test('in-order CSeqs are accepted and raise the remote sequence number; a lower one gets 500', () => {
    const { dialog } = uacConfirmed();
    assert.deepEqual(dialog.receiveRequest(bobRequest('INFO', 5)), { ok: true, targetRefreshed: false });
    assert.equal(dialog.remoteSeq, 5);
    assert.deepEqual(dialog.receiveRequest(bobRequest('INFO', 7)), { ok: true, targetRefreshed: false });
    const late = dialog.receiveRequest(bobRequest('INFO', 6));
    assert.equal(late.ok, false);
    assert.equal(!late.ok && late.status, 500);
    assert.equal(dialog.remoteSeq, 7);
  });

  test('ACK and CANCEL are exempt and leave the remote sequence number alone', () => {
    const invite = strictTrapezoidInvite();
    const dialog = uasDialog(invite);
    dialog.responseSent(dialog.createResponse(invite, 200));
    assert.equal(dialog.receiveRequest(request([
      'INFO sip:callee@192.0.2.20 SIP/2.0',
      'Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKi',
      'From: <sip:caller@u1.example.com>;tag=u1tag',
      'To: <sip:callee@u2.domain.com>;tag=u2tag',
      'Call-ID: trapezoid@u1.example.com',
      'CSeq: 9 INFO',
      'Content-Length: 0',
    ])).ok, true);
    for (const method of ['ACK', 'CANCEL']) {
      const r = request([
        `${method} sip:callee@192.0.2.20 SIP/2.0`,
        'Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKa',
        'From: <sip:caller@u1.example.com>;tag=u1tag',
        'To: <sip:callee@u2.domain.com>;tag=u2tag',
        'Call-ID: trapezoid@u1.example.com',
        `CSeq: 1 ${method}`,
        'Content-Length: 0',
      ]);
      assert.deepEqual(dialog.receiveRequest(r), { ok: true, targetRefreshed: false });
    }
    assert.equal(dialog.remoteSeq, 9);
  });

  test('a re-INVITE or UPDATE with Contact refreshes the remote target; later requests go there', () => {
    const { dialog } = uacConfirmed();
    const result = dialog.receiveRequest(bobRequest('INVITE', 2, ['Contact: <sip:bob@203.0.113.5:5070;transport=tcp>']));
    assert.deepEqual(result, { ok: true, targetRefreshed: true });
    assert.equal(formatUri(dialog.remoteTarget), 'sip:bob@203.0.113.5:5070;transport=tcp');
    assert.equal(onWire(dialog.createRequest('BYE')).uri, 'sip:bob@203.0.113.5:5070;transport=tcp');
    dialog.receiveRequest(bobRequest('UPDATE', 3, ['Contact: <sip:bob@203.0.113.6>']));
    assert.equal(formatUri(dialog.remoteTarget), 'sip:bob@203.0.113.6');
    // INFO is not a target refresh request: its Contact is ignored
    dialog.receiveRequest(bobRequest('INFO', 4, ['Contact: <sip:bob@203.0.113.99>']));
    assert.equal(formatUri(dialog.remoteTarget), 'sip:bob@203.0.113.6');
  });

  test('a target refresh with several Contacts gets 400 and changes nothing', () => {
    const { dialog } = uacConfirmed();
    const result = dialog.receiveRequest(bobRequest('INVITE', 2, ['Contact: <sip:a@203.0.113.1>, <sip:b@203.0.113.2>']));
    assert.deepEqual(result, { ok: false, status: 400, reason: 'Bad Contact' });
    assert.equal(dialog.remoteSeq, undefined);
    assert.equal(formatUri(dialog.remoteTarget), 'sip:bob@192.0.2.4');
  });

  test('BYE terminates the dialog; later requests get 481', () => {
    const { dialog } = uacConfirmed();
    assert.equal(dialog.receiveRequest(bobRequest('BYE', 2)).ok, true);
    assert.equal(dialog.state, 'terminated');
    assert.equal(dialog.terminationReason, 'bye');
    assert.deepEqual(dialog.receiveRequest(bobRequest('INFO', 3)), { ok: false, status: 481, reason: 'Call/Transaction Does Not Exist' });
  });

  test('a request for another dialog gets 481', () => {
    const { dialog } = uacConfirmed();
    const result = dialog.receiveRequest(bobRequest('INFO', 2, [], 'someoneElse'));
    assert.equal(!result.ok && result.status, 481);
  });
});

describe('responses within the dialog at the UAC (RFC 3261 §12.2.1.2)', () => {
  test('a 2xx to a re-INVITE refreshes the remote target but never the route set', () => {
    const { dialog } = uacConfirmed({ recordRoute: ['<sip:p1.example.com;lr>'] });
    const reinvite = dialog.createRequest('INVITE');
    dialog.receiveResponse(bobResponse(200, 'a6c85cf', {
      cseq: `${reinvite.cseq().seq} INVITE`,
      contact: '<sip:bob@203.0.113.8>',
      recordRoute: ['<sip:elsewhere.example.com;lr>'],
    }));
    assert.equal(formatUri(dialog.remoteTarget), 'sip:bob@203.0.113.8');
    assert.deepEqual(dialog.routeSet.map((u) => formatUri(u)), ['sip:p1.example.com;lr']);
    assert.equal(dialog.state, 'confirmed');
  });

  test('a non-2xx to a re-INVITE changes nothing', () => {
    const { dialog } = uacConfirmed();
    const reinvite = dialog.createRequest('INVITE');
    dialog.receiveResponse(bobResponse(488, 'a6c85cf', { cseq: `${reinvite.cseq().seq} INVITE`, contact: '<sip:bob@203.0.113.8>' }));
    assert.equal(dialog.state, 'confirmed');
    assert.equal(formatUri(dialog.remoteTarget), 'sip:bob@192.0.2.4');
  });

  test('481 and 408 terminate the dialog', () => {
    for (const [status, reason] of [[481, 'gone'], [408, 'timeout']] as const) {
      const { dialog } = uacConfirmed();
      const info = dialog.createRequest('INFO');
      dialog.receiveResponse(bobResponse(status, 'a6c85cf', { cseq: `${info.cseq().seq} INFO` }));
      assert.equal(dialog.state, 'terminated');
      assert.equal(dialog.terminationReason, reason);
    }
  });

  test('the final response to our BYE terminates, unless it asks for credentials', () => {
    const { dialog } = uacConfirmed();
    const bye = dialog.createRequest('BYE');
    dialog.receiveResponse(bobResponse(407, 'a6c85cf', { cseq: `${bye.cseq().seq} BYE` }));
    assert.equal(dialog.state, 'confirmed');
    const retry = dialog.createRequest('BYE');
    dialog.receiveResponse(bobResponse(200, 'a6c85cf', { cseq: `${retry.cseq().seq} BYE` }));
    assert.equal(dialog.state, 'terminated');
    assert.equal(dialog.terminationReason, 'bye');
  });

  test('a response of another Call-ID or From tag is refused', () => {
    const { dialog } = uacConfirmed();
    const foreign = response([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKx',
      `To: ${BOB_TO};tag=a6c85cf`,
      'From: <sip:alice@atlanta.example.com>;tag=other',
      `Call-ID: ${CALL_ID}`,
      'CSeq: 1 INFO',
      'Content-Length: 0',
    ]);
    assert.throws(() => dialog.receiveResponse(foreign), TypeError);
  });
});
