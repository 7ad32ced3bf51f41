import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createCancel, createNon2xxAck } from '../sip/build.js';
import { viaBranch } from '../sip/header-values.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import type { IncomingMessage, TransportProtocol } from '../transport/transport.js';
import { isRfc3261Branch } from './keys.js';
import { responseTarget, type ServerTransaction, type TransactionLayer } from './layer.js';
import { InviteServerTransaction } from './server-invite.js';
import {
  ALICE,
  BOB,
  createLayer,
  createNetContext,
  makeRequest,
  makeResponse,
  recordClient,
  type NetContext,
} from './test-support.js';

// ---------------------------------------------------------------------------------------------
// Alice as a layer talking to a scripted Bob

describe('TransactionLayer: sending', () => {
  let ctx: NetContext & { layer: TransactionLayer; atBob: IncomingMessage[] };

  beforeEach(() => {
    const net = createNetContext();
    const atBob: IncomingMessage[] = [];
    net.bobTransport.onMessage((m) => atBob.push(m));
    ctx = { ...net, layer: createLayer(net, net.aliceTransport), atBob };
  });

  afterEach(() => ctx.layer.close());

  test('adds a z9hG4bK branch to a top Via without one, and keeps a caller-provided branch', () => {
    const bare = makeRequest('OPTIONS', { branch: null });
    ctx.layer.sendRequest(bare, ctx.bob(), recordClient().handlers);
    const branch = viaBranch(bare.topVia()!);
    assert.ok(isRfc3261Branch(branch));
    assert.equal(bare.headers.get('via'), `SIP/2.0/UDP ${ALICE};branch=${branch}`);

    const own = makeRequest('OPTIONS', { branch: 'z9hG4bK-mine' });
    ctx.layer.sendRequest(own, ctx.bob(), recordClient().handlers);
    assert.equal(viaBranch(own.topVia()!), 'z9hG4bK-mine');
  });

  test('builds a Via from the transport address when the request has none', () => {
    const request = makeRequest('OPTIONS', { via: null });
    ctx.layer.sendRequest(request, ctx.bob('tcp'), recordClient().handlers);
    const via = request.topVia()!;
    assert.equal(via.transport, 'TCP');
    assert.equal(`${via.host}:${via.port}`, ALICE);
    assert.ok(isRfc3261Branch(viaBranch(via)));
    ctx.clock.advance(0);
    assert.equal(ctx.atBob.length, 1);
  });

  test('refuses an ACK (no transaction) and a second transaction with the same branch and method', () => {
    assert.throws(() => ctx.layer.sendRequest(makeRequest('ACK'), ctx.bob(), recordClient().handlers), TypeError);
    ctx.layer.sendRequest(makeRequest('OPTIONS', { branch: 'z9hG4bK-dup' }), ctx.bob(), recordClient().handlers);
    assert.throws(
      () => ctx.layer.sendRequest(makeRequest('OPTIONS', { branch: 'z9hG4bK-dup' }), ctx.bob(), recordClient().handlers),
      TypeError,
    );
  });

  test('sendStateless sends an ACK (for a 2xx) outside any transaction, with a branch of its own', async () => {
    const ack = makeRequest('ACK', { branch: null });
    await ctx.layer.sendStateless(ack, ctx.bob());
    assert.ok(isRfc3261Branch(viaBranch(ack.topVia()!)));
    assert.equal(ctx.layer.size, 0);
    ctx.net.setUnreachable(BOB);
    await assert.rejects(ctx.layer.sendStateless(makeRequest('ACK'), ctx.bob()), { code: 'TRANSPORT_ERR_SEND' });
  });

  test('a response matching no client transaction goes to onStrayResponse (dropped without one)', () => {
    const response = makeResponse(makeRequest('INVITE', { branch: 'z9hG4bK-nobody' }), 200);
    ctx.aliceTransport.inject(response, BOB); // no handler: dropped quietly
    const stray: Array<{ status: number; from: string }> = [];
    ctx.layer.onStrayResponse((r, incoming) => stray.push({ status: r.status, from: `${incoming.source.host}:${incoming.source.port}` }));
    ctx.aliceTransport.inject(response, BOB);
    assert.deepEqual(stray, [{ status: 200, from: BOB }]);
  });

  test('each layer uses its own timer config (no globals)', () => {
    const fast = createLayer(ctx, ctx.net.endpoint('127.0.1.5:5060'), { timers: { t1: 100, t2: 400 } });
    fast.sendRequest(makeRequest('OPTIONS', { sentBy: '127.0.1.5:5060' }), ctx.bob(), recordClient().handlers);
    ctx.layer.sendRequest(makeRequest('OPTIONS'), ctx.bob(), recordClient().handlers);
    ctx.clock.advance(700);
    const from = (address: string): number[] => ctx.net.sentFrom(address).map((w) => w.sentAt);
    assert.deepEqual(from('127.0.1.5:5060'), [0, 100, 300, 700]);
    assert.deepEqual(from(ALICE), [0, 500]);
    ctx.clock.advance(6_400 - 700);
    assert.equal(fast.size, 0); // Timer F = 64·100 ms
    assert.equal(ctx.layer.size, 1);
    fast.close();
  });

  test('close() stops every transaction silently and ignores later messages', () => {
    const rec = recordClient();
    const tx = ctx.layer.sendRequest(makeRequest('OPTIONS'), ctx.bob(), rec.handlers);
    ctx.layer.close();
    ctx.layer.close();
    assert.equal(tx.state, 'terminated');
    assert.equal(ctx.layer.size, 0);
    assert.equal(ctx.clock.pendingTimers, ctx.net.inFlight); // only the OPTIONS still on the wire
    ctx.aliceTransport.inject(makeResponse(tx.request, 200), BOB);
    assert.deepEqual(rec.events, []);
    assert.throws(() => ctx.layer.sendRequest(makeRequest('OPTIONS'), ctx.bob(), rec.handlers), TypeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Bob as a layer receiving from a scripted Alice

describe('TransactionLayer: receiving', () => {
  let ctx: NetContext & {
    layer: TransactionLayer;
    requests: Array<{ request: SipRequest; tx: ServerTransaction }>;
    strayAcks: SipRequest[];
  };

  function setup(options: Parameters<typeof createLayer>[2] = {}): void {
    const net = createNetContext();
    net.aliceTransport.onMessage(() => {});
    const layer = createLayer(net, net.bobTransport, options);
    ctx = { ...net, layer, requests: [], strayAcks: [] };
    layer.onRequest((request, tx) => ctx.requests.push({ request, tx }));
    layer.onStrayAck((ack) => ctx.strayAcks.push(ack));
  }

  beforeEach(() => setup());
  afterEach(() => ctx.layer.close());

  async function aliceSends(request: SipRequest, protocol: TransportProtocol = 'udp'): Promise<void> {
    await ctx.aliceTransport.send(request, ctx.bob(protocol));
    ctx.clock.advance(0);
  }

  function responsesToAlice(): SipResponse[] {
    return ctx.net.sentTo(ALICE).map((w) => w.message as SipResponse);
  }

  test('RFC 2543 peers: retransmissions, the ACK (by To tag) and a CANCEL are matched without a z9hG4bK branch', async () => {
    const invite = makeRequest('INVITE', { branch: '2543-abc' });
    await aliceSends(invite);
    await aliceSends(invite);
    assert.equal(ctx.requests.length, 1);
    const tx = ctx.requests[0]!.tx;
    assert.ok(tx instanceof InviteServerTransaction);

    // CANCEL (same fields, method CANCEL) finds the INVITE.
    const cancels: Array<InviteServerTransaction | undefined> = [];
    ctx.layer.onCancel((_c, cancelTx, inviteTx) => {
      cancels.push(inviteTx);
      cancelTx.respond(makeResponse(_c, 200, { toTag: 'srv' }));
    });
    await aliceSends(createCancel(invite));
    assert.deepEqual(cancels, [tx]);

    tx.respond(makeResponse(invite, 487, { toTag: 'srv' }));
    assert.equal(tx.state, 'completed');
    // An ACK with another To tag does not acknowledge this response: it is stray.
    await aliceSends(createNon2xxAck(invite, makeResponse(invite, 487, { toTag: 'other' })));
    assert.equal(tx.state, 'completed');
    assert.equal(ctx.strayAcks.length, 1);
    await aliceSends(createNon2xxAck(invite, makeResponse(invite, 487, { toTag: 'srv' })));
    assert.equal(tx.state, 'confirmed');
    ctx.clock.runAll();
    assert.equal(ctx.layer.size, 0);
  });

  test('CANCEL with onCancel: the handler gets the INVITE server transaction it cancels (§9.2)', async () => {
    const seen: Array<{ cancel: string; invite: InviteServerTransaction | undefined }> = [];
    ctx.layer.onCancel((cancel, cancelTx, inviteTx) => {
      seen.push({ cancel: cancel.method, invite: inviteTx });
      cancelTx.respond(makeResponse(cancel, 200));
      inviteTx?.respond(makeResponse(inviteTx.request, 487));
    });
    const invite = makeRequest('INVITE');
    await aliceSends(invite);
    await aliceSends(createCancel(invite));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.invite, ctx.requests[0]!.tx);
    assert.equal(ctx.requests.length, 1); // the CANCEL did not go to onRequest
    assert.deepEqual(
      responsesToAlice().map((r) => `${r.status}/${r.cseq().method}`),
      ['200/CANCEL', '487/INVITE'],
    );
  });

  test('an unmatched CANCEL gets 481 from the layer unless the policy is "pass"', async () => {
    let matched: InviteServerTransaction | undefined | null = null;
    ctx.layer.onCancel((_c, _tx, inviteTx) => {
      matched = inviteTx;
    });
    await aliceSends(createCancel(makeRequest('INVITE')));
    assert.equal(matched, undefined);
    assert.deepEqual(responsesToAlice().map((r) => r.status), [481]);

    ctx.layer.close();
    setup({ unmatchedCancel: 'pass' });
    let called = 0;
    ctx.layer.onCancel(() => called++);
    await aliceSends(createCancel(makeRequest('INVITE')));
    assert.equal(called, 1);
    assert.deepEqual(responsesToAlice(), []);
  });

  test('without onCancel the layer answers as a UAS: 200 to the CANCEL, 487 to a pending INVITE, 481 when unmatched', async () => {
    const invite = makeRequest('INVITE');
    await aliceSends(invite);
    ctx.requests[0]!.tx.respond(makeResponse(invite, 180, { toTag: 'ringing' }));
    await aliceSends(createCancel(invite));
    await aliceSends(createCancel(makeRequest('INVITE', { callId: 'unknown' })));
    const answers = responsesToAlice().map((r) => `${r.status}/${r.cseq().method} ${r.headers.get('to')}`);
    assert.deepEqual(answers.slice(0, 3), [
      '180/INVITE <sip:bob@example.com>;tag=ringing',
      '200/CANCEL <sip:bob@example.com>;tag=ringing', // §9.2: same To tag as the INVITE's responses
      '487/INVITE <sip:bob@example.com>;tag=ringing',
    ]);
    assert.match(answers[3]!, /^481\/CANCEL/);
    assert.equal(ctx.requests[0]!.tx.state, 'completed');
  });

  test('beyond maxServerTransactions new requests get a stateless 503 with Retry-After', async () => {
    ctx.layer.close();
    setup({ maxServerTransactions: 2, retryAfterSeconds: 7 });
    await aliceSends(makeRequest('OPTIONS'));
    await aliceSends(makeRequest('OPTIONS'));
    await aliceSends(makeRequest('OPTIONS'));
    assert.equal(ctx.requests.length, 2);
    assert.equal(ctx.layer.serverTransactionCount, 2);
    const [rejected] = responsesToAlice();
    assert.equal(rejected?.status, 503);
    assert.equal(rejected?.headers.get('retry-after'), '7');
    assert.match(rejected?.headers.get('to') ?? '', /;tag=/);
    // A retransmission of an admitted request is still absorbed, not rejected.
    await aliceSends(ctx.requests[0]!.request);
    assert.equal(responsesToAlice().length, 1);
    // Once transactions drain, requests are admitted again.
    for (const { request, tx } of ctx.requests) tx.respond(makeResponse(request, 200));
    ctx.clock.advance(32_000);
    assert.equal(ctx.layer.size, 0);
    await aliceSends(makeRequest('OPTIONS'));
    assert.equal(ctx.requests.length, 3);
  });

  test('without onRequest a request gets 501; a handler that throws makes it a 500', async () => {
    ctx.layer.close();
    const net = createNetContext();
    const bare = createLayer(net, net.bobTransport);
    await net.aliceTransport.send(makeRequest('MESSAGE'), net.bob());
    net.clock.advance(0);
    bare.onRequest(() => {
      throw new Error('handler bug');
    });
    await net.aliceTransport.send(makeRequest('MESSAGE'), net.bob());
    net.clock.advance(0);
    assert.deepEqual(net.net.sentTo(ALICE).map((w) => w.label), ['501/MESSAGE', '500/MESSAGE']);
    bare.close();
  });

  test('responseTarget follows §18.2.2 / RFC 3581: rport, sent-by port, maddr, and the flow for TCP', () => {
    const incoming = (via: string, protocol: TransportProtocol = 'udp'): IncomingMessage => {
      const message = makeRequest('OPTIONS', { via });
      const source = { protocol, host: '192.0.2.7', port: 40_000 };
      return { message, bytes: Buffer.alloc(0), source, flow: { id: 'f', local: source, remote: source }, receivedAt: 0 };
    };
    assert.deepEqual(responseTarget(incoming('SIP/2.0/UDP host.example:5070;branch=z9hG4bKx;rport=40000;received=192.0.2.7')), {
      protocol: 'udp',
      host: '192.0.2.7',
      port: 40_000,
    });
    assert.equal(responseTarget(incoming('SIP/2.0/UDP host.example:5070;branch=z9hG4bKx;received=192.0.2.7')).port, 5070);
    assert.equal(responseTarget(incoming('SIP/2.0/UDP host.example;branch=z9hG4bKx')).port, 5060);
    assert.equal(responseTarget(incoming('SIP/2.0/UDP host.example;branch=z9hG4bKx;rport')).port, 40_000);
    assert.equal(responseTarget(incoming('SIP/2.0/UDP h;maddr=239.1.1.1;branch=z9hG4bKx')).host, '239.1.1.1');
    assert.equal(responseTarget(incoming('SIP/2.0/TCP host.example:5070;branch=z9hG4bKx', 'tcp')).port, 40_000);
  });
});

// ---------------------------------------------------------------------------------------------
// Two layers

describe('TransactionLayer: two layers', () => {
  test('tables drain to 0 after a mix of transactions over UDP and TCP', async () => {
    const ctx = createNetContext();
    const alice = createLayer(ctx, ctx.aliceTransport);
    const bob = createLayer(ctx, ctx.bobTransport);
    let n = 0;
    bob.onRequest((request, tx) => {
      const status = [200, 486, 404, 180][n++ % 4]!;
      tx.respond(makeResponse(request, status));
      if (status === 180) tx.respond(makeResponse(request, 200));
    });
    const finals: number[] = [];
    for (let i = 0; i < 40; i++) {
      const protocol: TransportProtocol = i % 3 === 0 ? 'tcp' : 'udp';
      const method = i % 2 === 0 ? 'INVITE' : 'OPTIONS';
      alice.sendRequest(makeRequest(method, { transport: protocol.toUpperCase(), callId: `c${i}` }), ctx.bob(protocol), {
        onResponse: (r) => {
          if (r.status >= 200) finals.push(r.status);
        },
        onTimeout: () => assert.fail('timeout'),
        onTransportError: () => assert.fail('transport error'),
      });
    }
    ctx.clock.advance(0);
    ctx.clock.advance(0);
    assert.equal(finals.length, 40);
    assert.ok(alice.size > 0 && bob.size > 0);
    ctx.clock.runAll();
    await Promise.resolve();
    assert.equal(alice.size, 0);
    assert.equal(bob.size, 0);
    assert.equal(ctx.clock.pendingTimers, 0);
  });

  test('the default CANCEL handling completes a cancelled call between two layers', () => {
    const ctx = createNetContext();
    const alice = createLayer(ctx, ctx.aliceTransport);
    const bob = createLayer(ctx, ctx.bobTransport);
    const serverTxs: ServerTransaction[] = [];
    bob.onRequest((_request, tx) => serverTxs.push(tx)); // Bob never answers: 100 Trying comes from the IST
    const rec = recordClient();
    const invite = alice.sendRequest(makeRequest('INVITE'), ctx.bob(), rec.handlers);
    ctx.clock.advance(200);
    ctx.clock.advance(0);
    assert.equal(invite.state, 'proceeding');
    assert.equal(invite.kind, 'invite-client');
    if (invite.kind !== 'invite-client') return;
    const cancelRec = recordClient();
    alice.sendCancel(invite, cancelRec.handlers);
    ctx.clock.advance(0);
    ctx.clock.advance(0);
    ctx.clock.advance(0);
    assert.deepEqual(cancelRec.events, ['response:200']);
    assert.deepEqual(rec.events, ['response:100', 'response:487']);
    assert.equal(serverTxs[0]!.state, 'confirmed'); // the ICT's ACK arrived
    ctx.clock.runAll();
    assert.equal(alice.size + bob.size, 0);
  });
});
