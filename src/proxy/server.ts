/**
 * `voxlite server`: the built-in registrar and proxy (rtclite `server.py`'s `route()`, with
 * its gaps closed), location stores by name, and `--script` route modules that reload when
 * their file changes.
 *
 * The built-in route, per request (RFC 3261 §16, G15, G24, G31–G34):
 * 1. longer than 8192 octets → 513 (the original's step 2);
 * 2. OPTIONS to the server itself (no user part) → 200, a sipsak-style health check;
 * 3. REGISTER → to a local domain only (403); with users, digest (401), and only one's own AOR
 *    (403, G21); without users, To = From (403); then the registrar;
 * 4. two-stage farm (`--primary`): a first-stage server hands the user to its primary;
 * 5. with users, a request from a local From (G32), with a preloaded Route (G33), or to a
 *    foreign domain (G31) must authenticate (407); without users such requests are refused
 *    (403) rather than relayed;
 * 6. a remaining Route → loose routing; a local R-URI → the location service, forked with
 *    Record-Route (480 when nobody is registered); a foreign R-URI (authenticated) → proxied.
 */
import { createHash } from 'node:crypto';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Clock } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/log.js';
import { isSipUri, type SipUri, type Uri } from '../sip/uri.js';
import type { ListenerConfig } from '../transport/layer.js';
import { Agent, type AgentOptions } from './agent.js';
import { routeFromModule, type Handler, type Middleware, type RequestContext } from './context.js';
import { MemoryLocationStore } from './location/memory.js';
import { RedisLocationStore } from './location/redis.js';
import { SqliteLocationStore } from './location/sqlite.js';
import { canonicalAor, type LocationStore } from './location/store.js';
import type { UserDirectory } from './users.js';

/** The original's limit on a request's size (its `route()` step 2). */
export const MAX_MESSAGE_BYTES = 8192;

/** Two-stage farm membership (rtclite `-p`/`-s`). */
export interface FarmConfig {
  /** Primary servers, `host:port`, in the order every member was given. */
  readonly primary: readonly string[];
  /** Secondary servers (parsed, unused by routing, as in the original). */
  readonly secondary: readonly string[];
  /** Our position: `i+1` in primary, `-(i+1)` in secondary. */
  readonly index: number;
}

/** Options of {@link serverRoute}. */
export interface ServerRouteOptions {
  /** Subscribers; when given, REGISTER and outbound requests need digest credentials. */
  readonly users?: UserDirectory;
  /** Realm of the challenges. Default: the agent's realm. */
  readonly realm?: string;
  /** Requests above this many octets get 513. Default {@link MAX_MESSAGE_BYTES}. */
  readonly maxMessageBytes?: number;
  readonly farm?: FarmConfig;
}

/**
 * The farm index of a local address: position+1 in the primary list, -(position+1) in the
 * secondary list (the original treats `0.0.0.0` as `localhost`).
 * @throws RangeError when the address is in neither list.
 */
export function farmIndex(local: string, primary: readonly string[], secondary: readonly string[]): number {
  const names = [local, local.replace(/^0\.0\.0\.0:/, 'localhost:'), local.replace(/^0\.0\.0\.0:/, '127.0.0.1:')];
  const p = primary.findIndex((a) => names.includes(a));
  if (p >= 0) return p + 1;
  const s = secondary.findIndex((a) => names.includes(a));
  if (s >= 0) return -(s + 1);
  throw new RangeError(`the local address ${local} is in neither the primary nor the secondary list`);
}

/** A hash of the user part that every farm member computes alike (the original used Python 2's `hash`). */
export function farmHash(user: string): number {
  return createHash('sha1').update(user, 'latin1').digest().readUInt32BE(0);
}

function sameAddress(a: Uri, b: Uri): boolean {
  return isSipUri(a) && isSipUri(b) && a.user === b.user && a.host.toLowerCase() === b.host.toLowerCase();
}

/**
 * The built-in route of `voxlite server` (see the module comment), as middleware for `agent`.
 */
