/**
 * `voxlite server` for the server bench: the same steps as `runServer` in
 * src/cli/commands/server.ts (parseServerArgs, the users file, the memory location store,
 * startServer with the built-in route, an info-level line logger), with one difference: the
 * digest challenge offers MD5 first. SIPp 3.6.1 answers only the first WWW-Authenticate and
 * only knows MD5, while voxlite's default order is SHA-256, MD5 (both are still offered, so
 * the 401 costs what it costs by default). Prints `ready` on stdout once listening; stops on
 * SIGTERM/SIGINT.
 *
 * Usage: node --import tsx bench/server/voxlite-server.ts [voxlite server options]
 */
import { readFileSync } from 'node:fs';
import { parseServerArgs } from '../../src/cli/commands/server.js';
import { createLineLogger } from '../../src/core/log.js';
import { openLocationStore, startServer } from '../../src/proxy/server.js';
import { UserDirectory } from '../../src/proxy/users.js';

const command = parseServerArgs(process.argv.slice(2));
const users = command.usersFile === undefined ? undefined : UserDirectory.parse(readFileSync(command.usersFile, 'utf8'));
const logger = createLineLogger({ name: 'voxlite.server', level: command.verbose ? 'debug' : 'info' });
const server = await startServer({
  listen: command.listen,
  domains: command.domains,
  location: await openLocationStore(command.location),
  logger,
  agent: { digestAlgorithms: ['MD5', 'SHA-256'] },
  ...(command.realm === undefined ? {} : { realm: command.realm }),
  ...(users === undefined ? {} : { users }),
});
process.stdout.write('ready\n');
await new Promise<void>((resolve) => {
  process.once('SIGTERM', () => resolve());
  process.once('SIGINT', () => resolve());
});
await server.close();
// process.exit (not a natural end) so that `--cpu-prof` still writes its profile promptly.
process.exit(0);
