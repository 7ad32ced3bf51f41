import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DtmfDetector, type DtmfDetection } from './dtmf-detector.js';
import { createDtmfTone, generateDtmf, ToneGenerator } from './tone.js';
import { decodePcma, decodePcmu, encodePcma, encodePcmu } from './codecs/g711.js';

const ALL_KEYS = '0123456789*#ABCD';

/** Deterministic PRNG (LCG), so noise tests never flake. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

/** Approximately Gaussian noise (sum of 12 uniforms). */
function addNoise(pcm: Int16Array, sigma: number, seed: number): Int16Array {
  const rand = lcg(seed);
  return Int16Array.from(pcm, (v) => {
    let g = -6;
    for (let i = 0; i < 12; i++) g += rand();
    return Math.max(-32768, Math.min(32767, Math.round(v + sigma * g)));
  });
}

/**
 * Speech-like test signal: a glottal pulse train with drifting pitch (80–260 Hz) through three
 * formant resonators that jump between vowels every 80–230 ms, with a 4 Hz syllable envelope,
 * normalised to -21 dBFS RMS. Harmonics regularly cross DTMF frequencies, which is what makes
 * speech the classic source of false detections ("talk-off").
 */
function speechLike(seconds: number, seed: number): Int16Array {
  const fs = 8000;
  const rand = lcg(seed);
  const vowels = [
    [730, 1090, 2440],
    [270, 2290, 3010],
    [300, 870, 2240],
    [530, 1840, 2480],
    [570, 840, 2410],
    [660, 1720, 2410],
    [440, 1020, 2240],
  ] as const;
  const n = fs * seconds;
  const raw = new Float64Array(n);
  const state = new Float64Array(6);
  let vowel: readonly number[] = vowels[0];
  let change = 0;
  let f0 = 120;
  let phase = 0;
  for (let i = 0; i < n; i++) {
    if (i >= change) {
      vowel = vowels[Math.floor(rand() * vowels.length)] ?? vowels[0];
      change = i + Math.floor(fs * (0.08 + rand() * 0.15));
    }
    f0 = Math.max(80, Math.min(260, f0 + (rand() - 0.5) * 2));
    phase += f0 / fs;
    let x = (rand() - 0.5) * 0.05;
    if (phase >= 1) {
      phase -= 1;
      x += 1;
    }
    for (let k = 0; k < 3; k++) {
      const r = Math.exp((-Math.PI * (80 + 40 * k)) / fs);
      const c = 2 * r * Math.cos((2 * Math.PI * (vowel[k] as number)) / fs);
      const y = x + c * (state[2 * k] as number) - r * r * (state[2 * k + 1] as number);
      state[2 * k + 1] = state[2 * k] as number;
      state[2 * k] = y;
      x = y * (1 - r);
    }
    raw[i] = x * (0.5 + 0.5 * Math.sin((2 * Math.PI * 4 * i) / fs));
  }
  let energy = 0;
  for (const v of raw) energy += v * v;
  const gain = 3000 / Math.sqrt(energy / n);
  return Int16Array.from(raw, (v) => Math.max(-32768, Math.min(32767, Math.round(v * gain))));
}

function detectInFrames(pcm: Int16Array, frame = 160, detector = new DtmfDetector()): string {
  let out = '';
  for (let off = 0; off < pcm.length; off += frame) out += detector.process(pcm.subarray(off, off + frame));
  return out;
}

