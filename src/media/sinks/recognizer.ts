/**
 * Speech recognition of received audio as a {@link MediaSink}: offline, through CMU
 * `pocketsphinx_continuous`, limited to a list of phrases (rtclite's `--recognize` sent audio
 * to Google; voxlite stays offline).
 *
 * @remarks
 * ```
 *  write(8 kHz) ─Resampler→16 kHz─▶ sh -c 'cat | pocketsphinx_continuous -infile /dev/stdin
 *                                       -jsgf phrases.jsgf -samprate 16000 …' ─stdout─▶ 'phrase'
 * ```
 * Open dictation with the stock en-us model is unreliable, on telephone audio all the more, so
 * the decoder is constrained by a JSGF grammar whose only rule is "one of the phrases". That
 * makes it accurate on the phrases, but a grammar has no "none of the above": any speech
 * that pocketsphinx's voice-activity detector segments is mapped to the nearest phrase or, when
 * no path through the grammar fits, to nothing. Treat a result as "the caller probably said X".
 *
 * Checked against the Debian build (0.8+5prealpha): keyword spotting (`-kws`, `-keyphrase`)
 * printed no detection at all for clearly spoken keyphrases, so it is not offered. The model is
 * 16 kHz; 8 kHz call audio is upsampled, the band above 4 kHz is empty, and the cepstral mean
 * is therefore seeded for narrowband audio ({@link NARROWBAND_CMN_INIT}). The voice-activity
 * detector ends a phrase after `endSilenceMs` of quiet (default 1 s).
 *
 * Why `cat |`: pocketsphinx_continuous only reads files (`fopen`), and Node's stdio pipes are
 * socketpairs, which `/dev/stdin` cannot open (ENXIO). The shell's `|` is a real pipe.
 *
 * @packageDocumentation
 */

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SystemClock, type Clock } from '../../core/clock.js';
import { TypedEmitter } from '../../core/events.js';
import { checkSampleRate, DEFAULT_FRAME_FORMAT, type MediaSink } from '../port.js';
import { Resampler } from '../resample.js';
import { checkMediaTool, MEDIA_TOOLS, MediaToolMissingError, onProcessExit, removeDirSync, ToolProcess, type ToolExit } from '../tools.js';

/** Where Debian's `pocketsphinx-en-us` puts the US English acoustic model (the binary's default). */
export const POCKETSPHINX_DEFAULT_MODEL = '/usr/share/pocketsphinx/model/en-us/en-us';

/** The rate of the en-us acoustic model; audio is resampled to it. */
export const RECOGNIZER_DECODER_RATE = 16_000;

/**
 * Starting cepstral means for telephone-band (≤ 4 kHz) audio upsampled to 16 kHz.
 *
 * @remarks
 * pocketsphinx normalises features by a running cepstral mean that it only updates at the end
 * of each utterance, starting from the model's `-cmninit`, which describes wideband speech. With
 * the band above 4 kHz empty, that start is far off, and the first phrase or two of a call were
 * not recognised at all. These values are the means pocketsphinx itself converged to on a long
 * sentence of 8 kHz speech from several espeak-ng voices (which agreed within a few units; the
 * empty upper band dominates them). With them, the first phrase is recognised as well as later
 * ones (15 of 15 espeak-ng phrase/voice pairs, against 5 of 15 with the model's default).
 * They only seed the running mean, which adapts to the real caller after each utterance.
 */
export const NARROWBAND_CMN_INIT: readonly number[] = Object.freeze([47, 22, -35, 43, -28, 0, 8, -35, 15, -13, 5, 7, -17]);

/** Options for {@link SpeechRecognizer}. */
export interface SpeechRecognizerOptions {
  /** The phrases to listen for (words from the pronouncing dictionary; case and punctuation are ignored). */
  readonly phrases: readonly string[];
  /** Rate of the frames written, in Hz (default 8000). */
  readonly sampleRate?: number;
  /** The pocketsphinx command (default `pocketsphinx_continuous`). */
  readonly pocketsphinxPath?: string;
  /** Acoustic model directory (`-hmm`); default: the binary's (Debian: {@link POCKETSPHINX_DEFAULT_MODEL}). */
  readonly hmm?: string;
  /** Pronouncing dictionary (`-dict`); default: the binary's (CMUdict en-us). */
  readonly dict?: string;
  /**
   * Initial cepstral means (13 values), or `auto` (default): {@link NARROWBAND_CMN_INIT} when the
   * audio is narrowband (`sampleRate` below 12 kHz), else the model's own. `none` keeps the model's.
   */
  readonly cmnInit?: readonly number[] | 'auto' | 'none';
  /** Quiet that ends a phrase, in ms (pocketsphinx `-vad_postspeech`; default 1000). */
  readonly endSilenceMs?: number;
  /** Further pocketsphinx arguments, appended as given (e.g. `['-vad_threshold', '3.0']`). */
  readonly extraArgs?: readonly string[];
  /** Most audio waiting for the decoder, in ms, before frames are dropped (default 5000). */
  readonly maxBufferMs?: number;
  /** How long `start()` waits for the model and grammar to load, in ms (default 10000). */
  readonly startTimeoutMs?: number;
  /** How long `close()` waits for the last result, in ms (default 3000). */
  readonly finalResultMs?: number;
  /** Time source for the timeouts (default: the system clock). */
  readonly clock?: Clock;
}

