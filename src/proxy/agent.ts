/**
 * The programmable SIP server's listening endpoint (the seed's `sipapi.Agent`): it owns a
 * transport layer (UDP/TCP/TLS/WS/WSS listeners) and a transaction layer, runs the stateful
 * proxy core ({@link Forwarder}), and hands every new request — except CANCEL (RFC 3261
 * §16.10, handled here) and the ACK for a 2xx (forwarded statelessly by route) — to the route
 * as a {@link RequestContext}.
 *
 * ```ts
 * const agent = new Agent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 5060 }], domains: ['example.com'] });
 * agent.attach('incoming', async (ctx) => {
 *   if (ctx.method === 'REGISTER') return ctx.accept();
 *   return ctx.proxy(undefined, { recordRoute: true });
 * });
 * await agent.start();
 * ```
 *
 * In-dialog requests (To tag) that carry a Route we created for that dialog (the MAC in our
 * Record-Route, G34) are loose-routed by the core without calling the route; in-dialog
 * requests with any other Route get 403. Everything else goes to the route.
 */
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { DigestServer, type Ha1Lookup } from '../auth/server.js';
import type { DigestAlgorithm } from '../auth/digest.js';
import { SystemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { TypedEmitter } from '../core/events.js';
import { silentLogger, type Logger } from '../core/log.js';
import { CryptoRandom, type Random } from '../core/random.js';
import { createResponse, newTag } from '../sip/build.js';
import { tagOf, type NameAddr } from '../sip/header-values.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { formatUri, isSipUri, parseUri, type Uri } from '../sip/uri.js';
import { createNodeDnsClient } from '../resolver/dns.js';
import { Resolver } from '../resolver/resolver.js';
import { TransactionLayer, type ServerTransaction } from '../transaction/layer.js';
import type { TimerConfig } from '../transaction/timers.js';
import { DEFAULT_TIMER_C_MS } from '../dialog/invite-session.js';
import { TransportLayer, type ListenerConfig } from '../transport/layer.js';
import { isReliable, type Flow, type IncomingMessage, type Transport, type TransportAddress, type TransportProtocol } from '../transport/transport.js';
import {
  compose,
  LazyCancellation,
  RequestContext,
  type ContextHost,
  type Handler,
  type Middleware,
  type ProxyOptions,
  type ProxyTarget,
} from './context.js';
import {
  flowIdOfRoute,
  Forwarder,
  processOwnRoutes,
  RECORD_ROUTE_TOKEN_PARAM,
  verifyRecordRouteToken,
  type BranchTarget,
} from './forward.js';
import { MemoryLocationStore } from './location/memory.js';
import { canonicalAor, type Binding, type LocationStore } from './location/store.js';
import { Registrar, type RegistrarOptions } from './registrar.js';

const PROTOCOLS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];
const DEFAULT_LISTEN: readonly ListenerConfig[] = [{ protocol: 'udp', host: '127.0.0.1', port: 5060 }];
const MAX_REMEMBERED_FLOWS = 10_000;

