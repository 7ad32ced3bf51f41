import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Loopback } from './loopback.js';

const ramp = (from: number, count: number): Int16Array => Int16Array.from({ length: count }, (_, i) => from + i);

describe('Loopback', () => {
  test('what is written is read back, in order, re-cut into frames', () => {
    const echo = new Loopback({ frameSize: 160 });
    echo.write(ramp(0, 100));
    assert.deepEqual(echo.read(), new Int16Array(160), 'not a whole frame yet: silence');
    echo.write(ramp(100, 300));
    assert.deepEqual(echo.read(), ramp(0, 160));
    assert.deepEqual(echo.read(), ramp(160, 160));
    assert.equal(echo.buffered, 80);
  });

  test('a burst beyond maxBufferMs drops the oldest audio, so delay stays bounded', () => {
    const echo = new Loopback({ maxBufferMs: 40 }); // 320 samples at 8 kHz
    for (let i = 0; i < 5; i++) echo.write(ramp(i * 160, 160));
    assert.equal(echo.dropped, 480);
    assert.deepEqual(echo.read(), ramp(480, 160));
    assert.deepEqual(echo.read(), ramp(640, 160));
  });

  test('close() ends the source and ignores later writes', async () => {
    const echo = new Loopback();
    echo.write(ramp(0, 160));
    await echo.close();
    await echo.close();
    echo.write(ramp(0, 160));
    assert.equal(echo.read(), null);
  });
});
