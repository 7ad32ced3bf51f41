/**
 * The transport layer (RFC 3261 §18): every listener of a stack behind one {@link Transport}.
 *
 * Receive path, per message: frame (a UDP datagram, a Content-Length-framed stream message, a
 * WebSocket message), parse, then
 * - requests: stamp `received`/`rport` on the top Via (RFC 3261 §18.2.1, RFC 3581 §4);
 * - responses: drop unless the top Via sent-by is ours (§18.1.2);
 * - malformed requests with a readable start line: answer the 4xx the parser chose, to the
 *   source; anything else malformed: drop. Either way log at most once per source per second
 *   (G14). A request without Via gets no answer (G07).
 * and hand the message up, synchronously, to the one `onMessage` handler.
 *
 * Send path: over the caller's flow when it is still open (§18.2.2, RFC 5626), else to the
 * target; UDP requests over `udpMtuSwitchBytes` move to TCP when a TCP listener exists
 * (§18.1.1); stream connections are opened on demand and reused per remote address.
 */
import type { Clock } from '../core/clock.js';
import { createRateLimitedLog, escapeForLog, silentLogger, type Logger } from '../core/log.js';
import {
  createResponseToUnparsable,
  DEFAULT_LIMITS,
  formatMessage,
  formatHeaderSection,
  type ParseLimits,
  type SipMessage,
  type SipResponse,
  type Via,
} from '../sip/index.js';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import {
  formatHostPort,
  ipFamily,
  isBroadcastOrMulticast,
  isUnspecified,
  localDirectedBroadcasts,
  localInterfaceAddresses,
  normalizeHost,
  sameHost,
} from './address.js';
import { ConnectionPool } from './connection-pool.js';
import { isKeepAlive, parseFrame, type Connection, type ConnectionHandlers, type ConnectionSettings, type FrameEvent } from './connection.js';
import { StreamConnection } from './stream-connection.js';
import { dialTcp, SocketListener } from './tcp.js';
import { createServerContext, createTlsAcceptor, dialTls, type TlsClientOptions, type TlsCredentials } from './tls.js';
import {
  TransportError,
  type Flow,
  type IncomingMessage,
  type Transport,
  type TransportAddress,
  type TransportProtocol,
} from './transport.js';
import { UdpEndpoint } from './udp.js';
import { applyViaReceived, responseTarget, switchTopViaTransport } from './via.js';
import { dialWs, WsAcceptor, WsConnection } from './ws.js';

/** One socket to listen on. */
export interface ListenerConfig {
  readonly protocol: TransportProtocol;
  /** IP literal to bind: `127.0.0.1`, `::1`, `0.0.0.0`, `::`, … (IPv6 with or without brackets). */
  readonly host: string;
  /** Port to bind; 0 picks an ephemeral one (see {@link TransportLayer.localAddress} after listen). */
  readonly port: number;
  /** Certificate and key (PEM contents, not paths); required for `tls` and `wss`. */
  readonly tls?: TlsCredentials;
  /**
   * The host to put in Via sent-by and Contact instead of the bound one (a public address, a
   * domain name). It also counts as ours when checking responses (§18.1.2).
   */
  readonly advertisedHost?: string;
}

