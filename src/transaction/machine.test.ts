/**
 * The machines without a layer or a network: a hand-made environment shows they are sans-I/O
 * (messages out through `send`, time from the injected clock), and the tables are checked for
 * shape.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../core/clock.js';
import type { SipMessage } from '../sip/message.js';
import { TransportError } from '../transport/transport.js';
import { ICT_TRANSITIONS } from './client-invite.js';
import { NICT_TRANSITIONS, NonInviteClientTransaction } from './client-non-invite.js';
import { statusClass, type TransactionEnvironment } from './machine.js';
import { IST_TRANSITIONS, InviteServerTransaction } from './server-invite.js';
import { NIST_TRANSITIONS } from './server-non-invite.js';
import { computeTimers } from './timers.js';
import { makeRequest, makeResponse } from './test-support.js';

const TABLES = {
  ict: ICT_TRANSITIONS,
  nict: NICT_TRANSITIONS,
  ist: IST_TRANSITIONS,
  nist: NIST_TRANSITIONS,
} as const;

test('every transition table leads only to its own states, and Terminated accepts nothing', () => {
  for (const [name, table] of Object.entries(TABLES)) {
    const states = new Set(Object.keys(table));
    assert.ok(states.has('terminated'), name);
    assert.deepEqual(Object.keys(table.terminated), [], name);
    for (const row of Object.values(table)) {
      for (const target of Object.values(row as Record<string, string>)) assert.ok(states.has(target), `${name}: ${target}`);
    }
  }
});

function environment(clock: FakeClock, reliable = false): TransactionEnvironment & { sent: SipMessage[]; ended: number } {
  const env = {
    clock,
    timers: computeTimers({}, reliable),
    sent: [] as SipMessage[],
    ended: 0,
    send(message: SipMessage) {
      env.sent.push(message);
    },
    terminated() {
      env.ended++;
    },
  };
  return env;
}

test('a NICT runs on nothing but an environment: sends, timers and termination', () => {
  const clock = new FakeClock();
  const env = environment(clock);
  const events: string[] = [];
  const tx = new NonInviteClientTransaction(makeRequest('OPTIONS'), env, {
    onResponse: (r) => events.push(String(r.status)),
    onTimeout: () => events.push('timeout'),
    onTransportError: () => events.push('error'),
  });
  tx.start();
  assert.equal(env.sent.length, 1);
  assert.deepEqual(tx.runningTimers.sort(), ['E', 'F']);
  clock.advance(500);
  assert.equal(env.sent.length, 2);
  tx.receiveResponse(makeResponse(tx.request, 200));
  assert.equal(tx.state, 'completed');
  assert.deepEqual(tx.runningTimers, ['K']);
  clock.advance(5_000);
  assert.equal(tx.state, 'terminated');
  assert.equal(env.ended, 1);
  assert.deepEqual(events, ['200']);
  assert.equal(clock.pendingTimers, 0);
  // Terminated absorbs everything, and terminate() is idempotent.
  tx.receiveResponse(makeResponse(tx.request, 200));
  tx.terminate();
  assert.equal(env.ended, 1);
});

test('events raised from inside a TU callback run after the current transition (run to completion)', () => {
  const clock = new FakeClock();
  const env = environment(clock, true);
  const tx = new InviteServerTransaction(makeRequest('INVITE'), { ...env, passAck: () => {} });
  const states: string[] = [];
  tx.setHandlers({
    onTransportError: () => {
      // Re-entering: the 2xx is queued and handled once the error transition is finished.
      states.push(`in callback: ${tx.state}, accepted=${tx.respond(makeResponse(tx.request, 200))}`);
      states.push(`still: ${tx.state}`);
    },
  });
  tx.start();
  tx.respond(makeResponse(tx.request, 180));
  tx.transportError(new TransportError('connection reset'));
  // The error took Proceeding to Terminated; the queued 2xx then found Terminated and was absorbed.
  assert.deepEqual(states, ['in callback: terminated, accepted=true', 'still: terminated']);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(env.sent.map((m) => (m.kind === 'response' ? m.status : m.method)), [180]);
});

test('statusClass classifies as the figures do and rejects nonsense', () => {
  assert.equal(statusClass(100), 'provisional');
  assert.equal(statusClass(199), 'provisional');
  assert.equal(statusClass(200), 'success');
  assert.equal(statusClass(299), 'success');
  assert.equal(statusClass(300), 'failure');
  assert.equal(statusClass(699), 'failure');
  assert.throws(() => statusClass(99), RangeError);
  assert.throws(() => statusClass(700), RangeError);
  assert.throws(() => statusClass(200.5), RangeError);
});
