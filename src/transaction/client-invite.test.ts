import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { viaBranch } from '../sip/header-values.js';
import type { SipRequest } from '../sip/message.js';
import { TransportError, type IncomingMessage } from '../transport/transport.js';
import { InviteClientTransaction } from './client-invite.js';
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
  // Bob is a scripted peer without a transaction layer: the test plays his part by hand.
  net.bobTransport.onMessage((m) => atBob.push(m));
  ctx = { ...net, layer: createLayer(net, net.aliceTransport), atBob, rec: recordClient() };
});

afterEach(() => {
  ctx.layer.close();
});

function sendInvite(protocol: 'udp' | 'tcp' = 'udp'): InviteClientTransaction {
  const tx = ctx.layer.sendRequest(makeRequest('INVITE', { transport: protocol.toUpperCase() }), ctx.bob(protocol), ctx.rec.handlers);
  assert.ok(tx instanceof InviteClientTransaction);
  return tx;
}

/** The INVITE as Bob received it (responses are built from it, as a real UAS would). */
function inviteAtBob(): SipRequest {
  const first = ctx.atBob.find((m) => m.message.kind === 'request' && m.message.method === 'INVITE');
  assert.ok(first !== undefined, 'Bob received no INVITE');
  return first.message as SipRequest;
}

/** Bob answers over the wire; delivered on the next clock advance. */
async function bobResponds(status: number, toTag = 'b-tag', protocol: 'udp' | 'tcp' = 'udp'): Promise<void> {
  await ctx.bobTransport.send(makeResponse(inviteAtBob(), status, { toTag }), ctx.alice(protocol));
  ctx.clock.advance(0);
}

