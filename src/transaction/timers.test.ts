import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeTimers, createTimerSets, DEFAULT_TIMER_CONFIG, resolveTimerConfig } from './timers.js';

test('UDP timers follow RFC 3261 Table 4 and RFC 6026 (T1 = 500, T2 = 4000, T4 = 5000)', () => {
  const t = computeTimers();
  assert.deepEqual(
    { A: t.A, B: t.B, C: t.C, D: t.D, E: t.E, F: t.F, G: t.G, H: t.H, I: t.I, J: t.J, K: t.K, L: t.L, M: t.M },
    { A: 500, B: 32_000, C: 180_000, D: 32_000, E: 500, F: 32_000, G: 500, H: 32_000, I: 5_000, J: 32_000, K: 5_000, L: 32_000, M: 32_000 },
  );
  assert.equal(t.trying, 200);
  assert.deepEqual([t.t1, t.t2, t.t4], [500, 4000, 5000]);
});

test('reliable transports: no retransmission timers, and D/I/J/K are 0', () => {
  const t = computeTimers({}, true);
  assert.deepEqual([t.A, t.E, t.G], [undefined, undefined, undefined]);
  assert.deepEqual([t.D, t.I, t.J, t.K], [0, 0, 0, 0]);
  assert.deepEqual([t.B, t.F, t.H, t.L, t.M], [32_000, 32_000, 32_000, 32_000, 32_000]);
});

test('timers derive from the config given, with no shared state between configs', () => {
  const fast = createTimerSets({ t1: 100, t2: 400, t4: 1000 });
  const normal = createTimerSets();
  assert.equal(fast.unreliable.B, 6_400);
  assert.equal(fast.unreliable.K, 1_000);
  assert.equal(fast.unreliable.D, 32_000); // "> 32 s" whatever T1
  assert.equal(computeTimers({ t1: 1000 }).D, 64_000); // … and at least 64·T1
  assert.equal(normal.unreliable.B, 32_000);
  assert.deepEqual(DEFAULT_TIMER_CONFIG, { t1: 500, t2: 4000, t4: 5000 });
  assert.ok(Object.isFrozen(fast.unreliable));
});

test('invalid configs are refused with RangeError', () => {
  assert.throws(() => resolveTimerConfig({ t1: 0 }), RangeError);
  assert.throws(() => resolveTimerConfig({ t2: Number.NaN }), RangeError);
  assert.throws(() => resolveTimerConfig({ t1: 5000, t2: 4000 }), RangeError);
});
