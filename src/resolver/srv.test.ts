import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../core/random.js';
import type { Random } from '../core/random.js';
import { orderSrvRecords } from './srv.js';

interface Rec {
  readonly priority: number;
  readonly weight: number;
  readonly id: string;
}

const rec = (id: string, priority: number, weight: number): Rec => Object.freeze({ id, priority, weight });

/** How often each id comes first over `n` orderings. */
function firstCounts(records: readonly Rec[], random: Random, n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const first = orderSrvRecords(records, random)[0]!.id;
    counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  return counts;
}

test('RFC 2782: every lower priority comes before any higher one; every record exactly once', () => {
  const records = Object.freeze([rec('c', 20, 50), rec('a', 10, 5), rec('d', 30, 0), rec('b', 10, 95), rec('e', 20, 50)]);
  const random = new SeededRandom(3);
  for (let i = 0; i < 200; i++) {
    const out = orderSrvRecords(records, random);
    assert.deepEqual(out.map((r) => r.priority), [10, 10, 20, 20, 30]);
    assert.deepEqual(out.map((r) => r.id).sort(), ['a', 'b', 'c', 'd', 'e']);
  }
});

test('RFC 2782 weights: 10/90 within one priority over 10,000 picks lands within ±3 %', () => {
  const records = [rec('light', 10, 10), rec('heavy', 10, 90)];
  const counts = firstCounts(records, new SeededRandom(2782), 10_000);
  const light = (counts.get('light') ?? 0) / 10_000;
  const heavy = (counts.get('heavy') ?? 0) / 10_000;
  assert.ok(Math.abs(light - 0.1) <= 0.03, `light first ${light}`);
  assert.ok(Math.abs(heavy - 0.9) <= 0.03, `heavy first ${heavy}`);
});

test('weights decide the second place too: after the first pick the rest are re-weighted', () => {
  // Three records 60/30/10; the second position, given that 60 went first, splits 3:1.
  const records = [rec('a', 1, 60), rec('b', 1, 30), rec('c', 1, 10)];
  const random = new SeededRandom(11);
  let aFirst = 0;
  let bSecond = 0;
  for (let i = 0; i < 10_000; i++) {
    const out = orderSrvRecords(records, random);
    if (out[0]!.id !== 'a') continue;
    aFirst++;
    if (out[1]!.id === 'b') bSecond++;
  }
  assert.ok(Math.abs(aFirst / 10_000 - 0.6) <= 0.03);
  assert.ok(Math.abs(bSecond / aFirst - 0.75) <= 0.03);
});

test('RFC 2782 zero weight: among weighted records it goes first with chance 1/(sum+1) only', () => {
  const records = [rec('zero', 1, 0), rec('w', 1, 9)];
  const counts = firstCounts(records, new SeededRandom(5), 10_000);
  const zeroFirst = (counts.get('zero') ?? 0) / 10_000;
  assert.ok(Math.abs(zeroFirst - 0.1) <= 0.03, `zero first ${zeroFirst}`); // 1 / (9 + 1)
});

test('RFC 2782 zero weight: all-zero priorities are spread evenly, not always DNS order', () => {
  const records = [rec('a', 1, 0), rec('b', 1, 0), rec('c', 1, 0), rec('d', 1, 0)];
  const counts = firstCounts(records, new SeededRandom(9), 10_000);
  for (const id of ['a', 'b', 'c', 'd']) {
    const share = (counts.get(id) ?? 0) / 10_000;
    assert.ok(Math.abs(share - 0.25) <= 0.03, `${id} first ${share}`);
  }
});

test('a single record and an empty set need no randomness; the input is not modified', () => {
  const noRandom: Random = {
    bytes: () => assert.fail('no draw expected'),
    int: () => assert.fail('no draw expected'),
  };
  assert.deepEqual(orderSrvRecords([], noRandom), []);
  const one = Object.freeze([rec('only', 0, 0)]);
  assert.deepEqual(orderSrvRecords(one, noRandom), [one[0]]);
  const several = Object.freeze([rec('b', 2, 1), rec('a', 1, 1)]);
  orderSrvRecords(several, new SeededRandom(1));
  assert.deepEqual(several.map((r) => r.id), ['b', 'a']);
});

test('the same seed gives the same order', () => {
  const records = [rec('a', 1, 10), rec('b', 1, 20), rec('c', 1, 30), rec('d', 2, 0), rec('e', 2, 0)];
  const one = orderSrvRecords(records, new SeededRandom(42)).map((r) => r.id);
  const two = orderSrvRecords(records, new SeededRandom(42)).map((r) => r.id);
  assert.deepEqual(one, two);
});
