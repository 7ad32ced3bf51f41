import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { G722Decoder, G722Encoder, G722_CODEC_DELAY, G722_RTP_CLOCK_RATE, G722_SAMPLE_RATE } from './g722.js';
import { bestLag, rms, snrDb } from '../signal.js';

const FS = G722_SAMPLE_RATE;

function sine(frequency: number, amplitude: number, seconds = 1): Int16Array {
  return Int16Array.from({ length: FS * seconds }, (_, i) =>
    Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / FS)),
  );
}

/** Linear chirp from f0 to f1 over `seconds`. */
function chirp(f0: number, f1: number, amplitude: number, seconds = 1): Int16Array {
  return Int16Array.from({ length: FS * seconds }, (_, i) => {
    const t = i / FS;
    return Math.round(amplitude * Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * seconds))));
  });
}

function roundTrip(pcm: Int16Array): Int16Array {
  return new G722Decoder().decode(new G722Encoder().encode(pcm));
}

/** Skip the first 25 ms while the ADPCM scale factors adapt from their reset values. */
const SETTLE = 400;

describe('G.722 round trip quality', () => {
  test('1 kHz sine at -10 dBFS: SNR ≥ 20 dB after QMF delay compensation', (t) => {
    const pcm = sine(1000, 10362);
    const snr = snrDb(pcm, roundTrip(pcm), { lag: G722_CODEC_DELAY, skip: SETTLE });
    t.diagnostic(`1 kHz SNR ${snr.toFixed(2)} dB`);
    assert.ok(snr >= 20, `SNR ${snr}`);
    // Regression guard well above the requirement (measured ≈ 47 dB).
    assert.ok(snr >= 40, `SNR ${snr}`);
  });

  test('chirp 100 Hz → 7 kHz: the delay is found by correlation and SNR ≥ 20 dB', (t) => {
    const pcm = chirp(100, 7000, 10000);
    const decoded = roundTrip(pcm);
    // A chirp is not periodic, so the correlation peak is unambiguous.
    const { lag, correlation } = bestLag(pcm, decoded, 64);
    assert.equal(lag, G722_CODEC_DELAY);
    assert.ok(correlation > 0.99, `correlation ${correlation}`);
    const snr = snrDb(pcm, decoded, { lag, skip: SETTLE });
    t.diagnostic(`chirp 100–7000 Hz SNR ${snr.toFixed(2)} dB`);
    assert.ok(snr >= 20, `SNR ${snr}`);
  });

  test('chirp within the low band (100 Hz → 3.5 kHz) is coded much better (6-bit ADPCM)', (t) => {
    const pcm = chirp(100, 3500, 10000);
    const snr = snrDb(pcm, roundTrip(pcm), { lag: G722_CODEC_DELAY, skip: SETTLE });
    t.diagnostic(`chirp 100–3500 Hz SNR ${snr.toFixed(2)} dB`);
    assert.ok(snr >= 35, `SNR ${snr}`);
  });

  test('a high-band tone (5 kHz) goes through the 2-bit band with SNR ≥ 15 dB', (t) => {
    const pcm = sine(5000, 10000);
    const snr = snrDb(pcm, roundTrip(pcm), { lag: G722_CODEC_DELAY, skip: SETTLE });
    t.diagnostic(`5 kHz SNR ${snr.toFixed(2)} dB`);
    assert.ok(snr >= 15, `SNR ${snr}`);
  });

  test('near full scale (±32000) does not wrap around', (t) => {
    const pcm = sine(1000, 32000);
    const snr = snrDb(pcm, roundTrip(pcm), { lag: G722_CODEC_DELAY, skip: SETTLE });
    t.diagnostic(`full-scale 1 kHz SNR ${snr.toFixed(2)} dB`);
    assert.ok(snr >= 30, `SNR ${snr}`);
  });

  test('unity gain: RMS in ≈ RMS out (within 0.5 dB)', () => {
    const pcm = chirp(200, 6000, 8000);
    const out = roundTrip(pcm);
    const ratioDb = 20 * Math.log10(rms(out, SETTLE) / rms(pcm, SETTLE));
    assert.ok(Math.abs(ratioDb) < 0.5, `gain ${ratioDb} dB`);
  });

  test('silence stays near silent', () => {
    const decoded = roundTrip(new Int16Array(FS));
    let peak = 0;
    for (const v of decoded) peak = Math.max(peak, Math.abs(v));
    assert.ok(peak <= 8, `peak ${peak}`);
  });
});

describe('G.722 framing and state', () => {
  test('20 ms = 320 samples → 160 octets → 320 samples', () => {
    const enc = new G722Encoder();
    const payload = enc.encode(sine(440, 5000).subarray(0, 320));
    assert.equal(payload.length, 160);
    assert.equal(new G722Decoder().decode(payload).length, 320);
    // RFC 3551 §4.5.2: the RTP clock runs at 8000 Hz although audio is sampled at 16 000 Hz.
    assert.equal(G722_RTP_CLOCK_RATE, 8000);
    assert.equal(G722_SAMPLE_RATE, 16000);
  });

  test('frame-by-frame coding equals one-shot coding (state carries across frames)', () => {
    const pcm = chirp(300, 6000, 12000);
    const whole = new G722Encoder().encode(pcm);
    const enc = new G722Encoder();
    const dec = new G722Decoder();
    const frame = new Uint8Array(160);
    const samples = new Int16Array(320);
    const decodedWhole = new G722Decoder().decode(whole);
    for (let off = 0; off < pcm.length; off += 320) {
      const bytes = enc.encode(pcm.subarray(off, off + 320), frame);
      assert.deepEqual(bytes, whole.subarray(off / 2, off / 2 + 160));
      assert.deepEqual(dec.decode(bytes, samples), decodedWhole.subarray(off, off + 320));
    }
  });

  test('reset() returns to the initial state', () => {
    const pcm = sine(700, 9000).subarray(0, 640);
    const enc = new G722Encoder();
    const first = enc.encode(pcm);
    enc.encode(sine(3000, 20000).subarray(0, 640));
    enc.reset();
    assert.deepEqual(enc.encode(pcm), first);
    const dec = new G722Decoder();
    const out1 = dec.decode(first);
    dec.decode(first);
    dec.reset();
    assert.deepEqual(dec.decode(first), out1);
  });

  test('an odd number of samples or a short output buffer is a RangeError', () => {
    assert.throws(() => new G722Encoder().encode(new Int16Array(3)), RangeError);
    assert.throws(() => new G722Encoder().encode(new Int16Array(4), new Uint8Array(1)), RangeError);
    assert.throws(() => new G722Decoder().decode(new Uint8Array(4), new Int16Array(7)), RangeError);
  });

  test('every possible octet decodes to bounded output (hostile payloads)', () => {
    const dec = new G722Decoder();
    const all = Uint8Array.from({ length: 256 * 40 }, (_, i) => (i * 97) & 0xff);
    const out = dec.decode(all);
    assert.equal(out.length, all.length * 2);
    for (const v of out) assert.ok(v >= -32768 && v <= 32767);
  });
});
