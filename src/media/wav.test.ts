import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav, toMono, WAV_HEADER_SIZE, WavFormatError, WavWriter, writeWav, type PcmAudio } from './wav.js';
import { VoxliteError } from '../core/errors.js';

interface FmtSpec {
  readonly tag: number;
  readonly channels: number;
  readonly rate: number;
  readonly bits: number;
  readonly blockAlign?: number;
  /** Wrap in WAVE_FORMAT_EXTENSIBLE with this sub-format tag. */
  readonly extensibleSubFormat?: number;
  /** Corrupt the GUID tail. */
  readonly badGuid?: boolean;
}

function chunk(id: string, body: Uint8Array, declaredSize = body.length): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = id.charCodeAt(i);
  view.setUint32(4, declaredSize, true);
  out.set(body, 8);
  return out;
}

function fmtBody(spec: FmtSpec): Uint8Array {
  const container = Math.ceil(spec.bits / 8);
  const blockAlign = spec.blockAlign ?? container * spec.channels;
  const extensible = spec.extensibleSubFormat !== undefined;
  const body = new Uint8Array(extensible ? 40 : 16);
  const v = new DataView(body.buffer);
  v.setUint16(0, extensible ? 0xfffe : spec.tag, true);
  v.setUint16(2, spec.channels, true);
  v.setUint32(4, spec.rate, true);
  v.setUint32(8, spec.rate * blockAlign, true);
  v.setUint16(12, blockAlign, true);
  v.setUint16(14, spec.bits, true);
  if (extensible) {
    v.setUint16(16, 22, true);
    v.setUint16(18, spec.bits, true);
    v.setUint32(20, spec.channels === 2 ? 3 : 4, true);
    v.setUint16(24, spec.extensibleSubFormat ?? 1, true);
    body.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
    if (spec.badGuid === true) body[39] = 0x00;
  }
  return body;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function riff(...chunks: Uint8Array[]): Uint8Array {
  const body = concat(...chunks);
  const head = new Uint8Array(12);
  head.set([0x52, 0x49, 0x46, 0x46], 0); // RIFF
  new DataView(head.buffer).setUint32(4, body.length + 4, true);
  head.set([0x57, 0x41, 0x56, 0x45], 8); // WAVE
  return concat(head, body);
}

function wavOf(spec: FmtSpec, data: Uint8Array, ...extra: Uint8Array[]): Uint8Array {
  return riff(chunk('fmt ', fmtBody(spec)), ...extra, chunk('data', data));
}

function expectKind(buf: Uint8Array, kind: WavFormatError['kind']): void {
  assert.throws(
    () => readWav(buf),
    (error: unknown) =>
      error instanceof WavFormatError &&
      error instanceof VoxliteError &&
      error.code === 'MEDIA_ERR_WAV_FORMAT' &&
      error.kind === kind,
  );
}

describe('writeWav / readWav', () => {
  test('canonical 44-byte header, little-endian samples', () => {
    const buf = writeWav({ sampleRate: 8000, channels: 1, samples: Int16Array.of(1, -2) });
    assert.equal(buf.length, 48);
    assert.equal(buf.toString('latin1', 0, 4), 'RIFF');
    assert.equal(buf.readUInt32LE(4), 40);
    assert.equal(buf.toString('latin1', 8, 16), 'WAVEfmt ');
    assert.equal(buf.readUInt32LE(16), 16);
    assert.equal(buf.readUInt16LE(20), 1); // PCM
    assert.equal(buf.readUInt16LE(22), 1);
    assert.equal(buf.readUInt32LE(24), 8000);
    assert.equal(buf.readUInt32LE(28), 16000); // byte rate
    assert.equal(buf.readUInt16LE(32), 2); // block align
    assert.equal(buf.readUInt16LE(34), 16);
    assert.equal(buf.toString('latin1', 36, 40), 'data');
    assert.equal(buf.readUInt32LE(40), 4);
    assert.deepEqual([...buf.subarray(44)], [0x01, 0x00, 0xfe, 0xff]);
  });

  test('round trip, mono and stereo, 8–48 kHz', () => {
    for (const sampleRate of [8000, 11025, 16000, 22050, 32000, 44100, 48000]) {
      for (const channels of [1, 2]) {
        const samples = Int16Array.from({ length: 300 * channels }, (_, i) => ((i * 7919) % 65536) - 32768);
        const back = readWav(writeWav({ sampleRate, channels, samples }));
        assert.deepEqual(back, { sampleRate, channels, samples });
      }
    }
  });

  test('reads from a Buffer view that does not start at offset 0 of its ArrayBuffer', () => {
    const file = writeWav({ sampleRate: 16000, channels: 1, samples: Int16Array.of(5, 6, 7) });
    const padded = new Uint8Array(file.length + 3);
    padded.set(file, 3);
    assert.deepEqual(readWav(padded.subarray(3)).samples, Int16Array.of(5, 6, 7));
  });

  test('writeWav rejects partial frames and bad formats', () => {
    assert.throws(() => writeWav({ sampleRate: 8000, channels: 2, samples: new Int16Array(3) }), RangeError);
    assert.throws(() => writeWav({ sampleRate: 0, channels: 1, samples: new Int16Array(2) }), RangeError);
    assert.throws(() => writeWav({ sampleRate: 8000, channels: 9, samples: new Int16Array(9) }), RangeError);
  });
});

describe('readWav sample formats', () => {
  test('8-bit unsigned PCM', () => {
    const audio = readWav(wavOf({ tag: 1, channels: 1, rate: 8000, bits: 8 }, Uint8Array.of(0, 128, 255)));
    assert.deepEqual(audio.samples, Int16Array.of(-32768, 0, 32512));
  });

  test('24-bit PCM is rounded to 16 bits', () => {
    const data = Uint8Array.of(
      0x80, 0x34, 0x12, // 0x123480 → 0x1235 (rounded up)
      0x7f, 0x34, 0x12, // 0x12347F → 0x1234
      0x00, 0x00, 0x80, // -8388608 → -32768
      0xff, 0xff, 0x7f, // 8388607 → 32767 (saturated, not wrapped)
    );
    const audio = readWav(wavOf({ tag: 1, channels: 2, rate: 48000, bits: 24 }, data));
    assert.equal(audio.channels, 2);
    assert.deepEqual(audio.samples, Int16Array.of(0x1235, 0x1234, -32768, 32767));
  });

  test('32-bit integer PCM', () => {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setInt32(0, 0x12345678, true);
    new DataView(data.buffer).setInt32(4, -2147483648, true);
    assert.deepEqual(readWav(wavOf({ tag: 1, channels: 1, rate: 8000, bits: 32 }, data)).samples, Int16Array.of(0x1234, -32768));
  });

  test('32-bit and 64-bit float, clipped, NaN as 0', () => {
    const f32 = new Float32Array([0, 0.5, -1, 1.5, -2, Number.NaN]);
    const a = readWav(wavOf({ tag: 3, channels: 1, rate: 44100, bits: 32 }, new Uint8Array(f32.buffer)));
    assert.deepEqual(a.samples, Int16Array.of(0, 16384, -32768, 32767, -32768, 0));
    const f64 = new Float64Array([0.25, -0.25]);
    const b = readWav(wavOf({ tag: 3, channels: 2, rate: 44100, bits: 64 }, new Uint8Array(f64.buffer)));
    assert.deepEqual(b.samples, Int16Array.of(8192, -8192));
  });

  test('G.711 A-law and μ-law WAV (format tags 6 and 7)', () => {
    assert.deepEqual(readWav(wavOf({ tag: 6, channels: 1, rate: 8000, bits: 8 }, Uint8Array.of(0xd5, 0xaa))).samples, Int16Array.of(8, 32256));
    assert.deepEqual(readWav(wavOf({ tag: 7, channels: 1, rate: 8000, bits: 8 }, Uint8Array.of(0xff, 0x80))).samples, Int16Array.of(0, 32124));
  });

  test('WAVE_FORMAT_EXTENSIBLE with PCM and float sub-formats', () => {
    const pcm = readWav(wavOf({ tag: 1, channels: 2, rate: 48000, bits: 16, extensibleSubFormat: 1 }, Uint8Array.of(1, 0, 2, 0)));
    assert.deepEqual(pcm, { sampleRate: 48000, channels: 2, samples: Int16Array.of(1, 2) });
    const float = readWav(
      wavOf({ tag: 3, channels: 1, rate: 48000, bits: 32, extensibleSubFormat: 3 }, new Uint8Array(new Float32Array([0.5]).buffer)),
    );
    assert.deepEqual(float.samples, Int16Array.of(16384));
    expectKind(wavOf({ tag: 1, channels: 1, rate: 8000, bits: 16, extensibleSubFormat: 1, badGuid: true }, new Uint8Array(2)), 'unsupported-format');
  });

  test('skips unknown chunks, including odd-sized ones with their pad byte', () => {
    const list = chunk('LIST', new TextEncoder().encode('INFOabc')); // 7 bytes + pad
    const buf = wavOf({ tag: 1, channels: 1, rate: 8000, bits: 16 }, Uint8Array.of(0x34, 0x12), list, chunk('fact', new Uint8Array(4)));
    assert.deepEqual(readWav(buf).samples, Int16Array.of(0x1234));
  });

  test('accepts data before fmt', () => {
    const buf = riff(chunk('data', Uint8Array.of(9, 0)), chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 16 })));
    assert.deepEqual(readWav(buf).samples, Int16Array.of(9));
  });
});

