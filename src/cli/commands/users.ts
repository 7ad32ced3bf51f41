/**
 * `voxlite users add FILE USER [--realm R] [--password P]`: adds or replaces a subscriber in a
 * `--users` file, storing HA1 per algorithm (MD5, SHA-256), never the password (G30). Without
 * `--password` the password is read from the terminal (not echoed) or from one stdin line.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { UserDirectory, UsersFileError } from '../../proxy/users.js';
import { UsageError } from '../usage.js';

export const USERS_HELP = `usage: voxlite users add FILE USER [--realm REALM] [--password PASSWORD]

Adds (or replaces) USER in FILE (created if missing) with its HA1 hashes for MD5 and SHA-256;
the password itself is never stored. Without --password it is asked for (or read from stdin).
  --realm REALM   digest realm (default voxlite; use the server's --realm)`;

async function readPassword(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    const rl = createInterface({ input });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    return '';
  }
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve) => {
    let value = '';
    const onData = (chunk: Buffer): void => {
      for (const c of chunk.toString('utf8')) {
        if (c === '\r' || c === '\n' || c === '\u0004') {
          input.setRawMode(false);
          input.pause();
          input.off('data', onData);
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (c === '\u0003') process.exit(130);
        if (c === '\u007f') value = value.slice(0, -1);
        else value += c;
      }
    };
    input.on('data', onData);
  });
}

/** Runs `voxlite users …`; returns the exit code. @throws UsageError */
export async function runUsers(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { realm: { type: 'string' }, password: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) {
    out(USERS_HELP);
    return 0;
  }
  const [verb, file, user] = positionals;
  if (verb !== 'add' || file === undefined || user === undefined || positionals.length > 3) throw new UsageError('usage: voxlite users add FILE USER [--realm R] [--password P]');
  const realm = values.realm ?? 'voxlite';
  let directory: UserDirectory;
  try {
    directory = existsSync(file) ? UserDirectory.parse(readFileSync(file, 'utf8')) : new UserDirectory();
  } catch (error) {
    if (error instanceof UsersFileError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  const password = values.password ?? (await readPassword(`password for ${user}@${realm}: `));
  if (password.length === 0) throw new UsageError('empty password');
  try {
    directory.set(UserDirectory.record(user, realm, password));
  } catch (error) {
    if (error instanceof UsersFileError) throw new UsageError(error.message);
    throw error;
  }
  writeFileSync(file, directory.format(), { mode: 0o600 });
  out(`${user}@${realm} saved in ${file} (${directory.size} user${directory.size === 1 ? '' : 's'})`);
  return 0;
}