describe('INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §8.4)', () => {
  test('over UDP retransmits on Timer A at 500, 1000, 2000 … ms and times out on Timer B at 64·T1', () => {
    const tx = sendInvite();
    assert.equal(tx.state, 'calling');
    ctx.clock.advance(31_999);
    // Intervals double from T1: 500, 1000, 2000, 4000, 8000, 16000 → sends at these times.
    assert.deepEqual(timesOf(ctx.net.sentTo(BOB), 'INVITE'), [0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert.equal(tx.state, 'calling');
    assert.deepEqual(ctx.rec.events, []);
    ctx.clock.advance(1); // Timer B = 32 s
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(ctx.rec.events, ['timeout']);
    assert.ok(tx.error instanceof TransactionTimeoutError);
    assert.equal(tx.error.timer, 'B');
    assert.equal(tx.error.code, 'TX_ERR_TIMEOUT');
    assert.equal(ctx.layer.size, 0);
    assert.equal(ctx.clock.pendingTimers, 0);
  });

  test('over TCP never retransmits, and still times out on Timer B', () => {
    const tx = sendInvite('tcp');
    ctx.clock.advance(31_999);
    assert.equal(timesOf(ctx.net.sentTo(BOB), 'INVITE').length, 1);
    ctx.clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(ctx.rec.events, ['timeout']);
  });

  test('a provisional response stops retransmissions and Timer B (Proceeding waits for the final)', async () => {
    const tx = sendInvite();
    ctx.clock.advance(0);
    await bobResponds(180);
    assert.equal(tx.state, 'proceeding');
    ctx.clock.advance(120_000);
    assert.equal(timesOf(ctx.net.sentTo(BOB), 'INVITE').length, 1);
    assert.equal(tx.state, 'proceeding');
    await bobResponds(200);
    assert.equal(tx.state, 'accepted');
    assert.deepEqual(ctx.rec.events, ['response:180', 'response:200']);
  });

  test('a non-2xx final response is ACKed by the transaction, retransmissions re-ACKed but not passed up, Timer D ends it', async () => {
    const tx = sendInvite();
    ctx.clock.advance(0);
    await bobResponds(486);
    assert.equal(tx.state, 'completed');
    assert.deepEqual(ctx.rec.events, ['response:486']);
    const acks = ctx.net.sentTo(BOB).filter((w) => w.label === 'ACK');
    assert.equal(acks.length, 1);
    // §17.1.1.3: same branch as the INVITE, To (with tag) from the response, CSeq number of the INVITE.
    const ack = acks[0]!.message as SipRequest;
    assert.equal(viaBranch(ack.topVia()!), viaBranch(tx.request.topVia()!));
    assert.equal(ack.headers.get('to'), '<sip:bob@example.com>;tag=b-tag');
    assert.equal(ack.headers.get('cseq'), '1 ACK');
    assert.equal(ack.uri, tx.request.uri);
    assert.ok(tx.ack !== undefined);

    await bobResponds(486); // a retransmission of the final response
    assert.equal(ctx.net.sentTo(BOB).filter((w) => w.label === 'ACK').length, 2);
    assert.deepEqual(ctx.rec.events, ['response:486']);

    ctx.clock.advance(31_999);
    assert.equal(tx.state, 'completed');
    ctx.clock.advance(1); // Timer D = 32 s
    assert.equal(tx.state, 'terminated');
    assert.equal(ctx.layer.size, 0);
  });

  test('over TCP a non-2xx final response terminates at once (Timer D = 0)', async () => {
    const tx = sendInvite('tcp');
    ctx.clock.advance(0);
    await bobResponds(603, 'b-tag', 'tcp');
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(ctx.rec.events, ['response:603']);
    assert.equal(ctx.net.sentTo(BOB).filter((w) => w.label === 'ACK').length, 1);
    assert.equal(ctx.layer.size, 0);
  });

  test('2xx → Accepted: every 2xx (retransmission or fork) goes to the TU until Timer M; no ACK from the transaction', async () => {
    const tx = sendInvite();
    ctx.clock.advance(0);
    await bobResponds(200);
    assert.equal(tx.state, 'accepted');
    await bobResponds(200); // retransmission
    await bobResponds(200, 'fork-2'); // another branch of a fork answered
    assert.deepEqual(ctx.rec.events, ['response:200', 'response:200', 'response:200']);
    assert.deepEqual(
      ctx.rec.responses.map((r) => r.headers.get('to')),
      ['<sip:bob@example.com>;tag=b-tag', '<sip:bob@example.com>;tag=b-tag', '<sip:bob@example.com>;tag=fork-2'],
    );
    assert.equal(ctx.net.sentTo(BOB).filter((w) => w.label === 'ACK').length, 0); // the TU's job (§13.2.2.4)
    ctx.clock.advance(31_999);
    assert.equal(tx.state, 'accepted');
    ctx.clock.advance(1); // Timer M = 64·T1
    assert.equal(tx.state, 'terminated');
    assert.equal(ctx.layer.size, 0);
    // A 2xx after Timer M matches nothing: it is stray.
    const stray: number[] = [];
    ctx.layer.onStrayResponse((r) => stray.push(r.status));
    await bobResponds(200);
    assert.deepEqual(stray, [200]);
  });

  test('a transport error in Calling is reported to the TU and terminates (§17.1.4)', async () => {
    ctx.net.setUnreachable(BOB);
    const tx = sendInvite();
    await settle();
    assert.equal(tx.state, 'terminated');
    assert.ok(tx.error instanceof TransportError);
    assert.equal(ctx.rec.events.length, 1);
    assert.match(ctx.rec.events[0]!, /^transportError:/);
    assert.equal(ctx.layer.size, 0);
  });

  test('sendCancel sends a CANCEL with the INVITE branch as its own transaction (§9.1)', async () => {
    const tx = sendInvite();
    assert.throws(() => ctx.layer.sendCancel(tx, recordClient().handlers), TypeError); // no 1xx yet
    ctx.clock.advance(0);
    await bobResponds(180);
    const cancelRec = recordClient();
    const cancelTx = ctx.layer.sendCancel(tx, cancelRec.handlers);
    assert.equal(cancelTx.method, 'CANCEL');
    assert.equal(viaBranch(cancelTx.request.topVia()!), viaBranch(tx.request.topVia()!));
    assert.equal(ctx.layer.clientTransactionCount, 2);
    ctx.clock.advance(0);
    const cancelAtBob = ctx.atBob.find((m) => m.message.kind === 'request' && m.message.method === 'CANCEL');
    assert.ok(cancelAtBob !== undefined);
    await ctx.bobTransport.send(makeResponse(cancelAtBob.message as SipRequest, 200), ctx.alice());
    await bobResponds(487);
    assert.deepEqual(cancelRec.events, ['response:200']);
    assert.deepEqual(ctx.rec.events, ['response:180', 'response:487']);
    assert.equal(tx.state, 'completed');
    ctx.clock.runAll();
    assert.equal(ctx.layer.size, 0);
  });

  test('a TU handler that throws is logged and does not break the machine', async () => {
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => errors.push(m) };
    const layer = createLayer(ctx, ctx.net.endpoint('127.0.1.9:5060'), { logger });
    const tx = layer.sendRequest(makeRequest('INVITE', { sentBy: '127.0.1.9:5060' }), ctx.bob(), {
      onResponse: () => {
        throw new Error('boom');
      },
      onTimeout: () => {},
      onTransportError: () => {},
    });
    ctx.clock.advance(0);
    const invite = ctx.atBob.at(-1)!.message as SipRequest;
    await ctx.bobTransport.send(makeResponse(invite, 500), ctx.net.target('127.0.1.9:5060'));
    ctx.clock.advance(0);
    assert.equal(tx.state, 'completed');
    assert.equal(errors.length, 1);
    layer.close();
  });
});
