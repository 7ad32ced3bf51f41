import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bestLag, normalizedCorrelation, rms, rmsDbfs, snrDb, toDb, toneAmplitude } from './signal.js';

/** A deterministic, non-periodic test signal. */
function noise(n: number, seed = 1): Float64Array {
  let state = seed;
  return Float64Array.from({ length: n }, () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return (state / 0x7fffffff - 0.5) * 20000;
  });
}

function delay(x: ArrayLike<number>, by: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = by; i < x.length; i++) out[i] = x[i - by] as number;
  return out;
}

describe('signal measurements', () => {
  test('rms and dBFS of a full-scale sine and of silence', () => {
    const sine = Float64Array.from({ length: 8000 }, (_, i) => 32768 * Math.sin((2 * Math.PI * 100 * i) / 8000));
    assert.ok(Math.abs(rms(sine) - 32768 / Math.SQRT2) < 1);
    assert.ok(Math.abs(rmsDbfs(sine) + 3.0103) < 0.001);
    assert.equal(rmsDbfs(new Int16Array(10)), -Infinity);
    assert.equal(rms([]), 0);
    assert.equal(rms([3, 4], 1), 4);
    assert.equal(toDb(10), 20);
  });

  test('bestLag finds a known delay, either way, with correlation ≈ 1', () => {
    const x = noise(4000);
    assert.deepEqual(bestLag(x, delay(x, 17), 40).lag, 17);
    assert.deepEqual(bestLag(delay(x, 5), x, 40).lag, -5);
    assert.ok(bestLag(x, delay(x, 17), 40).correlation > 0.99);
  });

  test('normalizedCorrelation: 1 for identical, -1 for inverted, 0 with no energy', () => {
    const x = noise(1000);
    assert.ok(Math.abs(normalizedCorrelation(x, x, 0) - 1) < 1e-12);
    assert.ok(Math.abs(normalizedCorrelation(x, x.map((v) => -v), 0) + 1) < 1e-12);
    assert.equal(normalizedCorrelation(x, new Float64Array(1000), 0), 0);
  });

  test('bestLag prefers the smallest shift among equal peaks (periodic signals)', () => {
    const square = Float64Array.from({ length: 400 }, (_, i) => (i % 20 < 10 ? 1 : -1));
    assert.equal(bestLag(square, square, 50).lag, 0);
  });

  test('snrDb: known noise level, infinite for identical, after alignment', () => {
    const x = noise(8000);
    const n = noise(8000, 99);
    const noisy = x.map((v, i) => v + 0.1 * (n[i] as number));
    assert.ok(Math.abs(snrDb(x, noisy, { lag: 0 }) - 20) < 0.3);
    assert.equal(snrDb(x, x), Infinity);
    const delayed = delay(noisy, 9);
    assert.ok(Math.abs(snrDb(x, delayed, { skip: 20 }) - 20) < 0.3);
    // Without alignment the same pair is hopeless.
    assert.ok(snrDb(x, delayed, { maxLag: 0 }) < 3);
  });

  test('toneAmplitude measures one frequency and ignores another', () => {
    const mix = Float64Array.from(
      { length: 8000 },
      (_, i) => 1000 * Math.sin((2 * Math.PI * 697 * i) / 8000) + 300 * Math.sin((2 * Math.PI * 1477 * i) / 8000),
    );
    assert.ok(Math.abs(toneAmplitude(mix, 697, 8000) - 1000) < 2);
    assert.ok(Math.abs(toneAmplitude(mix, 1477, 8000) - 300) < 2);
    assert.ok(toneAmplitude(mix, 1000, 8000) < 2);
    assert.equal(toneAmplitude(mix, 697, 8000, 5, 5), 0);
  });

  test('bad maxLag is a RangeError', () => {
    assert.throws(() => bestLag([1], [1], -1), RangeError);
    assert.throws(() => bestLag([1], [1], 1.5), RangeError);
  });
});
