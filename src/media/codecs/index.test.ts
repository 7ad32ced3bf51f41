import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findCodec, G722, getCodec, listCodecs, PCMA, PCMU, type CodecName } from './index.js';
import { snrDb } from '../signal.js';

describe('codec registry', () => {
  test('static payload types and clock rates follow RFC 3551 Table 4', () => {
    assert.deepEqual(
      listCodecs().map((c) => [c.name, c.payloadType, c.clockRate, c.sampleRate]),
      [
        ['G722', 9, 8000, 16000], // §4.5.2: clock rate 8000 although sampled at 16 kHz
        ['PCMU', 0, 8000, 8000],
        ['PCMA', 8, 8000, 8000],
      ],
    );
  });

  test('getCodec returns the shared descriptors; findCodec is case-insensitive', () => {
    const names: CodecName[] = ['PCMU', 'PCMA', 'G722'];
    for (const name of names) assert.equal(getCodec(name).name, name);
    assert.equal(findCodec('pcmu'), PCMU);
    assert.equal(findCodec('g722'), G722);
    assert.equal(findCodec('opus'), undefined);
    assert.throws(() => getCodec('opus' as CodecName), RangeError);
  });

  test('frame sizes and RTP timestamp steps for 20 ms', () => {
    assert.equal(PCMU.frameSamples(20), 160);
    assert.equal(PCMU.timestampIncrement(20), 160);
    assert.equal(G722.frameSamples(20), 320);
    assert.equal(G722.timestampIncrement(20), 160);
    assert.equal(PCMA.frameSamples(30), 240);
    assert.throws(() => PCMU.frameSamples(0.01), RangeError);
    assert.throws(() => PCMU.frameSamples(-20), RangeError);
  });

  test('descriptors are frozen', () => {
    assert.ok(Object.isFrozen(PCMU) && Object.isFrozen(PCMA) && Object.isFrozen(G722));
  });

  test('each codec round-trips a 20 ms frame through its encoder and decoder', () => {
    for (const codec of listCodecs()) {
      const n = codec.frameSamples(20) * 5;
      const pcm = Int16Array.from({ length: n }, (_, i) =>
        Math.round(8000 * Math.sin((2 * Math.PI * 500 * i) / codec.sampleRate)),
      );
      const enc = codec.createEncoder();
      const dec = codec.createDecoder();
      const frame = codec.frameSamples(20);
      const out = new Int16Array(n);
      for (let off = 0; off < n; off += frame) {
        const payload = enc.encode(pcm.subarray(off, off + frame));
        assert.equal(payload.length, codec.name === 'G722' ? frame / 2 : frame);
        out.set(dec.decode(payload), off);
      }
      assert.ok(snrDb(pcm, out, { maxLag: 30, skip: 200 }) > 30, codec.name);
    }
  });

  test('G.722 gives each call its own state; G.711 shares a stateless one', () => {
    assert.notEqual(G722.createEncoder(), G722.createEncoder());
    assert.notEqual(G722.createDecoder(), G722.createDecoder());
    assert.equal(PCMU.createEncoder(), PCMU.createEncoder());
  });
});