/** Options of a {@link TransportLayer}. Defaults are in {@link TRANSPORT_DEFAULTS}. */
export interface TransportLayerOptions {
  /**
   * Sockets to listen on. Outbound TCP/TLS/WS/WSS need no listener of their own (a WebSocket
   * client may have none); UDP sends need a UDP listener of the target's family.
   */
  readonly listeners: readonly ListenerConfig[];
  /** The clock every deadline runs on. */
  readonly clock: Clock;
  /** Where drops, refusals and errors are logged (rate-limited per source, G14). Default: silent. */
  readonly logger?: Logger;
  /** Parser size limits (G09). Default: {@link DEFAULT_LIMITS}. */
  readonly limits?: ParseLimits;
  /**
   * Line ending of the start line and headers we send: `crlf` (RFC 3261 §7, the default) or
   * bare `lf` for broken peers (rtclite's `--use-lf`). What we receive may use either.
   */
  readonly lineEnding?: 'crlf' | 'lf';
  /** Close a connection after this long without traffic (G11). Default 120 000 ms. */
  readonly idleTimeoutMs?: number;
  /**
   * A header section must be complete this long after its first octet (G11); the same deadline
   * bounds the HTTP upgrade of a WebSocket connection. Default 10 000 ms.
   */
  readonly headerTimeoutMs?: number;
  /** A whole message must be complete this long after its first octet (G11). Default 32 000 ms. */
  readonly messageTimeoutMs?: number;
  /** An inbound TLS handshake must complete within this (G11); outbound TLS/WSS get it on top of `connectTimeoutMs`. Default 10 000 ms. */
  readonly tlsHandshakeTimeoutMs?: number;
  /** An outbound connection must be established within this. Default 10 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Inbound connections per source IP across all stream listeners, handshakes included (G11). Default 100. */
  readonly maxConnectionsPerIp?: number;
  /** Inbound connections in total. Default 10 000. */
  readonly maxConnections?: number;
  /** UDP requests larger than this go over TCP when a TCP listener exists (RFC 3261 §18.1.1). Default 1300. */
  readonly udpMtuSwitchBytes?: number;
  /** Octets queued per connection while its socket refuses more; beyond, send() fails. Default 1 MiB. */
  readonly maxQueuedBytes?: number;
  /** Largest WebSocket message (G09, G38: over it, close 1009). Default: `limits.maxMessageBytes`. */
  readonly wsMaxPayloadBytes?: number;
  /** How outbound TLS and WSS verify servers. Default: the CAs of the first tls/wss listener, else Node's roots. */
  readonly tlsClient?: TlsClientOptions;
  /**
   * Extra sent-by hosts (names or IPs) that count as ours when a response arrives (§18.1.2).
   * Bound and advertised listener hosts are always ours; a wildcard listener adds every local
   * interface address.
   */
  readonly sentByNames?: readonly string[];
  /**
   * Replaces the §18.1.2 check entirely: return true when a response's top Via is ours.
   * `() => true` turns the check off (a proxy with names the transport cannot know).
   */
  readonly isOwnSentBy?: (via: Via) => boolean;
}

/** Default option values (RFC 3261 §18, G09, G11). */
export const TRANSPORT_DEFAULTS = Object.freeze({
  idleTimeoutMs: 120_000,
  headerTimeoutMs: 10_000,
  messageTimeoutMs: 32_000,
  tlsHandshakeTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  maxConnectionsPerIp: 100,
  maxConnections: 10_000,
  udpMtuSwitchBytes: 1300,
  maxQueuedBytes: 1024 * 1024,
});

interface BoundListener {
  readonly config: ListenerConfig;
  readonly family: 4 | 6;
  /** Bound address (the real port when 0 was asked). */
  readonly bound: TransportAddress;
  /** What Via / Contact should carry. */
  readonly advertised: TransportAddress;
  readonly close: () => Promise<void>;
  readonly udp?: UdpEndpoint;
}

type State = 'new' | 'listening' | 'closed';

function isWildcard(host: string): boolean {
  return isUnspecified(host);
}

/**
 * A transport layer over real sockets: UDP, TCP, TLS, WS and WSS listeners, IPv4 and IPv6.
 *
 * @example
 * ```ts
 * const transport = new TransportLayer({ clock: new SystemClock(), listeners: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] });
 * await transport.listen();
 * transport.onMessage((incoming) => …);
 * ```
 */
export class TransportLayer implements Transport {
  private readonly options: TransportLayerOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly limits: ParseLimits;
  private readonly settings: ConnectionSettings;
  private readonly pool: ConnectionPool;
  private readonly dropLog: (key: string, message: string, fields?: Record<string, unknown>) => void;
  private readonly handlers: ConnectionHandlers;
  private listeners: BoundListener[] = [];
  private handler: ((incoming: IncomingMessage) => void) | undefined;
  private state: State = 'new';
  private closing: Promise<void> | undefined;
  private nextId = 0;
  private ownHosts = new Set<string>();
  private ownPorts = new Set<number>();
  private broadcasts: ReadonlySet<string> = new Set();

