import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alawToLinear,
  decodePcma,
  decodePcmu,
  encodePcma,
  encodePcmu,
  linearToAlaw,
  linearToUlaw,
  PCMA_SILENCE,
  PCMU_SILENCE,
  ulawToLinear,
} from './g711.js';
import { snrDb } from '../signal.js';

/** Every int16 value, in order. */
const ALL = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

interface Law {
  readonly name: string;
  readonly encode: (pcm: Int16Array, out?: Uint8Array) => Uint8Array;
  readonly decode: (payload: Uint8Array, out?: Int16Array) => Int16Array;
  readonly encodeOne: (x: number) => number;
  readonly decodeOne: (c: number) => number;
  /** Largest reconstruction magnitude. */
  readonly peak: number;
}

const LAWS: readonly Law[] = [
  { name: 'μ-law', encode: encodePcmu, decode: decodePcmu, encodeOne: linearToUlaw, decodeOne: ulawToLinear, peak: 32124 },
  { name: 'A-law', encode: encodePcma, decode: decodePcma, encodeOne: linearToAlaw, decodeOne: alawToLinear, peak: 32256 },
];

describe('G.711 known code points', () => {
  test('μ-law (G.711 Table 2a: code is the complement of sign|segment|step)', () => {
    assert.equal(linearToUlaw(0), 0xff);
    assert.equal(PCMU_SILENCE, 0xff);
    assert.equal(linearToUlaw(-1), 0x7f); // "negative zero"
    assert.equal(linearToUlaw(32767), 0x80);
    assert.equal(linearToUlaw(-32768), 0x00);
    assert.equal(ulawToLinear(0xff), 0);
    assert.equal(ulawToLinear(0x7f), 0);
    assert.equal(ulawToLinear(0xfe), 8); // first step: 2 on the 14-bit scale
    assert.equal(ulawToLinear(0x80), 32124); // 8031 × 4
    assert.equal(ulawToLinear(0x00), -32124);
    // ITU steps on the 14-bit scale: segment 0 is 0, 2, …, 30; segment 1 starts at 33 in steps of 4.
    assert.equal(ulawToLinear(0xf0), 30 * 4);
    assert.equal(ulawToLinear(0xef), 33 * 4);
    assert.equal(ulawToLinear(0xee), 37 * 4);
  });

  test('A-law (G.711 Table 1a, even bits inverted)', () => {
    assert.equal(linearToAlaw(0), 0xd5);
    assert.equal(PCMA_SILENCE, 0xd5);
    assert.equal(linearToAlaw(-1), 0x55);
    assert.equal(linearToAlaw(32767), 0xaa);
    assert.equal(linearToAlaw(-32768), 0x2a);
    assert.equal(alawToLinear(0xd5), 8); // 1 on the 13-bit scale: A-law has no zero level
    assert.equal(alawToLinear(0x55), -8);
    assert.equal(alawToLinear(0xaa), 32256); // 4032 × 8
    assert.equal(alawToLinear(0x2a), -32256);
  });

  test('decode tables are monotonic within each sign', () => {
    for (const law of LAWS) {
      // Order codes by decoded value of the positive half: strictly increasing magnitudes.
      const positives = Array.from({ length: 128 }, (_, i) => law.decodeOne(i | 0x80)).sort((a, b) => a - b);
      for (let i = 1; i < positives.length; i++) {
        assert.ok((positives[i] as number) > (positives[i - 1] as number), law.name);
      }
      assert.equal(Math.max(...positives), law.peak, law.name);
    }
  });
});

