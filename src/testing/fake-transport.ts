/**
 * An in-memory SIP network for tests and benchmarks: every {@link FakeTransport} is a
 * `Transport` bound to one or more addresses on a shared {@link FakeNetwork}, which carries
 * messages between them on an injected clock — with knobs for loss, duplication, delay and
 * unreachable hosts — and records everything that was sent.
 *
 * Messages really cross the "wire": the sender's message is serialised with `formatMessage`
 * and the receiver gets a fresh `parseMessage` of those octets, so a test sees exactly what a
 * peer would, and no object is shared between the two sides.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * const net = new FakeNetwork({ clock });
 * const alice = net.endpoint('127.0.1.1:5060');               // UDP
 * const bob = net.endpoint('127.0.1.2:5060', ['udp', 'tcp']);
 * net.setConditions({ dropRate: 0.1, delayMs: 20 });          // lossy UDP, 20 ms one way
 * // … hand `alice` and `bob` to two TransactionLayers, then:
 * clock.advance(20);                                          // deliver what is in flight
 * net.sentTo('127.0.1.2:5060').map((m) => m.label);            // ['INVITE', 'ACK']
 * ```
 */
import type { Clock } from '../core/clock.js';
import { SeededRandom, type Random } from '../core/random.js';
import { formatVia, paramValue, withParam } from '../sip/header-values.js';
import type { SipMessage } from '../sip/message.js';
import { parseMessage } from '../sip/parser.js';
import { formatMessage } from '../sip/serializer.js';
import {
  isReliable,
  TransportError,
  type Flow,
  type IncomingMessage,
  type Transport,
  type TransportAddress,
  type TransportProtocol,
} from '../transport/transport.js';

/** How the fake links behave. Loss, duplication and jitter apply to UDP only: stream transports are reliable and ordered. */
export interface LinkConditions {
  /** Probability in [0, 1] that a UDP datagram is lost. Default 0. */
  readonly dropRate: number;
  /** Probability in [0, 1] that a UDP datagram arrives twice. Default 0. */
  readonly duplicateRate: number;
  /** One-way delay in ms, every protocol. Default 0 (delivered on the next `clock.advance`). */
  readonly delayMs: number;
  /** Extra random delay in [0, jitterMs] ms for UDP, so datagrams may be reordered. Default 0. */
  readonly jitterMs: number;
}

/** Options of a {@link FakeNetwork}. */
export interface FakeNetworkOptions {
  /** The clock deliveries are scheduled on (a `FakeClock` in tests). */
  readonly clock: Clock;
  /** Drives loss, duplication and jitter. Default `new SeededRandom(1)`, so runs repeat. */
  readonly random?: Random;
  /** Initial link conditions (see {@link LinkConditions}). */
  readonly conditions?: Partial<LinkConditions>;
  /** Keep a {@link WireMessage} for every send (default true; benchmarks turn it off). */
  readonly record?: boolean;
}

/** What became of a sent message. */
export type WireFate =
  /** Scheduled for delivery (delay not elapsed yet). */
  | 'in-flight'
  /** Handed to the receiving transport's handler (at least once). */
  | 'delivered'
  /** Lost: random loss or a {@link FakeNetwork.drop} rule. */
  | 'dropped'
  /** The destination was marked unreachable; the sender got a `TransportError`. */
  | 'unreachable'
  /** Nobody listens there (UDP: silently lost; stream: the sender got a `TransportError`). */
  | 'no-listener'
  /** The receiver could not parse the octets and dropped them. */
  | 'unparsable';

/** One message as it went over the fake wire. */
export class WireMessage {
  /** Order of sending across the whole network, from 0. */
  readonly seq: number;
  /** Clock time of the send, ms. */
  readonly sentAt: number;
  readonly from: TransportAddress;
  readonly to: TransportAddress;
  /** The octets sent. */
  readonly bytes: Buffer;
  /** What became of it. */
  fate: WireFate = 'in-flight';
  /** How many copies were scheduled (2 when duplicated). */
  copies = 1;
  private parsed: SipMessage | undefined;

  /** @internal Created by the network. */
  constructor(seq: number, sentAt: number, from: TransportAddress, to: TransportAddress, bytes: Buffer) {
    this.seq = seq;
    this.sentAt = sentAt;
    this.from = from;
    this.to = to;
    this.bytes = bytes;
  }

  /** The message, parsed from {@link bytes} on first use (a copy of its own, safe to inspect). */
  get message(): SipMessage {
    this.parsed ??= parseMessage(this.bytes);
    return this.parsed;
  }

