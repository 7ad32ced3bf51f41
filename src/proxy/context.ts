/**
 * The request context a routing handler acts on (the seed's `IncomingEvent` with its
 * `event.action` methods): what arrived, from where, and the five actions — `accept`, `reject`,
 * `proxy`, `redirect`, `challenge` — of which a handler calls exactly one (STYLE §13).
 *
 * Handlers and middleware are plain functions over a context, composed in order:
 *
 * ```ts
 * export default [
 *   requireDigest(),                                   // 401/407 unless credentials verify
 *   onMethod('REGISTER', (ctx) => ctx.accept()),        // the registrar
 *   (ctx) => ctx.proxy(undefined, { recordRoute: true }),
 * ] satisfies RouteModule;
 * ```
 */
import type { Logger } from '../core/log.js';
import type { DigestFailureReason, DigestServer } from '../auth/server.js';
import { parseAuthHeader, type AuthHeaderValue } from '../sip/auth-header.js';
import { formatAuthHeader } from '../sip/auth-header.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import type { Uri } from '../sip/uri.js';
import { parseUri } from '../sip/uri.js';
import type { Flow, TransportAddress, TransportProtocol } from '../transport/transport.js';
import type { Binding, LocationStore } from './location/store.js';

/** Something {@link RequestContext.proxy} can send to: a URI (text or parsed) or a location binding. */
export type ProxyTarget = string | Uri | Binding;

/** What the serial fallback of {@link ProxyOptions.onFailure} is told. */
export interface FailureInfo {
  /** True when {@link ProxyOptions.timeoutMs} ended the attempt ("no answer"). */
  readonly timedOut: boolean;
}

/** Options of {@link RequestContext.proxy}. */
export interface ProxyOptions {
  /**
   * Insert our Record-Route (`<sip:host:port;transport=x;lr>`, two of them when the request
   * changes transport, RFC 5658) so in-dialog requests come back through us (RFC 3261 §16.6
   * step 4). Default false, as in the original `proxy(recordRoute=False)`.
   */
  readonly recordRoute?: boolean;
  /**
   * "No answer" time in ms: when no 2xx arrived by then, every pending branch is cancelled
   * (RFC 3261 §16.7 / §9.1) and the attempt counts as a 408 for {@link onFailure}. Default: none
   * (only Timer C, RFC 3261 §16.8, bounds a branch).
   */
  readonly timeoutMs?: number;
  /**
   * Serial forking (RFC 3261 §16.6 "sequential search"): called with the best final failure
   * response (§16.7 step 6) before it is sent upstream. Returning targets starts a new round
   * of branches in the same response context instead — "voicemail on busy or no answer".
   * Not called after a 6xx (§16.7 step 5: no new branches) nor after the caller's CANCEL.
   */
  readonly onFailure?: (
    response: SipResponse,
    info: FailureInfo,
  ) => readonly ProxyTarget[] | ProxyTarget | undefined | Promise<readonly ProxyTarget[] | ProxyTarget | undefined>;
}

/** Options of {@link RequestContext.challenge}. */
export interface ChallengeOptions {
  /** Force `stale=true` (RFC 7616 §3.3). Default: true when {@link RequestContext.authenticate} found a stale nonce. */
  readonly stale?: boolean;
}