/** Defaults for {@link SpeechRecognizerOptions}, in one place. */
export const RECOGNIZER_DEFAULTS = Object.freeze({
  endSilenceMs: 1000,
  maxBufferMs: 5000,
  startTimeoutMs: 10_000,
  finalResultMs: 3000,
  pocketsphinxPath: MEDIA_TOOLS.pocketsphinx.command,
});

/** A phrase heard. */
export interface RecognizedPhrase {
  /** The phrase as given in `phrases`. */
  readonly phrase: string;
  /** What the decoder printed (the normalised phrase). */
  readonly text: string;
}

/** Events of a {@link SpeechRecognizer}. */
export type SpeechRecognizerEvents = {
  /** One of the phrases was recognised. */
  phrase: RecognizedPhrase;
  /** The decoder failed; later frames are dropped. */
  error: Error;
};

/**
 * Normalises a phrase to dictionary words: lower case, hyphens and other punctuation to spaces
 * (apostrophes kept: `don't` is a CMUdict word), single spaces.
 *
 * @throws RangeError when nothing is left, or a word contains digits or non-ASCII letters
 * (CMUdict spells numbers out: write "nine one one", not "911").
 */
export function normalizePhrase(phrase: string): string {
  const words = phrase
    .toLowerCase()
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .split(' ')
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length > 0);
  if (words.length === 0) throw new RangeError(`phrase has no words: ${JSON.stringify(phrase)}`);
  for (const word of words) {
    if (!/^[a-z][a-z']*$/.test(word)) {
      throw new RangeError(`phrase word ${JSON.stringify(word)} is not a dictionary word (letters only; spell numbers out)`);
    }
  }
  return words.join(' ');
}

/**
 * Builds the JSGF grammar "exactly one of these phrases".
 *
 * @returns The grammar text, and the map from normalised phrase to the phrase as given (the
 * first one, when two normalise alike).
 * @throws RangeError for an empty list or a phrase {@link normalizePhrase} rejects.
 */
export function buildPhraseGrammar(phrases: readonly string[]): { grammar: string; phrases: Map<string, string> } {
  if (phrases.length === 0) throw new RangeError('at least one phrase is needed');
  const map = new Map<string, string>();
  for (const phrase of phrases) {
    const normalized = normalizePhrase(phrase);
    if (!map.has(normalized)) map.set(normalized, phrase);
  }
  // Words are [a-z'] only (checked above), so nothing needs JSGF quoting.
  const alternatives = [...map.keys()].join(' | ');
  const grammar = `#JSGF V1.0;\ngrammar voxlite;\npublic <phrase> = ${alternatives};\n`;
  return { grammar, phrases: map };
}

/** pocketsphinx_continuous arguments for a grammar file (pure; see {@link SpeechRecognizer}). */
export function buildRecognizerArgs(
  grammarPath: string,
  options: Pick<SpeechRecognizerOptions, 'hmm' | 'dict' | 'endSilenceMs' | 'extraArgs'> = {},
): string[] {
  const endSilenceMs = options.endSilenceMs ?? RECOGNIZER_DEFAULTS.endSilenceMs;
  if (!(endSilenceMs >= 100 && endSilenceMs <= 10_000)) {
    throw new RangeError(`endSilenceMs must be in [100, 10000], got ${endSilenceMs}`);
  }
  const args = [
    '-infile', '/dev/stdin',
    '-jsgf', grammarPath,
    '-samprate', String(RECOGNIZER_DECODER_RATE),
    // Frames are 10 ms.
    '-vad_postspeech', String(Math.round(endSilenceMs / 10)),
    // Decoded G.711 silence is exact zeros, whose log filter-bank energies sit on the floor and
    // drag the running cepstral mean off for the next phrase; half-bit dither keeps them finite.
    // A fixed seed keeps a given input's result reproducible.
    '-dither', 'yes',
    '-seed', '1',
  ];
  if (options.hmm !== undefined) args.push('-hmm', options.hmm);
  if (options.dict !== undefined) args.push('-dict', options.dict);
  args.push(...(options.extraArgs ?? []));
  return args;
}

