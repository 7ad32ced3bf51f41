/**
 * The memory location store: the shared contract, plus its lazy expiry and optional sweep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import { MemoryLocationStore, type Binding } from '../../src/proxy/index.js';
import { runLocationStoreContract } from './location-contract.js';

runLocationStoreContract('memory', { open: async (clock) => new MemoryLocationStore({ clock }) });

function binding(clock: FakeClock, contact: string, seconds: number): Binding {
  return { aor: 'sip:alice@example.com', contact, expiresAt: clock.now() + seconds * 1000, q: 1, callId: 'c@x', cseq: 1, updatedAt: clock.now() };
}

test('memory store: without a sweep no timer is ever armed, and expired AORs are forgotten when touched', async () => {
  const clock = new FakeClock();
  const store = new MemoryLocationStore({ clock });
  await store.save('sip:alice@example.com', binding(clock, 'sip:a@192.0.2.1', 60));
  assert.equal(clock.pendingTimers, 0);
  clock.advance(60_000);
  assert.equal(store.size, 1, 'nothing runs in the background');
  assert.deepEqual(await store.lookup('sip:alice@example.com'), []);
  assert.equal(store.size, 0, 'the lookup dropped the lapsed AOR');
  await store.close();
});

test('memory store: the optional sweep frees lapsed bindings on the clock and stops on close', async () => {
  const clock = new FakeClock();
  const store = new MemoryLocationStore({ clock, sweepIntervalMs: 30_000 });
  await store.save('sip:alice@example.com', binding(clock, 'sip:a@192.0.2.1', 60));
  await store.save('sip:bob@example.com', binding(clock, 'sip:b@192.0.2.2', 600));
  assert.equal(clock.pendingTimers, 1);
  clock.advance(30_000);
  assert.equal(store.size, 2);
  await new Promise<void>((resolve) => setImmediate(resolve)); // the first sweep settles (a tick while one runs is skipped)
  clock.advance(30_000);
  assert.equal(store.size, 1, 'the sweep at 60 s dropped alice');
  assert.equal(clock.pendingTimers, 1, 're-armed');
  await store.close();
  assert.equal(clock.pendingTimers, 0);
});

test('memory store: a bad sweep interval is a RangeError', () => {
  assert.throws(() => new MemoryLocationStore({ sweepIntervalMs: 0 }), RangeError);
});
