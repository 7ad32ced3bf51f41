import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFrames } from '../port.js';
import { toneAmplitude } from '../signal.js';
import { activeMediaProcesses, checkMediaTool, findExecutable, MEDIA_TOOLS, MediaProcessError, MediaToolMissingError } from '../tools.js';
import { DeviceSource } from './device.js';

/** Skip message when sox is missing here; with CI=true the test runs, and its checkMediaTool() fails by package name. */
const needsSox: string | false =
  process.env['CI'] === 'true' || findExecutable(MEDIA_TOOLS.sox.command) !== undefined
    ? false
    : 'sox not found: apt-get install sox';

after(() => assert.deepEqual(activeMediaProcesses(), [], 'no media process left behind'));

describe('DeviceSource: the command line', () => {
  test('default: sox -d at 44.1 kHz (rtclite --samplerate), resampled to the 8 kHz call rate', () => {
    const mic = new DeviceSource();
    assert.equal(mic.command, 'sox');
    assert.equal(mic.deviceRate, 44100);
    assert.equal(mic.sampleRate, 8000);
    assert.equal(mic.frameSize, 160);
    assert.deepEqual(mic.args.slice(3, 8), ['-c', '1', '-r', '44100', '-d']);
    assert.equal(mic.pid, undefined, 'nothing started before the first read');
  });

  test('a 48 kHz device on a named ALSA card', () => {
    const mic = new DeviceSource({ deviceRate: 48000, device: ['-t', 'alsa', 'hw:1'], sampleRate: 16000, frameSize: 320 });
    assert.deepEqual(mic.args.slice(3, 10), ['-c', '1', '-r', '48000', '-t', 'alsa', 'hw:1']);
    assert.deepEqual(mic.args.slice(-5), ['-r', '48000', '--endian', 'little', '-']);
  });
});

describe('DeviceSource: sox', { timeout: 20_000 }, () => {
  test('the sox pipeline, fed by its null device + synth: 48 kHz in, 8 kHz frames out, then the end', { skip: needsSox }, async () => {
    checkMediaTool('sox');
    const mic = new DeviceSource({
      deviceRate: 48000,
      device: ['-n'],
      effects: ['synth', '0.5', 'sine', '1000', 'vol', '0.5'],
      maxBufferMs: 2000,
    });
    const ended = mic.next('end');
    await mic.start();
    await ended;
    assert.equal(mic.error, undefined);
    const pcm = readFrames(mic, 1000);
    assert.equal(pcm.length, 25 * 160, '0.5 s at 8 kHz');
    assert.equal(mic.read(), null);
    const level = toneAmplitude(pcm.subarray(400, 3600), 1000, 8000);
    assert.ok(Math.abs(level - 16384) < 800, `1 kHz at half scale, got ${level}`);
    await mic.close();
  });

  test('a missing device is a clear error, not a hang, and the source ends', { skip: needsSox }, async () => {
    checkMediaTool('sox');
    const mic = new DeviceSource({ device: ['-t', 'alsa', 'voxlite-no-such-device'] });
    const errors: Error[] = [];
    mic.on('error', (e) => errors.push(e));
    const ended = mic.next('end');
    await assert.rejects(mic.start(), (e: unknown) => {
      assert.ok(e instanceof MediaProcessError);
      assert.match(e.message, /^sox .*FAIL.*voxlite-no-such-device/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    await ended;
    assert.equal(errors.length, 1);
    assert.equal(mic.read(), null);
    assert.ok(mic.error instanceof MediaProcessError);
    await mic.close();
  });

  test('the first read() starts sox lazily and answers silence until audio arrives; close() kills it', { skip: needsSox }, async () => {
    checkMediaTool('sox');
    const mic = new DeviceSource({ device: ['-n'], effects: ['synth', '3600', 'sine', '440'] });
    const first = mic.read();
    assert.deepEqual(first, new Int16Array(160));
    const pid = mic.pid;
    assert.ok(pid !== undefined);
    await mic.start();
    await mic.close();
    await mic.close();
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'sox is gone');
    assert.equal(mic.read(), null);
    assert.equal(mic.pid, undefined);
  });

  test('sox not installed: MediaToolMissingError naming the sox package', async () => {
    const mic = new DeviceSource({ soxPath: '/nonexistent/sox' });
    await assert.rejects(mic.start(), (e: unknown) => e instanceof MediaToolMissingError && e.debianPackage === 'sox');
    assert.equal(mic.read(), null);
    assert.ok(mic.error instanceof MediaToolMissingError);
    await mic.close();
  });
});
