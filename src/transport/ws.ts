/**
 * SIP over WebSocket (RFC 7118) with the `ws` package, for `ws` and `wss` (WebSocket over TLS).
 *
 * - The `sip` subprotocol is required (RFC 7118 §4.1, G38): a handshake without it gets
 *   HTTP 400 and no upgrade; an outbound connection whose server does not select it fails.
 * - One SIP message per WebSocket message (RFC 7118 §5); fragments are reassembled by `ws`.
 *   Content-Length is optional, as for UDP.
 * - A message longer than `maxPayload` is refused by `ws` with close code 1009 as soon as the
 *   frame header declares it, before any allocation (G38); an unmasked client frame gets 1002.
 * - Messages go out as text frames when they are valid UTF-8, as binary frames otherwise
 *   (RFC 7118 §5.1 allows both; a body need not be UTF-8, G06).
 * - A message made only of CRLFCRLF is a keep-alive ping (as SIP.js sends it) and gets a CRLF.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { formatHostPort, normalizeHost } from './address.js';
import {
  IdleWatch,
  isKeepAlive,
  parseFrame,
  type Connection,
  type ConnectionHandlers,
  type ConnectionSettings,
} from './connection.js';
import type { TlsClientOptions } from './tls.js';
import { TransportError, type Flow } from './transport.js';

/** The WebSocket subprotocol SIP uses (RFC 7118 §4.1). */
export const SIP_SUBPROTOCOL = 'sip';

const CRLF = Buffer.from('\r\n', 'latin1');
/** How long a graceful close waits for the closing handshake before dropping the socket. */
const CLOSE_LINGER_MS = 2_000;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Whether a `Sec-WebSocket-Protocol` request header offers `sip`. */
export function offersSipSubprotocol(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(',').some((p) => p.trim() === SIP_SUBPROTOCOL);
}

/** Options for {@link WsAcceptor}. */
export interface WsAcceptorOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The HTTP upgrade must complete this long after the socket is handed over (G11 header deadline). */
  readonly handshakeTimeoutMs: number;
  /** Largest WebSocket message accepted; over it ws closes with 1009 (G09, G38). */
  readonly maxPayload: number;
  /** Receives each upgraded WebSocket with the TCP socket under it. */
  readonly onWebSocket: (ws: WebSocket, raw: Socket) => void;
}

/**
 * The HTTP side of a WebSocket listener: takes admitted (and, for wss, TLS-secured) sockets,
 * runs the upgrade handshake under a deadline, and hands over WebSockets that chose `sip`.
 */
export class WsAcceptor {
  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  private readonly options: WsAcceptorOptions;
  private readonly pending = new Map<Duplex, { timer: TimerHandle; raw: Socket }>();

