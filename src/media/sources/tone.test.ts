import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFrames } from '../port.js';
import { toneAmplitude } from '../signal.js';
import { ToneGenerator } from '../tone.js';
import { ToneSource } from './tone.js';

describe('ToneSource', () => {
  test('frames join into one phase-continuous tone', () => {
    const pcm = readFrames(new ToneSource({ frequencies: [1000], amplitude: 0.5, durationMs: 1000 }), 1000);
    assert.equal(pcm.length, 8000);
    const reference = new ToneGenerator({ sampleRate: 8000, frequencies: [1000], amplitude: 0.5 }).generate(8000);
    assert.deepEqual(pcm, reference);
    assert.ok(Math.abs(toneAmplitude(pcm, 1000, 8000) - 0.5 * 32767) < 50);
  });

  test('dual tones (ringback 440 + 480 Hz) and the end after durationMs', async () => {
    const source = new ToneSource({ frequencies: [440, 480], durationMs: 100, sampleRate: 16000, frameSize: 320 });
    const pcm = readFrames(source, 100);
    assert.equal(pcm.length, 5 * 320);
    assert.ok(toneAmplitude(pcm, 440, 16000) > 5000);
    assert.equal(source.read(), null);
    await source.close();
    assert.throws(() => new ToneSource({ frequencies: [5000] }), RangeError, 'above Nyquist at 8 kHz');
  });
});
