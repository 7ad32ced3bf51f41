import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createOpusCodec, OPUS, OpusCodecError, OpusDecoder, OpusEncoder } from './index.js';
import {
  OPUS_CODEC_DELAY,
  OPUS_DEFAULT_BITRATE,
  opusEncoderOptionsFromFmtp,
  opusPacketSamples,
  openOpusCodecs,
  type OpusEncoderOptions,
} from './opus.js';
import { bestLag, normalizedCorrelation, rms, snrDb } from '../signal.js';

const FS = 48_000;
const FRAME = 960; // 20 ms

/** Everything a test opens, closed at the end so the WASM memory is given back. */
const opened: Array<{ close(): void }> = [];
after(() => {
  for (const codec of opened) codec.close();
});
function encoder(options?: OpusEncoderOptions): OpusEncoder {
  const e = new OpusEncoder(options);
  opened.push(e);
  return e;
}
function decoder(): OpusDecoder {
  const d = new OpusDecoder();
  opened.push(d);
  return d;
}

/**
 * Deterministic speech-like audio at 48 kHz: a softened glottal pulse train (F0 gliding around
 * 110–170 Hz) through three formant resonators moving between vowels, in 260 ms syllables with a
 * pause, and a fricative-like noise burst in every other pause. Not periodic over a frame, so
 * the correlation peak that finds the codec delay is unambiguous.
 */
function speechLike(seconds: number): Int16Array {
  const vowels = [
    [730, 1090, 2440],
    [270, 2290, 3010],
    [300, 870, 2240],
    [530, 1840, 2480],
    [570, 840, 2410],
  ] as const;
  const gains = [1, 0.6, 0.3] as const;
  const out = new Float64Array(Math.round(seconds * FS));
  const formants = [new Float64Array(2), new Float64Array(2), new Float64Array(2)] as const;
  let seed = 12345;
  let phase = 0;
  let glottal = 0;
  let previousNoise = 0;
  const syllable = 0.26 * FS;
  for (let n = 0; n < out.length; n++) {
    const index = Math.floor(n / syllable);
    const pos = (n % syllable) / syllable;
    const from = vowels[index % 5]!;
    const to = vowels[(index * 3 + 1) % 5]!;
    const voiced = pos < 0.75;
    const envelope = voiced ? Math.sin((Math.PI * pos) / 0.75) ** 0.7 : 0;
    phase += (110 + 40 * Math.sin((2 * Math.PI * 0.7 * n) / FS) + 20 * pos) / FS;
    let pulse = 0;
    if (phase >= 1) {
      phase -= 1;
      pulse = 1;
    }
    glottal = 0.9 * glottal + pulse;
    let y = 0;
    for (let k = 0; k < 3; k++) {
      const frequency = from[k]! + (to[k]! - from[k]!) * pos;
      const r = Math.exp((-Math.PI * (80 + 40 * k)) / FS);
      const state = formants[k]!;
      const v = 2 * r * Math.cos((2 * Math.PI * frequency) / FS) * state[0]! - r * r * state[1]! + glottal * envelope * (1 - r) * gains[k]!;
      state[1] = state[0]!;
      state[0] = v;
      y += v;
    }
    if (!voiced && index % 2 === 1) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const noise = seed / 2 ** 31 - 1;
      y += 0.02 * (noise - previousNoise) * Math.sin((Math.PI * (pos - 0.75)) / 0.25);
      previousNoise = noise;
    }
    out[n] = y;
  }
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  return Int16Array.from(out, (v) => Math.round((v / peak) * 12_000));
}

/** Encodes `pcm` in 20 ms frames and decodes each packet; returns the audio and the packets. */
function roundTrip(pcm: Int16Array, options?: OpusEncoderOptions): { decoded: Int16Array; packets: Uint8Array[] } {
  const enc = encoder(options);
  const dec = decoder();
  const decoded = new Int16Array(pcm.length);
  const packets: Uint8Array[] = [];
  for (let at = 0; at + FRAME <= pcm.length; at += FRAME) {
    const packet = enc.encode(pcm.subarray(at, at + FRAME));
    packets.push(packet);
    decoded.set(dec.decode(packet), at);
  }
  return { decoded, packets };
}

const speech = speechLike(2);

