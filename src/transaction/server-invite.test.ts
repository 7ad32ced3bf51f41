import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createNon2xxAck } from '../sip/build.js';
import type { SipRequest } from '../sip/message.js';
import { TransportError, type IncomingMessage, type TransportProtocol } from '../transport/transport.js';
import { TransactionTimeoutError } from './errors.js';
import type { ServerTransaction, TransactionLayer } from './layer.js';
import { InviteServerTransaction } from './server-invite.js';
import {
  ALICE,
  createLayer,
  createNetContext,
  fixtureBranch,
  makeRequest,
  makeResponse,
  settle,
  timesOf,
  type NetContext,
} from './test-support.js';

interface Ctx extends NetContext {
  layer: TransactionLayer;
  atAlice: IncomingMessage[];
  /** What Bob's TU saw: requests with their transactions, stray ACKs. */
  requests: Array<{ request: SipRequest; tx: ServerTransaction }>;
  strayAcks: SipRequest[];
  /** Run by Bob's TU on each new request (default: stay silent). */
  answer: (request: SipRequest, tx: ServerTransaction) => void;
}

let ctx: Ctx;

beforeEach(() => {
  const net = createNetContext();
  const atAlice: IncomingMessage[] = [];
  net.aliceTransport.onMessage((m) => atAlice.push(m));
  const layer = createLayer(net, net.bobTransport);
  ctx = { ...net, layer, atAlice, requests: [], strayAcks: [], answer: () => {} };
  layer.onRequest((request, tx) => {
    ctx.requests.push({ request, tx });
    ctx.answer(request, tx);
  });
  layer.onStrayAck((ack) => ctx.strayAcks.push(ack));
});

afterEach(() => {
  ctx.layer.close();
});

/** Alice (a scripted peer) sends `request` to Bob; delivered at once. */
async function aliceSends(request: SipRequest, protocol: TransportProtocol = 'udp'): Promise<void> {
  await ctx.aliceTransport.send(request, ctx.bob(protocol));
  ctx.clock.advance(0);
}

function ist(): InviteServerTransaction {
  const tx = ctx.requests[0]?.tx;
  assert.ok(tx instanceof InviteServerTransaction);
  return tx;
}