/** Options of {@link RequestContext.reject}. */
export interface RejectOptions {
  /** Extra header fields of the response (e.g. `Retry-After`, `Warning`). */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

/** Which action a context took. */
export type ContextAction = 'accept' | 'reject' | 'proxy' | 'redirect' | 'challenge';

/**
 * What a context needs from its agent. The {@link Agent} provides it; tests may provide their own.
 * @internal
 */
export interface ContextHost {
  readonly location: LocationStore;
  readonly logger: Logger;
  /** Realm used when `challenge()`/`authenticate()` are called without one. */
  readonly defaultRealm: string;
  /** The digest verifier for a realm. */
  digestServer(realm: string): DigestServer;
  /** Sends a final (or provisional) response on the request's server transaction. */
  respond(ctx: RequestContext, status: number, options?: { reason?: string; headers?: ReadonlyArray<readonly [string, string]> }): SipResponse;
  /** REGISTER through the registrar (RFC 3261 §10.3). */
  register(ctx: RequestContext): Promise<SipResponse>;
  /** Stateful forwarding (RFC 3261 §16). */
  forward(ctx: RequestContext, targets: readonly ProxyTarget[] | undefined, options: ProxyOptions): Promise<SipResponse>;
  /** Whether a URI is in one of our domains or names this server. */
  isLocalUri(uri: Uri): boolean;
  /** Bindings of the Request-URI when it is ours, for `redirect()` without contacts. */
  lookupLocal(uri: Uri): Promise<Binding[] | undefined>;
}

/** Thrown when a handler calls a second action on one context (STYLE §13: exactly one). */
export class ContextActionError extends Error {
  readonly code = 'PROXY_ERR_SECOND_ACTION';
  constructor(
    readonly first: ContextAction,
    readonly second: ContextAction,
  ) {
    super(`this request was already handled by ${first}(); ${second}() is a second action`);
  }
}

/** What the agent knows about a request besides its text. */
export interface ContextInit {
  readonly request: SipRequest;
  readonly source: TransportAddress;
  readonly flow: Flow;
  /** The octets as received (the original's `len(str(event))` checks). */
  readonly bytes: Buffer;
  /** Whether a Route naming this proxy was removed (RFC 3261 §16.4; the original's `had_lr`). */
  readonly hadOwnRoute: boolean;
  /** Aborted when a CANCEL for this INVITE arrives (RFC 3261 §16.10). */
  readonly cancellation: Cancellation;
}

/** The abort signal of a request, made only when someone asks for it. */
export interface Cancellation {
  readonly signal: AbortSignal;
  readonly aborted: boolean;
}

/**
 * A {@link Cancellation} whose `AbortController` is created on first use of `signal`: nearly
 * every request ends without anyone looking at it, and a controller per request was a visible
 * share of a busy server's time.
 */
export class LazyCancellation implements Cancellation {
  private controller: AbortController | undefined;
  private abortedWith: { readonly reason: unknown } | undefined;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortedWith !== undefined) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  abort(reason: unknown): void {
    if (this.abortedWith !== undefined) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
  }
}

/**
 * One incoming request, handed to the route. Read it (`method`, `uri`, `request`, `source`,
 * `transport`), maybe `await authenticate()`, then call exactly one action. A second action
 * throws {@link ContextActionError}; no action at all gets `501 Not Implemented`.
 */
export class RequestContext {
  /** The request as received (after our own Route was removed, RFC 3261 §16.4). Typed header accessors: `request.from()`, `request.routes()`… */
  readonly request: SipRequest;
  /** Where it really came from (after Via received/rport). */
  readonly source: TransportAddress;
  /** The flow (connection) it arrived on (RFC 5626 §3). */
  readonly flow: Flow;
  /** The octets as received. */
  readonly bytes: Buffer;
  /** Whether a Route naming this proxy was removed from it (the original's `had_lr`). */
  readonly hadOwnRoute: boolean;
  /** Free space for middleware to pass values along (e.g. an account looked up once). */
  readonly state: Record<string, unknown> = {};
  private readonly host: ContextHost;
  private taken: ContextAction | undefined;
  private verified: Promise<string | undefined> | undefined;
  private authUser: string | undefined;
  private failure: DigestFailureReason | undefined;
  private staleNonce = false;
  private parsedUri: Uri | undefined;
  private readonly cancellation: Cancellation;

  /** @internal Created by the agent for each request. */
  constructor(host: ContextHost, init: ContextInit) {
    this.host = host;
    this.request = init.request;
    this.source = init.source;
    this.flow = init.flow;
    this.bytes = init.bytes;
    this.hadOwnRoute = init.hadOwnRoute;
    this.cancellation = init.cancellation;
  }

  /** Aborted when the caller CANCELs this INVITE, or the agent closes. */
  get signal(): AbortSignal {
    return this.cancellation.signal;
  }

  /** @internal Whether the request was cancelled, without making its signal. */
  get cancelled(): boolean {
    return this.cancellation.aborted;
  }

  /** The method (case-sensitive, RFC 3261 §7.1). */
  get method(): string {
    return this.request.method;
  }

  /**
   * The Request-URI, parsed. The user part stays %-escaped and opaque (G35): compare it, do not
   * splice it into commands.
   * @throws SipParseError when the Request-URI does not parse.
   */
  get uri(): Uri {
    this.parsedUri ??= parseUri(this.request.uri);
    return this.parsedUri;
  }

  /** The transport the request arrived over. */
  get transport(): TransportProtocol {
    return this.source.protocol;
  }

  /** Whether the Request-URI is in one of our domains or names this server (false when it does not parse). */
  get local(): boolean {
    try {
      return this.host.isLocalUri(this.uri);
    } catch {
      return false;
    }
  }

  /** The location service (bindings of registered users). */
  get location(): LocationStore {
    return this.host.location;
  }

  /** The logger of the agent, for scripts. */
  get logger(): Logger {
    return this.host.logger;
  }

