import { after, afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toneAmplitude } from '../signal.js';
import { ToneGenerator } from '../tone.js';
import { activeMediaProcesses, checkMediaTool, findExecutable, MEDIA_TOOLS, MediaProcessError, MediaToolMissingError } from '../tools.js';
import { readWav } from '../wav.js';
import { DeviceSink } from './device.js';

/** Skip message when sox is missing here; with CI=true the test runs, and its checkMediaTool() fails by package name. */
const needsSox: string | false =
  process.env['CI'] === 'true' || findExecutable(MEDIA_TOOLS.sox.command) !== undefined
    ? false
    : 'sox not found: apt-get install sox';

interface Ctx {
  dir: string;
}
let ctx: Ctx;
beforeEach(async () => {
  ctx = { dir: await mkdtemp(join(tmpdir(), 'voxlite-devsink-')) };
});
afterEach(async () => {
  await rm(ctx.dir, { recursive: true, force: true });
});
after(() => assert.deepEqual(activeMediaProcesses(), [], 'no media process left behind'));

describe('DeviceSink: the command line', () => {
  test('default: raw 44.1 kHz s16le on stdin, played with sox -d', () => {
    const speaker = new DeviceSink();
    assert.equal(speaker.deviceRate, 44100);
    assert.equal(speaker.sampleRate, 8000);
    assert.deepEqual(speaker.args.slice(3), [
      '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-c', '1', '-r', '44100', '--endian', 'little', '-', '-d',
    ]);
    assert.equal(speaker.pid, undefined);
  });
});

describe('DeviceSink: sox', { timeout: 20_000 }, () => {
  test('8 kHz frames are resampled to the 48 kHz device (a WAV file standing in for the card)', { skip: needsSox }, async () => {
    checkMediaTool('sox');
    const path = join(ctx.dir, 'card.wav');
    const speaker = new DeviceSink({ sampleRate: 8000, deviceRate: 48000, device: ['-t', 'wav', path], maxBufferMs: 2000 });
    await speaker.start();
    const pid = speaker.pid;
    assert.ok(pid !== undefined);
    const tone = new ToneGenerator({ sampleRate: 8000, frequencies: [1000], amplitude: 0.5 });
    for (let i = 0; i < 50; i++) speaker.write(tone.generate(160));
    await speaker.close();
    assert.equal(speaker.error, undefined);
    assert.equal(speaker.dropped, 0);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    const played = readWav(await readFile(path));
    assert.equal(played.sampleRate, 48000);
    assert.equal(played.channels, 1);
    assert.equal(played.samples.length, 48000, '1 s at 48 kHz');
    const level = toneAmplitude(played.samples.subarray(2400, 45600), 1000, 48000);
    assert.ok(Math.abs(level - 0.5 * 32767) < 500, `1 kHz level ${level}`);
  });

  test('a missing device is a clear error, not a hang; later frames are dropped', { skip: needsSox }, async () => {
    checkMediaTool('sox');
    const speaker = new DeviceSink({ device: ['-t', 'alsa', 'voxlite-no-such-device'] });
    const failed = speaker.next('error');
    await assert.rejects(speaker.start(), (e: unknown) => e instanceof MediaProcessError && /FAIL.*voxlite-no-such-device/.test(e.message));
    assert.ok((await failed) instanceof MediaProcessError);
    speaker.write(new Int16Array(160));
    assert.equal(speaker.dropped, 1);
    await speaker.close();
  });

  test('sox not installed: MediaToolMissingError naming the sox package', async () => {
    const speaker = new DeviceSink({ soxPath: '/nonexistent/sox' });
    speaker.write(new Int16Array(160)); // lazy start fails quietly…
    assert.ok(speaker.error instanceof MediaToolMissingError); // …and says why
    assert.equal(speaker.error.debianPackage, 'sox');
    await assert.rejects(speaker.start(), MediaToolMissingError);
    await speaker.close();
  });
});
