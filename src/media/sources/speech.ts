/**
 * Text-to-speech as a {@link MediaSource}: typed lines are synthesised by `espeak-ng` (or
 * `flite`) and spoken one after another, in place of the microphone (rtclite's `--textspeech`).
 *
 * @remarks
 * ```
 *  say(line) ─▶ queue ─▶ espeak-ng --stdout (WAV, 22.05 kHz) ─▶ readWav ─▶ resample ─▶ frames
 *                         one child at a time, in order            read() every 20 ms ─┘
 * ```
 * Synthesis of the next line overlaps the playing of the current one, so queued lines follow
 * without a gap. While nothing is queued, `read()` returns the `fallback` source's frame (the
 * microphone) or silence; the fallback is read on every tick even while speech plays, so its
 * own buffer never goes stale.
 *
 * @packageDocumentation
 */

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { SystemClock, type Clock } from '../../core/clock.js';
import { resolveFrameFormat, type MediaSource, type SourceFormatOptions } from '../port.js';
import { resample } from '../resample.js';
import { MEDIA_TOOLS, MediaProcessError, MediaToolMissingError, findExecutable, removeDirSync, ToolProcess } from '../tools.js';
import { readWav, toMono, type PcmAudio } from '../wav.js';

/** A speech synthesiser voxlite can drive. */
export type SpeechEngine = 'espeak-ng' | 'flite';

/** Options for {@link synthesizeSpeech}. */
export interface SpeechSynthesisOptions {
  /** Which synthesiser: `auto` (default) uses espeak-ng when installed, else flite. */
  readonly engine?: SpeechEngine | 'auto';
  /** The espeak-ng command (default `espeak-ng`). */
  readonly espeakPath?: string;
  /** The flite command (default `flite`). */
  readonly flitePath?: string;
  /** Voice: espeak-ng `-v` (e.g. `en-us`, `en+f3`) or flite `-voice` (e.g. `slt`). Default: the engine's. */
  readonly voice?: string;
  /** Speaking rate in words per minute (espeak-ng `-s`; default 175). flite ignores it. */
  readonly wordsPerMinute?: number;
  /** Longest a synthesis may take, in ms (default 10000). */
  readonly timeoutMs?: number;
  /** Time source for the timeout (default: the system clock). */
  readonly clock?: Clock;
  /** Cancels the synthesis (the child is killed; the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

/** Defaults for {@link SpeechSynthesisOptions} and {@link SpeechSourceOptions}, in one place. */
export const SPEECH_DEFAULTS = Object.freeze({
  timeoutMs: 10_000,
  /** Longest text accepted per line, in characters (minutes of speech; keeps argv and memory bounded). */
  maxTextLength: 4000,
  /** Lines waiting to be spoken before `say()` refuses more. */
  maxQueuedLines: 16,
  /** Most WAV bytes accepted from a synthesiser (about 12 minutes at 22.05 kHz). */
  maxOutputBytes: 32 * 1024 * 1024,
});

function pickEngine(options: SpeechSynthesisOptions): { engine: SpeechEngine; command: string } {
  const espeak = options.espeakPath ?? MEDIA_TOOLS['espeak-ng'].command;
  const flite = options.flitePath ?? MEDIA_TOOLS.flite.command;
  const engine = options.engine ?? 'auto';
  if (engine === 'espeak-ng') return { engine, command: espeak };
  if (engine === 'flite') return { engine, command: flite };
  if (findExecutable(espeak) !== undefined) return { engine: 'espeak-ng', command: espeak };
  if (findExecutable(flite) !== undefined) return { engine: 'flite', command: flite };
  // Name the preferred package: it is the one CI and the docs install.
  throw new MediaToolMissingError('espeak-ng', espeak, MEDIA_TOOLS['espeak-ng'].debianPackage, 'not found (nor flite)');
}

/** Collects a child's stdout, bounded. */
function collect(proc: ToolProcess, limit: number): () => Buffer {
  const chunks: Buffer[] = [];
  let size = 0;
  proc.stdout?.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      proc.fail(proc.makeError('exit', `more than ${limit} bytes of output`));
      return;
    }
    chunks.push(chunk);
  });
  return () => Buffer.concat(chunks);
}

