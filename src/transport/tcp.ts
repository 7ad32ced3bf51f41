/**
 * TCP sockets (RFC 3261 §18): a listener that admits connections against the per-IP cap
 * before anything else happens (G11), and a dialer with a connect deadline. TLS (tls.ts) and
 * WebSocket (ws.ts) listeners are built on the same {@link SocketListener}.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { formatHostPort, ipFamily, normalizeHost, stripBrackets } from './address.js';
import { TransportError } from './transport.js';

/** Options for {@link SocketListener}. */
export interface SocketListenerOptions {
  /** IP literal to bind. */
  readonly host: string;
  /** Port; 0 picks an ephemeral one. */
  readonly port: number;
  readonly logger: Logger;
  /** Reserves a slot for a socket from `ip`; false refuses it (G11 connection cap). */
  readonly admit: (ip: string) => boolean;
  /** Gives the slot back when that socket closes. */
  readonly release: (ip: string) => void;
  /** Called when a socket is refused by {@link admit}. */
  readonly onRefused?: (ip: string) => void;
  /**
   * A step between accept and hand-off, such as the TLS handshake. It resolves with the socket
   * to use or rejects, in which case the raw socket is destroyed.
   */
  readonly secure?: (raw: Socket) => Promise<Socket>;
  /** Receives each admitted (and, with `secure`, secured) socket, and the raw TCP socket under it. */
  readonly onSocket: (socket: Socket, raw: Socket) => void;
}

/** A listening TCP socket that tracks what it accepted, so close() leaves nothing open. */
export class SocketListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly options: SocketListenerOptions;
  private closing: Promise<void> | undefined;

  constructor(options: SocketListenerOptions) {
    if (ipFamily(options.host) === 0) throw new TypeError(`listener host must be an IP literal, got "${options.host}"`);
    this.options = options;
    this.server = createServer({ noDelay: true }, (raw) => this.onConnection(raw));
    this.server.on('error', (error: Error) => options.logger.warn('listener error', { error: error.message }));
  }

  /** Binds and listens. @returns the bound host and port. */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen({ host: stripBrackets(this.options.host), port: this.options.port, exclusive: true }, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        if (address === null || typeof address === 'string') {
          reject(new TransportError('listener has no address'));
          return;
        }
        resolve({ host: normalizeHost(address.address), port: address.port });
      });
    });
  }

  /** Stops accepting and destroys every accepted socket; idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = new Promise((resolve) => {
        this.server.close(() => resolve());
        for (const socket of this.sockets) socket.destroy();
        if (!this.server.listening) resolve();
      });
    }
    return this.closing;
  }

  private onConnection(raw: Socket): void {
    raw.on('error', (error: Error) => this.options.logger.debug('socket error', { error: error.message }));
    const address = raw.remoteAddress;
    if (this.closing !== undefined || address === undefined) {
      raw.destroy();
      return;
    }
    const ip = normalizeHost(address);
    if (!this.options.admit(ip)) {
      raw.destroy();
      this.options.onRefused?.(ip);
      return;
    }
    this.sockets.add(raw);
    raw.once('close', () => {
      this.sockets.delete(raw);
      this.options.release(ip);
    });
    const secure = this.options.secure;
    if (secure === undefined) {
      this.options.onSocket(raw, raw);
      return;
    }
    secure(raw).then(
      (socket) => {
        if (raw.destroyed) socket.destroy();
        else this.options.onSocket(socket, raw);
      },
      (error: unknown) => {
        this.options.logger.debug('secure handshake failed', {
          remote: formatHostPort(ip, raw.remotePort ?? 0),
          error: error instanceof Error ? error.message : String(error),
        });
        raw.destroy();
      },
    );
  }
}

/**
 * Opens a TCP connection with a deadline.
 * @throws TransportError on refusal, reset, or when `timeoutMs` passes first.
 */
export function dialTcp(options: {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly clock: Clock;
  readonly timeoutMs: number;
}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const host = stripBrackets(options.host);
    const socket = connect({
      host,
      port: options.port,
      noDelay: true,
      ...(options.localAddress === undefined ? {} : { localAddress: stripBrackets(options.localAddress) }),
    });
    const fail = (error: unknown): void => {
      timer.cancel();
      socket.destroy();
      reject(new TransportError(`cannot connect to ${formatHostPort(host, options.port)} over tcp`, { cause: error }));
    };
    const timer = options.clock.setTimer(options.timeoutMs, () => fail(new Error('connect deadline passed')));
    socket.once('error', fail);
    socket.once('connect', () => {
      timer.cancel();
      // `fail` stays attached: an error before the owner adds its own listener must not throw (G14).
      resolve(socket);
    });
  });
}
