/**
 * Two transaction layers over a lossy fake network: an INVITE/200/ACK and a BYE must complete
 * through retransmissions alone — the ICT/NICT's Timers A and E, the IST's absorption of
 * INVITE retransmissions in Accepted, and the TUs' own 2xx/ACK retransmission (§13.3.1.4,
 * §13.2.2.4) — for every seed, within a bounded amount of (fake) time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TimerHandle } from '../core/clock.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { InviteServerTransaction } from './server-invite.js';
import { createLayer, createNetContext, fixtureBranch, makeRequest, makeResponse } from './test-support.js';

interface Outcome {
  readonly completedAt: number | undefined;
  readonly dropped: number;
  readonly sent: number;
  readonly drained: boolean;
  readonly acked: boolean;
  readonly droppedLabels: readonly string[];
}

function runCall(seed: number): Outcome {
  const ctx = createNetContext(seed);
  ctx.net.setConditions({ dropRate: 0.1, delayMs: 10 });
  const alice = createLayer(ctx, ctx.aliceTransport);
  const bob = createLayer(ctx, ctx.bobTransport);
  const T1 = 500;
  const T2 = 4000;

  // Bob's TU: answers 180 + 200, retransmits the 2xx until the ACK (§13.3.1.4), answers BYE.
  let acked = false;
  let retransmit: TimerHandle | undefined;
  bob.onRequest((request, tx) => {
    if (request.method === 'INVITE' && tx instanceof InviteServerTransaction) {
      tx.respond(makeResponse(request, 180, { toTag: 'bob' }));
      const ok = makeResponse(request, 200, { toTag: 'bob' });
      tx.respond(ok);
      const again = (interval: number): void => {
        retransmit = ctx.clock.setTimer(interval, () => {
          if (acked) return;
          tx.respond(ok);
          again(Math.min(2 * interval, T2));
        });
      };
      again(T1);
    } else if (request.method === 'BYE') {
      tx.respond(makeResponse(request, 200));
    }
  });
  bob.onStrayAck(() => {
    acked = true;
    retransmit?.cancel();
  });

  // Alice's TU: ACKs every 2xx (the same ACK each time, §13.2.2.4), then hangs up.
  let ack: SipRequest | undefined;
  let completedAt: number | undefined;
  const fail = (what: string) => () => assert.fail(`seed ${seed}: ${what}`);
  const sendBye = (): void => {
    alice.sendRequest(makeRequest('BYE', { toTag: 'bob', seq: 2 }), ctx.bob(), {
      onResponse: (r: SipResponse) => {
        if (r.status === 200) completedAt ??= ctx.clock.now();
      },
      onTimeout: fail('BYE timed out'),
      onTransportError: fail('BYE transport error'),
    });
  };
  alice.sendRequest(makeRequest('INVITE'), ctx.bob(), {
    onResponse: (r: SipResponse) => {
      if (r.status !== 200) return;
      const first = ack === undefined;
      ack ??= makeRequest('ACK', { toTag: 'bob', branch: fixtureBranch() });
      void alice.sendStateless(ack, ctx.bob());
      if (first) sendBye();
    },
    onTimeout: fail('INVITE timed out'),
    onTransportError: fail('INVITE transport error'),
  });

  // Bounded: 64·T1 of fake time for the whole call.
  for (let t = 0; t < 64 * T1 && completedAt === undefined; t += 10) ctx.clock.advance(10);
  ctx.clock.runAll();
  const lost = ctx.net.sent.filter((w) => w.fate === 'dropped');
  return {
    completedAt,
    dropped: lost.length,
    droppedLabels: lost.map((w) => w.label),
    sent: ctx.net.sent.length,
    drained: alice.size === 0 && bob.size === 0,
    acked,
  };
}

test('INVITE/200/ACK and BYE complete over a network dropping 10 % of datagrams (50 seeds)', () => {
  let totalDropped = 0;
  const droppedLabels = new Set<string>();
  for (let seed = 1; seed <= 50; seed++) {
    const outcome = runCall(seed);
    assert.ok(outcome.completedAt !== undefined, `seed ${seed}: the call did not complete`);
    assert.ok(outcome.completedAt < 32_000, `seed ${seed}: completed at ${outcome.completedAt} ms`);
    assert.ok(outcome.acked, `seed ${seed}: Bob never got the ACK`);
    assert.ok(outcome.drained, `seed ${seed}: transactions left behind`);
    totalDropped += outcome.dropped;
    for (const label of outcome.droppedLabels) droppedLabels.add(label);
  }
  // The loss really happened — requests, responses and ACKs alike — so retransmissions did the work.
  assert.ok(totalDropped >= 10, `only ${totalDropped} datagrams dropped`);
  for (const label of ['INVITE', '200/INVITE', 'ACK', 'BYE']) assert.ok(droppedLabels.has(label), `no ${label} was ever dropped`);
});