/** Runs a started synthesiser to its end, honouring the timeout and the abort signal. */
async function finish(proc: ToolProcess, options: SpeechSynthesisOptions): Promise<void> {
  const clock = options.clock ?? new SystemClock();
  const timeoutMs = options.timeoutMs ?? SPEECH_DEFAULTS.timeoutMs;
  const timer = clock.setTimer(timeoutMs, () => {
    proc.fail(new MediaProcessError(proc.tool, 'timeout', `${proc.tool} did not finish within ${timeoutMs} ms`));
  });
  const onAbort = (): void => proc.killNow('SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const exit = await proc.exited;
    options.signal?.throwIfAborted();
    if (exit.error !== undefined) throw exit.error;
  } finally {
    timer.cancel();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Synthesises `text` to audio at the synthesiser's own rate (espeak-ng: 22050 Hz mono).
 *
 * @remarks
 * espeak-ng gets the text on stdin (so a line starting with `-` is spoken, not parsed as an
 * option) and writes WAV to stdout. flite cannot write to a pipe (it `fopen`s the output path),
 * so it writes a temporary file, which is removed afterwards.
 *
 * @throws RangeError (synchronously) for text longer than 4000 characters.
 * @throws MediaToolMissingError (rejection) when neither espeak-ng nor flite is installed (or
 * the chosen one is not).
 * @throws MediaProcessError (rejection) when the synthesiser fails or times out; the abort
 * reason when `signal` aborts.
 */
export function synthesizeSpeech(text: string, options: SpeechSynthesisOptions = {}): Promise<PcmAudio> {
  if (text.length > SPEECH_DEFAULTS.maxTextLength) {
    throw new RangeError(`text is longer than ${SPEECH_DEFAULTS.maxTextLength} characters`);
  }
  return (async () => {
    options.signal?.throwIfAborted();
    const { engine, command } = pickEngine(options);
    const clock = options.clock ?? new SystemClock();
    if (engine === 'espeak-ng') {
      const args = ['--stdout'];
      if (options.voice !== undefined) args.push('-v', options.voice);
      if (options.wordsPerMinute !== undefined) {
        if (!(options.wordsPerMinute >= 80 && options.wordsPerMinute <= 450)) {
          throw new RangeError(`wordsPerMinute must be in [80, 450], got ${options.wordsPerMinute}`);
        }
        args.push('-s', String(Math.round(options.wordsPerMinute)));
      }
      const proc = new ToolProcess({ tool: 'espeak-ng', command, args, clock, stdin: true, stdout: true });
      const output = collect(proc, SPEECH_DEFAULTS.maxOutputBytes);
      proc.stdin?.end(text);
      await finish(proc, options);
      return readWav(output());
    }
    const dir = await mkdtemp(`${tmpdir()}/voxlite-tts-`);
    try {
      const file = `${dir}/speech.wav`;
      const args = ['-t', text, '-o', file];
      if (options.voice !== undefined) args.push('-voice', options.voice);
      const proc = new ToolProcess({ tool: 'flite', command, args, clock, stdin: false, stdout: false });
      await finish(proc, options);
      return readWav(await readFile(file));
    } finally {
      removeDirSync(dir);
    }
  })();
}

/** Options for {@link SpeechSource}. */
export interface SpeechSourceOptions extends SourceFormatOptions, Omit<SpeechSynthesisOptions, 'signal'> {
  /** What to play while nothing is being said (the microphone); default: silence. Closed with this source. */
  readonly fallback?: MediaSource;
  /** Lines waiting (including the one playing) before `say()` refuses more (default 16). */
  readonly maxQueuedLines?: number;
}

interface Utterance {
  readonly text: string;
  readonly resolve: (spoken: boolean) => void;
  readonly reject: (error: unknown) => void;
  /** Audio at the call rate once synthesised. */
  samples: Int16Array | undefined;
  offset: number;
}

/**
 * Speaks queued lines of text, one after another, then falls back to `fallback` or silence.
 *
 * @example
 * ```ts
 * const tts = new SpeechSource({ sampleRate: 8000, fallback: mic });
 * void tts.say('Hello, this is voxlite.');
 * // the RTP pacer calls tts.read() every 20 ms
 * ```
 */
export class SpeechSource implements MediaSource {
  readonly sampleRate: number;
  readonly frameSize: number;

  private readonly synthesis: SpeechSynthesisOptions;
  private readonly fallback: MediaSource | undefined;
  private readonly maxQueued: number;
  private readonly queue: Utterance[] = [];
  private working: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private closing: Promise<void> | undefined;

  /** @throws RangeError on a bad format or queue size, or a fallback of another format. */
  constructor(options: SpeechSourceOptions = {}) {
    const format = resolveFrameFormat(options);
    this.sampleRate = format.sampleRate;
    this.frameSize = format.frameSize;
    const { fallback, maxQueuedLines, sampleRate: _rate, frameSize: _size, ...synthesis } = options;
    this.synthesis = synthesis;
    if (fallback !== undefined && (fallback.sampleRate !== this.sampleRate || fallback.frameSize !== this.frameSize)) {
      throw new RangeError(
        `fallback produces ${fallback.frameSize} samples at ${fallback.sampleRate} Hz, not ${this.frameSize} at ${this.sampleRate} Hz`,
      );
    }
    this.fallback = fallback;
    this.maxQueued = maxQueuedLines ?? SPEECH_DEFAULTS.maxQueuedLines;
    if (!Number.isInteger(this.maxQueued) || this.maxQueued < 1) {
      throw new RangeError(`maxQueuedLines must be a positive integer, got ${this.maxQueued}`);
    }
  }

  /** Whether speech is playing or waiting to be played. */
  get speaking(): boolean {
    return this.queue.length > 0;
  }

  /** Lines queued, including the one playing. */
  get queuedLines(): number {
    return this.queue.length;
  }

  /**
   * Queues a line to be spoken after those already queued.
   *
   * @returns Resolves `true` once its last frame has been read, `false` if it was dropped by
   * {@link SpeechSource.clear} or `close()`; rejects when synthesis fails (MediaToolMissingError,
   * MediaProcessError). The promise is pre-handled, so ignoring it never crashes the process.
   * @throws RangeError (synchronously) when the source is closed, the queue is full, or the text
   * is too long.
   */
  say(text: string): Promise<boolean> {
    if (this.closing !== undefined) throw new RangeError('SpeechSource is closed');
    if (this.queue.length >= this.maxQueued) throw new RangeError(`speech queue is full (${this.maxQueued} lines)`);
    if (text.length > SPEECH_DEFAULTS.maxTextLength) {
      throw new RangeError(`text is longer than ${SPEECH_DEFAULTS.maxTextLength} characters`);
    }
    if (text.trim().length === 0) return Promise.resolve(true);
    let settle!: Pick<Utterance, 'resolve' | 'reject'>;
    const done = new Promise<boolean>((resolve, reject) => {
      settle = { resolve, reject };
    });
    done.catch(() => undefined);
    this.queue.push({ text, ...settle, samples: undefined, offset: 0 });
    this.pump();
    return done;
  }

  /** Drops everything queued, including the line playing (their `say()` promises resolve `false`). */
  clear(): void {
    this.abort?.abort();
    for (const utterance of this.queue.splice(0)) utterance.resolve(false);
  }

  read(): Int16Array | null {
    if (this.closing !== undefined) return null;
    // Read the fallback on every tick so a microphone's queue keeps moving while we speak.
    const background = this.fallback?.read() ?? null;
    const frame = new Int16Array(this.frameSize);
    let filled = 0;
    while (filled < this.frameSize) {
      const head = this.queue[0];
      if (head?.samples === undefined) break;
      const n = Math.min(this.frameSize - filled, head.samples.length - head.offset);
      frame.set(head.samples.subarray(head.offset, head.offset + n), filled);
      filled += n;
      head.offset += n;
      if (head.offset >= head.samples.length) {
        this.queue.shift();
        head.resolve(true);
      }
    }
    if (filled > 0 || background === null) return frame;
    return background;
  }

  /** Drops queued speech, kills a running synthesiser, and closes the fallback. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.clear();
    const working = this.working ?? Promise.resolve();
    this.closing = working.then(async () => {
      await this.fallback?.close();
    });
    return this.closing;
  }

  /** Synthesises the first line not yet synthesised, one child at a time, in queue order. */
  private pump(): void {
    if (this.working !== undefined || this.closing !== undefined) return;
    const next = this.queue.find((u) => u.samples === undefined);
    if (next === undefined) return;
    const abort = new AbortController();
    this.abort = abort;
    this.working = synthesizeSpeech(next.text, { ...this.synthesis, signal: abort.signal })
      .then(
        (audio) => {
          if (abort.signal.aborted || !this.queue.includes(next)) return;
          const mono = toMono(audio);
          next.samples = resample(mono.samples, mono.sampleRate, this.sampleRate);
          if (next.samples.length === 0) {
            this.queue.splice(this.queue.indexOf(next), 1);
            next.resolve(true);
          }
        },
        (error: unknown) => {
          const index = this.queue.indexOf(next);
          if (index < 0) return; // cleared meanwhile: already resolved false
          this.queue.splice(index, 1);
          next.reject(error);
        },
      )
      .finally(() => {
        this.working = undefined;
        this.abort = undefined;
        this.pump();
      });
  }
}