describe('G.711 over all 65536 inputs', () => {
  test('table-driven buffers match the scalar reference for every int16', () => {
    for (const law of LAWS) {
      const codes = law.encode(ALL);
      for (let i = 0; i < ALL.length; i++) {
        if (codes[i] !== law.encodeOne(ALL[i] as number)) {
          assert.fail(`${law.name}: sample ${ALL[i]} table ${codes[i]} ≠ scalar ${law.encodeOne(ALL[i] as number)}`);
        }
      }
      const decoded = law.decode(Uint8Array.from({ length: 256 }, (_, c) => c));
      for (let c = 0; c < 256; c++) assert.equal(decoded[c], law.decodeOne(c));
    }
  });

  test('symmetry: x and -x-1 differ only in the sign bit, and decode(c ^ 0x80) = -decode(c)', () => {
    for (const law of LAWS) {
      for (let x = 0; x <= 32767; x++) {
        const a = law.encodeOne(x);
        const b = law.encodeOne(-x - 1);
        if ((a ^ b) !== 0x80) assert.fail(`${law.name}: ${x} → ${a}, ${-x - 1} → ${b}`);
      }
      for (let c = 0; c < 256; c++) assert.equal(law.decodeOne(c ^ 0x80), 0 - law.decodeOne(c));
    }
  });

  test('round-trip error is at most half a quantisation step (plus clipping above the top level)', () => {
    for (const law of LAWS) {
      const decoded = law.decode(law.encode(ALL));
      // Step sizes on the 16-bit scale: μ-law 2^(seg+3); A-law 16 in segments 0 and 1, then 2^(seg+3).
      const stepOf = (code: number): number => {
        const segment = ((law.name === 'μ-law' ? ~code : code ^ 0x55) & 0x70) >> 4;
        return law.name === 'A-law' && segment === 0 ? 16 : 2 ** (segment + 3);
      };
      // The 2 (μ) / 3 (A) low bits G.711 does not see add up to 3 / 7 more.
      const slack = law.name === 'μ-law' ? 3 : 7;
      let worst = 0;
      for (let i = 0; i < ALL.length; i++) {
        const x = ALL[i] as number;
        const error = Math.abs(x - (decoded[i] as number));
        const bound = Math.max(stepOf(law.encodeOne(x)) / 2 + slack, Math.abs(x) - law.peak);
        if (error > bound) assert.fail(`${law.name}: ${x} → ${decoded[i]}, error ${error} > ${bound}`);
        worst = Math.max(worst, error);
      }
      assert.equal(worst, 32768 - law.peak, `${law.name}: the worst error is clipping at -32768`);
    }
  });

  test('decode → encode is the identity on codes (except μ-law negative zero)', () => {
    for (const law of LAWS) {
      for (let c = 0; c < 256; c++) {
        const again = law.encodeOne(law.decodeOne(c));
        if (law.name === 'μ-law' && c === 0x7f) assert.equal(again, 0xff);
        else assert.equal(again, c, `${law.name} code ${c}`);
      }
    }
  });

  test('a -10 dBFS 1 kHz sine survives with SNR ≥ 35 dB (log-PCM gives ≈ 38)', (t) => {
    const pcm = Int16Array.from({ length: 8000 }, (_, i) => Math.round(10362 * Math.sin((2 * Math.PI * 1000 * i) / 8000 + 0.1)));
    for (const law of LAWS) {
      const snr = snrDb(pcm, law.decode(law.encode(pcm)), { lag: 0 });
      t.diagnostic(`${law.name} SNR ${snr.toFixed(2)} dB`);
      assert.ok(snr >= 35, `${law.name} SNR ${snr}`);
    }
  });
});

describe('G.711 buffers', () => {
  test('encode and decode write into a caller buffer without allocating', () => {
    const pcm = Int16Array.of(0, 100, -100, 32767);
    const bytes = new Uint8Array(16);
    const out = encodePcmu(pcm, bytes);
    assert.equal(out.buffer, bytes.buffer);
    assert.equal(out.length, 4);
    const samples = new Int16Array(4);
    assert.equal(decodePcmu(out, samples), samples);
  });

  test('a too-small output buffer is a RangeError', () => {
    assert.throws(() => encodePcma(new Int16Array(10), new Uint8Array(9)), RangeError);
    assert.throws(() => decodePcma(new Uint8Array(10), new Int16Array(9)), RangeError);
  });

  test('empty input gives empty output', () => {
    assert.equal(encodePcmu(new Int16Array(0)).length, 0);
    assert.equal(decodePcma(new Uint8Array(0)).length, 0);
  });
});
