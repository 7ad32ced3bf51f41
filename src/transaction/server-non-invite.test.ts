import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { SipRequest } from '../sip/message.js';
import type { IncomingMessage, TransportProtocol } from '../transport/transport.js';
import type { ServerTransaction, TransactionLayer } from './layer.js';
import { NonInviteServerTransaction } from './server-non-invite.js';
import { ALICE, createLayer, createNetContext, makeRequest, makeResponse, type NetContext } from './test-support.js';

interface Ctx extends NetContext {
  layer: TransactionLayer;
  atAlice: IncomingMessage[];
  requests: Array<{ request: SipRequest; tx: ServerTransaction }>;
}

let ctx: Ctx;

beforeEach(() => {
  const net = createNetContext();
  const atAlice: IncomingMessage[] = [];
  net.aliceTransport.onMessage((m) => atAlice.push(m));
  const layer = createLayer(net, net.bobTransport);
  ctx = { ...net, layer, atAlice, requests: [] };
  layer.onRequest((request, tx) => ctx.requests.push({ request, tx }));
});

afterEach(() => {
  ctx.layer.close();
});

async function aliceSends(request: SipRequest, protocol: TransportProtocol = 'udp'): Promise<void> {
  await ctx.aliceTransport.send(request, ctx.bob(protocol));
  ctx.clock.advance(0);
}

function nist(): NonInviteServerTransaction {
  const tx = ctx.requests[0]?.tx;
  assert.ok(tx instanceof NonInviteServerTransaction);
  return tx;
}

function sentToAlice(): string[] {
  return ctx.net.sentTo(ALICE).map((w) => w.label);
}

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  test('Trying discards retransmissions; Proceeding resends the last 1xx; Completed resends the final', async () => {
    const request = makeRequest('REGISTER');
    await aliceSends(request);
    await aliceSends(request);
    assert.equal(ctx.requests.length, 1);
    assert.equal(nist().state, 'trying');
    assert.deepEqual(sentToAlice(), []);
    nist().respond(makeResponse(request, 100));
    assert.equal(nist().state, 'proceeding');
    await aliceSends(request);
    assert.deepEqual(sentToAlice(), ['100/REGISTER', '100/REGISTER']);
    nist().respond(makeResponse(request, 200));
    assert.equal(nist().state, 'completed');
    await aliceSends(request);
    assert.deepEqual(sentToAlice(), ['100/REGISTER', '100/REGISTER', '200/REGISTER', '200/REGISTER']);
    assert.equal(ctx.requests.length, 1);
  });

  test('over UDP Timer J (64·T1) keeps the transaction to absorb retransmissions, then it drains', async () => {
    const request = makeRequest('OPTIONS');
    await aliceSends(request);
    nist().respond(makeResponse(request, 200));
    ctx.clock.advance(31_999);
    assert.equal(nist().state, 'completed');
    ctx.clock.advance(1);
    assert.equal(nist().state, 'terminated');
    assert.equal(ctx.layer.size, 0);
    assert.equal(ctx.clock.pendingTimers, 0);
    // After Timer J the same request is new again (a new transaction, a second TU call).
    await aliceSends(request);
    assert.equal(ctx.requests.length, 2);
  });

  test('over TCP the final response terminates at once (Timer J = 0)', async () => {
    await aliceSends(makeRequest('OPTIONS', { transport: 'TCP' }), 'tcp');
    nist().respond(makeResponse(nist().request, 200));
    assert.equal(nist().state, 'terminated');
    assert.equal(ctx.layer.size, 0);
  });

  test('later final responses from the TU are discarded in Completed', async () => {
    await aliceSends(makeRequest('BYE'));
    assert.equal(nist().respond(makeResponse(nist().request, 200)), true);
    assert.equal(nist().respond(makeResponse(nist().request, 500)), false);
    assert.equal(nist().respond(makeResponse(nist().request, 180)), false);
    assert.deepEqual(sentToAlice(), ['200/BYE']);
  });
});
