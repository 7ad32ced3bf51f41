/**
 * The UDP sockets of one RTP session: RTP on an even port and RTCP on the next one (RFC 3550
 * §11), or both on one port with rtcp-mux (RFC 5761), bound to one local address (IPv4 or IPv6).
 *
 * What it guarantees:
 * - **Symmetric RTP** (RFC 4961, and the "comedia" behaviour of RFC 4145 §4 applied to UDP): media
 *   is answered to where it really comes from. In mode `'peer'` the socket latches on the first
 *   valid packet whose source IP is the negotiated peer's (the port may differ, as behind a NAT);
 *   in mode `'latch'` on the first valid packet from anywhere. Once latched, datagrams from any
 *   other source are dropped (reason `source`), which is what stops RTP injection ("RTP bleed").
 *   RTP and RTCP latch separately unless muxed.
 * - **G39**: never sends to a multicast, broadcast or unspecified address unless
 *   `allowMulticast` is set; `SO_BROADCAST` stays off, so the kernel refuses subnet-directed
 *   broadcasts the socket could not recognise.
 * - **G40/G41**: every datagram is validated ({@link demuxDatagram}) before anything reads it, and
 *   every drop increments a counter named by its reason. Socket errors (ICMP port unreachable, …)
 *   are counted and logged, never thrown: a malformed or refused datagram never ends the call.
 * - **Impairment** for tests and benchmarks: seeded loss, jitter, reordering and duplication on
 *   the send side, the receive side, or both ({@link ImpairmentOptions}).
 *
 * This file is the only place in `rtp/` that touches sockets.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { SystemClock, type Clock } from '../core/clock.js';
import { VoxliteError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { CryptoRandom, type Random } from '../core/random.js';
import { DATAGRAM_DROP_REASONS, demuxDatagram, looksLikeRtcp, type DatagramDropReason } from './demux.js';
import { Impairment, type ImpairmentCounters, type ImpairmentOptions } from './impairment.js';
import { RtpPacket } from './packet.js';
import type { RtpTransport, RtpTransportHandlers } from './transport.js';

/**
 * How the socket chooses where to send (RFC 4961):
 * - `'peer'` (default): latch to the first valid packet from the negotiated peer's IP address;
 *   datagrams from other addresses are dropped.
 * - `'latch'`: latch to the first valid packet from any source (for peers behind a NAT whose
 *   SDP carries a private address).
 * - `'off'`: always send to the negotiated address and accept any source.
 */
export type SymmetricMode = 'peer' | 'latch' | 'off';

/** The negotiated remote media address (from the SDP `c=` and `m=` lines, RFC 3264 §5). */
export interface RtpRemoteAddress {
  /** IP literal. */
  address: string;
  /** RTP port. */
  port: number;
  /** RTCP port (SDP `a=rtcp`, RFC 3605); default `port + 1`, or `port` with rtcp-mux. */
  rtcpPort?: number;
}

/** An IP address and port. */
export interface RtpEndpoint {
  address: string;
  port: number;
}

/** An inclusive range of local ports for allocation; RTP takes the even ones. */
export interface PortRange {
  min: number;
  max: number;
}

/** Default port range: the upper half of the registered ports, as many SIP phones use. */
export const DEFAULT_RTP_PORT_RANGE: Readonly<PortRange> = Object.freeze({ min: 16384, max: 32767 });