/**
 * Makes a copy of an acoustic model directory (symlinks) whose `feat.params` starts the cepstral
 * mean at `cmnInit`: pocketsphinx lets the model's `feat.params` override a `-cmninit` given on
 * the command line, so the file is the only place to change it.
 *
 * @returns The new model directory.
 */
function shadowModel(modelDir: string, target: string, cmnInit: readonly number[]): string {
  mkdirSync(target);
  let params = '';
  for (const entry of readdirSync(modelDir)) {
    if (entry === 'feat.params') params = readFileSync(`${modelDir}/${entry}`, 'utf8');
    else symlinkSync(`${modelDir}/${entry}`, `${target}/${entry}`);
  }
  const line = `-cmninit ${cmnInit.map((v) => v.toFixed(2)).join(',')}`;
  params = /^-cmninit\s.*$/m.test(params) ? params.replace(/^-cmninit\s.*$/m, line) : `${params.trimEnd()}\n${line}\n`;
  writeFileSync(`${target}/feat.params`, params.trimStart());
  return target;
}

/** pocketsphinx logs this once the model, dictionary and grammar have loaded (continuous.c). */
const READY_PATTERN = /COMPILED ON/;
/** Routine for an utterance that fits no phrase; not a failure. */
const BENIGN_PATTERN = /does not match the grammar/;

/**
 * Listens for a fixed list of phrases in the audio written to it, and emits `phrase` events.
 * pocketsphinx is started lazily, by the first `write()` or by `start()`.
 *
 * @example
 * ```ts
 * const asr = new SpeechRecognizer({ phrases: ['call me back', 'goodbye'] });
 * asr.on('phrase', ({ phrase }) => console.log('heard', phrase));
 * // the RTP receive path calls asr.write(decodedFrame)
 * await asr.close(); // waits for the last result
 * ```
 */
export class SpeechRecognizer extends TypedEmitter<SpeechRecognizerEvents> implements MediaSink {
  readonly sampleRate: number;
  /** The JSGF grammar used. */
  readonly grammar: string;

  private readonly options: SpeechRecognizerOptions;
  private readonly phraseMap: Map<string, string>;
  private readonly clock: Clock;
  private readonly resampler: Resampler;
  private readonly maxBufferBytes: number;
  private process: ToolProcess | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private failure: Error | undefined;
  private tempDir: string | undefined;
  private forgetTempDir: (() => void) | undefined;
  private partialLine = '';
  private droppedFrames = 0;
  private readonly cmnInit: readonly number[] | undefined;

  /** @throws RangeError on bad phrases (see {@link normalizePhrase}), rate or timing options. */
  constructor(options: SpeechRecognizerOptions) {
    super();
    this.options = options;
    this.sampleRate = options.sampleRate ?? DEFAULT_FRAME_FORMAT.sampleRate;
    checkSampleRate(this.sampleRate);
    const { grammar, phrases } = buildPhraseGrammar(options.phrases);
    this.grammar = grammar;
    this.phraseMap = phrases;
    // Validate the timing options now rather than at the lazy start.
    buildRecognizerArgs('-', options);
    const cmn = options.cmnInit ?? 'auto';
    this.cmnInit = cmn === 'none' ? undefined : cmn === 'auto' ? (this.sampleRate < 12_000 ? NARROWBAND_CMN_INIT : undefined) : cmn;
    if (this.cmnInit !== undefined && (this.cmnInit.length !== 13 || !this.cmnInit.every(Number.isFinite))) {
      throw new RangeError('cmnInit must be 13 finite numbers');
    }
    this.clock = options.clock ?? new SystemClock();
    const maxBufferMs = options.maxBufferMs ?? RECOGNIZER_DEFAULTS.maxBufferMs;
    if (!(maxBufferMs > 0)) throw new RangeError(`maxBufferMs must be positive, got ${maxBufferMs}`);
    this.maxBufferBytes = Math.round((maxBufferMs * RECOGNIZER_DECODER_RATE) / 1000) * 2;
    this.resampler = new Resampler(this.sampleRate, RECOGNIZER_DECODER_RATE);
  }

  /** pid of the running decoder (its `sh` wrapper's process group), if any. */
  get pid(): number | undefined {
    return this.process?.hasExited === false ? this.process.pid : undefined;
  }

  /** Why recognition stopped, if it did. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Frames dropped because the decoder fell behind, or after a failure. */
  get dropped(): number {
    return this.droppedFrames;
  }

