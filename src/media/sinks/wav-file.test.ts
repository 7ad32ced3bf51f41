import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav, writeWav } from '../wav.js';
import { WavFileSource } from '../sources/wav-file.js';
import { WavFileSink } from './wav-file.js';

interface Ctx {
  dir: string;
}
let ctx: Ctx;

beforeEach(async () => {
  ctx = { dir: await mkdtemp(join(tmpdir(), 'voxlite-wavsink-')) };
});
afterEach(async () => {
  await rm(ctx.dir, { recursive: true, force: true });
});

describe('WavFileSink', () => {
  test('WAV source → WAV sink round trip is sample-exact', async () => {
    const input = join(ctx.dir, 'in.wav');
    const output = join(ctx.dir, 'out.wav');
    // 1 s of pseudo-random speech-like noise: any off-by-one or byte-order slip shows.
    let seed = 12345;
    const samples = Int16Array.from({ length: 8000 }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 16) - 32768;
    });
    await writeFile(input, writeWav({ sampleRate: 8000, channels: 1, samples }));

    const source = await WavFileSource.open(input, { sampleRate: 8000, frameSize: 160 });
    const sink = await WavFileSink.open(output, { sampleRate: 8000 });
    for (let frame = source.read(); frame !== null; frame = source.read()) sink.write(frame);
    await sink.close();
    await sink.close();
    sink.write(new Int16Array(160)); // after close: ignored

    const back = readWav(await readFile(output));
    assert.equal(back.sampleRate, 8000);
    assert.equal(back.channels, 1);
    assert.deepEqual(back.samples, samples);
  });

  test('records at the call rate given, and counts samples', async () => {
    const path = join(ctx.dir, 'wide.wav');
    const sink = await WavFileSink.open(path, { sampleRate: 16000 });
    sink.write(new Int16Array(320).fill(7));
    sink.write(new Int16Array(100).fill(-7));
    await sink.close();
    assert.equal(sink.samples, 420);
    const back = readWav(await readFile(path));
    assert.equal(back.sampleRate, 16000);
    assert.equal(back.samples.length, 420);
  });

  test('a file that cannot be created rejects open()', async () => {
    await assert.rejects(WavFileSink.open(join(ctx.dir, 'no', 'such', 'dir.wav')), { code: 'ENOENT' });
    await assert.rejects(WavFileSink.open(join(ctx.dir, 'x.wav'), { sampleRate: 10 }), RangeError);
  });
});
