/**
 * The `voxlite` command. Each subcommand is a thin layer over the library: argv in, library
 * calls, human or JSON output. Usage errors print one line and exit with code 2.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { dumpMessage, dumpParseError, parseMessage, SipParseError, StreamParser } from '../sip/index.js';
import { runCaller } from './commands/caller.js';
import { runDemo } from './commands/demo.js';
import { runServer } from './commands/server.js';
import { runUsers } from './commands/users.js';
import { UsageError } from './usage.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const USAGE = `usage: voxlite <command> [options]

commands:
  demo              two endpoints on loopback: register, call, play speech, DTMF, a message,
                    hang up, and the call-quality report (no server or sound card needed)
  caller [options]  the SIP endpoint: register, call, chat, DTMF, play/record audio
                    (voxlite caller --help lists every option)
  server [options]  SIP registrar and proxy, scriptable in TypeScript (--script route.ts)
                    (voxlite server --help lists every option)
  users add FILE USER [--realm R] [--password P]
                    add a subscriber to a --users file (stores HA1 hashes, never the password)
  parse [FILE...]   parse SIP messages (a file, or stdin when no file is given) and print each
                    as JSON; a rejected message prints the status a server would answer
                      --stream   treat the input as a TCP stream of Content-Length framed messages
                                 (default: each file is one UDP datagram)
  help              show this help
  version           print the version

Exit codes: 0 success, 1 a message was rejected, 2 usage error.`;


function readInput(file: string | undefined): Buffer {
  if (file === undefined || file === '-') return readFileSync(0);
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`cannot read ${file}: ${code}`);
  }
}

function runParse(args: string[], out: (line: string) => void): number {
  const { values, positionals } = parseArgs({
    args,
    options: { stream: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const files = positionals.length > 0 ? positionals : [undefined];
  let status = EXIT_OK;
  for (const file of files) {
    const bytes = readInput(file);
    const source = file ?? 'stdin';
    if (values.stream) {
      const parser = new StreamParser();
      for (const event of parser.push(bytes)) {
        if (event.type === 'message') out(JSON.stringify({ source, ...dumpMessage(event.message) }));
        else if (event.type === 'error') {
          status = EXIT_FAILURE;
          out(JSON.stringify({ source, ...dumpParseError(event.error), fatal: event.fatal }));
        }
      }
      if (parser.buffered > 0) {
        status = EXIT_FAILURE;
        out(JSON.stringify({ source, error: { kind: 'incomplete', octets: parser.buffered } }));
      }
      continue;
    }
    try {
      out(JSON.stringify({ source, ...dumpMessage(parseMessage(bytes)) }));
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
      status = EXIT_FAILURE;
      out(JSON.stringify({ source, ...dumpParseError(error), message: error.message, answer: `${error.status} ${error.reason}` }));
    }
  }
  return status;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'caller':
        return await runCaller(rest);
      case 'demo':
        return await runDemo(rest, out);
      case 'parse':
        return runParse(rest, out);
      case 'server':
        return await runServer(rest);
      case 'users':
        return await runUsers(rest, out);
      case 'version':
      case '--version':
        out(version());
        return EXIT_OK;
      case 'help':
      case '--help':
      case '-h':
      case undefined:
        out(USAGE);
        return command === undefined ? EXIT_USAGE : EXIT_OK;
      default:
        throw new UsageError(`unknown command "${command}" (try: voxlite help)`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`voxlite: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

const invokedDirectly = process.argv[1] !== undefined && /(voxlite(\.js)?|main\.(ts|js))$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Sockets and child processes are closed by now; don't let a stray handle keep us alive.
      setTimeout(() => process.exit(code), 200).unref();
    },
    (error: unknown) => {
      process.stderr.write(`voxlite: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
