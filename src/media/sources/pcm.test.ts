import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFrames } from '../port.js';
import { PcmSource } from './pcm.js';

const ramp = (count: number): Int16Array => Int16Array.from({ length: count }, (_, i) => i + 1);

describe('PcmSource', () => {
  test('cuts audio at the call rate into frames, padding the last one with silence', () => {
    const source = new PcmSource({ sampleRate: 8000, channels: 1, samples: ramp(400) });
    const frames = [source.read(), source.read(), source.read()];
    assert.equal(source.read(), null);
    assert.equal(source.read(), null);
    const last = frames[2];
    assert.ok(last !== null && last !== undefined);
    assert.equal(last[79], 400);
    assert.ok(last.subarray(80).every((s) => s === 0));
  });

  test('loop restarts mid-frame, without a gap', () => {
    const source = new PcmSource({ sampleRate: 8000, channels: 1, samples: ramp(100) }, { loop: true, frameSize: 160 });
    const pcm = readFrames(source, 5);
    assert.equal(pcm.length, 800);
    for (let i = 0; i < pcm.length; i++) assert.equal(pcm[i], (i % 100) + 1);
  });

  test('empty audio ends at once, looped or not (there is nothing to loop)', () => {
    const looped = new PcmSource({ sampleRate: 8000, channels: 1, samples: new Int16Array(0) }, { loop: true });
    assert.equal(looped.read(), null);
    const plain = new PcmSource({ sampleRate: 8000, channels: 1, samples: new Int16Array(0) });
    assert.equal(plain.read(), null);
  });

  test('close() ends it; rewind() starts it over', async () => {
    const source = new PcmSource({ sampleRate: 8000, channels: 1, samples: ramp(160) });
    await source.close();
    await source.close();
    assert.equal(source.read(), null);
    source.rewind();
    assert.deepEqual(source.read(), ramp(160));
  });

  test('stereo is mixed to mono', () => {
    const source = new PcmSource({ sampleRate: 8000, channels: 2, samples: Int16Array.of(100, 300, -50, -150) }, { frameSize: 2 });
    assert.deepEqual(source.read(), Int16Array.of(200, -100));
  });
});
