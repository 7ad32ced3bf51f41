import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, SystemClock } from './clock.js';

test('FakeClock fires timers in due order, ties in creation order', () => {
  const clock = new FakeClock();
  const fired: string[] = [];
  clock.setTimer(500, () => fired.push('a'));
  clock.setTimer(100, () => fired.push('b'));
  clock.setTimer(100, () => fired.push('c'));
  clock.advance(99);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, ['b', 'c']);
  clock.advance(1000);
  assert.deepEqual(fired, ['b', 'c', 'a']);
  assert.equal(clock.now(), 1100);
});

test('FakeClock: a timer set by a callback fires within the same advance; cancel works', () => {
  const clock = new FakeClock(1000);
  const times: number[] = [];
  const tick = (): void => {
    times.push(clock.now());
    if (times.length < 4) clock.setTimer(500, tick);
  };
  clock.setTimer(500, tick);
  const cancelled = clock.setTimer(700, () => times.push(-1));
  cancelled.cancel();
  clock.advance(5000);
  assert.deepEqual(times, [1500, 2000, 2500, 3000]);
  assert.equal(clock.pendingTimers, 0);
});

test('FakeClock.runAll drains and refuses endless re-arming', () => {
  const clock = new FakeClock();
  let count = 0;
  clock.setTimer(10, () => count++);
  clock.setTimer(20_000, () => count++);
  assert.equal(clock.runAll(), 20_000);
  assert.equal(count, 2);
  const again = (): void => {
    clock.setTimer(1, again);
  };
  clock.setTimer(1, again);
  assert.throws(() => clock.runAll(100), /re-arming/);
  assert.throws(() => clock.advance(-1), RangeError);
});

test('SystemClock timers run and can be cancelled', async () => {
  const clock = new SystemClock();
  // SystemClock timers are unref'd by design, so something else must keep the loop alive here.
  const keepAlive = setTimeout(() => {}, 5000);
  const start = clock.now();
  await new Promise<void>((resolve) => clock.setTimer(5, resolve));
  assert.ok(clock.now() >= start);
  let fired = false;
  clock.setTimer(1, () => (fired = true)).cancel();
  await new Promise<void>((resolve) => setTimeout(resolve, 10));
  assert.equal(fired, false);
  clearTimeout(keepAlive);
});
