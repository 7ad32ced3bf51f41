import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resample, Resampler } from './resample.js';
import { rms, snrDb, toneAmplitude } from './signal.js';

function sine(frequency: number, rate: number, frames: number, amplitude = 10000, phase = 0.3): Int16Array {
  return Int16Array.from({ length: frames }, (_, i) =>
    Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / rate + phase)),
  );
}

/** Ignore the edges, where the filter sees the implicit silence before and after the signal. */
function middle(pcm: Int16Array, rate: number): Int16Array {
  const edge = Math.round(rate * 0.02);
  return pcm.subarray(edge, pcm.length - edge);
}

const RATES = [8000, 16000, 22050, 44100, 48000] as const;

describe('resample: frequency, level and alignment', () => {
  test('1 kHz at 48 kHz → 8 kHz keeps its frequency and its level within 0.5 dB', (t) => {
    const input = sine(1000, 48000, 48000);
    const output = resample(input, 48000, 8000);
    assert.equal(output.length, 8000);
    const core = middle(output, 8000);
    const levelDb = 20 * Math.log10(toneAmplitude(core, 1000, 8000) / 10000);
    t.diagnostic(`1 kHz level change ${levelDb.toFixed(4)} dB`);
    assert.ok(Math.abs(levelDb) <= 0.5, `level ${levelDb} dB`);
    // Frequency: practically all energy is at 1 kHz, none 20 Hz either side.
    assert.ok(toneAmplitude(core, 980, 8000) < 0.05 * 10000);
    assert.ok(toneAmplitude(core, 1020, 8000) < 0.05 * 10000);
    // And it is the same sine, sample for sample, as one generated at 8 kHz (time-aligned).
    const ideal = sine(1000, 8000, 8000);
    const snr = snrDb(middle(ideal, 8000), core, { lag: 0 });
    t.diagnostic(`vs ideal 8 kHz sine: ${snr.toFixed(1)} dB`);
    assert.ok(snr > 60, `SNR ${snr}`);
  });

  test('anti-aliasing: 6 kHz at 48 kHz → 8 kHz (would fold to 2 kHz) is attenuated ≥ 40 dB', (t) => {
    const output = middle(resample(sine(6000, 48000, 48000), 48000, 8000), 8000);
    const attenuation = 20 * Math.log10(10000 / Math.max(rms(output) * Math.SQRT2, 1e-9));
    const alias = toneAmplitude(output, 2000, 8000);
    t.diagnostic(`6 kHz → 8 kHz output RMS ${rms(output).toFixed(3)} (input peak 10000), 2 kHz alias amplitude ${alias.toFixed(3)}`);
    assert.ok(attenuation >= 40, `only ${attenuation} dB`);
    assert.ok(20 * Math.log10(10000 / Math.max(alias, 1e-9)) >= 40);
  });

  test('anti-aliasing at the band edge: 4.6 kHz at 44.1 kHz → 8 kHz (would fold to 3.4 kHz) ≥ 60 dB down', (t) => {
    const output = middle(resample(sine(4600, 44100, 44100), 44100, 8000), 8000);
    const attenuation = 20 * Math.log10(10000 / Math.max(rms(output) * Math.SQRT2, 1e-9));
    t.diagnostic(`4.6 kHz: ${attenuation.toFixed(1)} dB`);
    assert.ok(attenuation >= 60, `only ${attenuation} dB`);
  });

  test('naive decimation (what linear interpolation does at a 6:1 ratio) fails that test', () => {
    // Every 6th sample falls on an input sample, so interpolation degenerates to picking it: the
    // 6 kHz tone folds to 2 kHz at full level. This shows the test above can fail.
    const input = sine(6000, 48000, 48000);
    const naive = Int16Array.from({ length: 8000 }, (_, i) => input[i * 6] as number);
    assert.ok(toneAmplitude(naive, 2000, 8000) > 5000);
  });

  test('upsampling 8 kHz → 48 kHz suppresses the images (7, 9, 15 … kHz of a 1 kHz tone)', (t) => {
    const output = middle(resample(sine(1000, 8000, 8000), 8000, 48000), 48000);
    const ideal = middle(sine(1000, 48000, 48000), 48000);
    const snr = snrDb(ideal, output, { lag: 0 });
    t.diagnostic(`8k → 48k vs ideal: ${snr.toFixed(1)} dB`);
    assert.ok(snr > 60, `SNR ${snr}`);
    assert.ok(toneAmplitude(output, 7000, 48000) < 1);
    assert.ok(toneAmplitude(output, 9000, 48000) < 1);
  });

  test('passband is flat: 300 Hz–3.2 kHz within 0.1 dB at 44.1 kHz → 8 kHz', () => {
    for (const f of [300, 1000, 2000, 3000, 3200]) {
      const out = middle(resample(sine(f, 44100, 22050), 44100, 8000), 8000);
      const db = 20 * Math.log10(toneAmplitude(out, f, 8000) / 10000);
      assert.ok(Math.abs(db) < 0.1, `${f} Hz: ${db} dB`);
    }
  });

  test('every pair of the common rates: output length ceil(n·out/in), 440 Hz preserved (SNR > 50 dB)', () => {
    for (const from of RATES) {
      for (const to of RATES) {
        const input = sine(440, from, Math.round(from * 0.3) + 7);
        const output = resample(input, from, to);
        assert.equal(output.length, Math.ceil((input.length * to) / from), `${from} → ${to}`);
        const ideal = sine(440, to, output.length);
        const snr = snrDb(middle(ideal, to), middle(output, to), { lag: 0 });
        assert.ok(snr > 50, `${from} → ${to}: ${snr} dB`);
      }
    }
  });

  test('DC passes at unity gain', () => {
    const dc = new Int16Array(4410).fill(1000);
    const out = middle(resample(dc, 44100, 16000), 16000);
    assert.ok(out.every((v) => v === 1000));
  });
});