describe('DtmfDetector', () => {
  test('detects 0123456789*#ABCD (80 ms on, 60 ms off) after PCMU and after PCMA', () => {
    const pcm = generateDtmf(ALL_KEYS, { onMs: 80, offMs: 60 });
    assert.equal(detectInFrames(decodePcmu(encodePcmu(pcm))), ALL_KEYS);
    assert.equal(detectInFrames(decodePcma(encodePcma(pcm))), ALL_KEYS);
  });

  test('Q.24 minimum timing: 40 ms tones with 40 ms pauses, at every alignment against the 10 ms hop', () => {
    const pcm = decodePcmu(encodePcmu(generateDtmf(ALL_KEYS, { onMs: 40, offMs: 40 })));
    for (let shift = 0; shift < 80; shift += 7) {
      const shifted = new Int16Array(pcm.length + shift);
      shifted.set(pcm, shift);
      assert.equal(new DtmfDetector().process(shifted), ALL_KEYS, `shift ${shift}`);
    }
  });

  test('repeated keys need the pause between them: "5555" is four presses', () => {
    const pcm = generateDtmf('5555', { onMs: 60, offMs: 50 });
    assert.equal(new DtmfDetector().process(pcm), '5555');
  });

  test('a long press is reported once', () => {
    const pcm = createDtmfTone('7').generate(8000 * 2);
    const detector = new DtmfDetector();
    assert.equal(detectInFrames(pcm, 160, detector), '7');
    assert.equal(detector.activeKey, '7');
    detector.process(new Int16Array(400));
    assert.equal(detector.activeKey, null);
  });

  test('Q.24 short-burst rejection: 20 ms tones are never keys, at any alignment', () => {
    const pcm = generateDtmf(ALL_KEYS, { onMs: 20, offMs: 60 });
    for (let shift = 0; shift < 80; shift += 5) {
      const shifted = new Int16Array(pcm.length + shift);
      shifted.set(pcm, shift);
      assert.equal(new DtmfDetector().process(shifted), '', `shift ${shift}`);
    }
    // With onWindows: 2 a 25 ms burst counts (more margin in noise, less rejection).
    assert.equal(new DtmfDetector({ onWindows: 2 }).process(generateDtmf('1', { onMs: 25, offMs: 60 })), '1');
  });

  test('frame size does not matter (1, 37, 160, 8000 samples per call)', () => {
    const pcm = generateDtmf('159#', { onMs: 70, offMs: 50 });
    for (const frame of [1, 37, 160, 8000]) assert.equal(detectInFrames(pcm, frame), '159#', `frame ${frame}`);
  });

  test('onDigit reports each key once with its start sample (within one 10 ms hop)', () => {
    const seen: DtmfDetection[] = [];
    const detector = new DtmfDetector({ onDigit: (d) => seen.push(d) });
    detector.process(generateDtmf('42', { onMs: 80, offMs: 60 }));
    assert.deepEqual(
      seen.map((d) => d.key),
      ['4', '2'],
    );
    // Tone starts at samples 0 and 1120.
    assert.ok(Math.abs((seen[0] as DtmfDetection).startSample - 0) <= 80);
    assert.ok(Math.abs((seen[1] as DtmfDetection).startSample - 1120) <= 80);
  });

  test('robust to moderate noise: white noise at 10 dB SNR, through PCMA', () => {
    const pcm = generateDtmf(ALL_KEYS, { onMs: 80, offMs: 60 });
    // Each component has peak 0.25 FS, so the pair has power A²; noise power A²/10.
    const amplitude = 0.25 * 32767;
    const noisy = addNoise(pcm, Math.sqrt((amplitude * amplitude) / 10), 42);
    assert.equal(new DtmfDetector().process(decodePcma(encodePcma(noisy))), ALL_KEYS);
    // Also at the minimum Q.24 timing.
    const fast = addNoise(generateDtmf(ALL_KEYS, { onMs: 40, offMs: 40 }), Math.sqrt((amplitude * amplitude) / 10), 7);
    assert.equal(new DtmfDetector().process(decodePcma(encodePcma(fast))), ALL_KEYS);
  });

  test('accepts quiet tones (-30 dBFS) and normal twist (high group 3 dB down)', () => {
    const quiet = generateDtmf('123', { amplitude: 10 ** (-30 / 20), onMs: 60, offMs: 60 });
    assert.equal(new DtmfDetector().process(quiet), '123');
    const twisted = generateDtmf('456', { twistDb: -3, onMs: 60, offMs: 60 });
    assert.equal(new DtmfDetector().process(twisted), '456');
  });

  test('rejects excessive twist and tones below the level floor', () => {
    assert.equal(new DtmfDetector().process(generateDtmf('1', { twistDb: 10, onMs: 100 })), '');
    assert.equal(new DtmfDetector().process(generateDtmf('1', { twistDb: -12, onMs: 100 })), '');
    assert.equal(new DtmfDetector().process(generateDtmf('1', { amplitude: 10 ** (-45 / 20), onMs: 100 })), '');
  });

  test('pure silence gives no digits', () => {
    assert.equal(new DtmfDetector().process(new Int16Array(8000 * 5)), '');
    assert.equal(new DtmfDetector().process(decodePcmu(new Uint8Array(8000).fill(0xff))), '');
  });

  test('speech-like signals and noise give no digits (talk-off)', () => {
    for (const seed of [1, 2, 3]) {
      const speech = decodePcmu(encodePcmu(speechLike(20, seed)));
      assert.equal(detectInFrames(speech), '', `speech seed ${seed}`);
    }
    const rand = lcg(9);
    const white = Int16Array.from({ length: 8000 * 10 }, () => Math.round((rand() - 0.5) * 20000));
    assert.equal(new DtmfDetector().process(white), '');
  });

  test('call-progress tones and single tones are not keys', () => {
    for (const frequencies of [[350, 440], [440, 480], [480, 620], [1000], [697], [1209]]) {
      const pcm = new ToneGenerator({ sampleRate: 8000, frequencies }).generate(16000);
      assert.equal(new DtmfDetector().process(pcm), '', String(frequencies));
    }
  });

  test('works at 16 kHz (e.g. after G.722 decoding)', () => {
    const pcm = generateDtmf('2580', { sampleRate: 16000, onMs: 60, offMs: 50 });
    assert.equal(new DtmfDetector({ sampleRate: 16000 }).process(pcm), '2580');
  });

  test('reset() forgets a held key', () => {
    const detector = new DtmfDetector();
    detector.process(createDtmfTone('3').generate(800));
    assert.equal(detector.activeKey, '3');
    detector.reset();
    assert.equal(detector.activeKey, null);
    assert.equal(detector.process(createDtmfTone('3').generate(800)), '3');
  });

  test('bad options are RangeErrors', () => {
    assert.throws(() => new DtmfDetector({ sampleRate: 2000 }), RangeError);
    assert.throws(() => new DtmfDetector({ onWindows: 0 }), RangeError);
  });
});
