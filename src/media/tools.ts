/**
 * The external programs behind the device, speech and recognition ports (`sox`, `espeak-ng`,
 * `flite`, `pocketsphinx_continuous`), and the one place that starts and stops them.
 *
 * @remarks
 * Every child goes through {@link ToolProcess}, which
 * - looks the program up on `PATH` first, so a missing tool is a one-line
 *   {@link MediaToolMissingError} naming the Debian package, not an `ENOENT` stack;
 * - keeps the tail of stderr and turns a failed exit into a {@link MediaProcessError} whose
 *   message is the tool's own complaint (`sox FAIL …`, `ERROR: … missing in the dictionary`);
 * - registers the child in a process-wide registry that SIGKILLs whatever is still running
 *   when Node exits. This is the one deliberate process-wide singleton in voxlite: the
 *   `exit` event is itself process-wide, and a leaked `sox` keeps a sound card open.
 *
 * Even when Node dies without running `exit` handlers (SIGKILL, an unhandled signal), the
 * children end on their own: each one reads our stdin (EOF) or writes our stdout (EPIPE).
 *
 * @packageDocumentation
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { Clock, TimerHandle } from '../core/clock.js';
import { VoxliteError } from '../core/errors.js';

/** The external media tools voxlite can drive. */
export type MediaTool = 'sox' | 'espeak-ng' | 'flite' | 'pocketsphinx';

/** Default command and Debian package of each tool. */
export const MEDIA_TOOLS: Readonly<Record<MediaTool, { readonly command: string; readonly debianPackage: string }>> =
  Object.freeze({
    sox: Object.freeze({ command: 'sox', debianPackage: 'sox' }),
    'espeak-ng': Object.freeze({ command: 'espeak-ng', debianPackage: 'espeak-ng' }),
    flite: Object.freeze({ command: 'flite', debianPackage: 'flite' }),
    pocketsphinx: Object.freeze({ command: 'pocketsphinx_continuous', debianPackage: 'pocketsphinx' }),
  });

/** A media tool (or the data it needs) is not installed. */
export class MediaToolMissingError extends VoxliteError {
  readonly code = 'MEDIA_ERR_TOOL_MISSING';

  constructor(
    /** Which tool was wanted. */
    readonly tool: MediaTool,
    /** The command or file that was looked for. */
    readonly command: string,
    /** The Debian package that provides it. */
    readonly debianPackage: string,
    what = 'not found',
  ) {
    super(`${command}: ${what}; install the Debian package ${debianPackage} (apt-get install ${debianPackage})`);
  }
}

/** Why a media tool's process failed. */
export type MediaProcessFailure = 'exit' | 'timeout' | 'spawn';

/** A media tool's process failed: it exited with an error, did not start in time, or could not be spawned. */
export class MediaProcessError extends VoxliteError {
  readonly code = 'MEDIA_ERR_PROCESS';

