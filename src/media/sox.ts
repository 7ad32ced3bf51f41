/**
 * Command lines for `sox` as a sound-card bridge: capture to raw PCM on stdout, play raw PCM
 * from stdin. Pure functions, so the exact arguments are unit-tested without a sound card.
 *
 * @remarks
 * sox runs at the device rate (rtclite's `--samplerate`, 44100 by default, 48000 on most
 * modern hardware) and voxlite resamples to and from the call rate with its own
 * {@link Resampler}: one resampler for every path, measured in `resample.test.ts`, and the
 * device rate stays exactly what the user asked for. Format options placed before a file spec
 * apply to that file, so `-r 44100 -c 1 -d` opens the card itself at 44.1 kHz mono.
 *
 * @packageDocumentation
 */

import { checkSampleRate } from './port.js';

/** Where sox finds the sound device, and how it runs. */
export interface SoxDeviceOptions {
  /** Device capture/playback rate in Hz (default 44100, as rtclite's `--samplerate`). */
  readonly deviceRate?: number;
  /**
   * The sox file spec of the device (default `['-d']`: the default device, which sox picks from
   * `AUDIODRIVER`/`AUDIODEV`). Examples: `['-t', 'alsa', 'hw:1']`, `['-t', 'pulseaudio', 'sink']`;
   * in tests `['-n']` (null device) or a file path.
   */
  readonly device?: readonly string[];
  /** sox effects appended to the command line (e.g. `['gain', '-3']`; tests use `synth`). */
  readonly effects?: readonly string[];
  /** The sox command (default `sox`; an absolute path, or a bogus one in tests). */
  readonly soxPath?: string;
}

/** Defaults for {@link SoxDeviceOptions}, in one place. */
export const SOX_DEVICE_DEFAULTS = Object.freeze({
  deviceRate: 44_100,
  device: Object.freeze(['-d']) as readonly string[],
  soxPath: 'sox',
});

/** sox's `effects chain: output` info line: printed once both ends are open and audio flows. */
export const SOX_READY_PATTERN = /effects chain: output/;

/** sox raw format for 16-bit signed little-endian mono at `rate`. */
function rawFormat(rate: number): string[] {
  return ['-t', 'raw', '-e', 'signed-integer', '-b', '16', '-c', '1', '-r', String(rate), '--endian', 'little'];
}

/** Global options: info verbosity (for the ready line) and a 20 ms processing buffer (latency). */
function globalArgs(rate: number): string[] {
  const bufferBytes = Math.max(256, Math.round(rate * 0.02) * 2);
  return ['-V3', '--buffer', String(bufferBytes)];
}

function resolve(options: SoxDeviceOptions): { rate: number; device: readonly string[]; effects: readonly string[] } {
  const rate = options.deviceRate ?? SOX_DEVICE_DEFAULTS.deviceRate;
  checkSampleRate(rate, 'deviceRate');
  const device = options.device ?? SOX_DEVICE_DEFAULTS.device;
  if (device.length === 0) throw new RangeError('device must name a sox file spec, e.g. ["-d"]');
  return { rate, device, effects: options.effects ?? [] };
}

/**
 * Arguments for capturing from the device: the card opened at `deviceRate` mono, written to
 * stdout as raw 16-bit little-endian PCM at the same rate.
 *
 * @throws RangeError on a bad device rate or an empty device spec.
 */
export function buildSoxCaptureArgs(options: SoxDeviceOptions = {}): string[] {
  const { rate, device, effects } = resolve(options);
  return [...globalArgs(rate), '-c', '1', '-r', String(rate), ...device, ...rawFormat(rate), '-', ...effects];
}

/**
 * Arguments for playing to the device: raw 16-bit little-endian mono PCM at `deviceRate` from
 * stdin, written to the card (which sox opens in the input's format).
 *
 * @throws RangeError on a bad device rate or an empty device spec.
 */
export function buildSoxPlaybackArgs(options: SoxDeviceOptions = {}): string[] {
  const { rate, device, effects } = resolve(options);
  return [...globalArgs(rate), ...rawFormat(rate), '-', ...device, ...effects];
}