export function serverRoute(agent: Agent, options: ServerRouteOptions = {}): Handler {
  const users = options.users !== undefined && options.users.size > 0 ? options.users : undefined;
  const realm = options.realm ?? agent.realm;
  const maxBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;

  /** Authenticates or answers (400 for malformed credentials, G27; else the same challenge, G24). */
  const requireUser = async (ctx: RequestContext): Promise<string | undefined> => {
    const user = await ctx.authenticate(realm);
    if (user !== undefined) return user;
    if (ctx.authFailure === 'bad-params' || ctx.authFailure === 'uri-mismatch') ctx.reject(400, 'Bad Request (credentials)');
    else ctx.challenge(realm);
    return undefined;
  };

  const isLocalTarget = async (uri: Uri): Promise<boolean> => {
    if (agent.isLocalUri(uri)) return true;
    // No --domain: any domain we hold bindings for is ours (the original hosted every domain).
    if (agent.domains.length > 0 || !isSipUri(uri) || uri.user === null) return false;
    try {
      return (await agent.location.lookup(canonicalAor(uri))).length > 0;
    } catch {
      return false;
    }
  };

  return async (ctx) => {
    const request = ctx.request;
    if (ctx.bytes.length > maxBytes) return ctx.reject(513, 'Message Overflow');
    const ruri = ctx.uri;

    if (ctx.method === 'OPTIONS' && isSipUri(ruri) && ruri.user === null && (agent.isOwnUri(ruri) || agent.isLocalUri(ruri))) {
      return ctx.accept();
    }

    if (ctx.method === 'REGISTER') {
      const to = request.to().uri;
      if (!isSipUri(to)) return ctx.reject(400, 'Bad Request (to: not a SIP or SIPS URI)');
      // RFC 3261 §10.3 step 1: a registrar registers only its own domains.
      if (agent.domains.length > 0 && !agent.isLocalUri(to)) return ctx.reject(403, 'Unknown Domain');
      if (users !== undefined) {
        // G20: authenticate before any binding change, including `Contact: *`.
        const user = await requireUser(ctx);
        if (user === undefined) return;
        // G21: an authenticated user changes only its own AOR.
        if (to.user !== user) return ctx.reject(403, 'Forbidden (not your address-of-record)');
      } else if (!sameAddress(to, request.from().uri)) {
        return ctx.reject(403, 'Third-party Registration Forbidden');
      }
      return ctx.accept();
    }

    const routes = request.routes();
    const farm = options.farm;
    if (farm !== undefined && farm.index > 0 && farm.primary.length > 1 && routes.length === 0 && isSipUri(ruri) && ruri.user !== null) {
      const i = farmHash(ruri.user) % farm.primary.length;
      const target = farm.primary[i]!;
      if (i + 1 !== farm.index) {
        // Two-stage farm: the first stage hands the user to its second-stage server, without Record-Route.
        return ctx.proxy(rewriteHostPort(ruri, target));
      }
    }

    const from = request.from().uri;
    const fromLocal = isSipUri(from) && agent.domains.length > 0 && agent.isLocalUri(from);
    const toLocal = await isLocalTarget(ruri);
    const hasRoute = routes.length > 0;

    if (users !== undefined && (fromLocal || hasRoute || !toLocal)) {
      // G32: a local From is proven; G31/G33: relaying and preloaded routes need an account.
      const user = await requireUser(ctx);
      if (user === undefined) return;
      if (fromLocal && isSipUri(from) && from.user !== user) return ctx.reject(403, 'Forbidden (From is not you)');
    }
    if (ctx.user === undefined) {
      if (hasRoute) return ctx.reject(403, 'Forbidden (preloaded Route)'); // G33
      if (!toLocal) return ctx.reject(403, 'Relaying Denied'); // G31
    }
    if (hasRoute) return ctx.proxy(undefined, { recordRoute: ctx.method === 'INVITE' });
    if (toLocal) {
      const bindings = isSipUri(ruri) && ruri.user !== null ? await agent.location.lookup(canonicalAor(ruri)) : [];
      if (bindings.length === 0) return ctx.reject(480);
      return ctx.proxy(bindings, { recordRoute: true });
    }
    return ctx.proxy(undefined, { recordRoute: true });
  };
}