  constructor(
    /** Which tool failed. */
    readonly tool: MediaTool,
    /** How it failed. */
    readonly failure: MediaProcessFailure,
    message: string,
    /** Exit code, when it exited. */
    readonly exitCode: number | null = null,
    /** Terminating signal, when it was killed. */
    readonly signal: NodeJS.Signals | null = null,
    /** The last lines of its stderr, for logs. */
    readonly stderr = '',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Finds an executable the way a shell would.
 *
 * @param command - A name looked up on `PATH`, or a path (anything with a `/`) checked as is.
 * @returns The path of the executable, or `undefined` when there is none.
 */
export function findExecutable(command: string, path = process.env['PATH'] ?? ''): string | undefined {
  const executable = (file: string): boolean => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (command.length === 0) return undefined;
  if (command.includes('/')) return executable(command) ? command : undefined;
  for (const dir of path.split(':')) {
    const candidate = `${dir === '' ? '.' : dir}/${command}`;
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Checks that a media tool can be run, for start-up checks (the CLI refuses `--textspeech`
 * without `espeak-ng` before any call is made).
 *
 * @param command - The command to look for (default: the tool's usual name).
 * @returns The resolved path.
 * @throws MediaToolMissingError naming the Debian package when it is not there.
 */
export function checkMediaTool(tool: MediaTool, command: string = MEDIA_TOOLS[tool].command): string {
  const found = findExecutable(command);
  if (found === undefined) throw new MediaToolMissingError(tool, command, MEDIA_TOOLS[tool].debianPackage);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Registry: every live child, killed when Node exits.

const live = new Set<ToolProcess>();
const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // One listener for the whole module, so many ports never trip MaxListenersExceededWarning.
  process.once('exit', () => {
    for (const child of live) child.killNow('SIGKILL');
    for (const cleanup of exitCleanups) {
      try {
        cleanup();
      } catch {
        // Exiting anyway; nothing useful to do with a failed temp-dir removal.
      }
    }
  });
}

/** Pids of the media tool processes that are still running (for diagnostics and leak tests). */
export function activeMediaProcesses(): number[] {
  const pids: number[] = [];
  for (const child of live) if (child.pid !== undefined) pids.push(child.pid);
  return pids;
}

/**
 * Registers a synchronous cleanup (a temp directory to remove) to run if Node exits first.
 *
 * @returns A function that unregisters it.
 * @internal
 */
export function onProcessExit(cleanup: () => void): () => void {
  installExitHook();
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

/** Removes a temporary directory now, ignoring errors (best effort). @internal */
export function removeDirSync(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------

/** How a tool process ended. */
export interface ToolExit {
  /** Exit code, or `null` when killed by a signal or never spawned. */
  readonly code: number | null;
  /** Terminating signal, if any. */
  readonly signal: NodeJS.Signals | null;
  /** Set when the process ended with an error (non-zero exit, spawn failure). */
  readonly error: MediaProcessError | MediaToolMissingError | undefined;
}

/** @internal */
export interface ToolProcessOptions {
  readonly tool: MediaTool;
  /** Command to run (name on PATH or a path). */
  readonly command: string;
  readonly args: readonly string[];
  readonly clock: Clock;
  /** Open a pipe to the child's stdin. */
  readonly stdin: boolean;
  /** Open a pipe from the child's stdout (otherwise it is discarded). */
  readonly stdout: boolean;
  /**
   * Feed stdin through `sh -c 'cat | tool …'`, for tools that `fopen("/dev/stdin")`: Node's
   * stdio pipes are socketpairs on Linux, and opening a socket through /dev/stdin fails with
   * ENXIO. The shell's `|` is a real pipe. The group is killed as a whole.
   */
  readonly stdinThroughPipe?: boolean;
  /** A stderr line that means "started and working" (resolves {@link ToolProcess.ready}). */
  readonly readyPattern?: RegExp;
  /** Stderr lines that look like errors but are routine for this tool (kept out of messages). */
  readonly benignPattern?: RegExp;
}

/** Most stderr kept per process, in characters (the tail; tools like pocketsphinx log a lot). */
const STDERR_TAIL = 8192;
/** Error-looking stderr lines kept for the message. */
const MAX_ERROR_LINES = 8;
const ERROR_LINE = /\b(FAIL|FATAL|ERROR|error|not found|No such)\b/;

/**
 * One running media tool, with its stderr captured and its exit turned into a typed error.
 *
 * @internal
 */
export class ToolProcess {
  readonly tool: MediaTool;
  /** The child's pid (undefined if it could not be spawned). */
  readonly pid: number | undefined;
  /** Pipe to the child's stdin, when asked for. */
  readonly stdin: Writable | null;
  /** Pipe from the child's stdout, when asked for. */
  readonly stdout: Readable | null;
  /** Settles (never rejects) once the process is gone and its pipes are closed. */
  readonly exited: Promise<ToolExit>;
  /**
   * Resolves when the tool reports it is working (`readyPattern`, or at spawn without one);
   * rejects if it exits, or prints an error line, first. Pre-handled: never an unhandled rejection.
   */
  readonly ready: Promise<void>;

  private readonly child: ChildProcess;
  private readonly group: boolean;
  private readonly clock: Clock;
  private readonly benign: RegExp | undefined;
  private stderrTail = '';
  private partialLine = '';
  private readonly errorLines: string[] = [];
  private exitInfo: ToolExit | undefined;
  private spawnError: Error | undefined;
  private isReady = false;
  private settleReady: ((error?: Error) => void) | undefined;
  private stopping: Promise<ToolExit> | undefined;
  private failure: MediaProcessError | undefined;

  /**
   * Starts the tool.
   *
   * @throws MediaToolMissingError when the command is not found (checked before spawning).
   */
  constructor(options: ToolProcessOptions) {
    this.tool = options.tool;
    this.clock = options.clock;
    this.benign = options.benignPattern;
    const resolved = checkMediaTool(options.tool, options.command);
    this.group = options.stdinThroughPipe === true;
    const stdio = [options.stdin ? 'pipe' : 'ignore', options.stdout ? 'pipe' : 'ignore', 'pipe'] as const;
    this.child = this.group
      ? // detached: its own process group, so that sh, cat and the tool are signalled together.
        spawn('sh', ['-c', 'cat | "$0" "$@"', resolved, ...options.args], { stdio: [...stdio], detached: true })
      : spawn(resolved, [...options.args], { stdio: [...stdio] });
    this.pid = this.child.pid;
    this.stdin = this.child.stdin;
    this.stdout = this.child.stdout;
    // EPIPE when the tool dies while we write; the exit path reports the real cause.
    this.stdin?.on('error', () => undefined);
    this.stdout?.on('error', () => undefined);

    let settleReady: (error?: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      settleReady = (error) => {
        if (this.settleReady === undefined) return;
        this.settleReady = undefined;
        if (error === undefined) {
          this.isReady = true;
          resolve();
        } else reject(error);
      };
    });
    this.settleReady = settleReady;
    this.ready.catch(() => undefined);

    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => this.onStderr(chunk, options.readyPattern));
    this.child.once('spawn', () => {
      if (options.readyPattern === undefined) this.settleReady?.();
    });

    if (this.pid !== undefined) {
      live.add(this);
      installExitHook();
    }
    this.exited = new Promise<ToolExit>((resolve) => {
      this.child.once('error', (error) => {
        // Only a failure to spawn leaves no pid; later 'error's (kill failures) are not exits.
        if (this.child.pid === undefined) this.spawnError = error;
      });
      this.child.once('close', (code, signal) => {
        live.delete(this);
        this.flushPartialLine();
        const error = this.errorFor(code, signal);
        this.exitInfo = { code: this.spawnError === undefined ? code : null, signal, error };
        this.settleReady?.(
          error ??
            new MediaProcessError(this.tool, 'exit', `${this.tool} exited before it was ready`, code, signal, this.stderrTail),
        );
        resolve(this.exitInfo);
      });
    });
  }

  /** Whether the process has exited. */
  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** The captured end of stderr. */
  get stderr(): string {
    return this.stderrTail;
  }

  /**
   * Stops the process: optionally ends its stdin and waits `graceMs` for it to finish by itself
   * (a player draining its buffer, a recogniser printing its last result), then SIGTERM, and
   * SIGKILL after another `graceMs`.
   *
   * @returns How it ended. Idempotent: later calls return the same promise.
   */
  stop(options: { endInput: boolean; graceMs: number }): Promise<ToolExit> {
    if (this.stopping !== undefined) return this.stopping;
    this.stopping = (async () => {
      if (this.exitInfo !== undefined) return this.exitInfo;
      if (options.endInput && this.stdin !== null) {
        this.stdin.end();
        const finished = await this.waitExit(options.graceMs);
        if (finished !== undefined) return finished;
      }
      this.killNow('SIGTERM');
      const terminated = await this.waitExit(options.graceMs);
      if (terminated !== undefined) return terminated;
      this.killNow('SIGKILL');
      return this.exited;
    })();
    return this.stopping;
  }

  /** Sends a signal now (to the whole group in pipe mode); ignores a process already gone. */
  killNow(signal: NodeJS.Signals): void {
    if (this.pid === undefined || this.exitInfo !== undefined) return;
    try {
      if (this.group) process.kill(-this.pid, signal);
      else this.child.kill(signal);
    } catch {
      // ESRCH: it exited between our check and the signal.
    }
  }

  /**
   * Gives up on the process: rejects `ready` with `error`, reports `error` as the exit's error,
   * and kills it (a start that timed out, an error printed while starting).
   */
  fail(error: MediaProcessError): void {
    if (this.exitInfo !== undefined) return;
    this.failure ??= error;
    this.settleReady?.(error);
    this.killNow('SIGKILL');
  }

  /** Fails the process (a `timeout` {@link MediaProcessError}) unless it is ready within `ms`. */
  armStartTimeout(ms: number): void {
    const timer = this.clock.setTimer(ms, () => {
      if (this.isReady || this.exitInfo !== undefined) return;
      const last = this.bestErrorLine();
      const detail = last === undefined ? '' : `; last output: ${oneLine(last)}`;
      this.fail(new MediaProcessError(this.tool, 'timeout', `${this.tool} did not start within ${ms} ms${detail}`, null, null, this.stderrTail));
    });
    const cancel = (): void => timer.cancel();
    this.ready.then(cancel, cancel);
  }

  private waitExit(ms: number): Promise<ToolExit | undefined> {
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      void this.exited.then((exit) => {
        timer?.cancel();
        resolve(exit);
      });
      timer = this.clock.setTimer(ms, () => resolve(undefined));
    });
  }

  private onStderr(chunk: string, readyPattern: RegExp | undefined): void {
    this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL);
    const lines = (this.partialLine + chunk).split('\n');
    this.partialLine = lines.pop() ?? '';
    // A partial line is capped so that a tool printing no newlines cannot grow it without bound.
    if (this.partialLine.length > STDERR_TAIL) this.partialLine = this.partialLine.slice(-STDERR_TAIL);
    for (const line of lines) this.onStderrLine(line.trimEnd(), readyPattern);
  }

  private flushPartialLine(): void {
    if (this.partialLine.length > 0) this.onStderrLine(this.partialLine.trimEnd(), undefined);
    this.partialLine = '';
  }

  private onStderrLine(line: string, readyPattern: RegExp | undefined): void {
    if (line.length === 0) return;
    if (ERROR_LINE.test(line) && !(this.benign?.test(line) ?? false) && !line.startsWith('ALSA lib')) {
      if (this.errorLines.length < MAX_ERROR_LINES) this.errorLines.push(line);
      if (!this.isReady && /\b(FAIL|FATAL|ERROR)\b/.test(line)) {
        // A tool that reports an error while starting is not going to become ready; with the
        // `cat |` wrapper the exit itself is only seen once cat notices, so do not wait for it.
        this.fail(this.makeError('exit', line, null, null));
      }
    }
    if (readyPattern?.test(line) === true) this.settleReady?.();
  }

  private errorFor(code: number | null, signal: NodeJS.Signals | null): ToolExit['error'] {
    if (this.failure !== undefined) return this.failure;
    if (this.spawnError !== undefined) {
      const errno = (this.spawnError as NodeJS.ErrnoException).code;
      if (errno === 'ENOENT') {
        return new MediaToolMissingError(this.tool, MEDIA_TOOLS[this.tool].command, MEDIA_TOOLS[this.tool].debianPackage);
      }
      return new MediaProcessError(this.tool, 'spawn', `${this.tool}: cannot start: ${this.spawnError.message}`, null, null, '', {
        cause: this.spawnError,
      });
    }
    if (this.group && code === 127) {
      // `sh` reports a command it could not run as 127 (checked before spawning, so rare: a race).
      return new MediaToolMissingError(this.tool, MEDIA_TOOLS[this.tool].command, MEDIA_TOOLS[this.tool].debianPackage);
    }
    if (code === 0) return undefined;
    // Killed by us (stop) is a normal end, not an error.
    if (code === null && this.stopping !== undefined) return undefined;
    return this.makeError('exit', this.bestErrorLine(), code, signal);
  }

  /** Builds the error for this tool, its message led by the tool's own complaint. */
  makeError(
    failure: MediaProcessFailure,
    line: string | undefined,
    code: number | null = null,
    signal: NodeJS.Signals | null = null,
  ): MediaProcessError {
    const how = code !== null ? `exited with code ${code}` : signal !== null ? `was killed by ${signal}` : 'failed';
    const detail = line === undefined ? '' : `: ${oneLine(line)}`;
    return new MediaProcessError(this.tool, failure, `${this.tool} ${how}${detail}`, code, signal, this.stderrTail);
  }

  /** The tool's own reason: its last FAIL/FATAL line, else its first error line, else its last line. */
  private bestErrorLine(): string | undefined {
    const fatal = this.errorLines.filter((l) => /\b(FAIL|FATAL)\b/.test(l));
    if (fatal.length > 0) return fatal[fatal.length - 1];
    if (this.errorLines.length > 0) return this.errorLines[0];
    const lines = this.stderrTail.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
    return lines[lines.length - 1];
  }
}

/** Collapses a stderr line for a one-line message. */
function oneLine(text: string, max = 200): string {
  // Tools print colour codes and carriage returns (progress lines); a message stays one line.
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