/** Options of {@link RtpSocket.open}. */
export interface RtpSocketOptions {
  /** Local IP literal to bind (`127.0.0.1`, `::1`, `0.0.0.0`, `::`, …). Its family decides IPv4 or IPv6. */
  address: string;
  /**
   * Local RTP port. 0 (the default) allocates an even port from `portRange` (RFC 3550 §11: RTP
   * on an even port, RTCP on the next odd one); a non-zero port is used as given.
   */
  port?: number;
  /** Range for allocation; default {@link DEFAULT_RTP_PORT_RANGE}. */
  portRange?: PortRange;
  /** Local RTCP port when `port` is given; default `port + 1`. */
  rtcpPort?: number;
  /** Carry RTCP on the RTP port (RFC 5761); default `false`. */
  rtcpMux?: boolean;
  /** The negotiated peer, if already known; see {@link RtpSocket.setRemote}. */
  remote?: RtpRemoteAddress;
  /** Symmetric RTP mode; default `'peer'`. */
  symmetric?: SymmetricMode;
  /** Allow multicast/broadcast/unspecified destinations (G39 says "unless configured"); default `false`. */
  allowMulticast?: boolean;
  /** Datagrams longer than this are dropped as `oversize`; default 2048. */
  maxDatagramSize?: number;
  /** Impairment of what this socket sends. */
  sendImpairment?: ImpairmentOptions;
  /** Impairment of what this socket receives. */
  receiveImpairment?: ImpairmentOptions;
  /** Clock for impairment delays; default {@link SystemClock}. */
  clock?: Clock;
  /** Randomness for port allocation; default {@link CryptoRandom}. */
  random?: Random;
  /** Logger; default silent. */
  logger?: Logger;
  /** Called when a channel latches to a source (for logs). */
  onLatch?: (channel: 'rtp' | 'rtcp', source: RtpEndpoint) => void;
}

/**
 * Why {@link RtpSocket} dropped a received datagram: a {@link DatagramDropReason}; `source`, a
 * valid packet from a source other than the latched (or negotiated) one; or `wrong-port`, RTCP
 * on the RTP port or RTP on the RTCP port without rtcp-mux (RFC 5761 §4 demultiplexes only when
 * negotiated).
 */
export type RtpSocketDropReason = DatagramDropReason | 'source' | 'wrong-port';

/** Why {@link RtpSocket} did not send a datagram. */
export type RtpSocketSendDropReason =
  /** No remote address known yet (or it was cleared, e.g. for hold with `c=0.0.0.0`). */
  | 'no-destination'
  /** The OS refused the send (counted when the error surfaces). */
  | 'error'
  /** The socket is closed. */
  | 'closed';

/** Counters of an {@link RtpSocket} (G41). */
export interface RtpSocketCounters {
  /** Valid RTP packets delivered. */
  rtpReceived: number;
  /** Valid RTCP compounds delivered. */
  rtcpReceived: number;
  /** RTP datagrams handed to the OS (after send impairment). */
  rtpSent: number;
  /** RTCP datagrams handed to the OS (after send impairment). */
  rtcpSent: number;
  /** Octets of received datagrams, valid or not. */
  bytesReceived: number;
  /** Octets handed to the OS. */
  bytesSent: number;
  /** Received datagrams dropped, by reason. */
  drops: Record<RtpSocketDropReason, number>;
  /** Datagrams not sent, by reason. */
  sendDrops: Record<RtpSocketSendDropReason, number>;
  /** Socket errors reported by the OS. */
  errors: number;
  /** Send-side impairment counters, when configured. */
  sendImpairment: Readonly<ImpairmentCounters> | undefined;
  /** Receive-side impairment counters, when configured. */
  receiveImpairment: Readonly<ImpairmentCounters> | undefined;
}

/** Error codes of {@link RtpSocketError}. */
export type RtpSocketErrorCode =
  /** A destination refused by G39 (multicast, broadcast, unspecified) or not an IP literal of the socket's family. */
  | 'RTP_ERR_DESTINATION'
  /** No free port pair in the range. */
  | 'RTP_ERR_NO_PORT'
  /** The socket could not be bound. */
  | 'RTP_ERR_BIND';