  /** A short label for assertions: the method of a request (`INVITE`), `status/method` of a response (`200/INVITE`). */
  get label(): string {
    const m = this.message;
    return m.kind === 'request' ? m.method : `${m.status}/${m.cseq().method}`;
  }
}

/** Matches a sent message for {@link FakeNetwork.drop}. */
export type WireMatcher = (wire: WireMessage) => boolean;

interface DropRule {
  readonly match: WireMatcher;
  remaining: number;
}

/**
 * Parses `host:port`, `[v6]:port` or a bare host (port 5060, 5061 for TLS) into a transport address.
 * @throws TypeError when the text is not an address.
 */
export function parseAddress(text: string, protocol: TransportProtocol = 'udp'): TransportAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::([0-9]{1,5}))?$/.exec(text.trim());
  if (m === null) throw new TypeError(`not a host:port address: "${text}"`);
  const host = (m[1] ?? m[2] ?? '').toLowerCase();
  const port = m[3] === undefined ? (protocol === 'tls' || protocol === 'wss' ? 5061 : 5060) : Number(m[3]);
  if (port > 65535) throw new TypeError(`port out of range in "${text}"`);
  return { protocol, host, port };
}

/** `host:port` (IPv6 in brackets), the form {@link parseAddress} reads. */
export function formatAddress(address: TransportAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function hostPortKey(address: TransportAddress): string {
  return `${address.host.toLowerCase()}:${address.port}`;
}

function listenerKey(address: TransportAddress): string {
  return `${address.protocol}|${hostPortKey(address)}`;
}

function toAddress(address: string | TransportAddress): TransportAddress {
  return typeof address === 'string' ? parseAddress(address) : address;
}

const DEFAULT_CONDITIONS: LinkConditions = Object.freeze({ dropRate: 0, duplicateRate: 0, delayMs: 0, jitterMs: 0 });

function checkConditions(c: LinkConditions): void {
  for (const name of ['dropRate', 'duplicateRate'] as const) {
    if (!(c[name] >= 0 && c[name] <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${c[name]}`);
  }
  for (const name of ['delayMs', 'jitterMs'] as const) {
    if (!(c[name] >= 0 && Number.isFinite(c[name]))) throw new RangeError(`${name} must be ≥ 0, got ${c[name]}`);
  }
}

/**
 * The shared medium. Create endpoints with {@link endpoint}; tune it with
 * {@link setConditions}, {@link drop} and {@link setUnreachable}; inspect it with
 * {@link sent}, {@link sentTo} and {@link sentFrom}.
 */
export class FakeNetwork {
  /** The clock deliveries are scheduled on. */
  readonly clock: Clock;
  private readonly random: Random;
  private readonly recording: boolean;
  private current: LinkConditions;
  private readonly listeners = new Map<string, FakeTransport>();
  private readonly unreachable = new Set<string>();
  private readonly rules: DropRule[] = [];
  private readonly records: WireMessage[] = [];
  private nextSeq = 0;
  private pending = 0;

  constructor(options: FakeNetworkOptions) {
    this.clock = options.clock;
    this.random = options.random ?? new SeededRandom(1);
    this.recording = options.record ?? true;
    this.current = { ...DEFAULT_CONDITIONS, ...options.conditions };
    checkConditions(this.current);
  }

  /**
   * A transport listening on `address` for each of `protocols` (default UDP).
   * @throws RangeError when one of those addresses is already taken; TypeError for a bad address.
   */
  endpoint(address: string, protocols: TransportProtocol | readonly TransportProtocol[] = 'udp'): FakeTransport {
    const list = typeof protocols === 'string' ? [protocols] : [...protocols];
    if (list.length === 0) throw new RangeError('an endpoint needs at least one protocol');
    const addresses = list.map((p) => parseAddress(address, p));
    for (const a of addresses) {
      if (this.listeners.has(listenerKey(a))) throw new RangeError(`${a.protocol} ${formatAddress(a)} is already in use`);
    }
    const transport = new FakeTransport(this, addresses);
    for (const a of addresses) this.listeners.set(listenerKey(a), transport);
    return transport;
  }

  /** A target address for `Transport.send` / `TransactionLayer.sendRequest`. */
  target(address: string, protocol: TransportProtocol = 'udp'): TransportAddress {
    return parseAddress(address, protocol);
  }

  /** The current link conditions. */
  get conditions(): LinkConditions {
    return this.current;
  }

  /**
   * Changes some link conditions; they apply to messages sent from now on.
   * @throws RangeError for a rate outside [0, 1] or a negative delay.
   */
  setConditions(conditions: Partial<LinkConditions>): void {
    const next = { ...this.current, ...conditions };
    checkConditions(next);
    this.current = next;
  }

  /**
   * Drops the next `times` messages (default: every one) that `match` accepts, whatever the
   * protocol — dropping on a stream transport breaks its reliability, which can be the point
   * of a test. Returns a function that removes the rule.
   */
  drop(match: WireMatcher, options: { readonly times?: number } = {}): () => void {
    const rule: DropRule = { match, remaining: options.times ?? Number.POSITIVE_INFINITY };
    this.rules.push(rule);
    return () => {
      const index = this.rules.indexOf(rule);
      if (index >= 0) this.rules.splice(index, 1);
    };
  }

  /**
   * Marks a host:port (every protocol) unreachable, or reachable again: sends to it fail with
   * a `TransportError`, as with an ICMP error or a refused connection (RFC 3261 §18.4).
   */
  setUnreachable(address: string | TransportAddress, unreachable = true): void {
    const key = hostPortKey(toAddress(address));
    if (unreachable) this.unreachable.add(key);
    else this.unreachable.delete(key);
  }

  /** Every message sent so far, in order (empty when recording is off). */
  get sent(): readonly WireMessage[] {
    return this.records;
  }

  /** Messages sent to a host:port (any protocol, or exactly this one for a `TransportAddress`). */
  sentTo(address: string | TransportAddress): WireMessage[] {
    return this.records.filter((r) => matches(r.to, address));
  }

  /** Messages sent from a host:port (any protocol, or exactly this one for a `TransportAddress`). */
  sentFrom(address: string | TransportAddress): WireMessage[] {
    return this.records.filter((r) => matches(r.from, address));
  }

  /** Forgets the recorded messages (not the rules or conditions). */
  clearRecords(): void {
    this.records.length = 0;
  }

  /** Number of message copies scheduled but not delivered yet. */
  get inFlight(): number {
    return this.pending;
  }

  /** @internal Called by {@link FakeTransport.send}. */
  transmit(sender: FakeTransport, message: SipMessage, target: TransportAddress): Promise<void> {
    if (sender.closed) return Promise.reject(new TransportError('the transport is closed'));
    const source = sender.localAddress(target.protocol);
    if (source === undefined) {
      return Promise.reject(new TransportError(`no ${target.protocol} address on ${sender.describe()}`));
    }
    const bytes = formatMessage(message);
    const wire = new WireMessage(this.nextSeq++, this.clock.now(), source, target, bytes);
    if (this.recording) this.records.push(wire);
    const reliable = isReliable(target.protocol);
    if (this.unreachable.has(hostPortKey(target))) {
      wire.fate = 'unreachable';
      return Promise.reject(new TransportError(`${formatAddress(target)} is unreachable`));
    }
    const receiver = this.listeners.get(listenerKey(target));
    if (receiver === undefined || receiver.closed) {
      wire.fate = 'no-listener';
      // UDP to nowhere just vanishes; a connection attempt is refused.
      if (reliable) return Promise.reject(new TransportError(`connection refused by ${target.protocol} ${formatAddress(target)}`));
      return Promise.resolve();
    }
    if (this.ruleDrops(wire) || (!reliable && this.chance(this.current.dropRate))) {
      wire.fate = 'dropped';
      return Promise.resolve();
    }
    if (!reliable && this.chance(this.current.duplicateRate)) wire.copies = 2;
    for (let copy = 0; copy < wire.copies; copy++) {
      const jitter = !reliable && this.current.jitterMs > 0 ? this.random.int(Math.floor(this.current.jitterMs) + 1) : 0;
      this.pending++;
      this.clock.setTimer(this.current.delayMs + jitter, () => {
        this.pending--;
        receiver.receive(bytes, source, target.protocol, wire);
      });
    }
    return Promise.resolve();
  }

  /** @internal Called by {@link FakeTransport.close}. */
  release(transport: FakeTransport): void {
    for (const [key, t] of this.listeners) if (t === transport) this.listeners.delete(key);
  }

  private ruleDrops(wire: WireMessage): boolean {
    for (const rule of this.rules) {
      if (rule.remaining > 0 && rule.match(wire)) {
        rule.remaining--;
        return true;
      }
    }
    return false;
  }

  private chance(rate: number): boolean {
    // No draw when the knob is off, so adding a knob elsewhere does not shift a seeded run.
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.random.int(1_000_000) < rate * 1_000_000;
  }
}

function matches(address: TransportAddress, wanted: string | TransportAddress): boolean {
  if (typeof wanted === 'string') return hostPortKey(address) === hostPortKey(parseAddress(wanted));
  return address.protocol === wanted.protocol && hostPortKey(address) === hostPortKey(wanted);
}

/**
 * One node's transport on a {@link FakeNetwork}. Sends resolve once the message is on the
 * (fake) wire and reject with `TransportError` when the destination is unreachable, or for a
 * stream protocol when nobody listens there.
 *
 * @remarks
 * As a real transport layer would (RFC 3261 §18.2.1, RFC 3581 §4), it adds `received` to the
 * top Via of an incoming request whose sent-by host differs from the source, and fills in an
 * empty `rport`. A stream "connection" is the pair of addresses; the sender's source address is
 * its listening address for that protocol.
 */
export class FakeTransport implements Transport {
  /** The addresses this transport listens on, one per protocol. */
  readonly addresses: readonly TransportAddress[];
  private readonly network: FakeNetwork;
  private handler: ((incoming: IncomingMessage) => void) | undefined;
  private isClosed = false;

  /** @internal Use {@link FakeNetwork.endpoint}. */
  constructor(network: FakeNetwork, addresses: readonly TransportAddress[]) {
    this.network = network;
    this.addresses = addresses;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The first listening address (the one the endpoint was created with, first protocol). */
  get address(): TransportAddress {
    return this.addresses[0]!;
  }

  /** Messages this transport sent (from the network's record). */
  get sent(): WireMessage[] {
    return this.network.sent.filter((w) => this.addresses.some((a) => a.protocol === w.from.protocol && matches(w.from, a)));
  }

  send(message: SipMessage, target: TransportAddress, _options?: { readonly flow?: Flow }): Promise<void> {
    return this.network.transmit(this, message, target);
  }

  localAddress(protocol: TransportProtocol): TransportAddress | undefined {
    return this.addresses.find((a) => a.protocol === protocol);
  }

  onMessage(handler: (incoming: IncomingMessage) => void): void {
    this.handler = handler;
  }

  close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.network.release(this);
    }
    return Promise.resolve();
  }

  /**
   * Delivers a message to this transport's handler right now, as if it had come over the
   * network from `from` — for stray responses, misbehaving peers or hand-made retransmissions.
   * A `SipMessage` is serialised and parsed again, like everything on the wire.
   * @throws SipParseError when the octets do not parse.
   */
  inject(message: SipMessage | Uint8Array, from: string | TransportAddress, protocol?: TransportProtocol): void {
    const source = typeof from === 'string' ? parseAddress(from, protocol ?? this.address.protocol) : from;
    const bytes = message instanceof Uint8Array ? Buffer.from(message) : formatMessage(message);
    const parsed = parseMessage(bytes);
    this.handOver(parsed, bytes, source, protocol ?? source.protocol);
  }

  /** A short description for error messages. */
  describe(): string {
    return this.addresses.map((a) => `${a.protocol}:${formatAddress(a)}`).join(',');
  }

  /** @internal Called by the network when a copy arrives. */
  receive(bytes: Buffer, source: TransportAddress, protocol: TransportProtocol, wire: WireMessage): void {
    if (this.isClosed || this.handler === undefined) {
      if (wire.fate === 'in-flight') wire.fate = 'no-listener';
      return;
    }
    let message: SipMessage;
    try {
      message = parseMessage(bytes, { mode: isReliable(protocol) ? 'stream' : 'datagram' });
    } catch {
      wire.fate = 'unparsable';
      return;
    }
    wire.fate = 'delivered';
    this.handOver(message, bytes, source, protocol);
  }

  private handOver(message: SipMessage, bytes: Buffer, source: TransportAddress, protocol: TransportProtocol): void {
    const handler = this.handler;
    if (handler === undefined || this.isClosed) return;
    const local = this.localAddress(protocol) ?? this.address;
    if (message.kind === 'request') applyReceived(message, source);
    const flow: Flow = {
      id: `${protocol}:${formatAddress(local)}<>${formatAddress(source)}`,
      local,
      remote: { protocol, host: source.host, port: source.port },
    };
    handler({ message, bytes, source: flow.remote, flow, receivedAt: this.network.clock.now() });
  }
}

/** RFC 3261 §18.2.1 `received`, RFC 3581 §4 `rport`, on the top Via of an incoming request. */
function applyReceived(message: SipMessage, source: TransportAddress): void {
  const via = message.topVia();
  if (via === undefined) return;
  let params = via.params;
  const viaHost = via.host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const wantsRport = paramValue(params, 'rport') === null;
  if (viaHost !== source.host.toLowerCase() || wantsRport) params = withParam(params, 'received', source.host);
  if (wantsRport) params = withParam(params, 'rport', String(source.port));
  if (params === via.params) return;
  message.headers.shift('via');
  message.headers.prepend('Via', formatVia({ ...via, params }));
}
