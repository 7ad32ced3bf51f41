import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/clock.js';
import { SeededRandom } from '../core/random.js';
import type { SipMessage, SipRequest, SipResponse } from '../sip/message.js';
import { parseMessage } from '../sip/parser.js';
import { Dialog } from './dialog.js';
import { DEFAULT_TIMER_C_MS, TimerC, Uas2xxRetransmitter, UacAckResponder, type AckTimeout, type TimerCFiring } from './invite-session.js';

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

function invite(): SipRequest {
  return request([
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKinv',
    'From: <sip:alice@atlanta.example.com>;tag=alice1',
    'To: <sip:bob@biloxi.example.com>',
    'Call-ID: call-1@atlanta',
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@192.0.2.1>',
    'Content-Length: 0',
  ]);
}

function ok(toTag = 'bob1', seq = 1): SipResponse {
  return response([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKinv',
    'From: <sip:alice@atlanta.example.com>;tag=alice1',
    `To: <sip:bob@biloxi.example.com>;tag=${toTag}`,
    'Call-ID: call-1@atlanta',
    `CSeq: ${seq} INVITE`,
    'Contact: <sip:bob@192.0.2.2>',
    'Content-Length: 0',
  ]);
}

function ackFor(seq: number): SipRequest {
  return request([
    'ACK sip:bob@192.0.2.2 SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKack' + String(seq),
    'From: <sip:alice@atlanta.example.com>;tag=alice1',
    'To: <sip:bob@biloxi.example.com>;tag=bob1',
    'Call-ID: call-1@atlanta',
    `CSeq: ${seq} ACK`,
    'Content-Length: 0',
  ]);
}

