import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createDtmfTone,
  DTMF_FREQUENCIES,
  generateDtmf,
  isDtmfKey,
  silence,
  ToneGenerator,
} from './tone.js';
import { toneAmplitude } from './signal.js';

describe('ToneGenerator', () => {
  test('frames are phase-continuous: 50 × 160 samples equal one call of 8000', () => {
    const options = { sampleRate: 8000, frequencies: [440, 480], amplitude: 0.4 } as const;
    const whole = new ToneGenerator(options).generate(8000);
    const framed = new ToneGenerator(options);
    const frame = new Int16Array(160);
    for (let off = 0; off < 8000; off += 160) {
      framed.generate(160, frame);
      for (let i = 0; i < 160; i++) {
        // Same phase up to float rounding: at most one LSB apart.
        assert.ok(Math.abs((frame[i] as number) - (whole[off + i] as number)) <= 1, `sample ${off + i}`);
      }
    }
  });

  test('frequency and amplitude are as asked', () => {
    const tone = new ToneGenerator({ sampleRate: 16000, frequencies: [1000], amplitude: 0.5 });
    const pcm = tone.generate(16000);
    assert.ok(Math.abs(toneAmplitude(pcm, 1000, 16000) - 0.5 * 32767) < 5);
    assert.ok(toneAmplitude(pcm, 1100, 16000) < 5);
    assert.equal(pcm[0], 0); // sine starts at phase 0
  });

  test('sums that exceed full scale saturate instead of wrapping', () => {
    const pcm = new ToneGenerator({ sampleRate: 8000, frequencies: [100, 100.5], amplitude: 0.9 }).generate(800);
    let min = 0;
    let max = 0;
    for (const v of pcm) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.equal(max, 32767);
    assert.equal(min, -32768);
  });

  test('reset() restarts at phase 0', () => {
    const tone = new ToneGenerator({ sampleRate: 8000, frequencies: [1000] });
    const first = tone.generate(37);
    tone.generate(100);
    tone.reset();
    assert.deepEqual(tone.generate(37), first);
  });

  test('bad arguments are RangeErrors', () => {
    assert.throws(() => new ToneGenerator({ sampleRate: 8000, frequencies: [4000] }), RangeError);
    assert.throws(() => new ToneGenerator({ sampleRate: 0, frequencies: [400] }), RangeError);
    assert.throws(() => new ToneGenerator({ sampleRate: 8000, frequencies: [400, 500], amplitude: [0.1] }), RangeError);
    assert.throws(() => new ToneGenerator({ sampleRate: 8000, frequencies: [400] }).generate(-1), RangeError);
    assert.throws(() => new ToneGenerator({ sampleRate: 8000, frequencies: [400] }).generate(10, new Int16Array(5)), RangeError);
  });
});

describe('DTMF tones', () => {
  test('the keypad frequencies of ITU-T Q.23', () => {
    assert.deepEqual(DTMF_FREQUENCIES['1'], [697, 1209]);
    assert.deepEqual(DTMF_FREQUENCIES['5'], [770, 1336]);
    assert.deepEqual(DTMF_FREQUENCIES['9'], [852, 1477]);
    assert.deepEqual(DTMF_FREQUENCIES['0'], [941, 1336]);
    assert.deepEqual(DTMF_FREQUENCIES['*'], [941, 1209]);
    assert.deepEqual(DTMF_FREQUENCIES['#'], [941, 1477]);
    assert.deepEqual(DTMF_FREQUENCIES.D, [941, 1633]);
    assert.equal(Object.keys(DTMF_FREQUENCIES).length, 16);
    assert.ok(isDtmfKey('A') && !isDtmfKey('a') && !isDtmfKey('12') && !isDtmfKey('E'));
  });

  test('a key tone holds its two frequencies, with the requested twist', () => {
    const pcm = createDtmfTone('#', { amplitude: 0.2, twistDb: 2 }).generate(8000);
    const low = toneAmplitude(pcm, 941, 8000);
    const high = toneAmplitude(pcm, 1477, 8000);
    assert.ok(Math.abs(low - 0.2 * 32767) < 10);
    assert.ok(Math.abs(20 * Math.log10(high / low) - 2) < 0.05);
    assert.throws(() => createDtmfTone('x'), RangeError);
  });

  test('generateDtmf lays out on/off cadence with exact silence in the gaps', () => {
    const pcm = generateDtmf('12', { onMs: 50, offMs: 30, sampleRate: 8000 });
    assert.equal(pcm.length, 2 * (400 + 240));
    assert.ok(pcm.subarray(400, 640).every((v) => v === 0));
    assert.ok(pcm.subarray(1040).every((v) => v === 0));
    assert.ok(toneAmplitude(pcm, 697, 8000, 0, 400) > 1000);
    assert.ok(toneAmplitude(pcm, 1336, 8000, 640, 1040) > 1000);
  });
});

describe('silence', () => {
  test('allocates or zeroes a caller buffer', () => {
    assert.deepEqual(silence(3), new Int16Array(3));
    const buffer = Int16Array.of(1, 2, 3, 4);
    const out = silence(2, buffer);
    assert.deepEqual(out, new Int16Array(2));
    assert.equal(buffer[2], 3);
    assert.throws(() => silence(5, buffer), RangeError);
  });
});