/** A socket-level failure with a stable code. */
export class RtpSocketError extends VoxliteError {
  constructor(
    readonly code: RtpSocketErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

type Channel = 'rtp' | 'rtcp';

interface ChannelState {
  socket: Socket;
  port: number;
  latched: RtpEndpoint | undefined;
  /** Where this channel sends now; recomputed when the remote or a latch changes (hot path). */
  target: RtpEndpoint | undefined;
}

const IPV4_MAPPED_PREFIX = '::ffff:';

/**
 * Whether `address` (an IP literal) is a multicast, broadcast or unspecified address, which G39
 * forbids as a media destination unless configured. Subnet-directed broadcasts of the local
 * interfaces are recognised too; others are refused by the kernel since `SO_BROADCAST` is off.
 */
export function isForbiddenDestination(address: string, directedBroadcasts: ReadonlySet<string> = localBroadcasts()): boolean {
  let host = address.toLowerCase();
  if (host.startsWith(IPV4_MAPPED_PREFIX) && isIP(host.slice(IPV4_MAPPED_PREFIX.length)) === 4) {
    host = host.slice(IPV4_MAPPED_PREFIX.length);
  }
  const family = isIP(host);
  if (family === 4) {
    const first = Number(host.slice(0, host.indexOf('.')));
    // RFC 5771: 224.0.0.0/4 is multicast (and 240/4 reserved); 0.0.0.0/8 is "this network".
    if (first >= 224 || first === 0) return true;
    return host === '255.255.255.255' || directedBroadcasts.has(host);
  }
  if (family === 6) {
    // RFC 4291 §2.7: ff00::/8 is multicast; :: is unspecified.
    return host.startsWith('ff') || /^[0:]+$/.test(host);
  }
  return true;
}

let cachedBroadcasts: { at: number; set: Set<string> } | undefined;

/** Directed broadcast addresses of the local IPv4 interfaces (cached for a minute). */
function localBroadcasts(): Set<string> {
  const now = Date.now();
  if (cachedBroadcasts !== undefined && now - cachedBroadcasts.at < 60_000) return cachedBroadcasts.set;
  const set = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue;
      const a = info.address.split('.').map(Number);
      const m = info.netmask.split('.').map(Number);
      if (a.length !== 4 || m.length !== 4) continue;
      const mask = ((m[0]! << 24) | (m[1]! << 16) | (m[2]! << 8) | m[3]!) >>> 0;
      if (mask === 0xffffffff || mask === 0xfffffffe) continue; // /32 and /31 have no broadcast
      const addr = ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0;
      const b = (addr | ~mask) >>> 0;
      set.add(`${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}`);
    }
  }
  cachedBroadcasts = { at: now, set };
  return set;
}

/** Strips the IPv4-mapped prefix so `::ffff:192.0.2.1` and `192.0.2.1` compare equal. */
function plainAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith(IPV4_MAPPED_PREFIX) && lower.includes('.') ? lower.slice(IPV4_MAPPED_PREFIX.length) : lower;
}

function zeroDrops(): Record<RtpSocketDropReason, number> {
  const drops = { source: 0, 'wrong-port': 0 } as Record<RtpSocketDropReason, number>;
  for (const reason of DATAGRAM_DROP_REASONS) drops[reason] = 0;
  return drops;
}

/**
 * A bound RTP/RTCP socket pair with symmetric RTP, G39 destination checks, G40 validation and
 * optional impairment. Create with {@link RtpSocket.open}.
 *
 * @example
 * ```ts
 * const socket = await RtpSocket.open({ address: '127.0.0.1', remote: { address: '127.0.0.1', port: 40000 } });
 * const session = new RtpSession({ transport: socket, codec: getCodec('PCMU'), … });
 * ```
 */
export class RtpSocket implements RtpTransport {
  /** Address family of the sockets. */
  readonly family: 4 | 6;
  /** Whether RTCP shares the RTP port. */
  readonly rtcpMux: boolean;
  /** IP + UDP header octets per datagram. */
  readonly headerOverhead: number;
  /** The bound local address. */
  readonly localAddress: string;

  private readonly rtp: ChannelState;
  private readonly rtcp: ChannelState;
  private readonly symmetric: SymmetricMode;
  private readonly allowMulticast: boolean;
  private readonly maxDatagramSize: number;
  private readonly sendImpairment: Impairment | undefined;
  private readonly receiveImpairment: Impairment | undefined;
  private readonly logger: Logger;
  private readonly onLatch: ((channel: Channel, source: RtpEndpoint) => void) | undefined;
  private handlers: RtpTransportHandlers | undefined;
  private remoteAddress: RtpRemoteAddress | undefined;
  private peerIp: string | undefined;
  private closing: Promise<void> | undefined;
  private readonly packet = new RtpPacket();
  private readonly counts: RtpSocketCounters;

