/**
 * The loudspeaker as a {@link MediaSink}, through a `sox` child process.
 *
 * @remarks
 * ```
 *  RTP ─decoded 8 kHz─▶ write() ─Resampler 8000→44100─▶ sox stdin ─sox -t raw … - -d─▶ card
 * ```
 * `write()` never waits. When the card plays slower than frames arrive (clock drift, a stalled
 * device), audio piles up in the pipe; past `maxBufferMs` new frames are dropped and counted,
 * so latency and memory stay bounded.
 *
 * @packageDocumentation
 */

import { SystemClock, type Clock } from '../../core/clock.js';
import { TypedEmitter } from '../../core/events.js';
import { checkSampleRate, DEFAULT_FRAME_FORMAT, type MediaSink } from '../port.js';
import { Resampler } from '../resample.js';
import { buildSoxPlaybackArgs, SOX_DEVICE_DEFAULTS, SOX_READY_PATTERN, type SoxDeviceOptions } from '../sox.js';
import { ToolProcess, type ToolExit } from '../tools.js';

/** Options for {@link DeviceSink}. */
export interface DeviceSinkOptions extends SoxDeviceOptions {
  /** Rate of the frames written, in Hz (default 8000). */
  readonly sampleRate?: number;
  /** Most audio waiting for the device, in ms, before new frames are dropped (default 300). */
  readonly maxBufferMs?: number;
  /** How long `start()` waits for sox to open the device, in ms (default 5000). */
  readonly startTimeoutMs?: number;
  /** How long `close()` lets sox play what is buffered before stopping it, in ms (default 500). */
  readonly drainMs?: number;
  /** Time source for the timeouts (default: the system clock). */
  readonly clock?: Clock;
}

/** Defaults for {@link DeviceSinkOptions}, in one place. */
export const DEVICE_SINK_DEFAULTS = Object.freeze({ maxBufferMs: 300, startTimeoutMs: 5000, drainMs: 500 });

/** Events of a {@link DeviceSink}. */
export type DeviceSinkEvents = {
  /** sox failed (no device, device gone); later frames are dropped. */
  error: Error;
};

/**
 * Plays to a sound device. sox is started lazily, by the first `write()` or by `start()`.
 *
 * @example
 * ```ts
 * const speaker = new DeviceSink({ sampleRate: 8000, deviceRate: 48000 });
 * await speaker.start();   // rejects with sox's own message if there is no device
 * speaker.write(frame);
 * await speaker.close();
 * ```
 */
export class DeviceSink extends TypedEmitter<DeviceSinkEvents> implements MediaSink {
  readonly sampleRate: number;
  /** The device rate sox plays at, in Hz. */
  readonly deviceRate: number;
  /** The sox command. */
  readonly command: string;
  /** The sox arguments (built by {@link buildSoxPlaybackArgs}). */
  readonly args: readonly string[];

  private readonly clock: Clock;
  private readonly startTimeoutMs: number;
  private readonly drainMs: number;
  private readonly maxBufferBytes: number;
  private readonly resampler: Resampler;
  private process: ToolProcess | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private failure: Error | undefined;
  private droppedFrames = 0;

  /** @throws RangeError on a bad rate, device spec or buffer size. */
  constructor(options: DeviceSinkOptions = {}) {
    super();
    this.sampleRate = options.sampleRate ?? DEFAULT_FRAME_FORMAT.sampleRate;
    checkSampleRate(this.sampleRate);
    this.deviceRate = options.deviceRate ?? SOX_DEVICE_DEFAULTS.deviceRate;
    this.command = options.soxPath ?? SOX_DEVICE_DEFAULTS.soxPath;
    this.args = buildSoxPlaybackArgs(options);
    this.clock = options.clock ?? new SystemClock();
    this.startTimeoutMs = options.startTimeoutMs ?? DEVICE_SINK_DEFAULTS.startTimeoutMs;
    this.drainMs = options.drainMs ?? DEVICE_SINK_DEFAULTS.drainMs;
    const maxBufferMs = options.maxBufferMs ?? DEVICE_SINK_DEFAULTS.maxBufferMs;
    if (!(maxBufferMs > 0)) throw new RangeError(`maxBufferMs must be positive, got ${maxBufferMs}`);
    this.maxBufferBytes = Math.round((maxBufferMs * this.deviceRate) / 1000) * 2;
    this.resampler = new Resampler(this.sampleRate, this.deviceRate);
  }

  /** pid of the running sox, if any. */
  get pid(): number | undefined {
    return this.process?.hasExited === false ? this.process.pid : undefined;
  }

  /** Why the sink stopped playing, if it did. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Frames dropped because the device fell behind, or after a failure. */
  get dropped(): number {
    return this.droppedFrames;
  }

  /**
   * Starts sox if it is not running, and waits until it has opened the device.
   *
   * @throws MediaToolMissingError (rejection) when sox is not installed.
   * @throws MediaProcessError (rejection) when sox fails (its own `FAIL` line is the message) or
   * does not start within `startTimeoutMs`.
   */
  start(): Promise<void> {
    if (this.starting !== undefined) return this.starting;
    if (this.closing !== undefined) return Promise.reject(new RangeError('DeviceSink is closed'));
    try {
      const proc = new ToolProcess({
        tool: 'sox',
        command: this.command,
        args: this.args,
        clock: this.clock,
        stdin: true,
        stdout: false,
        readyPattern: SOX_READY_PATTERN,
      });
      this.process = proc;
      // A failed start is reported at once, even if the exit itself comes later.
      proc.ready.catch((error: unknown) => this.fail(error as Error, true));
      void proc.exited.then((exit) => this.onExit(exit));
      proc.armStartTimeout(this.startTimeoutMs);
      this.starting = proc.ready;
    } catch (error) {
      this.fail(error as Error, false);
      this.starting = Promise.reject(error as Error);
    }
    this.starting.catch(() => undefined);
    return this.starting;
  }

  write(frame: Int16Array): void {
    if (this.closing !== undefined) return;
    if (this.starting === undefined) void this.start();
    const stdin = this.process?.stdin;
    if (this.failure !== undefined || stdin === undefined || stdin === null || this.process?.hasExited === true) {
      this.droppedFrames++;
      return;
    }
    // Frames written before sox is up wait in the pipe; that is what maxBufferBytes bounds too.
    if (stdin.writableLength > this.maxBufferBytes) {
      this.droppedFrames++;
      return;
    }
    const samples = this.resampler.process(frame);
    const bytes = Buffer.alloc(samples.length * 2);
    for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i] as number, i * 2);
    stdin.write(bytes);
  }

  /** Lets sox play what is buffered (up to `drainMs`), then stops it. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const proc = this.process;
    if (proc === undefined) {
      this.closing = Promise.resolve();
      return this.closing;
    }
    const tail = this.resampler.flush();
    if (tail.length > 0 && proc.stdin !== null && !proc.hasExited) {
      const bytes = Buffer.alloc(tail.length * 2);
      for (let i = 0; i < tail.length; i++) bytes.writeInt16LE(tail[i] as number, i * 2);
      proc.stdin.write(bytes);
    }
    this.closing = proc.stop({ endInput: true, graceMs: this.drainMs }).then(() => undefined);
    return this.closing;
  }

  private onExit(exit: ToolExit): void {
    if (exit.error !== undefined && this.closing === undefined) this.fail(exit.error, true);
  }

  private fail(error: Error, emit: boolean): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    if (emit) this.emit('error', error);
  }
}
