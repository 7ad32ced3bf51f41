/**
 * The microphone as a {@link MediaSource}, through a `sox` child process (what rtclite did with
 * py-audio's `audiodev`).
 *
 * @remarks
 * ```
 *  sound card ──sox -r 44100 -c 1 -d -t raw -──▶ stdout (44.1 kHz s16le)
 *      ──Resampler 44100→8000──▶ SampleQueue (≤ maxBufferMs) ──read() every 20 ms──▶ RTP
 * ```
 * The card's clock and the RTP pacer's clock are never quite equal. A fast card fills the queue
 * and the oldest audio is dropped (latency stays bounded); a slow card, or one not started yet,
 * leaves the queue short and `read()` answers silence. Both are counted.
 *
 * @packageDocumentation
 */

import { SystemClock, type Clock } from '../../core/clock.js';
import { TypedEmitter } from '../../core/events.js';
import { resolveFrameFormat, type MediaSource, type SourceFormatOptions } from '../port.js';
import { Resampler } from '../resample.js';
import { SampleQueue } from '../sample-queue.js';
import { buildSoxCaptureArgs, SOX_DEVICE_DEFAULTS, SOX_READY_PATTERN, type SoxDeviceOptions } from '../sox.js';
import { ToolProcess, type ToolExit } from '../tools.js';

/** Options for {@link DeviceSource}. */
export interface DeviceSourceOptions extends SourceFormatOptions, SoxDeviceOptions {
  /** Most audio queued between the card and `read()`, in ms, before the oldest is dropped (default 200). */
  readonly maxBufferMs?: number;
  /** How long `start()` waits for sox to open the device, in ms (default 5000). */
  readonly startTimeoutMs?: number;
  /** Time source for the start timeout and the stop grace period (default: the system clock). */
  readonly clock?: Clock;
}

/** Defaults for {@link DeviceSourceOptions}, in one place. */
export const DEVICE_SOURCE_DEFAULTS = Object.freeze({ maxBufferMs: 200, startTimeoutMs: 5000, stopGraceMs: 500 });

/** Events of a {@link DeviceSource}. */
export type DeviceSourceEvents = {
  /** sox failed after starting (device unplugged, …) or could not start; the source has ended. */
  error: Error;
  /** sox has exited (not by `close()`); audio already captured can still be read, then `read()` gives `null`. */
  end: undefined;
};

/**
 * Captures from a sound device. sox is started lazily, by the first `read()` or by `start()`.
 *
 * @example
 * ```ts
 * const mic = new DeviceSource({ deviceRate: 48000 });
 * await mic.start();           // rejects with a clear error if there is no device
 * const frame = mic.read();    // 160 samples at 8 kHz, silence until audio arrives
 * await mic.close();
 * ```
 */
export class DeviceSource extends TypedEmitter<DeviceSourceEvents> implements MediaSource {
  readonly sampleRate: number;
  readonly frameSize: number;
  /** The device rate sox captures at, in Hz. */
  readonly deviceRate: number;
  /** The sox command. */
  readonly command: string;
  /** The sox arguments (built by {@link buildSoxCaptureArgs}). */
  readonly args: readonly string[];

  private readonly clock: Clock;
  private readonly startTimeoutMs: number;
  private readonly queue: SampleQueue;
  private readonly resampler: Resampler;
  private process: ToolProcess | undefined;
  private starting: Promise<void> | undefined;
  private odd: number | undefined;
  private ended = false;
  private closing: Promise<void> | undefined;
  private failure: Error | undefined;
  private underrunCount = 0;
  private endEmitted = false;

  /** @throws RangeError on a bad format, device rate or buffer size. */
  constructor(options: DeviceSourceOptions = {}) {
    super();
    const format = resolveFrameFormat(options);
    this.sampleRate = format.sampleRate;
    this.frameSize = format.frameSize;
    this.deviceRate = options.deviceRate ?? SOX_DEVICE_DEFAULTS.deviceRate;
    this.command = options.soxPath ?? SOX_DEVICE_DEFAULTS.soxPath;
    this.args = buildSoxCaptureArgs(options);
    this.clock = options.clock ?? new SystemClock();
    this.startTimeoutMs = options.startTimeoutMs ?? DEVICE_SOURCE_DEFAULTS.startTimeoutMs;
    const maxBufferMs = options.maxBufferMs ?? DEVICE_SOURCE_DEFAULTS.maxBufferMs;
    if (!(maxBufferMs > 0)) throw new RangeError(`maxBufferMs must be positive, got ${maxBufferMs}`);
    // At least two frames, so that a frame can be taken while the next one arrives.
    this.queue = new SampleQueue(Math.max(2 * this.frameSize, Math.round((maxBufferMs * this.sampleRate) / 1000)));
    this.resampler = new Resampler(this.deviceRate, this.sampleRate);
  }