/** Options of an {@link Agent}. Every field is optional; defaults are listed per field. */
export interface AgentOptions {
  /** Sockets to listen on. Default: UDP on 127.0.0.1:5060. Ignored when `transport` is given. */
  readonly listen?: readonly ListenerConfig[];
  /** A ready transport instead of sockets (a `FakeTransport` in tests). The agent does not close it. */
  readonly transport?: Transport;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Where the agent logs (handler errors, dropped messages). Default: silent. */
  readonly logger?: Logger;
  /** T1, T2, T4 of the transaction layer. */
  readonly timers?: Partial<TimerConfig>;
  /** Server transactions held at once before new requests get 503 (G12). Default 100 000. */
  readonly maxServerTransactions?: number;
  /** The location service. Default: a {@link MemoryLocationStore} on the agent's clock. */
  readonly location?: LocationStore;
  /** Registrar limits (min/max/default expiry, bindings per AOR). */
  readonly registrar?: Omit<RegistrarOptions, 'store' | 'clock' | 'logger'>;
  /**
   * Domains this server is responsible for (RFC 3261 §10.3 step 1, §16.5). Our own listening
   * addresses always count. Empty (the default): any domain for which bindings exist.
   */
  readonly domains?: readonly string[];
  /** Realm of `challenge()`/`authenticate()` without arguments. Default: the first domain, else `voxlite`. */
  readonly realm?: string;
  /** Stored HA1 per user, realm and algorithm (G30). Default: nobody (every credential fails). */
  readonly users?: Ha1Lookup;
  /** Digest algorithms offered, in order (G28). Default `['SHA-256', 'MD5']`. */
  readonly digestAlgorithms?: readonly DigestAlgorithm[];
  /** Key of the nonce and Record-Route MACs (≥ 16 octets). Default: random per process. */
  readonly secret?: Uint8Array;
  /** Resolves next hops (RFC 3263). Default: the system DNS, every transport allowed. */
  readonly resolver?: Resolver;
  /** Timer C (RFC 3261 §16.8), ms. Default 180 000. */
  readonly timerCMs?: number;
  /** A route that has not acted after this long gets 500. Default 30 000 ms. */
  readonly handlerTimeoutMs?: number;
  /** Extra names that mean "this server" in Route and Request-URI (e.g. a public host name). */
  readonly aliases?: readonly string[];
}

/** Events of an {@link Agent} (STYLE §6: a typed emitter for the long-lived object). */
export interface AgentEvents extends Record<string, unknown> {
  /** Every request the agent sends (forwarded requests, CANCELs, ACKs), as the original's `'outgoing'`. */
  outgoing: { readonly request: SipRequest; readonly target: TransportAddress };
  /** A route threw (after the 500 was sent). */
  error: Error;
}

/** The events {@link Agent.attach} accepts. */
export type AttachableEvent = 'incoming' | 'outgoing';

interface Pending {
  readonly ctx: RequestContext;
  readonly cancellation: LazyCancellation;
}

/**
 * A SIP server endpoint with a programmable route. See the module comment for an example.
 */
