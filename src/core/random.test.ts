import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoRandom, randomToken, SeededRandom } from './random.js';

test('SeededRandom is repeatable; CryptoRandom is not', () => {
  assert.deepEqual(new SeededRandom(42).bytes(16), new SeededRandom(42).bytes(16));
  assert.notDeepEqual(new SeededRandom(42).bytes(16), new SeededRandom(43).bytes(16));
  const c = new CryptoRandom();
  assert.notDeepEqual(c.bytes(16), c.bytes(16));
  assert.equal(c.bytes(1000).length, 1000);
});

test('int() stays in range and covers it roughly uniformly', () => {
  const r = new SeededRandom(7);
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 6000; i++) counts[r.int(6)]!++;
  for (const n of counts) assert.ok(n > 850 && n < 1150, `bucket ${n}`);
  assert.throws(() => r.int(0), RangeError);
  assert.throws(() => r.int(1.5), RangeError);
});

test('randomToken uses only token characters', () => {
  const t = randomToken(new CryptoRandom(), 64);
  assert.match(t, /^[A-Za-z0-9]{64}$/);
});
