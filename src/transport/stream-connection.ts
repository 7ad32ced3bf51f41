/**
 * A SIP connection over a byte stream (TCP, or TLS over TCP): Content-Length framing with
 * {@link StreamParser} (RFC 3261 §18.3), CRLF keep-alives (RFC 5626 §3.5.1), the G11
 * deadlines and a bounded send queue that honours `write()` returning false.
 *
 * Deadlines, all from the injected clock:
 * - header section: complete within `headerTimeoutMs` of the message's first octet;
 * - whole message: within `messageTimeoutMs` of its first octet;
 * - idle: `idleTimeoutMs` without octets either way.
 * Trickling octets does not extend the first two, so slowloris clients are cut off (G11).
 */
import type { Socket } from 'node:net';
import type { TimerHandle } from '../core/clock.js';
import { SipParseError, StreamParser } from '../sip/index.js';
import { IdleWatch, type Connection, type ConnectionHandlers, type ConnectionSettings, type StreamProtocol } from './connection.js';
import { formatHostPort } from './address.js';
import { TransportError, type Flow } from './transport.js';

const CRLF = Buffer.from('\r\n', 'latin1');
/** How long a graceful close may wait for the peer to take queued octets before the socket is destroyed. */
const CLOSE_LINGER_MS = 2_000;

interface QueuedWrite {
  readonly bytes: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** Scanner states for spotting the empty line that ends a header section. */
const HeaderScan = { InLine: 0, AfterLf: 1, AfterLfCr: 2 } as const;
type HeaderScan = (typeof HeaderScan)[keyof typeof HeaderScan];

/** A TCP or TLS connection carrying SIP. */
export class StreamConnection implements Connection {
  readonly id: string;
  readonly protocol: StreamProtocol;
  readonly flow: Flow;
  readonly direction: 'inbound' | 'outbound';
  readonly closed: Promise<void>;

  private readonly socket: Socket;
  private readonly settings: ConnectionSettings;
  private readonly handlers: ConnectionHandlers;
  private readonly parser: StreamParser;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private queue: QueuedWrite[] = [];
  private queuedBytes = 0;
  private blocked = false;
  private readonly idle: IdleWatch;
  private headerTimer: TimerHandle | null = null;
  private messageTimer: TimerHandle | null = null;
  private lingerTimer: TimerHandle | null = null;
  private inMessage = false;
  private headerDone = false;
  private scan: HeaderScan = HeaderScan.InLine;
  private resolveClosed!: () => void;

  constructor(init: {
    readonly id: string;
    readonly protocol: StreamProtocol;
    readonly socket: Socket;
    readonly flow: Flow;
    readonly direction: 'inbound' | 'outbound';
    readonly settings: ConnectionSettings;
    readonly handlers: ConnectionHandlers;
  }) {
    this.id = init.id;
    this.protocol = init.protocol;
    this.socket = init.socket;
    this.flow = init.flow;
    this.direction = init.direction;
    this.settings = init.settings;
    this.handlers = init.handlers;
    // A client reports every CRLF at once as a pong; a server waits to see a whole CRLFCRLF ping.
    this.parser = new StreamParser({ limits: init.settings.limits, role: init.direction === 'inbound' ? 'server' : 'client' });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.idle = new IdleWatch(init.settings.clock, init.settings.idleTimeoutMs, () => {
      this.settings.logger.debug('idle; closing', { id: this.id, remote: this.describe() });
      this.destroy();
    });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('drain', () => this.flush());
    this.socket.on('error', (error: Error) => {
      this.settings.logger.debug('connection error', { id: this.id, error: error.message });
    });
    this.socket.on('close', () => this.onSocketClose());
    if (this.socket.destroyed) queueMicrotask(() => this.onSocketClose());
  }

  get isOpen(): boolean {
    return this.state === 'open' && !this.socket.destroyed;
  }