  /** The action taken so far, if any. */
  get action(): ContextAction | undefined {
    return this.taken;
  }

  /** Whether an action was taken. */
  get acted(): boolean {
    return this.taken !== undefined;
  }

  /** The user `authenticate()` verified, if it did. */
  get user(): string | undefined {
    return this.authUser;
  }

  /**
   * Why `authenticate()` refused the credentials. `bad-params` and `uri-mismatch` deserve a 400
   * (G27); everything else the same challenge (G24). Never tell the peer.
   */
  get authFailure(): DigestFailureReason | undefined {
    return this.failure;
  }

  /**
   * Verifies the digest credentials for `realm` (RFC 3261 §22): `Authorization` on REGISTER,
   * `Proxy-Authorization` on anything else. Resolves with the user name, or undefined (see
   * {@link authFailure}). The result is cached per context. Takes no action.
   */
  authenticate(realm: string = this.host.defaultRealm): Promise<string | undefined> {
    this.verified ??= this.verify(realm);
    return this.verified;
  }

  /**
   * REGISTER: hands the request to the registrar (RFC 3261 §10.3) under its To AOR — authorise
   * the sender first (G20, G21). Other methods: `200 OK`, with one Contact per given contact and
   * an Expires header (the request's, else 3600), as the original `accept(contacts)`.
   * @throws {@link ContextActionError} when an action was already taken.
   */
  async accept(contacts?: readonly (string | Binding)[]): Promise<void> {
    this.take('accept');
    if (this.method === 'REGISTER' && contacts === undefined) {
      await this.host.register(this);
      return;
    }
    const headers: Array<readonly [string, string]> = [];
    for (const c of contacts ?? []) headers.push(['Contact', contactValue(c)]);
    if (headers.length > 0) headers.push(['Expires', this.request.headers.get('expires') ?? '3600']);
    this.host.respond(this, 200, { headers });
  }

