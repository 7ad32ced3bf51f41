import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findCodec, G722, getCodec, listCodecs, OPUS, PCMA, PCMU, type CodecName } from './index.js';
import { snrDb } from '../signal.js';

describe('codec registry', () => {
  test('static payload types and clock rates follow RFC 3551 Table 4; Opus is dynamic at 48 kHz (RFC 7587 §4.1)', () => {
    assert.deepEqual(
      listCodecs().map((c) => [c.name, c.payloadType, c.clockRate, c.sampleRate]),
      [
        ['opus', undefined, 48000, 48000],
        ['G722', 9, 8000, 16000], // §4.5.2: clock rate 8000 although sampled at 16 kHz
        ['PCMU', 0, 8000, 8000],
        ['PCMA', 8, 8000, 8000],
      ],
    );
  });

  test('getCodec returns the shared descriptors; findCodec is case-insensitive', () => {
    const names: CodecName[] = ['PCMU', 'PCMA', 'G722', 'opus'];
    for (const name of names) assert.equal(getCodec(name).name, name);
    assert.equal(findCodec('pcmu'), PCMU);
    assert.equal(findCodec('g722'), G722);
    assert.equal(findCodec('opus'), OPUS);
    assert.equal(findCodec('OPUS'), OPUS);
    assert.equal(findCodec('Opus'), OPUS);
    assert.equal(findCodec('G729'), undefined);
    assert.throws(() => getCodec('G729' as CodecName), RangeError);
  });

  test('frame sizes and RTP timestamp steps for 20 ms', () => {
    assert.equal(PCMU.frameSamples(20), 160);
    assert.equal(PCMU.timestampIncrement(20), 160);
    assert.equal(G722.frameSamples(20), 320);
    assert.equal(G722.timestampIncrement(20), 160);
    assert.equal(OPUS.frameSamples(20), 960);
    assert.equal(OPUS.timestampIncrement(20), 960);
    assert.equal(PCMA.frameSamples(30), 240);
    assert.throws(() => PCMU.frameSamples(0.01), RangeError);
    assert.throws(() => PCMU.frameSamples(-20), RangeError);
  });

  test('descriptors are frozen', () => {
    assert.ok(Object.isFrozen(PCMU) && Object.isFrozen(PCMA) && Object.isFrozen(G722) && Object.isFrozen(OPUS));
  });

  test('each codec round-trips 20 ms frames through its encoder and decoder', () => {
    for (const codec of listCodecs()) {
      const frame = codec.frameSamples(20);
      const n = frame * (codec.name === 'opus' ? 25 : 5);
      const pcm = Int16Array.from({ length: n }, (_, i) =>
        Math.round(8000 * Math.sin((2 * Math.PI * 500 * i) / codec.sampleRate)),
      );
      const enc = codec.createEncoder();
      const dec = codec.createDecoder();
      const out = new Int16Array(n);
      for (let off = 0; off < n; off += frame) {
        const payload = enc.encode(pcm.subarray(off, off + frame));
        const expected = codec.name === 'G722' ? frame / 2 : codec.name === 'opus' ? undefined : frame;
        if (expected !== undefined) assert.equal(payload.length, expected);
        out.set(dec.decode(payload), off);
      }
      enc.close?.();
      dec.close?.();
      if (codec.name === 'opus') {
        // Perceptual coding: no 30 dB waveform SNR, but the tone is there, 312 samples late
        // (a 500 Hz tone repeats every 96 samples, so search near the known look-ahead).
        const late = out.subarray(312);
        assert.ok(snrDb(pcm, late, { maxLag: 30, skip: 4800 }) > 15, codec.name);
      } else {
        assert.ok(snrDb(pcm, out, { maxLag: 30, skip: 200 }) > 30, codec.name);
      }
    }
  });

  test('G.722 and Opus give each call its own state; G.711 shares a stateless one', () => {
    assert.notEqual(G722.createEncoder(), G722.createEncoder());
    assert.notEqual(G722.createDecoder(), G722.createDecoder());
    assert.equal(PCMU.createEncoder(), PCMU.createEncoder());
    const [a, b] = [OPUS.createEncoder(), OPUS.createEncoder()];
    assert.notEqual(a, b);
    a.close?.();
    b.close?.();
  });
});
