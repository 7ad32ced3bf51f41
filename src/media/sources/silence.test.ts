import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SilenceSource } from './silence.js';

describe('SilenceSource', () => {
  test('gives fresh all-zero frames of the requested size', () => {
    const source = new SilenceSource({ sampleRate: 16000, frameSize: 320 });
    const a = source.read();
    const b = source.read();
    assert.ok(a !== null && b !== null);
    assert.equal(a.length, 320);
    assert.ok(a.every((s) => s === 0));
    assert.notEqual(a, b, 'each frame belongs to its caller');
  });

  test('ends after durationMs (whole frames), and at close()', async () => {
    const timed = new SilenceSource({ durationMs: 40 });
    assert.notEqual(timed.read(), null);
    assert.notEqual(timed.read(), null);
    assert.equal(timed.read(), null);
    assert.equal(timed.read(), null);
    const endless = new SilenceSource();
    await endless.close();
    await endless.close();
    assert.equal(endless.read(), null);
    assert.throws(() => new SilenceSource({ durationMs: -1 }), RangeError);
  });
});