function sentToAlice(): string[] {
  return ctx.net.sentTo(ALICE).map((w) => w.label);
}

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §8.5–8.7)', () => {
  test('sends 100 Trying after 200 ms when the TU has not answered', async () => {
    await aliceSends(makeRequest('INVITE'));
    assert.equal(ist().state, 'proceeding');
    ctx.clock.advance(199);
    assert.deepEqual(sentToAlice(), []);
    ctx.clock.advance(1);
    assert.deepEqual(sentToAlice(), ['100/INVITE']);
    assert.equal(timesOf(ctx.net.sentTo(ALICE), '100/INVITE')[0], 200);
    // 100 Trying carries no To tag (§8.2.6.2).
    assert.equal(ctx.net.sentTo(ALICE)[0]!.message.headers.get('to'), '<sip:bob@example.com>');
  });

  test('sends no 100 Trying when the TU answered within 200 ms', async () => {
    ctx.answer = (request, tx) => tx.respond(makeResponse(request, 180));
    await aliceSends(makeRequest('INVITE'));
    ctx.clock.advance(1_000);
    assert.deepEqual(sentToAlice(), ['180/INVITE']);
  });

  test('absorbs INVITE retransmissions: the TU sees one request; Proceeding resends the last provisional', async () => {
    const invite = makeRequest('INVITE');
    await aliceSends(invite);
    await aliceSends(invite); // before any response: nothing to resend
    assert.equal(ctx.requests.length, 1);
    assert.deepEqual(sentToAlice(), []);
    ist().respond(makeResponse(ctx.requests[0]!.request, 180));
    await aliceSends(invite);
    assert.equal(ctx.requests.length, 1);
    assert.deepEqual(sentToAlice(), ['180/INVITE', '180/INVITE']);
  });

  test('a non-2xx final over UDP is retransmitted on Timer G (T1 doubling, capped at T2) until Timer H', async () => {
    let timeouts = 0;
    ctx.answer = (request, tx) => {
      tx.setHandlers({ onTimeout: () => timeouts++ });
      tx.respond(makeResponse(request, 486));
    };
    await aliceSends(makeRequest('INVITE'));
    assert.equal(ist().state, 'completed');
    ctx.clock.advance(31_999);
    assert.deepEqual(
      timesOf(ctx.net.sentTo(ALICE), '486/INVITE'),
      [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
    );
    assert.equal(ist().state, 'completed');
    ctx.clock.advance(1); // Timer H = 64·T1: the ACK never came
    assert.equal(ist().state, 'terminated');
    assert.equal(timeouts, 1);
    assert.ok(ist().error instanceof TransactionTimeoutError);
    assert.equal((ist().error as TransactionTimeoutError).timer, 'H');
    assert.equal(ctx.layer.size, 0);
    assert.equal(ctx.clock.pendingTimers, 0);
  });

  test('INVITE retransmission in Completed resends the final; ACK → Confirmed stops G; Timer I (T4) ends it', async () => {
    ctx.answer = (request, tx) => tx.respond(makeResponse(request, 603));
    const invite = makeRequest('INVITE');
    await aliceSends(invite);
    await aliceSends(invite);
    assert.deepEqual(sentToAlice(), ['603/INVITE', '603/INVITE']);
    ctx.clock.advance(100);
    const ack = createNon2xxAck(invite, makeResponse(invite, 603));
    await aliceSends(ack);
    assert.equal(ist().state, 'confirmed');
    await aliceSends(ack); // ACK retransmission: absorbed
    assert.deepEqual(ctx.strayAcks, []);
    ctx.clock.advance(4_999);
    assert.deepEqual(sentToAlice(), ['603/INVITE', '603/INVITE']); // no more G after the ACK
    assert.equal(ist().state, 'confirmed');
    ctx.clock.advance(1);
    assert.equal(ist().state, 'terminated');
    assert.equal(ctx.layer.size, 0);
  });

  test('over TCP: no G retransmissions, and the ACK terminates at once (Timer I = 0)', async () => {
    ctx.answer = (request, tx) => tx.respond(makeResponse(request, 486));
    const invite = makeRequest('INVITE', { transport: 'TCP' });
    await aliceSends(invite, 'tcp');
    ctx.clock.advance(10_000);
    assert.deepEqual(sentToAlice(), ['486/INVITE']);
    await aliceSends(createNon2xxAck(invite, makeResponse(invite, 486)), 'tcp');
    assert.equal(ist().state, 'terminated');
    assert.equal(ctx.layer.size, 0);
  });

  test('2xx → Accepted: INVITE retransmissions absorbed, TU 2xx retransmissions sent, ACKs to the TU, Timer L ends it', async () => {
    ctx.answer = (request, tx) => tx.respond(makeResponse(request, 200));
    const invite = makeRequest('INVITE');
    await aliceSends(invite);
    assert.equal(ist().state, 'accepted');
    await aliceSends(invite); // absorbed: retransmitting 2xx is the TU's job (§13.3.1.4)
    assert.equal(ctx.requests.length, 1);
    assert.deepEqual(sentToAlice(), ['200/INVITE']);
    assert.equal(ist().respond(makeResponse(invite, 200)), true); // the TU retransmits its 2xx
    assert.deepEqual(sentToAlice(), ['200/INVITE', '200/INVITE']);
    // The ACK for a 2xx has its own branch (§13.2.2.4): no transaction matches, it is stray.
    const ack2xx = createNon2xxAck(invite, makeResponse(invite, 200));
    ack2xx.headers.set('via', `SIP/2.0/UDP ${ALICE};branch=${fixtureBranch()}`);
    await aliceSends(ack2xx);
    // An ACK that does match the Accepted IST (same branch) is passed to the TU too (RFC 6026 §8.7).
    await aliceSends(createNon2xxAck(invite, makeResponse(invite, 200)));
    assert.equal(ctx.strayAcks.length, 2);
    assert.equal(ist().state, 'accepted');
    assert.equal(ist().respond(makeResponse(invite, 486)), false); // no non-2xx after a 2xx
    ctx.clock.advance(31_999);
    assert.equal(ist().state, 'accepted');
    ctx.clock.advance(1); // Timer L = 64·T1
    assert.equal(ist().state, 'terminated');
    assert.equal(ctx.layer.size, 0);
  });

  test('a transport error while sending a response is reported to the TU (§17.2.4)', async () => {
    const errors: TransportError[] = [];
    ctx.answer = (_request, tx) => tx.setHandlers({ onTransportError: (e) => errors.push(e) });
    await aliceSends(makeRequest('INVITE'));
    ctx.net.setUnreachable(ALICE);
    ist().respond(makeResponse(ist().request, 500));
    await settle();
    assert.equal(errors.length, 1);
    assert.ok(ist().error instanceof TransportError);
    assert.equal(ist().state, 'terminated');
    assert.equal(ctx.layer.size, 0);
  });

  test('respond() validates the status and refuses a second final response', async () => {
    await aliceSends(makeRequest('INVITE'));
    assert.throws(() => ist().respond(makeResponse(ist().request, 700)), RangeError);
    assert.equal(ist().respond(makeResponse(ist().request, 404)), true);
    assert.equal(ist().respond(makeResponse(ist().request, 500)), false);
    assert.deepEqual(sentToAlice(), ['404/INVITE']);
  });
});