  /**
   * Starts pocketsphinx if it is not running, and waits until its model and grammar are loaded.
   *
   * @throws MediaToolMissingError (rejection) when pocketsphinx_continuous, or the default
   * acoustic model (package pocketsphinx-en-us), is not installed.
   * @throws MediaProcessError (rejection) when pocketsphinx fails to start (a phrase word missing
   * from the dictionary: its own `ERROR:` line is the message) or takes longer than `startTimeoutMs`.
   */
  start(): Promise<void> {
    if (this.starting !== undefined) return this.starting;
    if (this.closing !== undefined) return Promise.reject(new RangeError('SpeechRecognizer is closed'));
    try {
      const command = this.options.pocketsphinxPath ?? RECOGNIZER_DEFAULTS.pocketsphinxPath;
      // The program first, then its model: the more basic missing package is the one to report.
      checkMediaTool('pocketsphinx', command);
      if (this.options.hmm === undefined && !existsSync(`${POCKETSPHINX_DEFAULT_MODEL}/mdef`)) {
        throw new MediaToolMissingError('pocketsphinx', POCKETSPHINX_DEFAULT_MODEL, 'pocketsphinx-en-us', 'acoustic model not found');
      }
      const dir = mkdtempSync(`${tmpdir()}/voxlite-asr-`);
      this.tempDir = dir;
      this.forgetTempDir = onProcessExit(() => removeDirSync(dir));
      const grammarPath = `${dir}/phrases.jsgf`;
      writeFileSync(grammarPath, this.grammar);
      const hmm =
        this.cmnInit === undefined
          ? this.options.hmm
          : shadowModel(this.options.hmm ?? POCKETSPHINX_DEFAULT_MODEL, `${dir}/hmm`, this.cmnInit);
      const proc = new ToolProcess({
        tool: 'pocketsphinx',
        command,
        args: buildRecognizerArgs(grammarPath, { ...this.options, ...(hmm === undefined ? {} : { hmm }) }),
        clock: this.clock,
        stdin: true,
        stdout: true,
        stdinThroughPipe: true,
        readyPattern: READY_PATTERN,
        benignPattern: BENIGN_PATTERN,
      });
      this.process = proc;
      proc.stdout?.setEncoding('utf8');
      proc.stdout?.on('data', (chunk: string) => this.onOutput(chunk));
      proc.stdout?.on('end', () => this.onOutput('\n'));
      // A failed start is reported at once, even if the exit itself comes later.
      proc.ready.catch((error: unknown) => this.fail(error as Error, true));
      void proc.exited.then((exit) => this.onExit(exit));
      proc.armStartTimeout(this.options.startTimeoutMs ?? RECOGNIZER_DEFAULTS.startTimeoutMs);
      this.starting = proc.ready;
    } catch (error) {
      this.fail(error as Error, false);
      this.removeTempDir();
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
    if (stdin.writableLength > this.maxBufferBytes) {
      this.droppedFrames++;
      return;
    }
    this.send(this.resampler.process(frame));
  }

  /**
   * Ends the audio, waits up to `finalResultMs` for the decoder to print its last result (emitted
   * as a `phrase` event before this resolves), then stops it and removes the grammar file. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const proc = this.process;
    if (proc === undefined) {
      this.closing = Promise.resolve();
      return this.closing;
    }
    if (!proc.hasExited && this.failure === undefined) this.send(this.resampler.flush());
    const graceMs = this.options.finalResultMs ?? RECOGNIZER_DEFAULTS.finalResultMs;
    this.closing = proc.stop({ endInput: true, graceMs }).then(() => this.removeTempDir());
    return this.closing;
  }

  private send(samples: Int16Array): void {
    const stdin = this.process?.stdin;
    if (stdin === undefined || stdin === null || samples.length === 0) return;
    const bytes = Buffer.alloc(samples.length * 2);
    for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i] as number, i * 2);
    stdin.write(bytes);
  }

  private onOutput(chunk: string): void {
    const lines = (this.partialLine + chunk).split('\n');
    this.partialLine = (lines.pop() ?? '').slice(-4096);
    for (const raw of lines) {
      const text = raw.trim();
      // pocketsphinx prints one hypothesis per utterance; an empty one means "nothing fitted".
      if (text.length === 0) continue;
      this.emit('phrase', { phrase: this.phraseMap.get(text) ?? text, text });
    }
  }

  private onExit(exit: ToolExit): void {
    if (exit.error !== undefined && this.closing === undefined) this.fail(exit.error, true);
    if (this.closing === undefined) this.removeTempDir();
  }

  private fail(error: Error, emit: boolean): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    if (emit) this.emit('error', error);
  }

  private removeTempDir(): void {
    if (this.tempDir === undefined) return;
    removeDirSync(this.tempDir);
    this.tempDir = undefined;
    this.forgetTempDir?.();
    this.forgetTempDir = undefined;
  }
}
