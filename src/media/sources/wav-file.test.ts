import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFrames } from '../port.js';
import { toneAmplitude } from '../signal.js';
import { WavFormatError, writeWav } from '../wav.js';
import { WavFileSource } from './wav-file.js';

interface Ctx {
  dir: string;
}
let ctx: Ctx;

beforeEach(async () => {
  ctx = { dir: await mkdtemp(join(tmpdir(), 'voxlite-wavsrc-')) };
});
afterEach(async () => {
  await rm(ctx.dir, { recursive: true, force: true });
});

function stereoTone(rate: number, seconds: number, frequency: number, amplitude: number): Int16Array {
  const frames = rate * seconds;
  const out = new Int16Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / rate));
    out[2 * i] = v;
    out[2 * i + 1] = v;
  }
  return out;
}

describe('WavFileSource', () => {
  test('a 44.1 kHz stereo file played at 8 kHz keeps its 1 kHz tone', async () => {
    const path = join(ctx.dir, 'tone.wav');
    await writeFile(path, writeWav({ sampleRate: 44100, channels: 2, samples: stereoTone(44100, 1, 1000, 12000) }));
    const source = await WavFileSource.open(path, { sampleRate: 8000, frameSize: 160 });
    assert.equal(source.path, path);
    const pcm = readFrames(source, 1000);
    assert.equal(pcm.length, 8000, '1 s at 8 kHz is 50 frames of 160');
    assert.equal(source.read(), null);
    const core = pcm.subarray(400, 7600); // away from the filter's edges
    const level = toneAmplitude(core, 1000, 8000);
    assert.ok(Math.abs(20 * Math.log10(level / 12000)) < 0.5, `1 kHz level ${level}`);
    // Practically nothing elsewhere: no aliasing, no images.
    for (const f of [500, 1500, 2000, 3000]) assert.ok(toneAmplitude(core, f, 8000) < 120, `${f} Hz`);
  });

  test('loop plays the file again and again', async () => {
    const path = join(ctx.dir, 'short.wav');
    const samples = Int16Array.from({ length: 200 }, (_, i) => i + 1);
    await writeFile(path, writeWav({ sampleRate: 8000, channels: 1, samples }));
    const source = await WavFileSource.open(path, { loop: true });
    const pcm = readFrames(source, 10);
    assert.equal(pcm.length, 1600);
    assert.equal(pcm[199], 200);
    assert.equal(pcm[200], 1);
    assert.equal(pcm[1599], 200);
  });

  test('a file that is not WAV rejects with WavFormatError; a missing one with the fs error', async () => {
    const path = join(ctx.dir, 'bad.wav');
    await writeFile(path, 'not a wav file at all');
    await assert.rejects(WavFileSource.open(path), WavFormatError);
    await assert.rejects(WavFileSource.open(join(ctx.dir, 'missing.wav')), { code: 'ENOENT' });
  });
});