describe('Resampler streaming', () => {
  test('chunked processing equals one-shot, for odd chunk sizes', () => {
    const input = sine(1234, 44100, 10000);
    const whole = resample(input, 44100, 16000);
    for (const chunk of [1, 17, 441, 4096]) {
      const resampler = new Resampler(44100, 16000);
      const parts: Int16Array[] = [];
      for (let off = 0; off < input.length; off += chunk) parts.push(resampler.process(input.subarray(off, off + chunk)));
      parts.push(resampler.flush());
      const joined = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        joined.set(p, at);
        at += p.length;
      }
      assert.deepEqual(joined, whole, `chunk ${chunk}`);
    }
  });

  test('stereo channels are resampled independently', () => {
    const left = sine(500, 48000, 4800);
    const right = sine(1500, 48000, 4800, 5000);
    const interleaved = new Int16Array(9600);
    for (let i = 0; i < 4800; i++) {
      interleaved[2 * i] = left[i] as number;
      interleaved[2 * i + 1] = right[i] as number;
    }
    const out = resample(interleaved, 48000, 16000, { channels: 2 });
    const l = resample(left, 48000, 16000);
    const r = resample(right, 48000, 16000);
    assert.equal(out.length, 2 * l.length);
    for (let i = 0; i < l.length; i++) {
      assert.equal(out[2 * i], l[i]);
      assert.equal(out[2 * i + 1], r[i]);
    }
  });

  test('equal rates copy the input', () => {
    const input = sine(300, 8000, 100);
    const out = resample(input, 8000, 8000);
    assert.deepEqual(out, input);
    assert.notEqual(out, input);
  });

  test('unusual ratios fall back to rounded phases and still convert cleanly', () => {
    // 44 056 → 48 000 reduces to 6000/5507: more phases than the table holds.
    const input = sine(1000, 44056, 44056);
    const output = resample(input, 44056, 48000);
    const ideal = sine(1000, 48000, output.length);
    assert.ok(snrDb(middle(ideal, 48000), middle(output, 48000), { lag: 0 }) > 50);
  });

  test('bad arguments are RangeErrors', () => {
    assert.throws(() => new Resampler(8000.5, 16000), RangeError);
    assert.throws(() => new Resampler(8000, 0), RangeError);
    assert.throws(() => new Resampler(8000, 16000, { channels: 0 }), RangeError);
    assert.throws(() => new Resampler(8000, 16000, { cutoff: 1.5 }), RangeError);
    assert.throws(() => new Resampler(8000, 16000, { channels: 2 }).process(new Int16Array(3)), RangeError);
  });
});