  /** @throws TypeError on a listener without an IP host, or a tls/wss listener without credentials. */
  constructor(options: TransportLayerOptions) {
    for (const l of options.listeners) {
      if (ipFamily(l.host) === 0) throw new TypeError(`listener host must be an IP literal, got "${l.host}"`);
      if ((l.protocol === 'tls' || l.protocol === 'wss') && l.tls === undefined) {
        throw new TypeError(`a ${l.protocol} listener needs tls credentials`);
      }
      if (!(Number.isInteger(l.port) && l.port >= 0 && l.port < 65536)) throw new RangeError(`bad listener port ${l.port}`);
    }
    this.options = options;
    this.clock = options.clock;
    this.logger = options.logger ?? silentLogger;
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.settings = {
      clock: this.clock,
      logger: this.logger,
      limits: this.limits,
      idleTimeoutMs: options.idleTimeoutMs ?? TRANSPORT_DEFAULTS.idleTimeoutMs,
      headerTimeoutMs: options.headerTimeoutMs ?? TRANSPORT_DEFAULTS.headerTimeoutMs,
      messageTimeoutMs: options.messageTimeoutMs ?? TRANSPORT_DEFAULTS.messageTimeoutMs,
      maxQueuedBytes: options.maxQueuedBytes ?? TRANSPORT_DEFAULTS.maxQueuedBytes,
    };
    this.pool = new ConnectionPool({
      maxConnectionsPerIp: options.maxConnectionsPerIp ?? TRANSPORT_DEFAULTS.maxConnectionsPerIp,
      maxConnections: options.maxConnections ?? TRANSPORT_DEFAULTS.maxConnections,
    });
    this.dropLog = createRateLimitedLog((m, f) => this.logger.warn(m, f), () => this.clock.now());
    this.handlers = {
      onFrame: (connection, event) =>
        this.dispatch(event, connection.flow.remote, connection.flow, (bytes) => connection.send(bytes)),
      onClose: (connection) => this.pool.remove(connection),
    };
  }

  /**
   * Binds every listener. Call once before sending; with port 0 the real ports are known after.
   * @throws Error from the OS (EADDRINUSE, …); whatever was bound is closed again.
   */
  async listen(): Promise<void> {
    if (this.state !== 'new') throw new TransportError(`transport layer is ${this.state === 'closed' ? 'closed' : 'already listening'}`);
    this.state = 'listening';
    try {
      for (const config of this.options.listeners) this.listeners.push(await this.bind(config));
    } catch (error) {
      await this.close();
      throw error;
    }
    this.broadcasts = localDirectedBroadcasts();
    for (const l of this.listeners) {
      this.ownHosts.add(normalizeHost(l.bound.host));
      this.ownHosts.add(normalizeHost(l.advertised.host));
      this.ownPorts.add(l.bound.port);
      if (isWildcard(l.bound.host)) {
        for (const a of localInterfaceAddresses(4)) this.ownHosts.add(a);
        if (l.family === 6) for (const a of localInterfaceAddresses(6)) this.ownHosts.add(a);
      }
    }
    for (const name of this.options.sentByNames ?? []) this.ownHosts.add(normalizeHost(name));
  }

  /** The address to advertise for `protocol` (the first listener of it), or undefined. */
  localAddress(protocol: TransportProtocol): TransportAddress | undefined {
    return this.listeners.find((l) => l.config.protocol === protocol)?.advertised;
  }

  /** Every listener's bound address, in configuration order. */
  localAddresses(): TransportAddress[] {
    return this.listeners.map((l) => l.bound);
  }

  /** Installs the single upward handler (replacing any previous one). */
  onMessage(handler: (incoming: IncomingMessage) => void): void {
    this.handler = handler;
  }

  /** Open connections (inbound and outbound). */
  get connectionCount(): number {
    return this.pool.size;
  }

  /**
   * Where a response goes by its top Via (RFC 3261 §18.2.2, RFC 3581 §4), refusing the
   * broadcast addresses of local subnets too. See {@link responseTarget}.
   */
  responseTarget(response: SipResponse): TransportAddress | null {
    return responseTarget(response, { broadcasts: this.broadcasts });
  }