  constructor(options: WsAcceptorOptions) {
    this.options = options;
    this.http = createHttpServer({ maxHeaderSize: 16 * 1024 });
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.maxPayload,
      handleProtocols: (protocols) => (protocols.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
    });
    this.wss.on('error', (error: Error) => options.logger.debug('websocket server error', { error: error.message }));
    // Not an upgrade: this port speaks only SIP over WebSocket (RFC 7118 §4).
    this.http.on('request', (_req, res) => {
      res.writeHead(426, { Connection: 'close', 'Content-Length': '0', Upgrade: 'websocket' });
      res.end();
    });
    this.http.on('clientError', (error: Error, socket: Duplex) => {
      options.logger.debug('bad HTTP on a websocket listener', { error: error.message });
      socket.destroy();
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  /** Takes a socket: the HTTP handshake must finish within the deadline. */
  accept(socket: Socket, raw: Socket): void {
    const timer = this.options.clock.setTimer(this.options.handshakeTimeoutMs, () => {
      this.pending.delete(socket);
      this.options.logger.debug('websocket handshake deadline passed', { remote: raw.remoteAddress });
      socket.destroy();
      raw.destroy();
    });
    this.pending.set(socket, { timer, raw });
    socket.once('close', () => {
      this.pending.get(socket)?.timer.cancel();
      this.pending.delete(socket);
    });
    this.http.emit('connection', socket);
  }

  /** Abandons every handshake in progress. */
  close(): void {
    for (const [socket, { timer, raw }] of this.pending) {
      timer.cancel();
      socket.destroy();
      raw.destroy();
    }
    this.pending.clear();
    this.wss.close();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const entry = this.pending.get(socket);
    if (entry === undefined) {
      socket.destroy();
      return;
    }
    // G38: the sip subprotocol is required; ws itself would complete the handshake without one.
    const offered = req.headers['sec-websocket-protocol'];
    if (!offersSipSubprotocol(Array.isArray(offered) ? offered.join(',') : offered)) {
      this.options.logger.debug('websocket handshake without the sip subprotocol refused', { remote: entry.raw.remoteAddress });
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      entry.timer.cancel();
      this.pending.delete(socket);
      this.options.clock.setTimer(CLOSE_LINGER_MS, () => socket.destroy());
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      entry.timer.cancel();
      this.pending.delete(socket);
      this.options.onWebSocket(ws, entry.raw);
    });
  }
}

/** A SIP flow over one WebSocket (RFC 7118). */
export class WsConnection implements Connection {
  readonly id: string;
  readonly protocol: 'ws' | 'wss';
  readonly flow: Flow;
  readonly direction: 'inbound' | 'outbound';
  readonly closed: Promise<void>;

  private readonly ws: WebSocket;
  private readonly settings: ConnectionSettings;
  private readonly handlers: ConnectionHandlers;
  private readonly idle: IdleWatch;
  private state: 'open' | 'closing' | 'closed' = 'open';
  /** Octets given to ws and not yet flushed to the socket. */
  private unflushed = 0;
  private lingerTimer: TimerHandle | null = null;
  private resolveClosed!: () => void;

  constructor(init: {
    readonly id: string;
    readonly protocol: 'ws' | 'wss';
    readonly ws: WebSocket;
    readonly flow: Flow;
    readonly direction: 'inbound' | 'outbound';
    readonly settings: ConnectionSettings;
    readonly handlers: ConnectionHandlers;
  }) {
    this.id = init.id;
    this.protocol = init.protocol;
    this.ws = init.ws;
    this.flow = init.flow;
    this.direction = init.direction;
    this.settings = init.settings;
    this.handlers = init.handlers;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    // On WebSocket only whole messages count as activity: a peer trickling one frame is cut at
    // the idle deadline (G11).
    this.idle = new IdleWatch(init.settings.clock, init.settings.idleTimeoutMs, () => {
      this.settings.logger.debug('idle; closing', { id: this.id });
      this.destroy();
    });
    this.ws.on('message', (data: RawData) => this.onMessage(toBuffer(data)));
    this.ws.on('pong', () => this.idle.touch());
    this.ws.on('ping', () => this.idle.touch());
    // 1009 (too big) and 1002 (unmasked frame) arrive here first; ws then closes the socket.
    this.ws.on('error', (error: Error) => this.settings.logger.debug('websocket error', { id: this.id, error: error.message }));
    this.ws.on('close', () => this.onClose());
    if (this.ws.readyState === WebSocket.CLOSED) queueMicrotask(() => this.onClose());
  }

  get isOpen(): boolean {
    return this.state === 'open' && this.ws.readyState === WebSocket.OPEN;
  }

  send(bytes: Buffer): Promise<void> {
    if (!this.isOpen) return Promise.reject(new TransportError(`${this.protocol} connection ${this.describe()} is closed`));
    // ws buffers in the socket; bound what waits for the kernel (STYLE §7).
    if (this.unflushed + bytes.length > this.settings.maxQueuedBytes) {
      return Promise.reject(
        new TransportError(`${this.protocol} send queue to ${this.describe()} is full (${this.settings.maxQueuedBytes} octets)`),
      );
    }
    this.idle.touch();
    this.unflushed += bytes.length;
    this.ws.send(bytes, { binary: !isUtf8(bytes) }, (error) => {
      this.unflushed -= bytes.length;
      if (error !== undefined && error !== null) this.settings.logger.debug('websocket send failed', { id: this.id, error: error.message });
    });
    return Promise.resolve();
  }

