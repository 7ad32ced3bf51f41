import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { SipRequest } from '../sip/message.js';
import { TransportError, type IncomingMessage } from '../transport/transport.js';
import { NonInviteClientTransaction } from './client-non-invite.js';
import { TransactionTimeoutError } from './errors.js';
import type { TransactionLayer } from './layer.js';
import {
  BOB,
  createLayer,
  createNetContext,
  makeRequest,
  makeResponse,
  recordClient,
  settle,
  timesOf,
  type ClientRecorder,
  type NetContext,
} from './test-support.js';

interface Ctx extends NetContext {
  layer: TransactionLayer;
  atBob: IncomingMessage[];
  rec: ClientRecorder;
}

let ctx: Ctx;

beforeEach(() => {
  const net = createNetContext();
  const atBob: IncomingMessage[] = [];
  net.bobTransport.onMessage((m) => atBob.push(m));
  ctx = { ...net, layer: createLayer(net, net.aliceTransport), atBob, rec: recordClient() };
});

afterEach(() => {
  ctx.layer.close();
});

function sendOptions(protocol: 'udp' | 'tcp' = 'udp'): NonInviteClientTransaction {
  const tx = ctx.layer.sendRequest(makeRequest('OPTIONS', { transport: protocol.toUpperCase() }), ctx.bob(protocol), ctx.rec.handlers);
  assert.ok(tx instanceof NonInviteClientTransaction);
  return tx;
}

async function bobResponds(status: number, protocol: 'udp' | 'tcp' = 'udp'): Promise<void> {
  const request = ctx.atBob[0]?.message as SipRequest | undefined;
  assert.ok(request !== undefined, 'Bob received nothing');
  await ctx.bobTransport.send(makeResponse(request, status), ctx.alice(protocol));
  ctx.clock.advance(0);
}

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  test('over UDP Timer E doubles from T1 up to T2, and Timer F times out at 64·T1', () => {
    const tx = sendOptions();
    assert.equal(tx.state, 'trying');
    ctx.clock.advance(31_999);
    // Intervals 500, 1000, 2000, then capped at T2 = 4000.
    assert.deepEqual(
      timesOf(ctx.net.sentTo(BOB), 'OPTIONS'),
      [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
    );
    assert.equal(tx.state, 'trying');
    ctx.clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(ctx.rec.events, ['timeout']);
    assert.ok(tx.error instanceof TransactionTimeoutError);
    assert.equal(tx.error.timer, 'F');
    assert.equal(ctx.layer.size, 0);
    assert.equal(ctx.clock.pendingTimers, 0);
  });

  test('in Proceeding Timer E is reset to T2 each time (§17.1.2.2), and F still applies', async () => {
    const tx = sendOptions();
    ctx.clock.advance(0);
    await bobResponds(100);
    assert.equal(tx.state, 'proceeding');
    ctx.clock.advance(9_000);
    assert.deepEqual(timesOf(ctx.net.sentTo(BOB), 'OPTIONS'), [0, 500, 4500, 8500]);
    ctx.clock.advance(23_000); // t = 32 000
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(ctx.rec.events, ['response:100', 'timeout']);
  });

  test('a final response → Completed; retransmitted finals are absorbed; Timer K (T4) ends it', async () => {
    const tx = sendOptions();
    ctx.clock.advance(0);
    await bobResponds(100);
    await bobResponds(180);
    await bobResponds(200);
    assert.equal(tx.state, 'completed');
    await bobResponds(200);
    assert.deepEqual(ctx.rec.events, ['response:100', 'response:180', 'response:200']);
    ctx.clock.advance(10_000);
    assert.equal(timesOf(ctx.net.sentTo(BOB), 'OPTIONS').length, 1); // no E in Completed
    assert.equal(tx.state, 'terminated'); // K = T4 = 5 s elapsed within those 10 s
    assert.equal(ctx.layer.size, 0);
  });

  test('Timer K fires exactly T4 after the final response', async () => {
    const tx = sendOptions();
    ctx.clock.advance(0);
    await bobResponds(404);
    ctx.clock.advance(4_999);
    assert.equal(tx.state, 'completed');
    ctx.clock.advance(1);
    assert.equal(tx.state, 'terminated');
  });

  test('over TCP: no retransmissions, and the final response terminates at once (K = 0)', async () => {
    const tx = sendOptions('tcp');
    ctx.clock.advance(10_000);
    assert.equal(timesOf(ctx.net.sentTo(BOB), 'OPTIONS').length, 1);
    await bobResponds(200, 'tcp');
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(ctx.rec.events, ['response:200']);
    assert.equal(ctx.layer.size, 0);
  });

  test('a refused TCP connection is reported as a transport error (§17.1.4)', async () => {
    const tx = ctx.layer.sendRequest(makeRequest('MESSAGE'), ctx.net.target('127.0.1.3:5060', 'tcp'), ctx.rec.handlers);
    await settle();
    assert.equal(tx.state, 'terminated');
    assert.ok(tx.error instanceof TransportError);
    assert.equal(tx.error.code, 'TRANSPORT_ERR_SEND');
    assert.match(ctx.rec.events[0] ?? '', /connection refused/);
    assert.equal(ctx.layer.size, 0);
  });
});