  /**
   * Sends one message.
   * - With an open stream `flow`, over it (RFC 3261 §18.2.2; RFC 5626 §5.3).
   * - UDP: from the socket of `flow.local` when given (RFC 3581 §4: from where the request came),
   *   else from a socket of the target's family. A request larger than `udpMtuSwitchBytes` goes
   *   over TCP instead when a TCP listener exists (§18.1.1).
   * - TCP/TLS/WS/WSS: over an open connection to `target`, else a new one.
   * - A response toward a broadcast or multicast address is dropped (G17).
   *
   * @remarks The message may be changed in place: the top Via after a switch to TCP (§18.1.1:
   *   it "MUST be changed"), and a missing Content-Length on streams (§18.3). So the caller's
   *   copy (kept for retransmission or CANCEL) says what went on the wire.
   * @throws TransportError when the target is not an IP literal, there is no socket for it, the
   *   connection cannot be opened, the send queue is full, or the layer is closed.
   */
  async send(message: SipMessage, target: TransportAddress, options: { readonly flow?: Flow } = {}): Promise<void> {
    if (this.state !== 'listening') throw new TransportError(`transport layer is ${this.state === 'new' ? 'not listening yet' : 'closed'}`);
    const host = normalizeHost(target.host);
    const family = ipFamily(host);
    if (family === 0) throw new TransportError(`target "${escapeForLog(target.host)}" is not an IP literal; resolve it first (RFC 3263)`);
    if (!(Number.isInteger(target.port) && target.port > 0 && target.port < 65536)) {
      throw new TransportError(`bad target port ${target.port}`);
    }
    if (message.kind === 'response' && (isBroadcastOrMulticast(host, this.broadcasts) || isUnspecified(host))) {
      // G17: responses never go to broadcast or multicast (RFC 4475 §3.1.2.13 bcast).
      this.dropLog(`send:${host}`, 'response to a broadcast/multicast address dropped', { target: formatHostPort(host, target.port) });
      return;
    }
    const flow = options.flow;
    if (flow !== undefined && flow.remote.protocol !== 'udp') {
      const open = this.pool.byFlow(flow.id);
      if (open !== undefined) return this.sendOnConnection(open, message);
    }
    let destination: TransportAddress = { protocol: target.protocol, host, port: target.port };
    if (destination.protocol === 'udp') {
      const bytes = this.encode(message);
      const tcp = message.kind === 'request' && bytes.length > (this.options.udpMtuSwitchBytes ?? TRANSPORT_DEFAULTS.udpMtuSwitchBytes) ? this.listenerFor('tcp', family) : undefined;
      if (tcp === undefined) {
        const endpoint = this.udpEndpointFor(host, flow);
        if (endpoint === undefined) throw new TransportError(`no UDP listener can reach ${formatHostPort(host, target.port)}`);
        return endpoint.send(bytes, host, target.port);
      }
      // RFC 3261 §18.1.1: over 1300 octets (path MTU unknown) a request MUST use a congestion
      // controlled transport, and the top Via MUST say so.
      const udp = this.listenerFor('udp', family);
      switchTopViaTransport(
        message,
        'TCP',
        udp !== undefined && udp.advertised.port !== tcp.advertised.port ? { from: udp.advertised.port, to: tcp.advertised.port } : undefined,
      );
      destination = { protocol: 'tcp', host, port: target.port };
    }
    const connection = await this.pool.acquire(destination, () => this.dial(destination));
    return this.sendOnConnection(connection, message);
  }