  send(bytes: Buffer): Promise<void> {
    if (!this.isOpen) {
      return Promise.reject(new TransportError(`${this.protocol} connection ${this.describe()} is closed`));
    }
    this.idle.touch();
    if (!this.blocked) {
      // RFC-agnostic but essential (STYLE §7): false means "stop until drain", not "failed".
      if (!this.socket.write(bytes)) this.blocked = true;
      return Promise.resolve();
    }
    if (this.queuedBytes + bytes.length > this.settings.maxQueuedBytes) {
      return Promise.reject(
        new TransportError(`${this.protocol} send queue to ${this.describe()} is full (${this.settings.maxQueuedBytes} octets)`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      this.queuedBytes += bytes.length;
    });
  }

  end(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.clearMessageTimers();
    if (this.queue.length === 0) this.socket.end();
    // A peer that never reads must not hold the socket open forever.
    this.lingerTimer = this.settings.clock.setTimer(CLOSE_LINGER_MS, () => this.destroy());
  }

  destroy(): void {
    if (this.state === 'closed') return;
    this.state = 'closing';
    this.socket.destroy();
    this.onSocketClose();
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private describe(): string {
    return formatHostPort(this.flow.remote.host, this.flow.remote.port);
  }

  private flush(): void {
    this.blocked = false;
    while (this.queue.length > 0 && !this.blocked) {
      const item = this.queue.shift()!;
      this.queuedBytes -= item.bytes.length;
      if (this.socket.destroyed) {
        item.reject(new TransportError(`${this.protocol} connection ${this.describe()} is closed`));
        continue;
      }
      if (!this.socket.write(item.bytes)) this.blocked = true;
      item.resolve();
    }
    if (this.state === 'closing' && this.queue.length === 0 && !this.socket.destroyed) this.socket.end();
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.idle.touch();
    let events;
    try {
      events = this.parser.push(chunk);
    } catch (error) {
      // A parser bug must not take the process down (G14); framing is lost, so close.
      const failure = new SipParseError('header-syntax', `stream parser failure: ${error instanceof Error ? error.message : String(error)}`);
      this.handlers.onFrame(this, { type: 'error', error: failure, bytes: Buffer.alloc(0), fatal: true });
      this.end();
      return;
    }
    let completed = false;
    for (const event of events) {
      // A handler may have closed the connection.
      if (this.isClosed()) return;
      switch (event.type) {
        case 'ping':
          // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with a CRLF pong.
          if (this.state === 'open') void this.send(CRLF).catch(() => undefined);
          break;
        case 'pong':
          break;
        case 'message':
          completed = true;
          this.handlers.onFrame(this, event);
          break;
        case 'error':
          completed = true;
          this.handlers.onFrame(this, event);
          // G03: framing is lost; whatever 4xx the layer queued goes out, then the stream closes.
          if (event.fatal) this.end();
          break;
      }
    }
    if (this.state === 'open') this.trackDeadlines(chunk, completed);
  }

  /** Arms or clears the per-message deadlines after a chunk (G11). */
  private trackDeadlines(chunk: Buffer, completed: boolean): void {
    if (completed) this.clearMessageTimers();
    const pending = this.parser.buffered;
    if (pending === 0) {
      this.clearMessageTimers();
      return;
    }
    let fresh: Buffer;
    if (!this.inMessage) {
      // The octets held by the parser are those of the message in progress, a suffix of what arrived.
      this.inMessage = true;
      this.headerDone = false;
      this.scan = HeaderScan.InLine;
      const { clock, headerTimeoutMs, messageTimeoutMs } = this.settings;
      this.headerTimer = clock.setTimer(headerTimeoutMs, () => this.deadline('header section'));
      this.messageTimer = clock.setTimer(messageTimeoutMs, () => this.deadline('message'));
      fresh = pending <= chunk.length ? chunk.subarray(chunk.length - pending) : chunk;
    } else {
      fresh = chunk;
    }
    if (!this.headerDone && this.scanForHeaderEnd(fresh)) {
      this.headerDone = true;
      this.headerTimer?.cancel();
      this.headerTimer = null;
    }
  }

  /** Looks for LF LF or LF CR LF (the end of a header section, as the parser accepts it). */
  private scanForHeaderEnd(bytes: Buffer): boolean {
    let state: HeaderScan = this.scan;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
      if (c === 0x0a) {
        if (state !== HeaderScan.InLine) return true;
        state = HeaderScan.AfterLf;
      } else if (c === 0x0d) {
        state = state === HeaderScan.AfterLf ? HeaderScan.AfterLfCr : HeaderScan.InLine;
      } else {
        state = HeaderScan.InLine;
      }
    }
    this.scan = state;
    return false;
  }

  private clearMessageTimers(): void {
    this.inMessage = false;
    this.headerTimer?.cancel();
    this.messageTimer?.cancel();
    this.headerTimer = null;
    this.messageTimer = null;
  }

  private deadline(what: string): void {
    if (this.state === 'closed') return;
    this.settings.logger.debug(`${what} deadline passed; closing`, { id: this.id, remote: this.describe() });
    this.destroy();
  }

  private onSocketClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearMessageTimers();
    this.idle.stop();
    this.lingerTimer?.cancel();
    const queued = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const item of queued) item.reject(new TransportError(`${this.protocol} connection ${this.describe()} closed`));
    this.handlers.onClose(this);
    this.resolveClosed();
  }
}