describe('Opus codec descriptor (RFC 7587)', () => {
  test('name opus, 48 kHz RTP clock and PCM, dynamic payload type, 20 ms = 960 samples = timestamp step 960', () => {
    assert.equal(OPUS.name, 'opus');
    assert.equal(OPUS.clockRate, 48_000); // §4.1: for every mode and bandwidth
    assert.equal(OPUS.sampleRate, 48_000);
    assert.equal(OPUS.channels, 1);
    assert.equal(OPUS.payloadType, undefined);
    assert.equal(OPUS.frameSamples(20), 960);
    assert.equal(OPUS.timestampIncrement(20), 960);
    assert.equal(OPUS.frameSamples(10), 480);
    assert.equal(OPUS.frameSamples(2.5), 120);
    assert.equal(OPUS.timestampIncrement(60), 2880);
    assert.ok(Object.isFrozen(OPUS));
  });

  test('ptimes that are not an Opus frame duration are a RangeError', () => {
    for (const ptime of [30, 15, 0, -20, 0.01, 140]) assert.throws(() => OPUS.frameSamples(ptime), RangeError, String(ptime));
  });

  test('createOpusCodec passes its options to every encoder it makes', () => {
    const codec = createOpusCodec({ bitrate: 12_000 });
    const enc = codec.createEncoder() as OpusEncoder;
    opened.push(enc);
    assert.equal(enc.bitrate, 12_000);
    assert.notEqual(codec.createDecoder(), codec.createDecoder());
  });
});

describe('Opus round trip', () => {
  test('speech-like audio survives encode → decode: correlation ≥ 0.93 once aligned for the codec delay', (t) => {
    const { decoded } = roundTrip(speech);
    // Search ±10 ms; the peak sits a few samples before the 312-sample look-ahead (the VOIP
    // high-pass filter's phase shift).
    const { lag, correlation } = bestLag(speech, decoded, 480);
    const snr = snrDb(speech, decoded, { lag, skip: 4800 });
    t.diagnostic(`lag ${lag} samples (look-ahead ${OPUS_CODEC_DELAY}), correlation ${correlation.toFixed(4)}, SNR ${snr.toFixed(1)} dB`);
    assert.ok(lag >= OPUS_CODEC_DELAY - 16 && lag <= OPUS_CODEC_DELAY, `lag ${lag}`);
    // Measured 0.951 (Opus is perceptual: a waveform SNR of ~7 dB still sounds clean).
    assert.ok(correlation >= 0.93, `correlation ${correlation}`);
    // Unaligned, the same audio barely correlates: the alignment is what the check measures.
    assert.ok(normalizedCorrelation(speech, decoded, 0) < 0.5);
  });

  test('unity gain: RMS out within 1.5 dB of RMS in', () => {
    const { decoded } = roundTrip(speech);
    const ratioDb = 20 * Math.log10(rms(decoded, 4800) / rms(speech, 4800));
    assert.ok(Math.abs(ratioDb) < 1.5, `gain ${ratioDb} dB`);
  });

  test('the encoder look-ahead is 312 samples (6.5 ms) in the VOIP application', () => {
    assert.equal(encoder().lookahead, OPUS_CODEC_DELAY);
  });

  test('silence stays silent', () => {
    const { decoded } = roundTrip(new Int16Array(FS));
    let peak = 0;
    for (const v of decoded) peak = Math.max(peak, Math.abs(v));
    assert.ok(peak <= 2, `peak ${peak}`);
  });
});

describe('Opus payloads', () => {
  test('32 kbit/s VBR: ~80 bytes per 20 ms packet on average, each one 20 ms by its TOC', (t) => {
    const { packets } = roundTrip(speech);
    const mean = packets.reduce((sum, p) => sum + p.length, 0) / packets.length;
    t.diagnostic(`mean ${mean.toFixed(1)} bytes, min ${Math.min(...packets.map((p) => p.length))}, max ${Math.max(...packets.map((p) => p.length))}`);
    // VBR gives speech pauses fewer bytes; the mean stays near (and not above) 32 kbit/s.
    assert.ok(mean >= 50 && mean <= (OPUS_DEFAULT_BITRATE * 0.02) / 8 + 5, `mean ${mean}`);
    for (const p of packets) {
      assert.equal(opusPacketSamples(p), FRAME);
      assert.equal(p[0]! & 3, 0, 'code 0: one frame per packet');
      assert.equal(p[0]! & 4, 0, 'mono');
    }
  });

  test('CBR (cbr=1) gives every packet the same size: 32 kbit/s × 20 ms = 80 bytes', () => {
    const { packets } = roundTrip(speech, { cbr: true });
    assert.deepEqual(new Set(packets.map((p) => p.length)), new Set([80]));
  });

  test('a lower bit rate gives smaller packets; maxplaybackrate 16000 keeps every packet at wideband or below', () => {
    const low = roundTrip(speech, { bitrate: 12_000 }).packets;
    const mean = low.reduce((sum, p) => sum + p.length, 0) / low.length;
    assert.ok(mean < 35, `mean ${mean}`);
    const wideband = roundTrip(speech, { maxPlaybackRate: 16_000 }).packets;
    for (const p of wideband) {
      const config = p[0]! >> 3;
      // RFC 6716 Table 2: SILK NB/MB/WB 0–11, CELT NB 16–19 and WB 20–23; never SWB/FB.
      assert.ok(config <= 11 || (config >= 16 && config <= 23), `config ${config}`);
    }
  });

  test('in-band FEC (for a receiver that said useinbandfec=1) still decodes', () => {
    const { decoded } = roundTrip(speech, { inbandFec: true });
    assert.ok(bestLag(speech, decoded, 480).correlation >= 0.9);
  });

  test('frame lengths: 2.5–60 ms encode to packets of that duration; anything else is a RangeError', () => {
    const enc = encoder();
    for (const samples of [120, 240, 480, 960, 1920, 2880]) {
      assert.equal(opusPacketSamples(enc.encode(speech.subarray(0, samples))), samples);
    }
    for (const samples of [0, 959, 1440, 321, 6000]) {
      assert.throws(() => enc.encode(new Int16Array(samples)), RangeError, String(samples));
    }
  });

  test('an encoder output that does not fit comes back in a new array, identical to what fits', () => {
    const a = encoder();
    const b = encoder();
    const roomy = new Uint8Array(1500);
    for (let at = 0; at < 20 * FRAME; at += FRAME) {
      const frame = speech.subarray(at, at + FRAME);
      const fits = a.encode(frame, roomy);
      assert.equal(fits.buffer, roomy.buffer);
      const tooSmall = new Uint8Array(4);
      const fresh = b.encode(frame, tooSmall);
      assert.notEqual(fresh.buffer, tooSmall.buffer);
      assert.deepEqual(fresh, fits);
    }
  });
});