  /**
   * Closes every listener and connection; idempotent. Resolves when the sockets are closed, so
   * nothing keeps the process alive afterwards.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.state = 'closed';
      this.closing = (async () => {
        const waits: Promise<void>[] = [];
        for (const l of this.listeners) waits.push(l.close());
        for (const connection of this.pool.all()) {
          connection.destroy();
          waits.push(connection.closed);
        }
        await Promise.all(waits);
        this.listeners = [];
      })();
    }
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------
  // Listeners

  private async bind(config: ListenerConfig): Promise<BoundListener> {
    const family = ipFamily(config.host) as 4 | 6;
    const advertise = (bound: TransportAddress): TransportAddress => ({
      protocol: config.protocol,
      host: config.advertisedHost ?? (isWildcard(bound.host) ? this.firstInterfaceAddress(family) : bound.host),
      port: bound.port,
    });
    if (config.protocol === 'udp') {
      const udp = new UdpEndpoint({
        host: config.host,
        port: config.port,
        logger: this.logger,
        onDatagram: (bytes, source, endpoint) => this.onDatagram(bytes, source, endpoint),
      });
      let bound: TransportAddress;
      try {
        bound = await udp.bind();
      } catch (error) {
        await udp.close();
        throw error;
      }
      return { config, family, bound, advertised: advertise(bound), udp, close: () => udp.close() };
    }
    const protocol = config.protocol;
    const secure =
      protocol === 'tls' || protocol === 'wss'
        ? createTlsAcceptor(createServerContext(config.tls!), this.clock, this.options.tlsHandshakeTimeoutMs ?? TRANSPORT_DEFAULTS.tlsHandshakeTimeoutMs)
        : undefined;
    let acceptor: WsAcceptor | undefined;
    if (protocol === 'ws' || protocol === 'wss') {
      acceptor = new WsAcceptor({
        clock: this.clock,
        logger: this.logger,
        handshakeTimeoutMs: this.settings.headerTimeoutMs,
        maxPayload: this.wsMaxPayload(),
        onWebSocket: (ws, raw) => this.adoptWs(ws, raw, protocol, 'inbound'),
      });
    }
    const listener = new SocketListener({
      host: config.host,
      port: config.port,
      logger: this.logger,
      admit: (ip) => this.state === 'listening' && this.pool.admit(ip),
      release: (ip) => this.pool.release(ip),
      onRefused: (ip) => this.dropLog(ip, 'connection refused: per-IP or total connection cap reached (G11)', { source: ip, protocol }),
      ...(secure === undefined ? {} : { secure }),
      onSocket: (socket, raw) => {
        if (acceptor !== undefined) acceptor.accept(socket, raw);
        else this.adoptStream(socket, raw, protocol as 'tcp' | 'tls', 'inbound');
      },
    });
    const address = await listener.listen().catch(async (error: unknown) => {
      acceptor?.close();
      await listener.close();
      throw error;
    });
    const bound: TransportAddress = { protocol, host: address.host, port: address.port };
    return {
      config,
      family,
      bound,
      advertised: advertise(bound),
      close: async () => {
        acceptor?.close();
        await listener.close();
      },
    };
  }

  private firstInterfaceAddress(family: 4 | 6): string {
    const all = localInterfaceAddresses(family).filter((a) => !a.startsWith('fe80'));
    return all.find((a) => a !== '127.0.0.1' && a !== '::1') ?? all[0] ?? (family === 4 ? '127.0.0.1' : '::1');
  }

  private wsMaxPayload(): number {
    return this.options.wsMaxPayloadBytes ?? this.limits.maxMessageBytes;
  }

  private listenerFor(protocol: TransportProtocol, family: 4 | 6): BoundListener | undefined {
    return (
      this.listeners.find((l) => l.config.protocol === protocol && l.family === family) ??
      // A dual-stack IPv6 wildcard listener serves IPv4 too.
      (family === 4 ? this.listeners.find((l) => l.config.protocol === protocol && l.bound.host === '::') : undefined)
    );
  }

  private udpEndpointFor(host: string, flow: Flow | undefined): UdpEndpoint | undefined {
    const endpoints = this.listeners.flatMap((l) => (l.udp === undefined ? [] : [l.udp]));
    if (flow !== undefined && flow.local.protocol === 'udp') {
      // RFC 3581 §4: the response leaves from the address and port the request arrived on.
      const same = endpoints.find(
        (e) => e.local.port === flow.local.port && sameHost(e.local.host, flow.local.host) && e.canReach(host),
      );
      if (same !== undefined) return same;
    }
    const family = ipFamily(host);
    return endpoints.find((e) => e.family === family) ?? endpoints.find((e) => e.canReach(host));
  }

  // ---------------------------------------------------------------------------------------------
  // Connections

  private newId(protocol: TransportProtocol): string {
    return `${protocol}-${++this.nextId}`;
  }

  private addressOf(protocol: TransportProtocol, host: string | undefined, port: number | undefined): TransportAddress {
    return { protocol, host: normalizeHost(host ?? ''), port: port ?? 0 };
  }

  private adoptStream(socket: Socket, raw: Socket, protocol: 'tcp' | 'tls', direction: 'inbound' | 'outbound', remote?: TransportAddress): Connection {
    const id = this.newId(protocol);
    const flow: Flow = {
      id,
      local: this.addressOf(protocol, raw.localAddress, raw.localPort),
      remote: remote ?? this.addressOf(protocol, raw.remoteAddress, raw.remotePort),
    };
    const connection = new StreamConnection({ id, protocol, socket, flow, direction, settings: this.settings, handlers: this.handlers });
    return this.register(connection);
  }

  private adoptWs(ws: WebSocket, raw: Socket, protocol: 'ws' | 'wss', direction: 'inbound' | 'outbound', remote?: TransportAddress): Connection {
    const id = this.newId(protocol);
    const flow: Flow = {
      id,
      local: this.addressOf(protocol, raw.localAddress, raw.localPort),
      remote: remote ?? this.addressOf(protocol, raw.remoteAddress, raw.remotePort),
    };
    const connection = new WsConnection({ id, protocol, ws, flow, direction, settings: this.settings, handlers: this.handlers });
    return this.register(connection);
  }

  /** Indexes a new connection; one that arrives after close() is destroyed, and send() then fails. */
  private register(connection: Connection): Connection {
    if (this.state !== 'listening') {
      connection.destroy();
      if (connection.direction === 'outbound') throw new TransportError('transport layer is closed');
      return connection;
    }
    this.pool.add(connection);
    if (!connection.isOpen) this.pool.remove(connection);
    return connection;
  }

