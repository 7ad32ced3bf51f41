import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/clock.js';
import { Impairment } from './impairment.js';

/** Runs `count` numbered datagrams through an impairment, one every 20 ms; returns the arrival order. */
function run(options: ConstructorParameters<typeof Impairment>[0], count = 1000): { order: number[]; impairment: Impairment } {
  const clock = new FakeClock();
  const impairment = new Impairment(options, clock);
  const order: number[] = [];
  for (let i = 0; i < count; i++) {
    const datagram = Uint8Array.of(i >>> 8, i & 0xff);
    impairment.apply(datagram, (d) => order.push((d[0]! << 8) | d[1]!));
    clock.advance(20);
  }
  clock.advance(1000);
  return { order, impairment };
}

describe('Impairment', () => {
  test('no options: everything passes through synchronously, in order', () => {
    const { order } = run({}, 50);
    assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i));
  });

  test('loss is seeded: the same seed drops the same datagrams', () => {
    const a = run({ lossPercent: 5, seed: 42 });
    const b = run({ lossPercent: 5, seed: 42 });
    const c = run({ lossPercent: 5, seed: 43 });
    assert.deepEqual(a.order, b.order);
    assert.notDeepEqual(a.order, c.order);
    const lost = 1000 - a.order.length;
    assert.equal(a.impairment.counters.lost, lost);
    assert.ok(lost > 30 && lost < 70, `lost ${lost} of 1000 at 5 %`);
  });

  test('jitter delays without losing, and only reorders when the spread exceeds the spacing', () => {
    const small = run({ jitterMs: 15, seed: 3 });
    assert.deepEqual(small.order, Array.from({ length: 1000 }, (_, i) => i));
    assert.ok(small.impairment.counters.delayed > 900);
    const large = run({ jitterMs: 100, seed: 3 });
    assert.equal(large.order.length, 1000);
    assert.notDeepEqual(large.order, [...large.order].sort((x, y) => x - y));
  });

  test('duplication and reordering', () => {
    const dup = run({ duplicatePercent: 10, seed: 5 });
    assert.equal(dup.order.length, 1000 + dup.impairment.counters.duplicated);
    assert.ok(dup.impairment.counters.duplicated > 60);
    const re = run({ reorderPercent: 10, seed: 5 });
    assert.equal(re.order.length, 1000);
    let inversions = 0;
    for (let i = 1; i < re.order.length; i++) if (re.order[i]! < re.order[i - 1]!) inversions++;
    assert.equal(inversions, re.impairment.counters.reordered);
  });

  test('close drops what is pending', () => {
    const clock = new FakeClock();
    const impairment = new Impairment({ jitterMs: 50, seed: 1 }, clock);
    let delivered = 0;
    for (let i = 0; i < 10; i++) impairment.apply(Uint8Array.of(i), () => delivered++);
    impairment.close();
    clock.advance(100);
    assert.equal(delivered, 0);
  });

  test('rejects out-of-range knobs', () => {
    assert.throws(() => new Impairment({ lossPercent: 101 }, new FakeClock()), RangeError);
    assert.throws(() => new Impairment({ jitterMs: -1 }, new FakeClock()), RangeError);
  });
});