export class Agent extends TypedEmitter<AgentEvents> {
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** The location service. */
  readonly location: LocationStore;
  /** The registrar `ctx.accept()` uses for REGISTER. */
  readonly registrar: Registrar;
  /** Local domains, lower case. */
  readonly domains: readonly string[];
  /** Default realm. */
  readonly realm: string;
  private readonly options: AgentOptions;
  private readonly secret: Uint8Array;
  private transport: Transport | undefined;
  private transactions: TransactionLayer | undefined;
  private forwarder: Forwarder | undefined;
  private resolver: Resolver | undefined;
  private readonly middleware: (Handler | Middleware)[] = [];
  private readonly handlers: Handler[] = [];
  private replaced: (Handler | Middleware)[] | undefined;
  private chain: ((ctx: RequestContext) => Promise<void>) | undefined;
  private readonly digestServers = new Map<string, DigestServer>();
  private readonly pending = new Map<ServerTransaction, Pending>();
  private readonly txOf = new WeakMap<RequestContext, ServerTransaction>();
  private readonly flows = new Map<string, Flow>();
  private ownHosts = new Set<string>();
  private ownPorts = new Set<number>();
  private started: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  /** @throws RangeError for a secret shorter than 16 octets. */
  constructor(options: AgentOptions = {}) {
    super((error) => this.logger.error('agent event listener threw', { error: String(error) }));
    this.options = options;
    this.clock = options.clock ?? new SystemClock();
    this.random = options.random ?? new CryptoRandom();
    this.logger = options.logger ?? silentLogger;
    this.secret = options.secret ?? randomBytes(32);
    if (this.secret.length < 16) throw new RangeError('Agent secret must be at least 16 octets');
    this.location = options.location ?? new MemoryLocationStore({ clock: this.clock });
    this.registrar = new Registrar({ ...options.registrar, store: this.location, logger: this.logger, random: this.random });
    this.domains = (options.domains ?? []).map((d) => d.toLowerCase());
    this.realm = options.realm ?? this.domains[0] ?? 'voxlite';
    this.contextHost = {
      location: this.location,
      logger: this.logger,
      defaultRealm: this.realm,
      digestServer: (realm) => this.digestServer(realm),
      respond: (ctx, status, respondOptions) => this.respond(ctx, status, respondOptions),
      register: (ctx) => this.register(ctx),
      forward: (ctx, targets, proxyOptions) => this.forwardContext(ctx, targets, proxyOptions),
      lookupLocal: (uri) => this.lookupLocal(uri),
      isLocalUri: (uri) => this.isLocalUri(uri),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Routes

  /**
   * Attaches a handler: `'incoming'` adds a route handler (tried in order after the middleware;
   * the first that acts wins), `'outgoing'` listens to every request sent (the original
   * `agent.attach("incoming", route)`).
   */
  attach(event: 'incoming', handler: Handler): this;
  attach(event: 'outgoing', listener: (payload: AgentEvents['outgoing']) => void): this;
  attach(event: AttachableEvent, fn: Handler | ((payload: AgentEvents['outgoing']) => void)): this {
    if (event === 'incoming') {
      this.handlers.push(fn as Handler);
      this.chain = undefined;
    } else {
      this.on('outgoing', fn as (payload: AgentEvents['outgoing']) => void);
    }
    return this;
  }

  /** Detaches what {@link attach} attached; without `fn`, everything of that event. */
  detach(event: AttachableEvent, fn?: Handler | ((payload: AgentEvents['outgoing']) => void)): this {
    if (event === 'incoming') {
      if (fn === undefined) this.handlers.length = 0;
      else {
        const i = this.handlers.indexOf(fn as Handler);
        if (i >= 0) this.handlers.splice(i, 1);
      }
      this.chain = undefined;
    } else if (fn === undefined) {
      this.removeAllListeners();
    } else {
      this.off('outgoing', fn as (payload: AgentEvents['outgoing']) => void);
    }
    return this;
  }

  /** Adds middleware `(ctx, next)`, run in the order added, before the route handlers. */
  use(middleware: Middleware | Handler): this {
    this.middleware.push(middleware);
    this.chain = undefined;
    return this;
  }

  /** Adds a route handler (same as `attach('incoming', handler)`). */
  route(handler: Handler): this {
    return this.attach('incoming', handler);
  }

  /**
   * Replaces the whole route (middleware and handlers) at once — what `--script` reloading
   * uses. Requests already in a route finish with the old one. `undefined` goes back to what
   * `use()`/`attach()` set up.
   */
  setRoute(stack: readonly (Handler | Middleware)[] | undefined): void {
    this.replaced = stack === undefined ? undefined : [...stack];
    this.chain = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Life cycle

  /** Binds the listeners (when the agent owns them) and starts the layers. Idempotent. */
  start(): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(new TypeError('the agent is closed'));
    this.started ??= this.open();
    return this.started;
  }

  private async open(): Promise<void> {
    let transport = this.options.transport;
    if (transport === undefined) {
      const layer = new TransportLayer({ listeners: this.options.listen ?? DEFAULT_LISTEN, clock: this.clock, logger: this.logger });
      await layer.listen();
      transport = layer;
    }
    this.transport = transport;
    this.computeOwnAddresses();
    this.resolver =
      this.options.resolver ??
      new Resolver({ dns: createNodeDnsClient(), clock: this.clock, random: this.random, protocols: ['udp', 'tcp', 'tls', 'ws', 'wss'] });
    const transactions = new TransactionLayer({
      transport,
      clock: this.clock,
      random: this.random,
      logger: this.logger,
      unmatchedCancel: 'pass',
      // A completed non-INVITE server transaction stays 64·T1 (32 s) over UDP to absorb
      // retransmissions (RFC 3261 §17.2.2, Timer J), so the cap bounds the sustained rate at
      // cap / 32 s: 100 000 allows about 3 000 new transactions a second (G12 keeps a cap).
      maxServerTransactions: this.options.maxServerTransactions ?? 100_000,
      ...(this.options.timers === undefined ? {} : { timers: this.options.timers }),
    });
    this.transactions = transactions;
    const t1 = transactions.timers.unreliable.t1;
    this.forwarder = new Forwarder({
      transactions,
      clock: this.clock,
      random: this.random,
      logger: this.logger,
      timerCMs: this.options.timerCMs ?? DEFAULT_TIMER_C_MS,
      t1,
      secret: this.secret,
      realms: [this.realm],
      addressFor: (protocol) => this.addressFor(protocol),
      isOwnHostPort: (host, port) => this.isOwnHostPort(host, port),
      resolve: async (uri) => {
        try {
          return (await this.resolver!.resolve(uri)).map((t) => ({ protocol: t.protocol, host: t.host, port: t.port }));
        } catch (error) {
          this.logger.debug('next hop not resolved', { host: uri.host, error: String(error) });
          return [];
        }
      },
      flowById: (id) => this.flows.get(id),
      outgoing: (request, target) => this.emit('outgoing', { request, target }),
    });
    transactions.onRequest((request, tx, incoming) => this.receive(request, tx, incoming));
    transactions.onCancel((cancel, cancelTx, inviteTx, incoming) => {
      this.rememberFlow(incoming.flow);
      this.receiveCancel(cancel, cancelTx, inviteTx);
    });
    transactions.onStrayAck((ack, incoming) => {
      this.rememberFlow(incoming.flow);
      void this.receiveAck(ack);
    });
    transactions.onStrayResponse((response) => this.forwarder?.forwardStrayResponse(response));
    this.logger.info('agent started', { listen: PROTOCOLS.flatMap((p) => (transport!.localAddress(p) === undefined ? [] : [`${p}:${transport!.localAddress(p)!.host}:${transport!.localAddress(p)!.port}`])) });
  }

  /** Stops the layers and closes the sockets the agent owns; idempotent. The location store is left open. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.started?.catch(() => undefined);
      this.forwarder?.close();
      this.transactions?.close();
      for (const p of this.pending.values()) p.cancellation.abort(new Error('agent closed'));
      this.pending.clear();
      if (this.options.transport === undefined) await this.transport?.close();
    })();
    return this.closing;
  }

  /** Our address for a protocol (the first listener of it), after `start()`. */
  localAddress(protocol: TransportProtocol): TransportAddress | undefined {
    return this.transport?.localAddress(protocol);
  }

  /** Response contexts (proxied requests) alive. */
  get activeTransactions(): number {
    return this.forwarder?.size ?? 0;
  }

  // -------------------------------------------------------------------------------------------
  // Who we are

  /** Whether a URI names this server itself (one of our listener addresses or aliases). */
  isOwnUri(uri: Uri): boolean {
    if (!isSipUri(uri)) return false;
    const host = normalize(uri.host);
    if (this.ownHosts.has(host)) {
      if (uri.port === null) return this.ownPorts.has(uri.scheme === 'sips' ? 5061 : 5060) || this.ownPorts.size === 1;
      return this.ownPorts.has(uri.port);
    }
    // A local domain or alias without a port names us too (e.g. `Route: <sip:example.com;lr>`).
    return uri.port === null && (this.domains.includes(host) || (this.options.aliases ?? []).some((a) => a.toLowerCase() === host));
  }

  /** Whether a URI is in one of our domains (or names us). */
  isLocalUri(uri: Uri): boolean {
    if (!isSipUri(uri)) return false;
    return this.isOwnUri(uri) || this.domains.includes(normalize(uri.host));
  }

  private computeOwnAddresses(): void {
    const hosts = new Set<string>();
    const ports = new Set<number>();
    for (const p of PROTOCOLS) {
      const a = this.transport?.localAddress(p);
      if (a === undefined) continue;
      hosts.add(normalize(a.host));
      ports.add(a.port);
    }
    for (const l of this.options.listen ?? []) {
      hosts.add(normalize(l.host));
      if (l.host === '0.0.0.0' || l.host === '::') {
        for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) hosts.add(normalize(i.address));
      }
    }
    for (const a of this.options.aliases ?? []) hosts.add(normalize(a));
    this.ownHosts = hosts;
    this.ownPorts = ports;
  }

  private isOwnHostPort(host: string, port: number | null): boolean {
    if (!this.ownHosts.has(normalize(host))) return false;
    return port === null ? this.ownPorts.has(5060) : this.ownPorts.has(port);
  }

  private addressFor(protocol: TransportProtocol): TransportAddress {
    const own = this.transport?.localAddress(protocol);
    if (own !== undefined) return own;
    for (const p of PROTOCOLS) {
      const other = this.transport?.localAddress(p);
      if (other !== undefined) return { ...other, protocol };
    }
    return { protocol, host: '127.0.0.1', port: 5060 };
  }

  private rememberFlow(flow: Flow): void {
    if (!isReliable(flow.remote.protocol) || this.flows.has(flow.id)) return;
    if (this.flows.size >= MAX_REMEMBERED_FLOWS) {
      const oldest = this.flows.keys().next().value;
      if (oldest !== undefined) this.flows.delete(oldest);
    }
    this.flows.set(flow.id, flow);
  }

  // -------------------------------------------------------------------------------------------
  // Incoming requests

  private receive(request: SipRequest, tx: ServerTransaction, incoming: IncomingMessage): void {
    this.rememberFlow(incoming.flow);
    // RFC 3261 §16.4: our own Route values go before anyone looks at the request.
    const removed = processOwnRoutes(request, (uri) => this.isOwnUri(uri));
    const cancellation = new LazyCancellation();
    const ctx = new RequestContext(this.contextHost, {
      request,
      source: incoming.source,
      flow: incoming.flow,
      bytes: incoming.bytes,
      hadOwnRoute: removed.length > 0,
      cancellation,
    });
    this.txOf.set(ctx, tx);
    this.pending.set(tx, { ctx, cancellation });
    void this.dispatch(ctx, removed).finally(() => {
      if (this.pending.get(tx)?.ctx === ctx) this.pending.delete(tx);
    });
  }

  private async dispatch(ctx: RequestContext, removed: readonly NameAddr[]): Promise<void> {
    let timer: TimerHandle | undefined;
    try {
      const toTag = safe(() => tagOf(ctx.request.to()));
      if (toTag !== undefined) {
        const verdict = this.inDialogVerdict(ctx.request, removed);
        if (verdict === 'route') {
          ctx.claim('proxy');
          await this.forwardContext(ctx, [this.inDialogTarget(removed)], {});
          return;
        }
        if (verdict === 'forbid') {
          // G34: a To tag plus a Route we did not create is not a dialog of ours.
          ctx.claim('reject');
          this.respond(ctx, 403, { reason: 'Forbidden (no such dialog route)' });
          return;
        }
      }
      const handlerTimeout = this.options.handlerTimeoutMs ?? 30_000;
      timer = this.clock.setTimer(handlerTimeout, () => {
        if (ctx.claim('reject')) {
          this.logger.error('route did not act in time: 500', { method: ctx.method, ms: handlerTimeout });
          this.respond(ctx, 500, { reason: 'Server Internal Error (route timeout)' });
        }
      });
      this.chain ??= compose([...(this.replaced ?? [...this.middleware, ...this.handlers])]);
      await this.chain(ctx);
      // The seed's default action: nothing answered → 501 Not Implemented.
      if (ctx.claim('reject')) this.respond(ctx, 501);
    } catch (error) {
      const status = statusOf(error);
      this.logger.error('route threw', { method: ctx.method, error: error instanceof Error ? error.message : String(error) });
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
      if (ctx.claim('reject')) this.respond(ctx, status);
    } finally {
      timer?.cancel();
    }
  }

  private inDialogVerdict(request: SipRequest, removed: readonly NameAddr[]): 'route' | 'forbid' | 'handler' {
    if (removed.length > 0) {
      const ok = removed.some((r) => {
        const token = isSipUri(r.uri) ? r.uri.params.find((p) => p.name.toLowerCase() === RECORD_ROUTE_TOKEN_PARAM)?.value : undefined;
        return typeof token === 'string' && verifyRecordRouteToken(this.secret, request, token);
      });
      return ok ? 'route' : 'forbid';
    }
    const routes = safe(() => request.routes()) ?? [];
    return routes.length > 0 ? 'forbid' : 'handler';
  }

  /** The last Route of ours that was removed faces the destination; its flow (if any) is the way there. */
  private inDialogTarget(removed: readonly NameAddr[]): BranchTarget {
    const last = removed[removed.length - 1];
    const flowId = last === undefined ? undefined : flowIdOfRoute(last.uri);
    const flow = flowId === undefined ? undefined : this.flows.get(flowId);
    return flow === undefined ? {} : { flow, address: flow.remote };
  }

  private receiveCancel(cancel: SipRequest, cancelTx: ServerTransaction, inviteTx: ServerTransaction | undefined): void {
    if (inviteTx === undefined) {
      // G18: a CANCEL that matches nothing gets 481.
      cancelTx.respond(createResponse(cancel, 481, { toTag: newTag(this.random) }));
      return;
    }
    // §16.10: 200 to the CANCEL, then cancel every pending branch.
    cancelTx.respond(createResponse(cancel, 200, { toTag: newTag(this.random) }));
    const pending = this.pending.get(inviteTx);
    pending?.cancellation.abort(new Error('cancelled'));
    if (this.forwarder?.cancel(inviteTx) === true) return;
    // The route has not forwarded (yet): the INVITE ends here with 487 (§9.2).
    if (pending !== undefined && pending.ctx.claim('reject')) this.respond(pending.ctx, 487);
    else if (pending === undefined && inviteTx.state === 'proceeding') {
      inviteTx.respond(createResponse(inviteTx.request, 487, { toTag: newTag(this.random) }));
    }
  }

  private async receiveAck(ack: SipRequest): Promise<void> {
    // RFC 3261 §16.11 / §13.2.2.4: the ACK for a 2xx is forwarded statelessly, by its Route — only
    // along a Route we created for this dialog (G34); ACK is never answered (G18).
    const removed = processOwnRoutes(ack, (uri) => this.isOwnUri(uri));
    if (this.inDialogVerdict(ack, removed) !== 'route') {
      this.logger.debug('ACK without our Record-Route dropped', { callId: safe(() => ack.callId()) });
      return;
    }
    await this.forwarder?.forwardAck(ack, this.inDialogTarget(removed));
  }

  // -------------------------------------------------------------------------------------------
  // What contexts call

  private readonly contextHost: ContextHost;

  private digestServer(realm: string): DigestServer {
    let server = this.digestServers.get(realm);
    if (server === undefined) {
      server = new DigestServer({
        realm,
        secret: this.secret,
        clock: this.clock,
        random: this.random,
        lookupHa1: this.options.users ?? (() => undefined),
        ...(this.options.digestAlgorithms === undefined ? {} : { algorithms: this.options.digestAlgorithms }),
      });
      this.digestServers.set(realm, server);
    }
    return server;
  }

  private respond(ctx: RequestContext, status: number, options: { reason?: string; headers?: ReadonlyArray<readonly [string, string]> } = {}): SipResponse {
    const tx = this.txOf.get(ctx);
    const needsTag = status > 100 && safe(() => tagOf(ctx.request.to())) === undefined;
    const response = createResponse(ctx.request, status, {
      ...(needsTag ? { toTag: newTag(this.random) } : {}),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
    tx?.respond(response);
    return response;
  }

  private async register(ctx: RequestContext): Promise<SipResponse> {
    let aor: string;
    try {
      aor = canonicalAor(ctx.request.to().uri);
    } catch {
      return this.respond(ctx, 400, { reason: 'Bad Request (to: not a SIP or SIPS URI)' });
    }
    const response = await this.registrar.register(ctx.request, { aor, source: ctx.source, flowId: ctx.flow.id });
    this.txOf.get(ctx)?.respond(response);
    return response;
  }

  private async lookupLocal(uri: Uri): Promise<Binding[] | undefined> {
    if (!isSipUri(uri)) return undefined;
    let aor: string;
    try {
      aor = canonicalAor(uri);
    } catch {
      return undefined;
    }
    if (!this.isLocalUri(uri) && this.domains.length > 0) return undefined;
    const bindings = await this.location.lookup(aor);
    if (bindings.length === 0 && !this.isLocalUri(uri)) return undefined;
    return bindings;
  }

  private async forwardContext(ctx: RequestContext, targets: readonly (ProxyTarget | BranchTarget)[] | undefined, options: ProxyOptions): Promise<SipResponse> {
    const tx = this.txOf.get(ctx);
    const forwarder = this.forwarder;
    if (tx === undefined || forwarder === undefined) throw new TypeError('the agent is not started');
    try {
      const branchTargets = targets === undefined ? await this.defaultTargets(ctx) : targets.map((t) => this.toBranchTarget(t));
      if (ctx.cancelled) return this.respond(ctx, 487);
      const onFailure = options.onFailure;
      return await forwarder.forward({
        request: ctx.request,
        serverTx: tx,
        source: ctx.source,
        flow: ctx.flow,
        targets: branchTargets,
        recordRoute: options.recordRoute ?? false,
        timeoutMs: options.timeoutMs,
        onFailure:
          onFailure === undefined
            ? undefined
            : async (response, info) => {
                const next = await onFailure(response, info);
                if (next === undefined) return [];
                const list: readonly ProxyTarget[] = Array.isArray(next) ? (next as readonly ProxyTarget[]) : [next as ProxyTarget];
                return list.map((t) => this.toBranchTarget(t));
              },
      });
    } catch (error) {
      this.logger.error('forwarding failed', { error: error instanceof Error ? error.message : String(error) });
      return this.respond(ctx, 500);
    }
  }

  /** `proxy()` without targets: the Route set, else our bindings of the R-URI, else the R-URI itself (§16.5). */
  private async defaultTargets(ctx: RequestContext): Promise<BranchTarget[]> {
    if ((safe(() => ctx.request.routes()) ?? []).length > 0) return [{}];
    const uri = safe(() => ctx.uri);
    if (uri === undefined) return [];
    const bindings = await this.lookupLocal(uri);
    if (bindings === undefined) return [{}];
    return bindings.map((b) => this.toBranchTarget(b));
  }

  private toBranchTarget(target: ProxyTarget | BranchTarget): BranchTarget {
    if (typeof target === 'string') {
      const uri = parseUri(target.startsWith('<') ? target.slice(1, target.lastIndexOf('>')) : target);
      return { uri: formatUri(uri) };
    }
    if ('aor' in target && 'contact' in target) return this.bindingTarget(target);
    if ('scheme' in target) return { uri: formatUri(target) };
    return target;
  }

  private bindingTarget(b: Binding): BranchTarget {
    const base: BranchTarget = { uri: b.contact, ...(b.path === undefined ? {} : { path: b.path }) };
    const received = b.received;
    // RFC 5626 §5.3: a client that registered over a connection is reached over that connection.
    if (b.flowId !== undefined && received !== undefined && isReliable(received.protocol)) {
      const flow = this.flows.get(b.flowId) ?? { id: b.flowId, local: this.addressFor(received.protocol), remote: received };
      return { ...base, flow, address: received };
    }
    return base;
  }
}


function normalize(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** A thrown `err.status` (STYLE §13) when it is a final status code, else 500. */
function statusOf(error: unknown): number {
  if (typeof error === 'object' && error !== null && 'status' in error) {
    const status = (error as { status: unknown }).status;
    if (typeof status === 'number' && Number.isInteger(status) && status >= 300 && status <= 699) return status;
  }
  return 500;
}