  /** Opens an outbound connection (RFC 3261 §18.1.1: "a new connection … if none exists"). */
  private async dial(target: TransportAddress): Promise<Connection> {
    const localAddress = this.outboundLocalAddress(target);
    const base = { host: target.host, port: target.port, clock: this.clock, ...(localAddress === undefined ? {} : { localAddress }) };
    const connectTimeoutMs = this.options.connectTimeoutMs ?? TRANSPORT_DEFAULTS.connectTimeoutMs;
    const handshakeMs = this.options.tlsHandshakeTimeoutMs ?? TRANSPORT_DEFAULTS.tlsHandshakeTimeoutMs;
    switch (target.protocol) {
      case 'tcp': {
        const socket = await dialTcp({ ...base, timeoutMs: connectTimeoutMs });
        return this.adoptStream(socket, socket, 'tcp', 'outbound', target);
      }
      case 'tls': {
        const socket = await dialTls({ ...base, client: this.tlsClient(), timeoutMs: connectTimeoutMs + handshakeMs });
        return this.adoptStream(socket, socket, 'tls', 'outbound', target);
      }
      case 'ws':
      case 'wss': {
        const protocol = target.protocol;
        return dialWs({
          ...base,
          protocol,
          client: this.tlsClient(),
          maxPayload: this.wsMaxPayload(),
          timeoutMs: connectTimeoutMs + handshakeMs,
          onOpen: (ws, socket) => this.adoptWs(ws, socket, protocol, 'outbound', target),
        });
      }
      case 'udp':
        throw new TransportError('UDP is connectionless');
    }
  }

  private tlsClient(): TlsClientOptions {
    if (this.options.tlsClient !== undefined) return this.options.tlsClient;
    const ca = this.options.listeners.find((l) => l.tls?.ca !== undefined)?.tls?.ca;
    return ca === undefined ? {} : { ca };
  }

  /** Outbound connections leave from a listener's own IP when it is specific, so Via and source agree. */
  private outboundLocalAddress(target: TransportAddress): string | undefined {
    const family = ipFamily(target.host);
    const candidates = this.listeners.filter((l) => l.family === family && !isWildcard(l.bound.host));
    return (candidates.find((l) => l.config.protocol === target.protocol) ?? candidates[0])?.bound.host;
  }

  private sendOnConnection(connection: Connection, message: SipMessage): Promise<void> {
    // RFC 3261 §18.3: Content-Length MUST be used with stream-oriented transports.
    if (!message.headers.has('content-length')) message.headers.set('Content-Length', String(message.body.length));
    return connection.send(this.encode(message));
  }

