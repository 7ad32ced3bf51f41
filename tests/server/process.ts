/**
 * `voxlite server` as a real child process for end-to-end tests: a users file written by
 * `voxlite users add` (HA1 hashes only), UDP on a spare 127.0.0.1 port, bounded in time and
 * always killed. Its log (with `-d`, every request and decision) is kept for failure messages.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sparePort } from '../interop/lib/ports.js';
import { startPeer, type PeerProcess } from '../interop/lib/process.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface Account {
  readonly user: string;
  readonly password: string;
}

export interface ServerProcessOptions {
  /** Subscribers written with `voxlite users add` (none: no --users, no digest). */
  readonly users?: readonly Account[];
  /** `-r` local domain and `--realm` (default 127.0.0.1, the address peers register to). */
  readonly domain?: string;
  readonly realm?: string;
  /** `-d` debug logs (default true: they explain a failure). */
  readonly debug?: boolean;
  /**
   * Digest algorithms offered, in order (`voxlite server --digest-algorithms`). Default: the
   * CLI's own (SHA-256, MD5).
   */
  readonly digestAlgorithms?: readonly string[];
  /** Hard limit for the process (default 60 s). */
  readonly maxMs?: number;
}

export interface ServerProcess {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:PORT`, for --proxy and peers' registrar settings. */
  readonly hostPort: string;
  readonly domain: string;
  readonly realm: string;
  readonly usersFile: string | undefined;
  readonly process: PeerProcess;
  /** stdout and stderr of the server so far. */
  log(): string;
  /** SIGTERM (SIGKILL after 3 s), then removes the run dir; returns the exit code. Idempotent. */
  stop(): Promise<number | null>;
}

/** `voxlite users add FILE USER --realm REALM --password PASSWORD`. @throws when it fails. */
export function addUser(file: string, realm: string, account: Account): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'users', 'add', file, account.user, '--realm', realm, '--password', account.password], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.status !== 0) throw new Error(`voxlite users add ${account.user} failed (${String(r.status)}): ${r.stderr}${r.stdout}`);
}

/** Starts `voxlite server` on a spare UDP port of 127.0.0.1 and waits for its "listening" line. */
export async function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const host = '127.0.0.1';
  const domain = options.domain ?? host;
  const realm = options.realm ?? domain;
  const dir = mkdtempSync(join(tmpdir(), 'voxlite-server-'));
  let usersFile: string | undefined;
  try {
    if (options.users !== undefined && options.users.length > 0) {
      usersFile = join(dir, 'users.txt');
      for (const account of options.users) addUser(usersFile, realm, account);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // A spare port may be taken between the probe and the bind: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await sparePort(host);
    const args = ['-t', 'udp', '-l', `${host}:${port}`, '-r', domain, '--realm', realm];
    if (usersFile !== undefined) args.push('--users', usersFile);
    if (options.debug !== false) args.push('-d');
    const command =
      options.digestAlgorithms === undefined ? [main, 'server', ...args] : [main, 'server', '--digest-algorithms', options.digestAlgorithms.join(','), ...args];
    const proc = startPeer(process.execPath, ['--import', 'tsx', ...command], { maxMs: options.maxMs ?? 60_000 });
    try {
      await proc.waitFor(/listening \{"addresses":\["udp:127\.0\.0\.1:\d+"\]/, 15_000);
    } catch (error) {
      lastError = error;
      await proc.stop();
      continue;
    }
    let stopped: Promise<number | null> | undefined;
    return {
      host,
      port,
      hostPort: `${host}:${port}`,
      domain,
      realm,
      usersFile,
      process: proc,
      log: () => proc.output(),
      stop() {
        stopped ??= (async () => {
          proc.child.kill('SIGTERM');
          const code = await proc.exited(3000);
          rmSync(dir, { recursive: true, force: true });
          return code;
        })();
        return stopped;
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`voxlite server did not start: ${String(lastError)}`);
}
