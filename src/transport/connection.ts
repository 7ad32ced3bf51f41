/**
 * What every connection-oriented transport (TCP, TLS, WS, WSS) looks like to the pool and the
 * layer, and the framing of message-oriented input (a UDP datagram, a WebSocket message).
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { parseMessage, SipParseError, type ParseLimits, type SipMessage } from '../sip/index.js';
import type { Flow, TransportProtocol } from './transport.js';

/** A connection-oriented protocol. */
export type StreamProtocol = Exclude<TransportProtocol, 'udp'>;

/** One framed unit of input: a valid message, or one that failed to parse. */
export type FrameEvent =
  | { readonly type: 'message'; readonly message: SipMessage; readonly bytes: Buffer }
  /**
   * `bytes` are the octets of the bad message (so a 4xx can be built); `fatal` means framing
   * is lost and the connection is being closed (G03).
   */
  | { readonly type: 'error'; readonly error: SipParseError; readonly bytes: Buffer; readonly fatal: boolean };

/** Callbacks from a connection to its owner; called synchronously. */
export interface ConnectionHandlers {
  /** A framed message (or framing error) arrived. */
  onFrame(connection: Connection, event: FrameEvent): void;
  /** The connection is gone (closed by either side, timed out, or failed). Called once. */
  onClose(connection: Connection): void;
}

/** Deadlines and bounds shared by every connection (G11, STYLE §7). */
export interface ConnectionSettings {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly limits: ParseLimits;
  /** Close after this long without octets in either direction. */
  readonly idleTimeoutMs: number;
  /** A header section must be complete this long after its first octet. */
  readonly headerTimeoutMs: number;
  /** A whole message must be complete this long after its first octet. */
  readonly messageTimeoutMs: number;
  /** Octets queued while the socket refuses more (`write()` returned false); beyond: TransportError. */
  readonly maxQueuedBytes: number;
}

/** A live connection (one flow, RFC 5626 §3). */
export interface Connection {
  /** Same as `flow.id`. */
  readonly id: string;
  readonly protocol: StreamProtocol;
  readonly flow: Flow;
  /** Who opened it: the peer (`inbound`) or this side (`outbound`). */
  readonly direction: 'inbound' | 'outbound';
  /** Whether it still accepts messages to send. */
  readonly isOpen: boolean;
  /**
   * Writes one message. Resolves once the octets are handed to the socket (possibly after
   * waiting for `drain`).
   * @throws TransportError when closed or when the bounded send queue is full.
   */
  send(bytes: Buffer): Promise<void>;
  /** Closes after what is queued is written (graceful). Idempotent. */
  end(): void;
  /** Closes now, dropping anything queued. Idempotent. */
  destroy(): void;
  /** Resolves when the socket is closed. */
  readonly closed: Promise<void>;
}

const KEEPALIVE = /^[\r\n]*$/;

/** Whether a datagram / WebSocket message is only CRLFs (a keep-alive, RFC 5626 §3.5.1), or empty. */
export function isKeepAlive(bytes: Uint8Array): boolean {
  if (bytes.length > 8) return false;
  return KEEPALIVE.test(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
}

/**
 * Parses one self-delimited message: a UDP datagram (RFC 3261 §18.3) or a WebSocket message
 * (RFC 7118 §5: one SIP message per WebSocket message, Content-Length optional). Never throws
 * a parse error: it becomes an `error` event.
 */
export function parseFrame(bytes: Buffer, limits: ParseLimits): FrameEvent {
  try {
    return { type: 'message', message: parseMessage(bytes, { limits, mode: 'datagram' }), bytes };
  } catch (error) {
    if (error instanceof SipParseError) return { type: 'error', error, bytes, fatal: false };
    // Anything else is a bug in the parser; report it as a 400-able parse error rather than crash (G14).
    return {
      type: 'error',
      error: new SipParseError('header-syntax', `parser failure: ${error instanceof Error ? error.message : String(error)}`),
      bytes,
      fatal: false,
    };
  }
}

/**
 * Closes a connection after `timeoutMs` without activity. Activity only stamps a time; the
 * single timer re-arms for the remainder when it fires, so one-octet writes do not create
 * one timer each.
 */
export class IdleWatch {
  private last: number;
  private timer: TimerHandle | null = null;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly onIdle: () => void,
  ) {
    this.last = clock.now();
    this.arm(timeoutMs);
  }

  /** Records activity now. */
  touch(): void {
    this.last = this.clock.now();
  }

  /** Cancels the watch; idempotent. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(delayMs: number): void {
    this.timer = this.clock.setTimer(delayMs, () => {
      if (this.stopped) return;
      const idleFor = this.clock.now() - this.last;
      if (idleFor >= this.timeoutMs) {
        this.stopped = true;
        this.onIdle();
      } else {
        this.arm(this.timeoutMs - idleFor);
      }
    });
  }
}