describe('readWav on damaged or hostile input', () => {
  const good = writeWav({ sampleRate: 8000, channels: 2, samples: Int16Array.from({ length: 64 }, (_, i) => i * 100) });

  test('structural errors are typed', () => {
    expectKind(new Uint8Array(0), 'truncated');
    expectKind(good.subarray(0, 11), 'truncated');
    expectKind(new TextEncoder().encode('OggS\0\0\0\0WAVEfmt '), 'not-riff');
    expectKind(concat(new TextEncoder().encode('RIFX'), good.subarray(4)), 'not-riff');
    expectKind(concat(good.subarray(0, 8), new TextEncoder().encode('AVI '), good.subarray(12)), 'not-wave');
    expectKind(riff(chunk('data', new Uint8Array(4))), 'missing-fmt');
    expectKind(riff(chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 16 }))), 'missing-data');
    expectKind(riff(chunk('fmt ', new Uint8Array(10)), chunk('data', new Uint8Array(2))), 'bad-fmt');
    expectKind(good.subarray(0, 30), 'truncated'); // fmt chunk cut in the middle
  });

  test('implausible fmt fields are rejected', () => {
    const data = new Uint8Array(4);
    expectKind(wavOf({ tag: 1, channels: 0, rate: 8000, bits: 16, blockAlign: 2 }, data), 'bad-fmt');
    expectKind(wavOf({ tag: 1, channels: 9, rate: 8000, bits: 16 }, data), 'bad-fmt');
    expectKind(wavOf({ tag: 1, channels: 1, rate: 0, bits: 16 }, data), 'bad-fmt');
    expectKind(wavOf({ tag: 1, channels: 1, rate: 8000, bits: 16, blockAlign: 0 }, data), 'bad-fmt');
    expectKind(wavOf({ tag: 1, channels: 2, rate: 8000, bits: 16, blockAlign: 3 }, data), 'bad-fmt');
    expectKind(wavOf({ tag: 1, channels: 1, rate: 8000, bits: 24, blockAlign: 2 }, data), 'bad-fmt');
    expectKind(wavOf({ tag: 0x55, channels: 1, rate: 8000, bits: 16 }, data), 'unsupported-format'); // MP3
    expectKind(wavOf({ tag: 1, channels: 1, rate: 8000, bits: 40 }, new Uint8Array(10)), 'unsupported-format');
  });

  test('a data chunk longer than the file is read up to the last whole frame', () => {
    const truncated = good.subarray(0, WAV_HEADER_SIZE + 4 * 10 + 3);
    const audio = readWav(truncated);
    assert.equal(audio.samples.length, 20);
    assert.deepEqual(audio.samples, Int16Array.from({ length: 20 }, (_, i) => i * 100));
  });

  test('unknown sizes (0xFFFFFFFF placeholders) read to the end of the file', () => {
    const copy = Uint8Array.from(good);
    new DataView(copy.buffer).setUint32(4, 0xffffffff, true);
    new DataView(copy.buffer).setUint32(40, 0xffffffff, true);
    assert.equal(readWav(copy).samples.length, 64);
  });

  test('a huge chunk size before data ends the scan without reading out of bounds', () => {
    const buf = riff(chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 16 })), chunk('junk', new Uint8Array(4), 0xfffffff0), chunk('data', new Uint8Array(4)));
    expectKind(buf, 'missing-data');
  });

  test('fuzz: truncations and byte flips either parse or throw WavFormatError, nothing else', () => {
    const base = wavOf(
      { tag: 1, channels: 2, rate: 22050, bits: 24, extensibleSubFormat: 1 },
      Uint8Array.from({ length: 60 }, (_, i) => i * 3),
      chunk('LIST', new Uint8Array(5)),
    );
    let state = 12345;
    const rand = (n: number): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % n;
    };
    for (let len = 0; len <= base.length; len++) {
      try {
        readWav(base.subarray(0, len));
      } catch (error) {
        assert.ok(error instanceof WavFormatError, `length ${len}: ${String(error)}`);
      }
    }
    for (let round = 0; round < 3000; round++) {
      const mutated = Uint8Array.from(base);
      for (let k = 0; k < 1 + rand(4); k++) mutated[rand(mutated.length)] = rand(256);
      try {
        const audio = readWav(mutated.subarray(0, mutated.length - rand(8)));
        assert.equal(audio.samples.length % audio.channels, 0);
      } catch (error) {
        assert.ok(error instanceof WavFormatError, `round ${round}: ${String(error)}`);
      }
    }
  });
});

