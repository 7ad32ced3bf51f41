/**
 * The boundary between an {@link RtpSession} and the network: send datagrams, receive validated
 * packets. `RtpSocket` (socket.ts) is the UDP implementation; tests can pair two in memory and
 * drive them with a fake clock ({@link createMemoryTransportPair}).
 */
import type { Clock } from '../core/clock.js';
import { demuxDatagram, type DatagramDropReason } from './demux.js';
import { RtpPacket } from './packet.js';
import type { RtcpPacket } from './rtcp.js';

/** Where the session layer receives from a transport. */
export interface RtpTransportHandlers {
  /**
   * A valid RTP packet from an accepted source. The packet object is reused for the next
   * datagram: copy what you keep (its `payload` is a view into a datagram that is not reused).
   */
  onRtp(packet: RtpPacket): void;
  /** A valid RTCP compound from an accepted source; `byteLength` is its size on the wire (no IP/UDP). */
  onRtcp(packets: RtcpPacket[], byteLength: number): void;
}

/**
 * What an {@link RtpSession} needs from the network: send RTP and RTCP datagrams, and receive
 * validated packets. {@link RtpSocket} is the UDP implementation; tests can pair two in memory.
 */
export interface RtpTransport {
  /** Sets (or with `undefined`, clears) the receive handlers. */
  attach(handlers: RtpTransportHandlers | undefined): void;
  /** Sends one RTP datagram; `false` when it was dropped locally (no destination, closed). */
  sendRtp(datagram: Uint8Array): boolean;
  /** Sends one RTCP compound; `false` when it was dropped locally. */
  sendRtcp(datagram: Uint8Array): boolean;
  /** IP + UDP header octets per datagram (28 for IPv4, 48 for IPv6), for the RTCP average size (RFC 3550 §6.3.3). */
  readonly headerOverhead: number;
  /** Releases the transport. Idempotent. */
  close(): void;
}

/** Options of {@link createMemoryTransportPair}. */
export interface MemoryTransportOptions {
  /** Clock for the one-way delay; required when `delayMs` > 0. */
  clock?: Clock;
  /** One-way delay in ms; default 0 (delivered synchronously inside `send*`). */
  delayMs?: number;
  /** IP + UDP overhead to report; default 28 (IPv4). */
  headerOverhead?: number;
}

/** One end of an in-memory transport pair; see {@link createMemoryTransportPair}. */
export class MemoryRtpTransport implements RtpTransport {
  readonly headerOverhead: number;
  /** Every datagram this end sent, in order (RTP and RTCP), for assertions; grows without bound (tests only). */
  readonly sent: { kind: 'rtp' | 'rtcp'; datagram: Uint8Array }[] = [];
  /** Received datagrams dropped by validation, by reason. */
  readonly drops = new Map<DatagramDropReason, number>();
  /** When `false`, sent datagrams are recorded but not delivered (a one-way outage). */
  connected = true;
  /** Whether {@link close} was called. */
  closed = false;
  /** The other end, set by {@link createMemoryTransportPair}. */
  peer: MemoryRtpTransport | undefined;
  private handlers: RtpTransportHandlers | undefined;
  private readonly packet = new RtpPacket();

  constructor(
    private readonly options: MemoryTransportOptions = {},
  ) {
    this.headerOverhead = options.headerOverhead ?? 28;
  }

  /** Sets (or clears) who receives the validated packets. */
  attach(handlers: RtpTransportHandlers | undefined): void {
    this.handlers = handlers;
  }

  /** Records the datagram and delivers a copy to the peer (unless disconnected). */
  sendRtp(datagram: Uint8Array): boolean {
    return this.send('rtp', datagram);
  }

  /** As {@link sendRtp}, for RTCP. */
  sendRtcp(datagram: Uint8Array): boolean {
    return this.send('rtcp', datagram);
  }

  /** Delivers a datagram to this end as if it came from the network (for hostile-input tests). */
  inject(datagram: Uint8Array): void {
    if (this.closed) return;
    const result = demuxDatagram(datagram, this.packet);
    if (typeof result === 'string') {
      this.drops.set(result, (this.drops.get(result) ?? 0) + 1);
    } else if (Array.isArray(result)) {
      this.handlers?.onRtcp(result, datagram.length);
    } else {
      this.handlers?.onRtp(result);
    }
  }

  /** Stops sending and receiving. Idempotent. */
  close(): void {
    this.closed = true;
    this.handlers = undefined;
  }

  private send(kind: 'rtp' | 'rtcp', datagram: Uint8Array): boolean {
    if (this.closed) return false;
    // A copy, as the kernel would make: the sender may reuse its buffer.
    const copy = Uint8Array.from(datagram);
    this.sent.push({ kind, datagram: copy });
    const peer = this.peer;
    if (peer === undefined || !this.connected) return true;
    const delay = this.options.delayMs ?? 0;
    if (delay > 0) {
      const clock = this.options.clock;
      if (clock === undefined) throw new TypeError('MemoryRtpTransport: delayMs needs a clock');
      clock.setTimer(delay, () => peer.inject(copy));
    } else {
      peer.inject(copy);
    }
    return true;
  }
}

/**
 * Two connected in-memory transports, sans-I/O: what one sends the other receives (validated like
 * a socket would, via {@link demuxDatagram}), synchronously or after `delayMs` on the clock.
 * For unit tests of sessions with a {@link FakeClock}.
 */
export function createMemoryTransportPair(options: MemoryTransportOptions = {}): [MemoryRtpTransport, MemoryRtpTransport] {
  const a = new MemoryRtpTransport(options);
  const b = new MemoryRtpTransport(options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