  /**
   * The octets of a message. With `lineEnding: 'lf'` the start line and headers end in bare LF, for
   * peers that cannot take CRLF (rtclite's `--use-lf`); the body is left as it is.
   */
  private encode(message: SipMessage): Buffer {
    if (this.options.lineEnding !== 'lf') return formatMessage(message);
    const head = formatHeaderSection(message).replace(/\r\n/g, '\n');
    return Buffer.concat([Buffer.from(head, 'latin1'), message.body]);
  }

  // ---------------------------------------------------------------------------------------------
  // Receive path

  private onDatagram(bytes: Buffer, source: TransportAddress, endpoint: UdpEndpoint): void {
    if (this.state !== 'listening') return;
    // Stray CRLFs are keep-alives (RFC 5626 §3.5.1 uses STUN on UDP; some UAs send CRLFs).
    if (isKeepAlive(bytes)) return;
    const local = endpoint.local;
    const flow: Flow = {
      id: `udp|${formatHostPort(local.host, local.port)}|${formatHostPort(source.host, source.port)}`,
      local,
      remote: source,
    };
    this.dispatch(parseFrame(bytes, this.limits), source, flow, (reply) => endpoint.send(reply, source.host, source.port));
  }

  private dispatch(event: FrameEvent, source: TransportAddress, flow: Flow, reply: (bytes: Buffer) => Promise<void>): void {
    try {
      this.dispatchUnsafe(event, source, flow, reply);
    } catch (error) {
      // G14: nothing that arrives on a socket ends the process.
      this.dropLog(source.host, 'receive path failed', {
        source: formatHostPort(source.host, source.port),
        error: escapeForLog(error instanceof Error ? error.message : String(error)),
      });
    }
  }

  private dispatchUnsafe(event: FrameEvent, source: TransportAddress, flow: Flow, reply: (bytes: Buffer) => Promise<void>): void {
    const from = formatHostPort(source.host, source.port);
    if (event.type === 'error') {
      // STYLE §7, RFC 3261 §8.2 / §21.4: a request whose start line reads gets the parser's 4xx;
      // a response, or a request without Via (G07), is dropped.
      const answer = createResponseToUnparsable(event.bytes, event.error);
      if (answer !== null) {
        reply(answer).catch((error: unknown) =>
          this.logger.debug('could not send the 4xx for a malformed request', { source: from, error: String(error) }),
        );
      }
      this.dropLog(source.host, answer === null ? 'malformed message dropped' : `malformed request answered ${event.error.status}`, {
        source: from,
        protocol: source.protocol,
        kind: event.error.kind,
        reason: escapeForLog(event.error.message),
        ...(event.fatal ? { closed: true } : {}),
      });
      return;
    }
    const message = event.message;
    if (message.kind === 'request') {
      applyViaReceived(message, source);
    } else if (!this.isOwnSentBy(message.topVia())) {
      // RFC 3261 §18.1.2: a response whose top Via is not ours is silently discarded.
      this.dropLog(source.host, 'response for a sent-by that is not ours dropped (RFC 3261 §18.1.2)', {
        source: from,
        via: escapeForLog(message.headers.get('via') ?? ''),
      });
      return;
    }
    const handler = this.handler;
    if (handler === undefined) {
      this.dropLog(source.host, 'message dropped: no onMessage handler', { source: from });
      return;
    }
    try {
      handler({ message, bytes: event.bytes, source, flow, receivedAt: this.clock.now() });
    } catch (error) {
      this.dropLog(source.host, 'onMessage handler threw', {
        source: from,
        error: escapeForLog(error instanceof Error ? error.message : String(error)),
      });
    }
  }

  private isOwnSentBy(via: Via | undefined): boolean {
    if (via === undefined) return false;
    if (this.options.isOwnSentBy !== undefined) return this.options.isOwnSentBy(via);
    if (!this.ownHosts.has(normalizeHost(via.host))) return false;
    return via.port === null || this.ownPorts.has(via.port) || this.listeners.some((l) => l.advertised.port === via.port);
  }
}
