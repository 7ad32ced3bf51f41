/**
 * Shared fixtures for the socket tests: a self-signed certificate, SIP message text, a layer
 * with an inbox, raw TCP/UDP peers, and waits that are bounded in time (no sleeps).
 */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { SystemClock, type Clock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/log.js';
import { newBranch } from '../../src/sip/index.js';
import { TransportLayer, type ListenerConfig, type TransportLayerOptions } from '../../src/transport/layer.js';
import { formatHostPort } from '../../src/transport/address.js';
import type { IncomingMessage, TransportAddress, TransportProtocol } from '../../src/transport/transport.js';

/** A self-signed certificate for localhost, 127.0.0.1 and ::1, made with openssl in a temp dir. */
export function makeCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'voxlite-tls-'));
  try {
    const key = join(dir, 'k');
    const cert = join(dir, 'c');
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
        '-keyout', key, '-out', cert,
      ],
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Text of a SIP request (CRLF line ends, Content-Length right). */
export function requestText(options: {
  method?: string;
  via: string;
  callId?: string;
  cseq?: number;
  body?: string;
  extra?: string[];
  contentLength?: string[];
}): string {
  const method = options.method ?? 'OPTIONS';
  const body = options.body ?? '';
  const lengths = options.contentLength ?? [String(Buffer.byteLength(body))];
  return [
    `${method} sip:bob@127.0.0.1 SIP/2.0`,
    `Via: ${options.via}`,
    'Max-Forwards: 70',
    'To: <sip:bob@example.com>',
    'From: <sip:alice@example.com>;tag=a1',
    `Call-ID: ${options.callId ?? 'c-' + newBranch().slice(7)}`,
    `CSeq: ${options.cseq ?? 1} ${method}`,
    ...(options.extra ?? []),
    ...lengths.map((l) => `Content-Length: ${l}`),
    '',
    body,
  ].join('\r\n');
}

/** A Via value for `address` with a fresh branch. */
export function viaFor(address: TransportAddress, params = ''): string {
  return `SIP/2.0/${address.protocol.toUpperCase()} ${formatHostPort(address.host, address.port)};branch=${newBranch()}${params}`;
}

/** Rejects after `ms` (an unref'd timer, cleared when `promise` settles). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** A queue of values with a bounded async take. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<(item: T) => void> = [];

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(item);
    else this.items.push(item);
  }

  get size(): number {
    return this.items.length;
  }

  next(ms = 3000, what = 'a message'): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return within(new Promise<T>((resolve) => this.waiters.push(resolve)), ms, what);
  }
}

/** A logger that records warn lines (what the transport uses for drops). */
export function recordingLogger(): Logger & { readonly warnings: string[] } {
  const warnings: string[] = [];
  const noop = (): void => undefined;
  return { warnings, debug: noop, info: noop, error: noop, warn: (m) => warnings.push(m) };
}

/** A started layer with an inbox of what it hands up. */
export interface Peer {
  readonly layer: TransportLayer;
  readonly inbox: Inbox<IncomingMessage>;
  address(protocol: TransportProtocol): TransportAddress;
}

/** Starts a layer on the given listeners (ports 0) with short deadlines unless overridden. */
export async function startPeer(
  listeners: ListenerConfig[],
  options: Partial<Omit<TransportLayerOptions, 'listeners'>> & { clock?: Clock } = {},
): Promise<Peer> {
  const layer = new TransportLayer({ clock: options.clock ?? new SystemClock(), ...options, listeners });
  await layer.listen();
  const inbox = new Inbox<IncomingMessage>();
  layer.onMessage((incoming) => inbox.push(incoming));
  return {
    layer,
    inbox,
    address(protocol) {
      const a = layer.localAddress(protocol);
      if (a === undefined) throw new Error(`no ${protocol} listener`);
      return a;
    },
  };
}

/** A raw TCP (or TLS) client that collects what it receives. */
export class RawStreamClient {
  readonly socket: Socket;
  private data = Buffer.alloc(0);
  private readonly changed = new Set<() => void>();
  readonly closed: Promise<void>;
  readonly connected: Promise<void>;

  constructor(host: string, port: number, tls?: { ca: string }) {
    this.socket = tls === undefined ? netConnect({ host, port, noDelay: true }) : tlsConnect({ host, port, ca: tls.ca });
    this.socket.setNoDelay(true);
    this.connected = new Promise((resolve, reject) => {
      this.socket.once(tls === undefined ? 'connect' : 'secureConnect', () => resolve());
      this.socket.once('error', reject);
    });
    this.connected.catch(() => undefined);
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      for (const f of this.changed) f();
    });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  /** Everything received so far, as latin1 text. */
  get text(): string {
    return this.data.toString('latin1');
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Waits until the received text satisfies `predicate`. */
  waitFor(predicate: (text: string) => boolean, ms = 3000, what = 'data'): Promise<string> {
    if (predicate(this.text)) return Promise.resolve(this.text);
    let check: () => void = () => undefined;
    const p = new Promise<string>((resolve, reject) => {
      check = () => {
        if (predicate(this.text)) resolve(this.text);
      };
      this.socket.once('close', () => (predicate(this.text) ? resolve(this.text) : reject(new Error(`closed before ${what}; got ${JSON.stringify(this.text)}`))));
      this.changed.add(check);
    });
    return within(p, ms, what).finally(() => this.changed.delete(check));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A raw UDP peer that collects datagrams. */
export class RawUdpClient {
  readonly socket: UdpSocket;
  readonly inbox = new Inbox<Buffer>();
  readonly ready: Promise<TransportAddress>;

  constructor(family: 4 | 6) {
    this.socket = createSocket(family === 4 ? 'udp4' : 'udp6');
    this.socket.on('message', (msg: Buffer) => this.inbox.push(msg));
    this.ready = new Promise((resolve) => {
      this.socket.bind(0, family === 4 ? '127.0.0.1' : '::1', () => {
        const a = this.socket.address();
        resolve({ protocol: 'udp', host: a.address, port: a.port });
      });
    });
  }

  send(data: string | Buffer, to: TransportAddress): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, to.port, to.host, (e) => (e ? reject(e) : resolve())),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** Handles that would keep the process alive (sockets, servers); timers are unref'd and ignored. */
export function openSocketHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => /TCP|UDP|TLS/i.test(r));
}

/**
 * Resolves when no socket handle is left (libuv finishes closing a handle a loop turn after its
 * `close` callback), or rejects with the ones still open after `ms`.
 */
export async function assertNoSocketHandles(ms = 1000): Promise<void> {
  try {
    await until(() => openSocketHandles().length === 0, 'socket handles to close', ms);
  } catch {
    throw new Error(`open socket handles: ${openSocketHandles().join(', ')}`);
  }
}

/** Waits (polling every few ms, bounded) until `predicate` holds: for state with no event to wait on. */
export async function until(predicate: () => boolean, what: string, ms = 3000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
