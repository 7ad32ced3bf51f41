/**
 * SIP over UDP (RFC 3261 §18): one message per datagram. A socket bound to an IPv4 host is
 * `udp4`; one bound to an IPv6 host is `udp6` (dual-stack when bound to `::`, in which case
 * IPv4 peers appear as `::ffff:a.b.c.d` and are normalised to plain IPv4).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from '../core/log.js';
import { formatHostPort, ipFamily, normalizeHost, stripBrackets } from './address.js';
import { TransportError, type TransportAddress } from './transport.js';

/** Options for {@link UdpEndpoint}. */
export interface UdpEndpointOptions {
  /** IP literal to bind (`0.0.0.0`, `::`, `127.0.0.1`, `::1`, …). */
  readonly host: string;
  /** Port to bind; 0 picks an ephemeral port. */
  readonly port: number;
  readonly logger: Logger;
  /** Called for every datagram, with the source normalised. */
  readonly onDatagram: (bytes: Buffer, source: TransportAddress, endpoint: UdpEndpoint) => void;
}

/** One bound UDP socket. */
export class UdpEndpoint {
  /** Address family of the socket. */
  readonly family: 4 | 6;
  private readonly socket: Socket;
  private readonly options: UdpEndpointOptions;
  private bound: TransportAddress | undefined;
  private closing: Promise<void> | undefined;

  /** @throws TypeError when `host` is not an IP literal. */
  constructor(options: UdpEndpointOptions) {
    const family = ipFamily(options.host);
    if (family === 0) throw new TypeError(`UDP listener host must be an IP literal, got "${options.host}"`);
    this.family = family;
    this.options = options;
    // Every destination is a checked IP literal (see send), so the DNS lookup node makes on
    // every datagram (dns.lookup, answered on the next tick) is skipped.
    this.socket = createSocket({
      type: family === 4 ? 'udp4' : 'udp6',
      lookup: (hostname, _options, callback) => callback(null, hostname, family),
    });
    this.socket.on('message', (bytes: Buffer, rinfo: RemoteInfo) => {
      const source: TransportAddress = { protocol: 'udp', host: normalizeHost(rinfo.address), port: rinfo.port };
      options.onDatagram(bytes, source, this);
    });
    // An ICMP error on a connectionless socket must not end the process (G14).
    this.socket.on('error', (error: Error) => options.logger.debug('udp socket error', { error: error.message }));
  }

  /** The bound address (after {@link bind}). */
  get local(): TransportAddress {
    if (this.bound === undefined) throw new TransportError('UDP endpoint is not bound');
    return this.bound;
  }

  /** Binds the socket. @throws Error (EADDRINUSE, EADDRNOTAVAIL, …) from the OS. */
  bind(): Promise<TransportAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.socket.once('error', onError);
      this.socket.bind({ address: stripBrackets(this.options.host), port: this.options.port, exclusive: true }, () => {
        this.socket.off('error', onError);
        const address = this.socket.address();
        this.bound = { protocol: 'udp', host: normalizeHost(address.address), port: address.port };
        resolve(this.bound);
      });
    });
  }

  /** Whether this socket can reach `host` (its family, or IPv4 through a dual-stack IPv6 socket). */
  canReach(host: string): boolean {
    const family = ipFamily(host);
    if (family === this.family) return true;
    return family === 4 && this.family === 6 && this.bound !== undefined && this.bound.host === '::';
  }

  /**
   * Sends one datagram. Resolves when the OS took it.
   * @throws TransportError when the socket is closed, the family does not match, or the OS refuses.
   */
  send(bytes: Buffer, host: string, port: number): Promise<void> {
    if (this.closing !== undefined || this.bound === undefined) {
      return Promise.reject(new TransportError('UDP endpoint is closed'));
    }
    let to = stripBrackets(host);
    const family = ipFamily(to);
    if (family === 4 && this.family === 6) to = `::ffff:${to}`;
    else if (family !== this.family) {
      return Promise.reject(new TransportError(`UDP endpoint ${formatHostPort(this.bound.host, this.bound.port)} cannot reach ${host}`));
    }
    return new Promise((resolve, reject) => {
      try {
        this.socket.send(bytes, port, to, (error) => {
          if (error) reject(new TransportError(`UDP send to ${formatHostPort(host, port)} failed`, { cause: error }));
          else resolve();
        });
      } catch (error) {
        reject(new TransportError(`UDP send to ${formatHostPort(host, port)} failed`, { cause: error }));
      }
    });
  }

  /** Closes the socket; idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = new Promise((resolve) => {
        try {
          this.socket.close(() => resolve());
        } catch {
          resolve(); // never bound, or already closed
        }
      });
    }
    return this.closing;
  }
}
