import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, type Clock, type TimerHandle } from '../core/clock.js';
import { FramePacer, type PacerTick } from './pacer.js';

/** A clock whose timers fire `lag(n)` ms after they are due (the n-th timer), like a busy event loop. */
class LaggyClock implements Clock {
  private count = 0;
  constructor(
    readonly inner: FakeClock,
    private readonly lag: (n: number) => number,
  ) {}
  now(): number {
    return this.inner.now();
  }
  setTimer(delayMs: number, callback: () => void): TimerHandle {
    return this.inner.setTimer(delayMs + this.lag(this.count++), callback);
  }
}

function record(clock: Clock, options: Partial<ConstructorParameters<typeof FramePacer>[0]> = {}): { pacer: FramePacer; ticks: PacerTick[] } {
  const ticks: PacerTick[] = [];
  const pacer = new FramePacer({ clock, onTick: (t) => ticks.push({ ...t }), ...options });
  return { pacer, ticks };
}

describe('FramePacer', () => {
  test('ticks at start + n × 20 ms on a punctual clock', () => {
    const clock = new FakeClock(1000);
    const { pacer, ticks } = record(clock);
    pacer.start();
    clock.advance(200);
    assert.deepEqual(
      ticks.map((t) => t.dueMs),
      Array.from({ length: 11 }, (_, i) => 1000 + 20 * i),
    );
    assert.ok(ticks.every((t) => t.latenessMs === 0 && !t.catchUp));
  });

  test('does not drift when every timer fires 3 ms late', () => {
    const fake = new FakeClock();
    const { pacer, ticks } = record(new LaggyClock(fake, () => 3));
    pacer.start();
    fake.advance(20 * 500 + 5);
    assert.equal(ticks.length, 501);
    // Each tick still runs 3 ms after its own due time: the error does not accumulate.
    assert.equal(ticks[500]!.dueMs, 10_000);
    assert.ok(ticks.slice(1).every((t) => t.latenessMs === 3));
    assert.equal(pacer.stats.lateTicks, 0);
  });

  test('catches up a short stall back to back', () => {
    const fake = new FakeClock();
    const { pacer, ticks } = record(new LaggyClock(fake, (n) => (n === 4 ? 50 : 0)));
    pacer.start();
    fake.advance(400);
    // The 5th timer fired 50 ms late: ticks 5, 6 and 7 ran in one callback, nothing was skipped.
    assert.deepEqual(
      ticks.map((t) => t.index),
      Array.from({ length: 21 }, (_, i) => i),
    );
    const burst = ticks.filter((t) => t.catchUp).map((t) => t.index);
    assert.deepEqual(burst, [5, 6]);
    assert.equal(pacer.stats.skippedTicks, 0);
    assert.equal(pacer.stats.lateTicks, 3);
  });

  test('skips what is beyond the catch-up limit and stays real-time', () => {
    const fake = new FakeClock();
    const { pacer, ticks } = record(new LaggyClock(fake, (n) => (n === 2 ? 1000 : 0)), { maxCatchUpTicks: 3 });
    pacer.start();
    fake.advance(2000);
    const late = ticks.find((t) => t.skipped > 0);
    assert.ok(late !== undefined);
    // The timer for tick 3 (due at 60) fires at 1060, when ticks 3..53 are due: three catch-up
    // ticks plus the current one run, the 47 before them are skipped.
    assert.equal(late.skipped, 53 - 3 - 3);
    assert.equal(pacer.stats.skippedTicks, 47);
    const indexes = ticks.map((t) => t.index);
    assert.deepEqual(indexes.slice(0, 7), [0, 1, 2, 50, 51, 52, 53]);
    assert.equal(indexes[indexes.length - 1], 100);
  });

  test('stop from inside a tick ends the run; start again restarts the count', () => {
    const clock = new FakeClock();
    const ticks: number[] = [];
    const pacer: FramePacer = new FramePacer({
      clock,
      onTick: (t) => {
        ticks.push(t.index);
        if (t.index === 3) pacer.stop();
      },
    });
    pacer.start();
    clock.advance(500);
    assert.deepEqual(ticks, [0, 1, 2, 3]);
    assert.equal(pacer.running, false);
    assert.equal(clock.pendingTimers, 0);
  });

  test('pacers on one clock share one timer and keep their own phase', () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const pacers = [0, 7, 13].map(
      (offset) => new FramePacer({ clock, onTick: (t) => seen.push(`${offset}:${t.dueMs}`) }),
    );
    pacers[0]!.start(0);
    clock.advance(7);
    pacers[1]!.start();
    clock.advance(6);
    pacers[2]!.start();
    assert.equal(clock.pendingTimers, 1);
    clock.advance(47);
    assert.deepEqual(seen, ['0:0', '7:7', '13:13', '0:20', '7:27', '13:33', '0:40', '7:47', '13:53', '0:60']);
    pacers[1]!.stop();
    seen.length = 0;
    clock.advance(40);
    assert.deepEqual(seen, ['13:73', '0:80', '13:93', '0:100']);
    pacers[0]!.stop();
    pacers[2]!.stop();
    assert.equal(clock.pendingTimers, 0);
  });

  test('validates options', () => {
    assert.throws(() => new FramePacer({ clock: new FakeClock(), periodMs: 0, onTick: () => {} }), RangeError);
    assert.throws(() => new FramePacer({ clock: new FakeClock(), maxCatchUpTicks: -1, onTick: () => {} }), RangeError);
  });
});
