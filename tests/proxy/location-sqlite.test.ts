/**
 * The sqlite location store: the shared contract on a fresh file per test, plus what only a
 * file gives: bindings survive a restart, and two stores on one file see each other.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/core/clock.js';
import { LocationStoreError, SqliteLocationStore, WallClock, type Binding } from '../../src/proxy/index.js';
import { runLocationStoreContract } from './location-contract.js';

let dir = '';
let files = 0;
const freshFile = (): string => join(dir, `location-${files++}.db`);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'voxlite-location-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

runLocationStoreContract('sqlite', { open: async (clock) => new SqliteLocationStore({ path: freshFile(), clock }) });

const AOR = 'sip:alice@example.com';

function binding(clock: FakeClock, contact: string, seconds: number, extra: Partial<Binding> = {}): Binding {
  return { aor: AOR, contact, expiresAt: clock.now() + seconds * 1000, q: 1, callId: 'c@x', cseq: 1, updatedAt: clock.now(), ...extra };
}

describe('sqlite store', () => {
  test('bindings survive a restart: close, reopen the same file, they are still there and still expire', async () => {
    const path = freshFile();
    const clock = new FakeClock(5_000_000);
    const first = new SqliteLocationStore({ path, clock });
    const saved = binding(clock, 'sip:alice@192.0.2.10;transport=tcp', 600, {
      q: 0.5,
      received: { protocol: 'tcp', host: '192.0.2.10', port: 50000 },
      flowId: 'flow-7',
    });
    await first.save(AOR, saved);
    await first.save(AOR, binding(clock, 'sip:alice@192.0.2.11', 60));
    await first.close();

    clock.advance(60_000);
    const second = new SqliteLocationStore({ path, clock });
    assert.deepEqual(await second.lookup(AOR), [saved]);
    // The restarted store still enforces the CSeq order of what it read back.
    await assert.rejects(second.save(AOR, binding(clock, 'sip:alice@192.0.2.10;transport=tcp', 600)), /out of order/);
    clock.advance(540_000);
    assert.deepEqual(await second.lookup(AOR), []);
    await second.close();
  });

  test('two stores on one file (two processes on one host) see each other\'s bindings', async () => {
    const path = freshFile();
    const clock = new FakeClock(1000);
    const a = new SqliteLocationStore({ path, clock });
    const b = new SqliteLocationStore({ path, clock });
    await a.save(AOR, binding(clock, 'sip:alice@192.0.2.10', 600));
    await b.save(AOR, binding(clock, 'sip:alice@192.0.2.20', 600));
    assert.equal((await a.lookup(AOR)).length, 2);
    assert.equal(await b.removeAll(AOR), 2);
    assert.deepEqual(await a.lookup(AOR), []);
    await a.close();
    await b.close();
  });

  test('the default clock is wall-clock time, so stored times keep their meaning across restarts', async () => {
    const store = new SqliteLocationStore({ path: ':memory:' });
    assert.ok(store.clock instanceof WallClock);
    await store.close();
  });

  test('the optional sweep deletes lapsed rows on the clock', async () => {
    const clock = new FakeClock();
    const store = new SqliteLocationStore({ path: freshFile(), clock, sweepIntervalMs: 10_000 });
    await store.save(AOR, binding(clock, 'sip:alice@192.0.2.10', 5));
    clock.advance(10_000);
    assert.equal(await store.expire(), 0, 'the sweep already removed it');
    await store.close();
    assert.equal(clock.pendingTimers, 0);
  });

  test('an unusable path or table name fails clearly', () => {
    assert.throws(() => new SqliteLocationStore({ path: join(dir, 'missing', 'dir', 'x.db') }), LocationStoreError);
    assert.throws(() => new SqliteLocationStore({ path: ':memory:', table: 'x; DROP TABLE y' }), TypeError);
  });
});
