/**
 * `voxlite server`: rtclite's `server.py` options (`-d`, `-t`/`-l` pairs, `-r`, `-p`, `-s`)
 * plus `--users`, `--realm`, `--location`, `--script`, `--tls-cert`/`--tls-key`. Runs until
 * SIGINT/SIGTERM. Usage errors exit 2.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLineLogger } from '../../core/log.js';
import { openLocationStore, startServer, farmIndex, type FarmConfig } from '../../proxy/server.js';
import { UserDirectory, UsersFileError } from '../../proxy/users.js';
import type { ListenerConfig } from '../../transport/layer.js';
import type { TransportProtocol } from '../../transport/transport.js';
import { UsageError } from '../usage.js';
import { parseDigestAlgorithm, type DigestAlgorithm } from '../../auth/digest.js';

export const SERVER_HELP = `usage: voxlite server [options]

A SIP registrar and stateful proxy (RFC 3261 §10, §16), scriptable in TypeScript.

rtclite options:
  -d, --verbose              debug logs
  -t, --transport TYPE       udp, tcp, tls, ws or wss (repeatable; default udp)
  -l, --local HOST:PORT      listen address, one per -t in the same order (default 0.0.0.0:5060)
  -r, --domain DOMAIN        a local domain (repeatable; default: any domain with bindings)
  -p, --primary HOST:PORT    primary farm server (repeatable; two-stage farm when more than one)
  -s, --secondary HOST:PORT  secondary farm server (repeatable)
  --test                     exit at once

voxlite additions:
  --users FILE               subscribers (user:realm:ha1md5:ha1sha256 lines, or JSON); enables digest
  --realm REALM              digest realm (default: the first domain, else voxlite)
  --location SPEC            memory (default), sqlite:PATH or redis://HOST:PORT
  --script FILE              route module (default export: handler or middleware array); reloaded on change
  --tls-cert FILE            PEM certificate for tls/wss listeners (with --tls-key)
  --tls-key FILE             PEM key
  --digest-algorithms LIST   challenges offered, preferred first (default SHA-256,MD5; baresip 1.0
                             needs MD5 alone: it gives up on the first challenge it cannot answer)

Example: voxlite server -t udp -l 127.0.0.1:5060 -t tcp -l 127.0.0.1:5060 -r example.com --users users.txt`;

const OPTIONS = {
  verbose: { type: 'boolean', short: 'd' },
  test: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  transport: { type: 'string', short: 't', multiple: true },
  local: { type: 'string', short: 'l', multiple: true },
  domain: { type: 'string', short: 'r', multiple: true },
  primary: { type: 'string', short: 'p', multiple: true },
  secondary: { type: 'string', short: 's', multiple: true },
  users: { type: 'string' },
  realm: { type: 'string' },
  location: { type: 'string' },
  script: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'digest-algorithms': { type: 'string' },
} as const;

const TRANSPORTS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

/** `HOST:PORT` or `[v6]:PORT` into a host and port. @throws UsageError */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port < 65536)) throw new UsageError(`bad address "${text}" (expected HOST:PORT)`);
  return { host: m[1] ?? m[2] ?? '', port };
}

/** The parsed command line. */
export interface ServerCommand {
  readonly listen: ListenerConfig[];
  readonly verbose: boolean;
  readonly test: boolean;
  readonly help: boolean;
  readonly domains: string[];
  readonly realm?: string;
  readonly usersFile?: string;
  readonly location: string;
  readonly script?: string;
  readonly farm?: FarmConfig;
  /** Challenges offered, in preference order (RFC 8760 §2.4). */
  readonly digestAlgorithms?: DigestAlgorithm[];
}