function rewriteHostPort(uri: SipUri, hostPort: string): string {
  const user = uri.user === null ? '' : `${uri.user}@`;
  const params = uri.params.map((p) => (p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`)).join('');
  return `${uri.scheme}:${user}${hostPort}${params}`;
}

// ---------------------------------------------------------------------------------------------
// Location stores by name

/**
 * Opens a location store from its `--location` spelling: `memory`, `sqlite:PATH`, or a
 * `redis://…` URL.
 * @throws TypeError for another spelling; the store's own errors when it cannot be opened.
 */
export async function openLocationStore(spec: string, clock?: Clock): Promise<LocationStore> {
  if (spec === 'memory') return new MemoryLocationStore(clock === undefined ? {} : { clock });
  if (spec.startsWith('sqlite:')) return new SqliteLocationStore({ path: spec.slice('sqlite:'.length) });
  if (spec.startsWith('redis://') || spec.startsWith('rediss://')) return RedisLocationStore.connect(spec);
  throw new TypeError(`--location must be memory, sqlite:PATH or redis://…, not "${spec}"`);
}

// ---------------------------------------------------------------------------------------------
// Route modules

let loadCount = 0;

/**
 * Imports a route module (its default export: a handler or an array of middleware and
 * handlers). TypeScript files go through tsx; every call imports a fresh copy, so an edited
 * file is really reloaded.
 * @throws TypeError when the module has no usable default export; the import's own errors.
 */
export async function loadRouteModule(path: string): Promise<(Handler | Middleware)[]> {
  const url = `${pathToFileURL(resolvePath(path)).href}?v=${++loadCount}`;
  let mod: unknown;
  if (/\.[cm]?ts$/.test(path)) {
    let api: typeof import('tsx/esm/api');
    try {
      api = await import('tsx/esm/api');
    } catch {
      throw new TypeError('loading a .ts route needs tsx (npm install tsx), or compile it to .js');
    }
    mod = await api.tsImport(url, import.meta.url);
  } else {
    mod = await import(url);
  }
  let exported = defaultOf(mod);
  // A .ts file outside an ESM package is loaded as CommonJS: its `export default` sits one level down.
  if (typeof exported === 'object' && exported !== null && !Array.isArray(exported)) exported = defaultOf(exported);
  return routeFromModule(exported);
}

function defaultOf(mod: unknown): unknown {
  return typeof mod === 'object' && mod !== null && 'default' in mod ? (mod as { default: unknown }).default : undefined;
}

// ---------------------------------------------------------------------------------------------
// The server

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Listeners (the `-t`/`-l` pairs). */
  readonly listen: readonly ListenerConfig[];
  /** Local domains (`-r`). */
  readonly domains?: readonly string[];
  readonly realm?: string;
  readonly users?: UserDirectory;
  /** Location store. Default: memory. */
  readonly location?: LocationStore;
  /** A route module to use instead of the built-in route; reloaded when the file changes. */
  readonly script?: string;
  readonly farm?: FarmConfig;
  readonly logger?: Logger;
  /** Anything else for the {@link Agent}. */
  readonly agent?: Omit<AgentOptions, 'listen' | 'domains' | 'realm' | 'users' | 'location' | 'logger'>;
}

/** A running server. */
export interface SipServer {
  readonly agent: Agent;
  /** Loads the script again (also done when the file changes). Rejects, keeping the old route, when it fails. */
  reload(): Promise<void>;
  /** Stops watching, closes the agent and the location store. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the agent with the built-in route or the `script`.
 * @throws what the listeners or the script throw at start.
 */
export async function startServer(options: ServerOptions): Promise<SipServer> {
  const logger = options.logger ?? silentLogger;
  const agent = new Agent({
    ...options.agent,
    listen: options.listen,
    logger,
    ...(options.domains === undefined ? {} : { domains: options.domains }),
    ...(options.realm === undefined ? {} : { realm: options.realm }),
    ...(options.users === undefined ? {} : { users: options.users.lookupHa1 }),
    ...(options.location === undefined ? {} : { location: options.location }),
  });
  const script = options.script;
  let watcher: { close(): void } | undefined;
  const reload = async (): Promise<void> => {
    if (script === undefined) return;
    const stack = await loadRouteModule(script);
    agent.setRoute(stack);
    logger.info('route script loaded', { script });
  };
  if (script === undefined) {
    agent.route(
      serverRoute(agent, {
        ...(options.users === undefined ? {} : { users: options.users }),
        ...(options.realm === undefined ? {} : { realm: options.realm }),
        ...(options.farm === undefined ? {} : { farm: options.farm }),
      }),
    );
  } else {
    await reload();
  }
  await agent.start();
  if (script !== undefined) {
    // Polling the file's stat survives editors that save by renaming (an inotify watch would
    // stay on the old inode); a changed mtime or size triggers one reload.
    const listener = (current: Stats, previous: Stats): void => {
      if (current.mtimeMs === previous.mtimeMs && current.size === previous.size) return;
      reload().catch((e: unknown) => logger.error('route script reload failed; keeping the previous route', { error: e instanceof Error ? e.message : String(e) }));
    };
    watchFile(script, { interval: 200, persistent: false }, listener);
    watcher = { close: () => unwatchFile(script, listener) };
  }
  let closing: Promise<void> | undefined;
  return {
    agent,
    reload,
    close: () => {
      closing ??= (async () => {
        watcher?.close();
        await agent.close();
        await agent.location.close();
      })();
      return closing;
    },
  };
}
