/**
 * The two ends of a call's audio: a {@link MediaSource} produces fixed-size 16-bit mono PCM
 * frames at the call rate, a {@link MediaSink} consumes them.
 *
 * @remarks
 * Why a pull `read()` and not an async iterable: the RTP session owns time. It ticks every 20 ms
 * (from an injected clock) and takes exactly one frame per tick. An async iterable would let a
 * slow source (a TTS child still synthesising, a sound card that has not started) delay the tick
 * and stretch the RTP timestamps; a synchronous pull that answers "silence" when nothing is ready
 * keeps the packet clock steady and moves all buffering into the source, where it is bounded.
 * A sink gets the mirror image: `write()` never blocks or throws for I/O; the sink buffers (bounded)
 * or drops, and reports trouble through its own events and `close()`.
 *
 * Frames handed out by `read()` and passed to `write()` belong to the receiver: sources return a
 * fresh array per call, and sinks copy what they keep, so neither side may be surprised by reuse.
 *
 * @packageDocumentation
 */

/** A 16-bit mono PCM frame format. */
export interface FrameFormat {
  /** Samples per second, in Hz (8000 for G.711). */
  readonly sampleRate: number;
  /** Samples per frame (160 = 20 ms at 8 kHz). */
  readonly frameSize: number;
}

/** The G.711 call format: 8 kHz, 20 ms (160-sample) frames, as RTP ptime 20. */
export const DEFAULT_FRAME_FORMAT: FrameFormat = Object.freeze({ sampleRate: 8000, frameSize: 160 });

/**
 * Produces audio one frame at a time, at the pace of whoever calls {@link MediaSource.read}.
 */
export interface MediaSource {
  /** Rate of the frames, in Hz. */
  readonly sampleRate: number;
  /** Samples in every frame returned by {@link MediaSource.read}. */
  readonly frameSize: number;
  /**
   * Returns the next frame: exactly `frameSize` samples, a new array owned by the caller.
   *
   * @remarks
   * Never blocks and never throws for I/O trouble: a source whose audio is not ready yet (a
   * child process starting, an empty speech queue) returns silence; a source that has failed
   * reports it on its own events and then ends.
   *
   * @returns The frame, or `null` once the source has ended (a file without `loop`, a finished
   * tone, a closed source). After the first `null` every later call returns `null`.
   */
  read(): Int16Array | null;
  /** Stops the source and releases what it holds (files, child processes). Idempotent. */
  close(): Promise<void>;
}

/**
 * Consumes audio frames as they are received.
 */
export interface MediaSink {
  /** Rate expected of the frames passed to {@link MediaSink.write}, in Hz. */
  readonly sampleRate: number;
  /**
   * Accepts a frame of 16-bit mono PCM at `sampleRate` (any length; 20 ms is usual).
   *
   * @remarks
   * Returns at once: the sink copies what it keeps and buffers or drops as it sees fit, so the
   * RTP receive path is never held up. Frames written after `close()` are ignored.
   */
  write(frame: Int16Array): void;
  /** Flushes what can be flushed, then releases files and child processes. Idempotent. */
  close(): Promise<void>;
}

/** Options shared by the sources: the frame format they produce. */
export interface SourceFormatOptions {
  /** Output rate in Hz (default 8000). */
  readonly sampleRate?: number;
  /** Samples per frame (default 160, i.e. 20 ms at 8 kHz). */
  readonly frameSize?: number;
}

/**
 * Resolves and checks a frame format from options.
 *
 * @throws RangeError on a rate outside [1000, 384000] Hz or a frame size outside [1, 65536].
 */
export function resolveFrameFormat(options: SourceFormatOptions = {}): FrameFormat {
  const sampleRate = options.sampleRate ?? DEFAULT_FRAME_FORMAT.sampleRate;
  const frameSize = options.frameSize ?? DEFAULT_FRAME_FORMAT.frameSize;
  checkSampleRate(sampleRate);
  if (!Number.isInteger(frameSize) || frameSize < 1 || frameSize > 65_536) {
    throw new RangeError(`frameSize must be an integer in [1, 65536], got ${frameSize}`);
  }
  return { sampleRate, frameSize };
}

/**
 * Checks a sample rate the way the resampler and WAV writer do.
 *
 * @throws RangeError on a rate that is not an integer in [1000, 384000] Hz.
 */
export function checkSampleRate(sampleRate: number, name = 'sampleRate'): void {
  if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384_000) {
    throw new RangeError(`${name} must be an integer in [1000, 384000] Hz, got ${sampleRate}`);
  }
}

/**
 * Reads up to `maxFrames` frames from a source without pacing (offline conversion, tests), and
 * concatenates them.
 *
 * @remarks
 * Stops early at the end of the source. A live source (device, speech) never ends, so
 * `maxFrames` is what bounds the loop.
 */
export function readFrames(source: MediaSource, maxFrames: number): Int16Array {
  if (!Number.isInteger(maxFrames) || maxFrames < 0) throw new RangeError(`bad frame count: ${maxFrames}`);
  const frames: Int16Array[] = [];
  for (let i = 0; i < maxFrames; i++) {
    const frame = source.read();
    if (frame === null) break;
    frames.push(frame);
  }
  const out = new Int16Array(frames.length * source.frameSize);
  frames.forEach((frame, i) => out.set(frame, i * source.frameSize));
  return out;
}
