/**
 * TLS over TCP (RFC 3261 §18, §26.2; RFC 5630). The server side wraps each admitted TCP socket
 * itself, so the per-IP cap is applied before the handshake costs anything and the handshake
 * deadline (G11, 10 s by default) runs on the injected clock.
 */
import type { Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { Clock } from '../core/clock.js';
import { formatHostPort, stripBrackets } from './address.js';
import { TransportError } from './transport.js';

/** PEM material for a TLS or WSS listener. */
export interface TlsCredentials {
  /** Certificate chain, PEM. */
  readonly cert: string | Buffer;
  /** Private key, PEM. */
  readonly key: string | Buffer;
  /** CA certificates to trust (for client certificates, and by default for outbound TLS), PEM. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
}

/** How outbound TLS and WSS connections verify the server. */
export interface TlsClientOptions {
  /** CAs to trust instead of Node's bundled roots, PEM. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** A client certificate to present (mutual TLS), PEM. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /**
   * Whether to refuse servers whose certificate does not verify (default true). RFC 5922 wants
   * the certificate to match the SIP domain; the transport only sees an IP, so without
   * `servername` the certificate must carry that IP as a subjectAltName.
   */
  readonly rejectUnauthorized?: boolean;
  /** The name to send in SNI and to check the certificate against, per target. */
  readonly servername?: (target: { readonly host: string; readonly port: number }) => string | undefined;
}

function caList(ca: string | Buffer | ReadonlyArray<string | Buffer>): Array<string | Buffer> | string | Buffer {
  return typeof ca === 'string' || Buffer.isBuffer(ca) ? ca : [...ca];
}

/** Builds the secure context of a listener from PEM credentials. @throws Error on bad PEM. */
export function createServerContext(credentials: TlsCredentials): SecureContext {
  return createSecureContext({
    cert: credentials.cert,
    key: credentials.key,
    ...(credentials.ca === undefined ? {} : { ca: caList(credentials.ca) }),
  });
}

/**
 * Returns the accept step of a TLS listener: runs the server handshake on a raw TCP socket and
 * resolves with the TLS socket, or rejects on failure or when `timeoutMs` passes (G11).
 */
export function createTlsAcceptor(context: SecureContext, clock: Clock, timeoutMs: number): (raw: Socket) => Promise<Socket> {
  return (raw) =>
    new Promise((resolve, reject) => {
      const socket = new TLSSocket(raw, { isServer: true, secureContext: context, requestCert: false });
      let settled = false;
      const fail = (error: Error): void => {
        timer.cancel();
        socket.destroy();
        raw.destroy();
        if (!settled) {
          settled = true;
          reject(error);
        }
      };
      const timer = clock.setTimer(timeoutMs, () => fail(new TransportError('TLS handshake deadline passed')));
      // Stays attached for the socket's life: a late error must not be unhandled (G14).
      socket.on('error', fail);
      socket.once('close', () => fail(new TransportError('closed during the TLS handshake')));
      socket.once('secure', () => {
        timer.cancel();
        if (settled) return;
        settled = true;
        resolve(socket);
      });
    });
}

/**
 * Opens a TLS connection and completes the handshake within `timeoutMs`.
 * @throws TransportError on refusal, a certificate that does not verify, or the deadline.
 */
export function dialTls(options: {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly client: TlsClientOptions;
  readonly clock: Clock;
  readonly timeoutMs: number;
}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const host = stripBrackets(options.host);
    const servername = options.client.servername?.({ host, port: options.port });
    const socket = tlsConnect({
      host,
      port: options.port,
      ...(options.localAddress === undefined ? {} : { localAddress: stripBrackets(options.localAddress) }),
      ...(options.client.ca === undefined ? {} : { ca: caList(options.client.ca) }),
      ...(options.client.cert === undefined ? {} : { cert: options.client.cert }),
      ...(options.client.key === undefined ? {} : { key: options.client.key }),
      ...(servername === undefined ? {} : { servername }),
      rejectUnauthorized: options.client.rejectUnauthorized ?? true,
    });
    const fail = (error: unknown): void => {
      timer.cancel();
      socket.destroy();
      reject(new TransportError(`cannot connect to ${formatHostPort(host, options.port)} over tls`, { cause: error }));
    };
    const timer = options.clock.setTimer(options.timeoutMs, () => fail(new Error('TLS connect deadline passed')));
    socket.on('error', fail);
    socket.once('secureConnect', () => {
      timer.cancel();
      resolve(socket);
    });
  });
}