describe('Opus decoder', () => {
  test('a stereo packet (made by opusscript’s own wrapper) decodes to mono: (L + R) / 2', (t) => {
    const require = createRequire(import.meta.url);
    const OpusScript = require('opusscript') as typeof import('opusscript');
    // One OpusScript object in its own WASM instance: its buffer addressing is then harmless.
    const stereo = new OpusScript(48_000, 2, OpusScript.Application.AUDIO);
    t.after(() => stereo.delete());
    stereo.setBitrate(96_000);
    const left = speech;
    const right = Int16Array.from({ length: left.length }, (_, i) => Math.round(4000 * Math.sin((2 * Math.PI * 440 * i) / FS)));
    const dec = decoder();
    const decoded = new Int16Array(left.length);
    const mix = Int16Array.from(left, (l, i) => (l + right[i]!) >> 1);
    for (let at = 0; at + FRAME <= left.length; at += FRAME) {
      const interleaved = new Int16Array(2 * FRAME);
      for (let i = 0; i < FRAME; i++) {
        interleaved[2 * i] = left[at + i]!;
        interleaved[2 * i + 1] = right[at + i]!;
      }
      const packet = stereo.encode(Buffer.from(interleaved.buffer), FRAME);
      assert.equal(packet[0]! & 4, 4, 'the TOC says stereo');
      const pcm = dec.decode(packet);
      assert.equal(pcm.length, FRAME, 'mono: one sample per instant');
      decoded.set(pcm, at);
    }
    const { lag, correlation } = bestLag(mix, decoded, 480);
    t.diagnostic(`stereo → mono: lag ${lag}, correlation with (L+R)/2 ${correlation.toFixed(4)}`);
    assert.ok(correlation >= 0.9, `correlation ${correlation}`);
  });

  test('bad payloads are OpusCodecError, not a crash, and the decoder keeps working', () => {
    const dec = decoder();
    const isOpusError = (e: unknown): boolean => e instanceof OpusCodecError && e.code === 'MEDIA_ERR_OPUS' && e.operation === 'decode';
    assert.throws(() => dec.decode(new Uint8Array(0)), (e: unknown) => isOpusError(e) && /empty payload/.test(String(e)));
    assert.throws(() => dec.decode(Uint8Array.of(0x0b)), (e: unknown) => isOpusError(e) && /frame count/.test(String(e))); // code 3, no count byte
    assert.throws(() => dec.decode(Uint8Array.of(0x0b, 0x00)), isOpusError); // code 3, zero frames
    assert.throws(() => dec.decode(Uint8Array.of(0x0b, 0x3f, 0, 0)), (e: unknown) => isOpusError(e) && /120 ms/.test(String(e))); // 63 × 20 ms
    assert.throws(() => dec.decode(new Uint8Array(5000).fill(0x08)), (e: unknown) => isOpusError(e) && /larger/.test(String(e)));
    // Random bytes: libopus either makes sound of them or reports a corrupted stream.
    let seed = 7;
    let rejected = 0;
    for (let n = 0; n < 2000; n++) {
      const payload = Uint8Array.from({ length: 1 + (n % 200) }, () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed >>> 24;
      });
      try {
        const pcm = dec.decode(payload);
        assert.equal(pcm.length, opusPacketSamples(payload));
      } catch (error) {
        assert.ok(isOpusError(error), String(error));
        rejected++;
      }
    }
    assert.ok(rejected > 0);
    const good = encoder().encode(speech.subarray(0, FRAME));
    dec.reset();
    assert.equal(dec.decode(good).length, FRAME);
  });

  test('an output buffer too small is a RangeError before anything is decoded, so a retry is exact', () => {
    const enc = encoder();
    const packets = Array.from({ length: 10 }, (_, k) => enc.encode(speech.subarray(k * FRAME, (k + 1) * FRAME)));
    const retried = decoder();
    const straight = decoder();
    for (const packet of packets) {
      assert.throws(() => retried.decode(packet, new Int16Array(FRAME - 1)), RangeError);
      assert.deepEqual(retried.decode(packet, new Int16Array(2 * FRAME)), straight.decode(packet));
    }
  });

  test('conceal() continues the last packet (libopus concealment), then fades; before any packet it is 20 ms of silence', () => {
    const dec = decoder();
    assert.deepEqual(dec.conceal(), new Int16Array(FRAME));
    const enc = encoder();
    const voiced = speech.subarray(0, 0.2 * FS); // inside a syllable
    for (let at = 0; at < voiced.length; at += FRAME) dec.decode(enc.encode(voiced.subarray(at, at + FRAME)));
    const first = dec.conceal();
    assert.equal(first.length, FRAME);
    assert.ok(rms(first) > 0.1 * rms(voiced), `concealed RMS ${rms(first)} vs ${rms(voiced)}`);
    let last = first;
    for (let k = 0; k < 10; k++) last = dec.conceal(new Int16Array(FRAME));
    assert.ok(rms(last) < rms(first), 'a long loss fades out');
    assert.throws(() => dec.conceal(new Int16Array(10)), RangeError);
  });
});