  end(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.ws.close(1000);
    this.lingerTimer = this.settings.clock.setTimer(CLOSE_LINGER_MS, () => this.destroy());
  }

  destroy(): void {
    if (this.state === 'closed') return;
    this.state = 'closing';
    this.ws.terminate();
    this.onClose();
  }

  private describe(): string {
    return formatHostPort(this.flow.remote.host, this.flow.remote.port);
  }

  private onMessage(bytes: Buffer): void {
    if (this.state !== 'open') return;
    this.idle.touch();
    if (isKeepAlive(bytes)) {
      if (bytes.length >= 4) void this.send(CRLF).catch(() => undefined);
      return;
    }
    this.handlers.onFrame(this, parseFrame(bytes, this.settings.limits));
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.idle.stop();
    this.lingerTimer?.cancel();
    this.handlers.onClose(this);
    this.resolveClosed();
  }
}

/**
 * Opens a WebSocket to `ws[s]://host:port/` asking for the `sip` subprotocol, within `timeoutMs`.
 * @returns what `onOpen` made of the open WebSocket and the TCP socket under it.
 * @throws TransportError on refusal, a server that does not select `sip`, a certificate that does
 *   not verify (wss), or the deadline.
 */
export function dialWs<T>(options: {
  readonly protocol: 'ws' | 'wss';
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly client: TlsClientOptions;
  readonly maxPayload: number;
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** Called synchronously on open, before any message can be missed; its result is resolved. */
  readonly onOpen: (ws: WebSocket, socket: Socket) => T;
}): Promise<T> {
  return new Promise((resolve, reject) => {
    const url = `${options.protocol}://${formatHostPort(options.host, options.port)}/`;
    const servername = options.client.servername?.({ host: normalizeHost(options.host), port: options.port });
    const ws = new WebSocket(url, [SIP_SUBPROTOCOL], {
      perMessageDeflate: false,
      maxPayload: options.maxPayload,
      followRedirects: false,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      ...(options.protocol === 'wss'
        ? {
            rejectUnauthorized: options.client.rejectUnauthorized ?? true,
            ...(options.client.ca === undefined ? {} : { ca: typeof options.client.ca === 'string' || Buffer.isBuffer(options.client.ca) ? options.client.ca : [...options.client.ca] }),
            ...(options.client.cert === undefined ? {} : { cert: options.client.cert }),
            ...(options.client.key === undefined ? {} : { key: options.client.key }),
            ...(servername === undefined ? {} : { servername }),
          }
        : {}),
    });
    let socket: Socket | undefined;
    let settled = false;
    const fail = (error: unknown): void => {
      timer.cancel();
      ws.terminate();
      if (settled) return;
      settled = true;
      reject(new TransportError(`cannot connect to ${url}`, { cause: error }));
    };
    const timer = options.clock.setTimer(options.timeoutMs, () => fail(new Error('websocket connect deadline passed')));
    ws.on('error', fail);
    ws.once('upgrade', (res: IncomingMessage) => {
      socket = res.socket;
    });
    ws.once('open', () => {
      timer.cancel();
      ws.off('error', fail);
      // Until the owner attaches its own listener, an error must not be unhandled (G14).
      ws.on('error', () => undefined);
      if (settled) return;
      if (socket === undefined || ws.protocol !== SIP_SUBPROTOCOL) {
        fail(new Error('server did not select the sip subprotocol'));
        return;
      }
      settled = true;
      try {
        resolve(options.onOpen(ws, socket));
      } catch (error) {
        ws.terminate();
        reject(error);
      }
    });
  });
}