  private constructor(options: RtpSocketOptions, family: 4 | 6, rtp: ChannelState, rtcp: ChannelState, clock: Clock) {
    this.family = family;
    this.localAddress = options.address;
    this.rtcpMux = rtp === rtcp;
    this.headerOverhead = family === 4 ? 28 : 48;
    this.rtp = rtp;
    this.rtcp = rtcp;
    this.symmetric = options.symmetric ?? 'peer';
    this.allowMulticast = options.allowMulticast ?? false;
    this.maxDatagramSize = options.maxDatagramSize ?? 2048;
    this.logger = options.logger ?? silentLogger;
    this.onLatch = options.onLatch;
    this.sendImpairment = options.sendImpairment && new Impairment(options.sendImpairment, clock);
    this.receiveImpairment = options.receiveImpairment && new Impairment(options.receiveImpairment, clock);
    this.counts = {
      rtpReceived: 0,
      rtcpReceived: 0,
      rtpSent: 0,
      rtcpSent: 0,
      bytesReceived: 0,
      bytesSent: 0,
      drops: zeroDrops(),
      sendDrops: { 'no-destination': 0, error: 0, closed: 0 },
      errors: 0,
      sendImpairment: this.sendImpairment?.counters,
      receiveImpairment: this.receiveImpairment?.counters,
    };
    this.listen(rtp, 'rtp');
    if (!this.rtcpMux) this.listen(rtcp, 'rtcp');
    if (options.remote !== undefined) this.setRemote(options.remote);
  }