  /** pid of the running sox, if any. */
  get pid(): number | undefined {
    return this.process?.hasExited === false ? this.process.pid : undefined;
  }

  /** Why the source ended early, if it did. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Frames answered with (some) silence because no audio was ready. */
  get underruns(): number {
    return this.underrunCount;
  }

  /** Samples (at the call rate) dropped because the reader fell behind. */
  get dropped(): number {
    return this.queue.dropped;
  }

  /**
   * Starts sox if it is not running, and waits until it has opened the device.
   *
   * @throws MediaToolMissingError (rejection) when sox is not installed.
   * @throws MediaProcessError (rejection) when sox fails (no such device: its own `FAIL` line is
   * the message) or does not start within `startTimeoutMs`.
   */
  start(): Promise<void> {
    if (this.starting !== undefined) return this.starting;
    if (this.closing !== undefined) return Promise.reject(new RangeError('DeviceSource is closed'));
    try {
      const proc = new ToolProcess({
        tool: 'sox',
        command: this.command,
        args: this.args,
        clock: this.clock,
        stdin: false,
        stdout: true,
        readyPattern: SOX_READY_PATTERN,
      });
      this.process = proc;
      proc.stdout?.on('data', (chunk: Buffer) => this.onData(chunk));
      // A failed start is reported at once, even if the exit itself comes later.
      proc.ready.catch((error: unknown) => this.end(error as Error, true));
      void proc.exited.then((exit) => this.onExit(exit));
      proc.armStartTimeout(this.startTimeoutMs);
      this.starting = proc.ready;
    } catch (error) {
      this.end(error as Error, false);
      this.starting = Promise.reject(error as Error);
    }
    // Pre-handled: a lazily started source reports through `error`, not an unhandled rejection.
    this.starting.catch(() => undefined);
    return this.starting;
  }

  read(): Int16Array | null {
    if (this.starting === undefined && !this.ended) void this.start();
    const frame = this.queue.take(this.frameSize);
    if (frame !== null) return frame;
    if (this.ended) {
      if (this.queue.length === 0) return null;
      // The last, partial frame of a capture that ended (a file or synth in tests).
      const last = new Int16Array(this.frameSize);
      this.queue.takeInto(last);
      return last;
    }
    this.underrunCount++;
    return new Int16Array(this.frameSize);
  }

  /** Stops sox (SIGTERM, then SIGKILL) and ends the source. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.ended = true;
    this.queue.clear();
    const proc = this.process;
    this.closing = proc === undefined
      ? Promise.resolve()
      : proc.stop({ endInput: false, graceMs: DEVICE_SOURCE_DEFAULTS.stopGraceMs }).then(() => undefined);
    return this.closing;
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    // Pipe chunks may split a sample; carry the odd byte over.
    let bytes: Buffer = chunk;
    if (this.odd !== undefined) {
      bytes = Buffer.concat([Buffer.of(this.odd), chunk]);
      this.odd = undefined;
    }
    if (bytes.length % 2 === 1) {
      this.odd = bytes[bytes.length - 1];
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const samples = new Int16Array(bytes.length / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
    this.queue.push(this.resampler.process(samples));
  }

  private onExit(exit: ToolExit): void {
    if (this.closing !== undefined) return;
    // A clean exit (a finite input such as a file) still owes the resampler's held-back tail.
    if (exit.error === undefined) this.queue.push(this.resampler.flush());
    this.end(exit.error, true);
  }

  /** Ends the source; each event is emitted at most once. */
  private end(error: Error | undefined, emit: boolean): void {
    this.ended = true;
    if (error !== undefined && this.failure === undefined) {
      this.failure = error;
      if (emit) this.emit('error', error);
    }
    if (emit && !this.endEmitted) {
      this.endEmitted = true;
      this.emit('end', undefined);
    }
  }
}
