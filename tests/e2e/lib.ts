/** Running `voxlite caller` processes for end-to-end tests (127.0.0.1 only, bounded in time). */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** JSON events printed so far (with --json). */
  events(): Array<Record<string, unknown> & { event: string }>;
  waitForEvent(name: string, timeoutMs?: number, predicate?: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  type(line: string): void;
  endInput(): void;
  /** Resolves with the exit code, and how long after `since` (ms) the process ended. */
  exited(timeoutMs?: number): Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<ChildProcessWithoutNullStreams>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function voxlite(args: readonly string[], options: { maxMs?: number } = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    for (const w of [...waiters]) w();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString('utf8');
    for (const w of [...waiters]) w();
  });
  const exit = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      for (const w of [...waiters]) w();
      resolve(code ?? (signal === null ? null : 128));
    });
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), options.maxMs ?? 60_000);
  guard.unref();
  void exit.then(() => clearTimeout(guard));
  const events = (): Array<Record<string, unknown> & { event: string }> =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown> & { event: string });
  const waitUntil = (check: () => boolean, what: string, timeoutMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const test = (): void => {
        if (check()) {
          done();
          resolve();
        } else if (child.exitCode !== null) {
          done();
          reject(new Error(`process exited (${child.exitCode}) before ${what}\nstdout:\n${out.slice(-3000)}\nstderr:\n${err.slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timeout waiting for ${what}\nstdout:\n${out.slice(-3000)}\nstderr:\n${err.slice(-3000)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(test);
      };
      waiters.add(test);
      test();
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    events,
    async waitForEvent(name, timeoutMs = 15_000, predicate = () => true) {
      let found: Record<string, unknown> | undefined;
      await waitUntil(
        () => {
          found = events().find((e) => e.event === name && predicate(e));
          return found !== undefined;
        },
        `event ${name}`,
        timeoutMs,
      );
      return found!;
    },
    waitForOutput(pattern, timeoutMs = 15_000) {
      return waitUntil(() => pattern.test(out) || pattern.test(err), String(pattern), timeoutMs);
    },
    type(line) {
      child.stdin.write(line + '\n');
    },
    endInput() {
      child.stdin.end();
    },
    async exited(timeoutMs = 30_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
    kill(signal = 'SIGTERM') {
      child.kill(signal);
    },
  };
}

/** Whether a binary is on PATH. */
export function has(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}
