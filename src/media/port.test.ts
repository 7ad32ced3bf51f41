import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FRAME_FORMAT, readFrames, resolveFrameFormat } from './port.js';
import { SilenceSource } from './sources/silence.js';
import { ToneSource } from './sources/tone.js';

describe('frame format', () => {
  test('defaults to 8 kHz, 160-sample (20 ms) frames', () => {
    assert.deepEqual(resolveFrameFormat(), { sampleRate: 8000, frameSize: 160 });
    assert.deepEqual(resolveFrameFormat({ sampleRate: 16000, frameSize: 320 }), { sampleRate: 16000, frameSize: 320 });
    assert.ok(Object.isFrozen(DEFAULT_FRAME_FORMAT));
  });

  test('bad rates and frame sizes are RangeErrors', () => {
    assert.throws(() => resolveFrameFormat({ sampleRate: 0 }), RangeError);
    assert.throws(() => resolveFrameFormat({ sampleRate: 8000.5 }), RangeError);
    assert.throws(() => resolveFrameFormat({ frameSize: 0 }), RangeError);
    assert.throws(() => resolveFrameFormat({ frameSize: 1.5 }), RangeError);
  });
});

describe('readFrames', () => {
  test('concatenates frames and stops at the end of the source', () => {
    const source = new SilenceSource({ durationMs: 50 }); // 2.5 frames → 3
    const pcm = readFrames(source, 100);
    assert.equal(pcm.length, 3 * 160);
    assert.equal(source.read(), null);
  });

  test('is bounded by maxFrames for a source that never ends', () => {
    assert.equal(readFrames(new ToneSource(), 7).length, 7 * 160);
    assert.throws(() => readFrames(new ToneSource(), -1), RangeError);
  });
});