describe('toMono', () => {
  test('averages the channels of each frame', () => {
    const stereo: PcmAudio = { sampleRate: 44100, channels: 2, samples: Int16Array.of(100, 300, -32768, -32768, 32767, 32767, 1, 2) };
    assert.deepEqual(toMono(stereo), { sampleRate: 44100, channels: 1, samples: Int16Array.of(200, -32768, 32767, 2) });
  });

  test('returns mono input unchanged', () => {
    const mono: PcmAudio = { sampleRate: 8000, channels: 1, samples: Int16Array.of(1, 2, 3) };
    assert.equal(toMono(mono), mono);
  });
});

describe('WavWriter', () => {
  interface Ctx {
    dir: string;
  }
  let ctx: Ctx;

  beforeEach(async () => {
    ctx = { dir: await mkdtemp(join(tmpdir(), 'voxlite-wav-')) };
  });

  afterEach(async () => {
    await rm(ctx.dir, { recursive: true, force: true });
  });

  test('streams frames and patches the sizes on close', async () => {
    const path = join(ctx.dir, 'rec.wav');
    const writer = await WavWriter.open(path, { sampleRate: 16000, channels: 2 });
    const frame = new Int16Array(320);
    const expected: number[] = [];
    for (let f = 0; f < 10; f++) {
      for (let i = 0; i < frame.length; i++) frame[i] = f * 1000 + i;
      expected.push(...frame);
      // Not awaited on purpose: writes are queued in order, and the frame buffer may be reused at once.
      void writer.write(frame);
    }
    await writer.close();
    const bytes = await readFile(path);
    assert.equal(bytes.length, WAV_HEADER_SIZE + expected.length * 2);
    assert.equal(bytes.readUInt32LE(4), 36 + expected.length * 2);
    assert.equal(bytes.readUInt32LE(40), expected.length * 2);
    assert.deepEqual(readWav(bytes), { sampleRate: 16000, channels: 2, samples: Int16Array.from(expected) });
    assert.equal(writer.frames, expected.length / 2);
  });

  test('a recording that was never closed is still readable', async () => {
    const path = join(ctx.dir, 'crash.wav');
    const writer = await WavWriter.open(path, { sampleRate: 8000 });
    await writer.write(Int16Array.of(1, 2, 3));
    await writer.write(Int16Array.of(4, 5));
    const bytes = await readFile(path);
    assert.equal(bytes.readUInt32LE(40), 0xffffffff);
    assert.deepEqual(readWav(bytes).samples, Int16Array.of(1, 2, 3, 4, 5));
    await writer.close();
  });

  test('close is idempotent; writing after close or partial frames is a RangeError', async () => {
    const writer = await WavWriter.open(join(ctx.dir, 'x.wav'), { sampleRate: 8000, channels: 2 });
    assert.throws(() => writer.write(new Int16Array(3)), RangeError);
    const first = writer.close();
    assert.equal(writer.close(), first);
    await first;
    assert.throws(() => writer.write(new Int16Array(2)), RangeError);
    assert.deepEqual(readWav(await readFile(join(ctx.dir, 'x.wav'))).samples, new Int16Array(0));
  });

  test('open rejects bad formats before touching the file system', async () => {
    await assert.rejects(WavWriter.open(join(ctx.dir, 'y.wav'), { sampleRate: 44100.5 }), RangeError);
    await assert.rejects(WavWriter.open(join(ctx.dir, 'no-such-dir', 'z.wav'), { sampleRate: 8000 }), { code: 'ENOENT' });
  });
});
