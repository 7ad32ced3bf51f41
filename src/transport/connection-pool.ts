/**
 * The connections a transport layer holds, indexed two ways (RFC 3261 §18.1.1, §18.2.2;
 * RFC 5626 §3):
 * - by flow id, so a response goes back over the connection its request came on;
 * - by remote transport address, so a later message to that address (a response routed by
 *   Via, an in-dialog request, the next request to the same proxy) reuses an open connection,
 *   whichever side opened it.
 *
 * It also admits inbound connections against a per-source-IP and a total cap (G11), and
 * shares one in-flight dial between concurrent senders to the same address.
 */
import { addressKey, normalizeHost } from './address.js';
import type { Connection } from './connection.js';
import { TransportError, type TransportAddress } from './transport.js';

/** Options for {@link ConnectionPool}. */
export interface ConnectionPoolOptions {
  /** Inbound connections (including those still in a TLS or WebSocket handshake) per source IP. */
  readonly maxConnectionsPerIp: number;
  /** Inbound connections in total. */
  readonly maxConnections: number;
}

/** Connections by flow and by remote address, with admission control. */
export class ConnectionPool {
  private readonly byId = new Map<string, Connection>();
  /** Newest last; a Set keeps insertion order. */
  private readonly byRemote = new Map<string, Set<Connection>>();
  private readonly dialing = new Map<string, Promise<Connection>>();
  private readonly perIp = new Map<string, number>();
  private inbound = 0;

  constructor(private readonly options: ConnectionPoolOptions) {}

  /** Number of registered connections. */
  get size(): number {
    return this.byId.size;
  }

  /**
   * Reserves a slot for a new inbound socket from `ip`. Returns false when the per-IP or total
   * cap is reached; the caller then closes the socket. Every `true` needs one {@link release}.
   */
  admit(ip: string): boolean {
    const key = normalizeHost(ip);
    const count = this.perIp.get(key) ?? 0;
    if (count >= this.options.maxConnectionsPerIp || this.inbound >= this.options.maxConnections) return false;
    this.perIp.set(key, count + 1);
    this.inbound++;
    return true;
  }

  /** Gives back a slot taken by {@link admit}. */
  release(ip: string): void {
    const key = normalizeHost(ip);
    const count = this.perIp.get(key) ?? 0;
    if (count <= 1) this.perIp.delete(key);
    else this.perIp.set(key, count - 1);
    if (this.inbound > 0) this.inbound--;
  }

  /** Inbound sockets currently admitted from `ip`. */
  connectionsFrom(ip: string): number {
    return this.perIp.get(normalizeHost(ip)) ?? 0;
  }

  /** Registers an open connection under its flow id and remote address. */
  add(connection: Connection): void {
    this.byId.set(connection.id, connection);
    const key = addressKey(connection.flow.remote);
    let set = this.byRemote.get(key);
    if (set === undefined) {
      set = new Set();
      this.byRemote.set(key, set);
    }
    set.add(connection);
  }

  /** Forgets a connection (called when it closes). */
  remove(connection: Connection): void {
    if (this.byId.get(connection.id) === connection) this.byId.delete(connection.id);
    const key = addressKey(connection.flow.remote);
    const set = this.byRemote.get(key);
    if (set === undefined) return;
    set.delete(connection);
    if (set.size === 0) this.byRemote.delete(key);
  }

  /** The open connection of a flow, if any. */
  byFlow(flowId: string): Connection | undefined {
    const connection = this.byId.get(flowId);
    return connection?.isOpen === true ? connection : undefined;
  }

  /** The newest open connection to `address` (same protocol, IP and port), if any. */
  toAddress(address: TransportAddress): Connection | undefined {
    const set = this.byRemote.get(addressKey(address));
    if (set === undefined) return undefined;
    let found: Connection | undefined;
    for (const connection of set) if (connection.isOpen) found = connection;
    return found;
  }

  /**
   * An open connection to `address`: an existing one, the one being dialled by another
   * sender, or a new one from `dial` (registered here once open).
   * @throws TransportError when the dial fails.
   */
  async acquire(address: TransportAddress, dial: () => Promise<Connection>): Promise<Connection> {
    const existing = this.toAddress(address);
    if (existing !== undefined) return existing;
    const key = addressKey(address);
    let pending = this.dialing.get(key);
    if (pending === undefined) {
      pending = dial().then(
        (connection) => {
          this.dialing.delete(key);
          return connection;
        },
        (error: unknown) => {
          this.dialing.delete(key);
          throw error instanceof TransportError ? error : new TransportError(`cannot connect to ${key}`, { cause: error });
        },
      );
      this.dialing.set(key, pending);
    }
    return pending;
  }

  /** Every registered connection. */
  all(): Connection[] {
    return [...this.byId.values()];
  }
}