  /**
   * Answers with a final error response.
   * @throws RangeError when `code` is not 300–699; {@link ContextActionError} on a second action.
   */
  reject(code: number, reason?: string, options: RejectOptions = {}): void {
    if (!Number.isInteger(code) || code < 300 || code > 699) throw new RangeError(`reject() takes a status 300..699, got ${code}`);
    this.take('reject');
    this.host.respond(this, code, {
      ...(reason === undefined ? {} : { reason }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
  }

  /**
   * Forwards the request statefully (RFC 3261 §16) to every target in parallel. With no
   * targets: the Route set when the request still has one (loose routing), else the bindings of
   * the Request-URI when it is one of ours (480 when there are none), else the Request-URI
   * itself. Resolves with the final response sent upstream.
   * @throws {@link ContextActionError} on a second action.
   */
  proxy(targets?: ProxyTarget | readonly ProxyTarget[], options: ProxyOptions = {}): Promise<SipResponse> {
    this.take('proxy');
    const list = targets === undefined ? undefined : isTargetList(targets) ? targets : [targets];
    return this.host.forward(this, list, options);
  }

  /**
   * `302 Moved Temporarily` with one Contact per target (RFC 3261 §8.3, §21.3.3); with none,
   * the bindings of the Request-URI (480 when it has none or is not ours).
   * @throws {@link ContextActionError} on a second action.
   */
  async redirect(contacts?: readonly (string | Binding)[]): Promise<void> {
    this.take('redirect');
    let list = contacts;
    if (list === undefined) {
      const bindings = await this.host.lookupLocal(this.uri);
      if (bindings === undefined || bindings.length === 0) {
        this.host.respond(this, 480);
        return;
      }
      list = bindings;
    }
    this.host.respond(this, 302, { headers: list.map((c) => ['Contact', contactValue(c)] as const) });
  }

  /**
   * Digest challenge (RFC 3261 §22.1): `401` + WWW-Authenticate for REGISTER, `407` +
   * Proxy-Authenticate otherwise, one challenge per offered algorithm (G28). Stateless: nothing is
   * kept per challenge (the nonce is a MAC, G25), so a flood of requests costs no memory.
   * @throws {@link ContextActionError} on a second action.
   */
  challenge(realm: string = this.host.defaultRealm, options: ChallengeOptions = {}): void {
    this.take('challenge');
    const server = this.host.digestServer(realm);
    const stale = options.stale ?? this.staleNonce;
    const registrar = this.method === 'REGISTER';
    const name = registrar ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    const headers = server.challenge({ stale }).map((c) => [name, formatAuthHeader(c)] as const);
    this.host.respond(this, registrar ? 401 : 407, { headers });
  }

  /** @internal Marks the context as acted on by the agent itself (501/500 defaults, core routing). */
  claim(action: ContextAction): boolean {
    if (this.taken !== undefined) return false;
    this.taken = action;
    return true;
  }

  private take(action: ContextAction): void {
    if (this.taken !== undefined) throw new ContextActionError(this.taken, action);
    this.taken = action;
  }

  private async verify(realm: string): Promise<string | undefined> {
    const header = this.method === 'REGISTER' ? 'authorization' : 'proxy-authorization';
    const credentials: AuthHeaderValue[] = [];
    let values: string[];
    try {
      values = this.request.headers.getAll(header);
    } catch {
      this.failure = 'bad-params';
      return undefined;
    }
    for (const value of values) {
      try {
        credentials.push(parseAuthHeader(value, header));
      } catch {
        this.failure = 'bad-params';
        return undefined;
      }
    }
    const result = await this.host.digestServer(realm).verify({
      method: this.method,
      requestUri: this.request.uri,
      credentials,
      body: this.request.body,
    });
    if (result.ok) {
      this.authUser = result.username;
      this.failure = undefined;
      return result.username;
    }
    this.failure = result.reason;
    this.staleNonce = result.stale === true;
    return undefined;
  }
}

function isTargetList(value: ProxyTarget | readonly ProxyTarget[]): value is readonly ProxyTarget[] {
  return Array.isArray(value);
}

/** A Contact header value for a URI or a binding (with its remaining time unknown here). */
function contactValue(c: string | Binding): string {
  if (typeof c !== 'string') return `<${c.contact}>`;
  return c.includes('<') ? c : `<${c}>`;
}

// ---------------------------------------------------------------------------------------------
// Composition

/** A route handler: inspects the context and (usually) calls one action. */
export type Handler = (ctx: RequestContext) => Promise<unknown> | unknown;

/** Middleware: may act, or call `next()` to pass the request on (drachtio `next()`, undici `compose`). */
export type Middleware = (ctx: RequestContext, next: () => Promise<void>) => Promise<unknown> | unknown;

/**
 * What a `--script` module exports by default: one handler, or a list of middleware and
 * handlers. (A handler `(ctx) => …` is a {@link Middleware} that ignores `next`, so one type
 * covers both and gives each element's parameters their types.)
 */
export type RouteModule = Middleware | readonly Middleware[];

/**
 * A handler as middleware: it runs, and when it took no action the next one runs. A function
 * declaring two parameters `(ctx, next)` is taken to be middleware already (as Express does).
 */
export function toMiddleware(fn: Handler | Middleware): Middleware {
  if (fn.length >= 2) return fn as Middleware;
  const handler = fn as Handler;
  return async (ctx, next) => {
    await handler(ctx);
    if (!ctx.acted) await next();
  };
}

/**
 * Composes middleware in order into one handler. Calling `next()` twice from one middleware is
 * a bug and rejects.
 */
export function compose(stack: readonly (Handler | Middleware)[]): (ctx: RequestContext) => Promise<void> {
  const list = stack.map(toMiddleware);
  return async (ctx) => {
    let index = -1;
    const run = async (i: number): Promise<void> => {
      if (i <= index) throw new Error('next() called twice');
      index = i;
      const fn = list[i];
      if (fn === undefined) return;
      await fn(ctx, () => run(i + 1));
    };
    await run(0);
  };
}

/** Normalises a `--script` module's default export to a middleware list. @throws TypeError otherwise. */
export function routeFromModule(value: unknown): (Handler | Middleware)[] {
  if (typeof value === 'function') return [value as Handler | Middleware];
  if (Array.isArray(value) && value.every((v) => typeof v === 'function')) return [...(value as (Handler | Middleware)[])];
  throw new TypeError('a route module must export (default) a handler function or an array of middleware');
}

/** Runs `handler` only for requests of `method` (case-sensitive); others pass on. */
export function onMethod(method: string, handler: Handler): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== method) return next();
    await handler(ctx);
    if (!ctx.acted) await next();
  };
}

/**
 * Challenges (401/407) every request whose digest credentials do not verify, and answers 400
 * for malformed credentials (G27); passes authenticated requests on with `ctx.user` set.
 */
export function requireDigest(options: { readonly realm?: string } = {}): Middleware {
  return async (ctx, next) => {
    const user = await ctx.authenticate(options.realm);
    if (user !== undefined) return next();
    if (ctx.authFailure === 'bad-params' || ctx.authFailure === 'uri-mismatch') return ctx.reject(400, 'Bad Request (credentials)');
    ctx.challenge(options.realm);
  };
}
