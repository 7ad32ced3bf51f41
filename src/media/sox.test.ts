import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSoxCaptureArgs, buildSoxPlaybackArgs } from './sox.js';

describe('sox command lines', () => {
  test('capture: the default device opened at 44.1 kHz mono, raw s16le on stdout', () => {
    assert.deepEqual(buildSoxCaptureArgs(), [
      '-V3', '--buffer', '1764',
      '-c', '1', '-r', '44100', '-d',
      '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-c', '1', '-r', '44100', '--endian', 'little', '-',
    ]);
  });

  test('capture honours the device rate, device spec and effects', () => {
    assert.deepEqual(buildSoxCaptureArgs({ deviceRate: 48000, device: ['-t', 'alsa', 'hw:1'], effects: ['gain', '-3'] }), [
      '-V3', '--buffer', '1920',
      '-c', '1', '-r', '48000', '-t', 'alsa', 'hw:1',
      '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-c', '1', '-r', '48000', '--endian', 'little', '-',
      'gain', '-3',
    ]);
  });

  test('playback: raw s16le from stdin at the device rate, to the device', () => {
    assert.deepEqual(buildSoxPlaybackArgs({ deviceRate: 48000 }), [
      '-V3', '--buffer', '1920',
      '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-c', '1', '-r', '48000', '--endian', 'little', '-',
      '-d',
    ]);
  });

  test('bad device rates and empty device specs are RangeErrors', () => {
    assert.throws(() => buildSoxCaptureArgs({ deviceRate: 44100.5 }), RangeError);
    assert.throws(() => buildSoxPlaybackArgs({ deviceRate: 100 }), RangeError);
    assert.throws(() => buildSoxPlaybackArgs({ device: [] }), RangeError);
  });
});