/** Parses `voxlite server` arguments. @throws UsageError */
export function parseServerArgs(argv: readonly string[]): ServerCommand {
  const { values: v } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true });
  const transports = v.transport ?? ['udp'];
  const locals = v.local ?? ['0.0.0.0:5060'];
  if (transports.length !== locals.length) {
    throw new UsageError(`each -t/--transport needs one -l/--local (got ${transports.length} and ${locals.length})`);
  }
  let tls: { cert: string; key: string } | undefined;
  if (v['tls-cert'] !== undefined || v['tls-key'] !== undefined) {
    if (v['tls-cert'] === undefined || v['tls-key'] === undefined) throw new UsageError('--tls-cert and --tls-key go together');
    try {
      tls = { cert: readFileSync(v['tls-cert'], 'utf8'), key: readFileSync(v['tls-key'], 'utf8') };
    } catch (error) {
      throw new UsageError(`cannot read the TLS files: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  const listen: ListenerConfig[] = transports.map((t, i) => {
    const protocol = t.toLowerCase() as TransportProtocol;
    if (!TRANSPORTS.includes(protocol)) throw new UsageError(`unknown transport "${t}" (udp, tcp, tls, ws, wss)`);
    const { host, port } = parseHostPort(locals[i]!);
    if ((protocol === 'tls' || protocol === 'wss') && tls === undefined) throw new UsageError(`a ${protocol} listener needs --tls-cert and --tls-key`);
    return { protocol, host, port, ...(protocol === 'tls' || protocol === 'wss' ? { tls: tls! } : {}) };
  });
  const primary = v.primary ?? [];
  const secondary = v.secondary ?? [];
  let farm: FarmConfig | undefined;
  if (primary.length > 0 || secondary.length > 0) {
    try {
      farm = { primary, secondary, index: farmIndex(locals[0]!, primary, secondary) };
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  }
  let digestAlgorithms: DigestAlgorithm[] | undefined;
  if (v['digest-algorithms'] !== undefined) {
    digestAlgorithms = [];
    for (const name of v['digest-algorithms'].split(',').map((n) => n.trim()).filter((n) => n !== '')) {
      const algorithm = parseDigestAlgorithm(name);
      if (algorithm === undefined) throw new UsageError(`--digest-algorithms: unknown algorithm "${name}" (MD5, SHA-256, SHA-512-256, and -sess forms)`);
      digestAlgorithms.push(algorithm);
    }
    if (digestAlgorithms.length === 0) throw new UsageError('--digest-algorithms needs at least one algorithm');
  }
  return {
    listen,
    verbose: v.verbose ?? false,
    test: v.test ?? false,
    help: v.help ?? false,
    domains: v.domain ?? [],
    location: v.location ?? 'memory',
    ...(v.realm === undefined ? {} : { realm: v.realm }),
    ...(v.users === undefined ? {} : { usersFile: v.users }),
    ...(v.script === undefined ? {} : { script: v.script }),
    ...(farm === undefined ? {} : { farm }),
    ...(digestAlgorithms === undefined ? {} : { digestAlgorithms }),
  };
}

/**
 * Runs `voxlite server` until SIGINT/SIGTERM (or `signal`). Returns the exit code.
 * @throws UsageError for bad arguments or an unreadable users file.
 */
export async function runServer(argv: readonly string[], options: { readonly signal?: AbortSignal; readonly onReady?: (addresses: string[]) => void } = {}): Promise<number> {
  const command = parseServerArgs(argv);
  if (command.help) {
    process.stdout.write(SERVER_HELP + '\n');
    return 0;
  }
  if (command.test) return 0;
  let users: UserDirectory | undefined;
  if (command.usersFile !== undefined) {
    try {
      users = UserDirectory.parse(readFileSync(command.usersFile, 'utf8'));
    } catch (error) {
      if (error instanceof UsersFileError) throw new UsageError(`${command.usersFile}: ${error.message}`);
      throw new UsageError(`cannot read ${command.usersFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  const logger = createLineLogger({ name: 'voxlite.server', level: command.verbose ? 'debug' : 'info' });
  let location;
  try {
    location = await openLocationStore(command.location);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const server = await startServer({
    listen: command.listen,
    domains: command.domains,
    location,
    logger,
    ...(command.realm === undefined ? {} : { realm: command.realm }),
    ...(users === undefined ? {} : { users }),
    ...(command.script === undefined ? {} : { script: command.script }),
    ...(command.farm === undefined ? {} : { farm: command.farm }),
    ...(command.digestAlgorithms === undefined ? {} : { agent: { digestAlgorithms: command.digestAlgorithms } }),
  });
  const addresses = command.listen.map((l) => {
    const a = server.agent.localAddress(l.protocol);
    return a === undefined ? `${l.protocol}:?` : `${l.protocol}:${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  });
  logger.info('listening', { addresses, domains: command.domains, users: users?.size ?? 0, location: command.location });
  options.onReady?.(addresses);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    options.signal?.addEventListener('abort', stop, { once: true });
  });
  await server.close();
  return 0;
}