  /**
   * Binds the socket(s) and returns the ready {@link RtpSocket}.
   *
   * @throws {@link RtpSocketError} `RTP_ERR_BIND` when the address cannot be bound,
   * `RTP_ERR_NO_PORT` when no port pair in the range is free, `RTP_ERR_DESTINATION` for a
   * forbidden `remote`; RangeError/TypeError for bad options.
   */
  static async open(options: RtpSocketOptions): Promise<RtpSocket> {
    const family = isIP(options.address);
    if (family !== 4 && family !== 6) throw new TypeError(`RTP socket address must be an IP literal, got ${options.address}`);
    const mux = options.rtcpMux ?? false;
    const clock = options.clock ?? new SystemClock();
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad port ${port}`);
    let pair: [Socket, Socket | undefined, number, number];
    if (port !== 0) {
      const rtcpPort = options.rtcpPort ?? port + 1;
      pair = await bindPair(family, options.address, port, mux ? undefined : rtcpPort);
    } else {
      pair = await allocatePair(family, options.address, mux, options.portRange ?? DEFAULT_RTP_PORT_RANGE, options.random ?? new CryptoRandom());
    }
    const [rtpSocket, rtcpSocket, rtpPort, rtcpPort] = pair;
    const rtp: ChannelState = { socket: rtpSocket, port: rtpPort, latched: undefined, target: undefined };
    const rtcp: ChannelState =
      rtcpSocket === undefined ? rtp : { socket: rtcpSocket, port: rtcpPort, latched: undefined, target: undefined };
    try {
      return new RtpSocket(options, family, rtp, rtcp, clock);
    } catch (error) {
      rtpSocket.close();
      rtcpSocket?.close();
      throw error;
    }
  }

  /** Local RTP and RTCP ports. */
  get localPorts(): { rtp: number; rtcp: number } {
    return { rtp: this.rtp.port, rtcp: this.rtcp.port };
  }

  /** The negotiated remote, if set. */
  get remote(): RtpRemoteAddress | undefined {
    return this.remoteAddress;
  }

  /** Where RTP goes now: the latched source, else the negotiated address. */
  get rtpDestination(): RtpEndpoint | undefined {
    return this.rtp.target;
  }

  /** Where RTCP goes now: the latched source, else the negotiated RTCP address. */
  get rtcpDestination(): RtpEndpoint | undefined {
    return this.rtcp.target;
  }

  /** The source each channel latched to, if any. */
  get latched(): { rtp: RtpEndpoint | undefined; rtcp: RtpEndpoint | undefined } {
    return { rtp: this.rtp.latched, rtcp: this.rtcp.latched };
  }

  /** Counters (a live read-only view). */
  get counters(): Readonly<RtpSocketCounters> {
    return this.counts;
  }

  /**
   * Sets the negotiated peer (an SDP answer or re-INVITE), or clears it with `undefined` so that
   * nothing is sent. Forgets any latched source.
   *
   * @throws {@link RtpSocketError} `RTP_ERR_DESTINATION` for a multicast, broadcast or
   * unspecified address (G39) unless `allowMulticast`, a non-literal address, or an address of
   * the other family (an IPv4 peer is fine on a dual-stack IPv6 socket).
   */
  setRemote(remote: RtpRemoteAddress | undefined): void {
    if (remote !== undefined) {
      // Canonical text, as the kernel reports sources, so that `0:0::1` and `::1` compare equal;
      // an IPv4-mapped address is handled as the IPv4 address it carries.
      let canonical = plainAddress(remote.address);
      const family = isIP(canonical);
      if (family === 0) throw new RtpSocketError('RTP_ERR_DESTINATION', `remote must be an IP literal, got ${remote.address}`);
      if (family === 6) canonical = new URL(`http://[${canonical}]`).hostname.slice(1, -1);
      if (family === 6 && this.family === 4) {
        throw new RtpSocketError('RTP_ERR_DESTINATION', `an IPv4 socket cannot reach ${remote.address}`);
      }
      for (const port of [remote.port, remote.rtcpPort ?? (this.rtcpMux ? remote.port : remote.port + 1)]) {
        if (!Number.isInteger(port) || port < 1 || port > 65535) {
          throw new RtpSocketError('RTP_ERR_DESTINATION', `remote port must be within 1..65535, got ${port}`);
        }
      }
      if (!this.allowMulticast && isForbiddenDestination(canonical)) {
        throw new RtpSocketError('RTP_ERR_DESTINATION', `refusing to send media to ${remote.address} (G39)`);
      }
      const address = family === 4 && this.family === 6 ? IPV4_MAPPED_PREFIX + canonical : canonical;
      this.remoteAddress = { ...remote, address };
      this.peerIp = canonical;
    } else {
      this.remoteAddress = undefined;
      this.peerIp = undefined;
    }
    this.relatch();
  }

  /** Forgets the latched sources; the next valid packet latches again (for example after a re-INVITE). */
  relatch(): void {
    this.rtp.latched = undefined;
    this.rtcp.latched = undefined;
    this.updateTargets();
  }

  /** Sets (or clears) who receives the validated packets. */
  attach(handlers: RtpTransportHandlers | undefined): void {
    this.handlers = handlers;
  }

  /**
   * Sends one RTP datagram to {@link rtpDestination}, through the send impairment if any. The
   * datagram must not be modified afterwards (an impairment may hold it).
   *
   * @returns `false` when it was dropped locally (no destination, closed).
   */
  sendRtp(datagram: Uint8Array): boolean {
    return this.send(this.rtp, datagram, true);
  }

  /** Sends one RTCP compound to {@link rtcpDestination}; see {@link sendRtp}. */
  sendRtcp(datagram: Uint8Array): boolean {
    return this.send(this.rtcp, datagram, false);
  }

  /** Closes the sockets and drops anything an impairment still holds. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.handlers = undefined;
      this.sendImpairment?.close();
      this.receiveImpairment?.close();
      const sockets = this.rtcpMux ? [this.rtp.socket] : [this.rtp.socket, this.rtcp.socket];
      this.closing = Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              try {
                socket.close(() => resolve());
              } catch {
                resolve();
              }
            }),
        ),
      ).then(() => undefined);
    }
    return this.closing;
  }

  private updateTargets(): void {
    this.rtp.target = this.destination(this.rtp);
    this.rtcp.target = this.destination(this.rtcp);
  }

  private destination(channel: ChannelState): RtpEndpoint | undefined {
    if (channel.latched !== undefined && this.symmetric !== 'off') return channel.latched;
    const remote = this.remoteAddress;
    if (remote !== undefined) {
      const port = channel === this.rtp ? remote.port : (remote.rtcpPort ?? (this.rtcpMux ? remote.port : remote.port + 1));
      return { address: remote.address, port };
    }
    // 'latch' without a negotiated peer: RTCP follows the latched RTP address (RFC 3550 §11 port + 1).
    if (channel === this.rtcp && this.rtp.latched !== undefined && this.symmetric === 'latch') {
      return { address: this.rtp.latched.address, port: this.rtp.latched.port + 1 };
    }
    return undefined;
  }

  private send(channel: ChannelState, datagram: Uint8Array, isRtp: boolean): boolean {
    if (this.closing !== undefined) {
      this.counts.sendDrops.closed++;
      return false;
    }
    if (channel.target === undefined) {
      this.counts.sendDrops['no-destination']++;
      return false;
    }
    const impairment = this.sendImpairment;
    if (impairment !== undefined && (isRtp || impairment.rtcp)) {
      impairment.apply(datagram, (d) => this.sendNow(channel, d, isRtp));
    } else {
      this.sendNow(channel, datagram, isRtp);
    }
    return true;
  }

  private sendNow(channel: ChannelState, datagram: Uint8Array, isRtp: boolean): void {
    // Resolved again here: a delayed datagram goes where media goes at its send time.
    const to = channel.target;
    if (to === undefined || this.closing !== undefined) {
      this.counts.sendDrops[to === undefined ? 'no-destination' : 'closed']++;
      return;
    }
    try {
      // No callback: libuv then tries a synchronous send first, and errors arrive as 'error'.
      channel.socket.send(datagram, to.port, to.address);
    } catch (error) {
      this.counts.sendDrops.error++;
      this.logger.debug('rtp send failed', { error: error instanceof Error ? error.message : String(error) });
      return;
    }
    this.counts.bytesSent += datagram.length;
    if (isRtp) this.counts.rtpSent++;
    else this.counts.rtcpSent++;
  }

  private listen(channel: ChannelState, name: Channel): void {
    channel.socket.on('message', (datagram: Buffer, rinfo: RemoteInfo) => this.onDatagram(channel, datagram, rinfo));
    // An ICMP error (port unreachable, …) must not end the call (G40): count it and go on.
    channel.socket.on('error', (error: Error) => {
      this.counts.errors++;
      this.counts.sendDrops.error++;
      this.logger.debug('rtp socket error', { channel: name, error: error.message });
    });
  }

  private onDatagram(channel: ChannelState, datagram: Buffer, rinfo: RemoteInfo): void {
    if (this.closing !== undefined) return;
    this.counts.bytesReceived += datagram.length;
    const impairment = this.receiveImpairment;
    if (impairment !== undefined && (impairment.rtcp || !looksLikeRtcp(datagram))) {
      impairment.apply(datagram, (d) => {
        if (this.closing === undefined) this.process(channel, d, rinfo);
      });
      return;
    }
    this.process(channel, datagram, rinfo);
  }

  private process(channel: ChannelState, datagram: Uint8Array, rinfo: RemoteInfo): void {
    const result = demuxDatagram(datagram, this.packet, this.maxDatagramSize);
    if (typeof result === 'string') {
      this.counts.drops[result]++;
      return;
    }
    const isRtcp = Array.isArray(result);
    // Without rtcp-mux each port carries one kind, and only that kind may latch the port.
    if (!this.rtcpMux && isRtcp !== (channel === this.rtcp)) {
      this.counts.drops['wrong-port']++;
      return;
    }
    // A valid RTCP compound on a muxed socket latches the same (single) channel as RTP.
    if (!this.acceptSource(channel, rinfo, isRtcp ? 'rtcp' : 'rtp')) {
      this.counts.drops.source++;
      return;
    }
    const handlers = this.handlers;
    if (isRtcp) {
      this.counts.rtcpReceived++;
      handlers?.onRtcp(result, datagram.length);
    } else {
      this.counts.rtpReceived++;
      handlers?.onRtp(result);
    }
  }

  /** RFC 4961 symmetric RTP: accept the latched source only, latching on the first acceptable one. */
  private acceptSource(channel: ChannelState, rinfo: RemoteInfo, kind: Channel): boolean {
    if (this.symmetric === 'off') return true;
    const latched = channel.latched;
    if (latched !== undefined) return rinfo.port === latched.port && rinfo.address === latched.address;
    if (this.symmetric === 'peer') {
      // Before the answer arrives there is no peer to check against (early media, RFC 3264
      // §5.1): accept, but latch only once the peer is known.
      if (this.peerIp === undefined) return true;
      if (plainAddress(rinfo.address) !== this.peerIp) return false;
    }
    if (!this.allowMulticast && isForbiddenDestination(rinfo.address)) return false;
    channel.latched = { address: rinfo.address, port: rinfo.port };
    this.updateTargets();
    this.logger.debug('rtp latched', { channel: kind, address: rinfo.address, port: rinfo.port });
    this.onLatch?.(channel === this.rtp ? 'rtp' : 'rtcp', channel.latched);
    return true;
  }
}