describe('UAS 2xx retransmission (RFC 3261 §13.3.1.4)', () => {
  let clock: FakeClock;
  let sentAt: number[];
  let timeouts: AckTimeout[];
  let tx: Uas2xxRetransmitter;
  beforeEach(() => {
    clock = new FakeClock();
    sentAt = [];
    timeouts = [];
    tx = new Uas2xxRetransmitter({
      response: ok(),
      send: () => sentAt.push(clock.now()),
      clock,
      onTimeout: (t) => timeouts.push(t),
    });
  });

  test('T1, doubling to T2 (500, 1000, 2000, 4000, 4000 … ms), then a BYE verdict at 64·T1', () => {
    clock.advance(31_999);
    assert.deepEqual(sentAt, [500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
    const gaps = sentAt.map((t, i) => t - (i === 0 ? 0 : sentAt[i - 1]!));
    assert.deepEqual(gaps, [500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000]);
    assert.equal(timeouts.length, 0);
    assert.equal(tx.state, 'waiting');
    clock.advance(1);
    assert.equal(tx.state, 'timed-out');
    assert.equal(timeouts.length, 1);
    assert.equal(timeouts[0]?.action, 'send-bye');
    assert.equal(timeouts[0]?.response.status, 200);
    clock.advance(60_000);
    assert.equal(sentAt.length, 10);
    assert.equal(tx.retransmissions, 10);
    assert.equal(clock.pendingTimers, 0);
  });

  test('the ACK stops it; an ACK for another CSeq does not', () => {
    clock.advance(1_600);
    assert.deepEqual(sentAt, [500, 1500]);
    assert.equal(tx.receiveAck(ackFor(2)), false);
    assert.equal(tx.receiveAck(ackFor(1)), true);
    assert.equal(tx.state, 'acknowledged');
    clock.advance(60_000);
    assert.deepEqual(sentAt, [500, 1500]);
    assert.equal(timeouts.length, 0);
    assert.equal(clock.pendingTimers, 0);
    assert.equal(tx.receiveAck(ackFor(1)), true, 'a retransmitted ACK still belongs to it');
  });

  test('stop() is idempotent and silences it', () => {
    tx.stop();
    tx.stop();
    clock.advance(40_000);
    assert.equal(tx.state, 'stopped');
    assert.deepEqual(sentAt, []);
    assert.equal(timeouts.length, 0);
  });

  test('custom T1/T2 and a non-2xx are checked', () => {
    const times: number[] = [];
    const c = new FakeClock();
    new Uas2xxRetransmitter({ response: ok(), send: () => times.push(c.now()), clock: c, timers: { t1: 100, t2: 300 } });
    c.advance(10_000);
    assert.deepEqual(times.slice(0, 5), [100, 300, 600, 900, 1200]);
    assert.equal(times.at(-1), 6300, 'last retransmission before 64·T1 = 6400');
    const busy = response([
      'SIP/2.0 486 Busy Here',
      'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKinv',
      'From: <sip:alice@atlanta.example.com>;tag=alice1',
      'To: <sip:bob@biloxi.example.com>;tag=bob1',
      'Call-ID: call-1@atlanta',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
    ]);
    assert.throws(() => new Uas2xxRetransmitter({ response: busy, send: () => {}, clock: c }), RangeError);
    assert.throws(() => new Uas2xxRetransmitter({ response: ok(), send: () => {}, clock: c, timers: { t1: 0 } }), RangeError);
  });
});

describe('UAC ACK for each 2xx (RFC 3261 §13.2.2.4)', () => {
  test('every 2xx of this dialog gets the same ACK; other forks and CSeqs do not', () => {
    const clock = new FakeClock();
    const dialog = Dialog.fromUacResponse(invite(), ok(), { random: new SeededRandom(5) });
    const ack = dialog.createAck(1, { via: { transport: 'UDP', host: '192.0.2.1' } });
    const sent: SipRequest[] = [];
    const responder = new UacAckResponder({ ack, send: (m) => sent.push(m), clock });
    assert.equal(responder.receive2xx(ok()), true);
    clock.advance(500);
    assert.equal(responder.receive2xx(ok()), true);
    clock.advance(1000);
    assert.equal(responder.receive2xx(ok()), true);
    assert.equal(sent.length, 3);
    assert.ok(sent.every((m) => m === ack), 'the same ACK, same branch');
    assert.equal(responder.receive2xx(ok('otherFork')), false);
    assert.equal(responder.receive2xx(ok('bob1', 2)), false);
    assert.equal(responder.acksSent, 3);
  });

  test('it stops answering after 64·T1 or close()', () => {
    const clock = new FakeClock();
    const dialog = Dialog.fromUacResponse(invite(), ok());
    const sent: SipRequest[] = [];
    const responder = new UacAckResponder({ ack: dialog.createAck(1), send: (m) => sent.push(m), clock });
    clock.advance(32_000);
    assert.equal(responder.state, 'closed');
    assert.equal(responder.receive2xx(ok()), false);
    assert.equal(sent.length, 0);
    assert.throws(() => new UacAckResponder({ ack: dialog.createRequest('INFO'), send: () => {}, clock }), TypeError);
  });
});

describe('Timer C (RFC 3261 §16.6 step 11, §16.8)', () => {
  test('fires after 3 minutes as a 408 when nothing provisional came', () => {
    const clock = new FakeClock();
    const fired: TimerCFiring[] = [];
    const timer = new TimerC({ clock, onFire: (f) => fired.push(f) });
    clock.advance(DEFAULT_TIMER_C_MS - 1);
    timer.provisionalResponse(100); // 100 Trying does not reset it (§16.7 step 2)
    clock.advance(1);
    assert.deepEqual(fired, [{ provisionalReceived: false, action: 'timeout-408' }]);
    assert.equal(timer.state, 'fired');
  });

  test('a 101–199 resets it; firing then means CANCEL; stop() silences it', () => {
    const clock = new FakeClock();
    const fired: Array<{ at: number; firing: TimerCFiring }> = [];
    const timer = new TimerC({ clock, onFire: (firing) => fired.push({ at: clock.now(), firing }) });
    clock.advance(100_000);
    timer.provisionalResponse(180);
    clock.advance(179_999);
    assert.equal(fired.length, 0);
    clock.advance(1);
    assert.deepEqual(fired, [{ at: 280_000, firing: { provisionalReceived: true, action: 'cancel' } }]);
    timer.reset(200_000); // §16.8: the proxy may reset it instead
    timer.stop();
    clock.advance(1_000_000);
    assert.equal(fired.length, 1);
    assert.equal(timer.state, 'stopped');
  });
});