describe('Opus lifecycle', () => {
  test('reset() makes the encoder start over; close() is idempotent and later use is an OpusCodecError', () => {
    const before = openOpusCodecs();
    const enc = new OpusEncoder();
    assert.equal(openOpusCodecs(), before + 1);
    const frame = speech.subarray(0, FRAME);
    const first = enc.encode(frame);
    enc.encode(speech.subarray(FRAME, 2 * FRAME));
    enc.reset();
    assert.deepEqual(enc.encode(frame), first);
    enc.close();
    enc.close();
    assert.throws(() => enc.encode(frame), (e: unknown) => e instanceof OpusCodecError && /closed/.test(e.message));
    const dec = new OpusDecoder();
    dec.close();
    dec.close();
    assert.throws(() => dec.decode(first), (e: unknown) => e instanceof OpusCodecError && /closed/.test(e.message));
    assert.equal(openOpusCodecs(), before, 'both closed, once each');
  });

  test('hundreds of live codecs: the WASM memory grows and the first one still works', () => {
    const first = encoder();
    const frame = speech.subarray(0, FRAME);
    first.encode(frame);
    const many = Array.from({ length: 250 }, () => new OpusDecoder());
    try {
      assert.ok(first.encode(frame).length > 0);
      assert.equal(many[0]!.decode(first.encode(frame)).length, FRAME);
    } finally {
      for (const d of many) d.close();
    }
  });

  test('bad encoder settings are a RangeError', () => {
    assert.throws(() => new OpusEncoder({ bitrate: 5000 }), RangeError);
    assert.throws(() => new OpusEncoder({ bitrate: 600_000 }), RangeError);
    assert.throws(() => new OpusEncoder({ expectedLossPercent: 101 }), RangeError);
  });
});

describe('opusEncoderOptionsFromFmtp (RFC 7587 §6.1, §7.1)', () => {
  test('the receiver’s limits and wishes become encoder settings', () => {
    assert.deepEqual(opusEncoderOptionsFromFmtp(undefined), { bitrate: 32_000 });
    assert.deepEqual(opusEncoderOptionsFromFmtp('minptime=10;useinbandfec=1'), { bitrate: 32_000, inbandFec: true });
    assert.deepEqual(
      opusEncoderOptionsFromFmtp('maxplaybackrate=16000; sprop-maxcapturerate=16000; maxaveragebitrate=20000; stereo=1; useinbandfec=1; usedtx=0; cbr=1'),
      { bitrate: 20_000, maxPlaybackRate: 16_000, inbandFec: true, cbr: true },
    );
    // maxaveragebitrate only lowers our rate; out-of-range values are ignored (§6.1 SHOULD).
    assert.deepEqual(opusEncoderOptionsFromFmtp('maxaveragebitrate=64000'), { bitrate: 32_000 });
    assert.deepEqual(opusEncoderOptionsFromFmtp('maxaveragebitrate=1000;useinbandfec=0;MAXPLAYBACKRATE=96000'), { bitrate: 32_000, maxPlaybackRate: 48_000 });
  });
});