function bindOne(family: 4 | 6, address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // Every destination is a checked IP literal, so the per-send DNS lookup is skipped.
    const socket = createSocket({
      type: family === 4 ? 'udp4' : 'udp6',
      lookup: (hostname, _options, callback) => callback(null, hostname, family),
    });
    const onError = (error: Error): void => {
      socket.close();
      reject(error);
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

async function bindPair(
  family: 4 | 6,
  address: string,
  port: number,
  rtcpPort: number | undefined,
): Promise<[Socket, Socket | undefined, number, number]> {
  let rtp: Socket;
  try {
    rtp = await bindOne(family, address, port);
  } catch (error) {
    throw new RtpSocketError('RTP_ERR_BIND', `cannot bind RTP to ${address}:${port}`, { cause: error });
  }
  const rtpPort = rtp.address().port;
  if (rtcpPort === undefined) return [rtp, undefined, rtpPort, rtpPort];
  try {
    const rtcp = await bindOne(family, address, rtcpPort);
    return [rtp, rtcp, rtpPort, rtcp.address().port];
  } catch (error) {
    rtp.close();
    throw new RtpSocketError('RTP_ERR_BIND', `cannot bind RTCP to ${address}:${rtcpPort}`, { cause: error });
  }
}

function isAddressInUse(error: unknown): boolean {
  const cause = error instanceof RtpSocketError ? error.cause : error;
  return typeof cause === 'object' && cause !== null && (cause as { code?: unknown }).code === 'EADDRINUSE';
}

/** Tries even ports from a random start, walking the range once, until a pair binds. */
async function allocatePair(
  family: 4 | 6,
  address: string,
  mux: boolean,
  range: PortRange,
  random: Random,
): Promise<[Socket, Socket | undefined, number, number]> {
  const first = range.min + (range.min & 1); // lowest even port
  const last = mux ? range.max : range.max - 1; // RTCP needs last + 1 within the range
  if (!Number.isInteger(range.min) || !Number.isInteger(range.max) || first < 1 || last > 65535 || last < first) {
    throw new RangeError(`port range ${range.min}..${range.max} holds no even port${mux ? '' : ' pair'}`);
  }
  const slots = Math.floor((last - first) / 2) + 1;
  const start = random.int(slots);
  for (let i = 0; i < slots; i++) {
    const port = first + 2 * ((start + i) % slots);
    try {
      return await bindPair(family, address, port, mux ? undefined : port + 1);
    } catch (error) {
      if (!isAddressInUse(error)) throw error;
    }
  }
  throw new RtpSocketError('RTP_ERR_NO_PORT', `no free RTP port${mux ? '' : ' pair'} in ${range.min}..${range.max}`);
}
