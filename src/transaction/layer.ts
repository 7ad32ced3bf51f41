/**
 * The transaction layer (RFC 3261 §17): creates client transactions for the TU, matches every
 * message from the transport to its transaction (§17.1.3, §17.2.3), creates server transactions
 * for new requests and hands those requests to the TU, and keeps its tables bounded.
 *
 * Boundaries (STYLE §6): the layer installs itself as the transport's single `onMessage`
 * handler, and the TU installs one handler per kind of upward event (`onRequest`, `onCancel`,
 * `onStrayAck`, `onStrayResponse`). All of them are called synchronously.
 */
import type { Clock } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/log.js';
import { CryptoRandom, type Random } from '../core/random.js';
import { createCancel, createResponse, newBranch, newTag } from '../sip/build.js';
import { formatVia, paramValue, viaBranch, withParam } from '../sip/header-values.js';
import type { SipMessage, SipRequest, SipResponse } from '../sip/message.js';
import {
  isReliable,
  TransportError,
  type Flow,
  type IncomingMessage,
  type Transport,
  type TransportAddress,
} from '../transport/transport.js';
import { InviteClientTransaction } from './client-invite.js';
import { NonInviteClientTransaction } from './client-non-invite.js';
import {
  cancelTargetKey,
  clientTransactionKey,
  responseTransactionKey,
  rfc2543AckKey,
  rfc2543AckMatches,
  serverTransactionKey,
} from './keys.js';
import type { ClientTransactionHandlers, TransactionEnvironment } from './machine.js';
import { InviteServerTransaction } from './server-invite.js';
import { NonInviteServerTransaction } from './server-non-invite.js';
import { createTimerSets, type TimerConfig, type TimerSets } from './timers.js';

/** A client transaction: INVITE (ICT) or any other method (NICT). */
export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

/** A server transaction: INVITE (IST) or any other method but ACK (NIST). */
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

/** What to do with a CANCEL that matches no INVITE server transaction (RFC 3261 §9.2). */
export type UnmatchedCancelPolicy = 'respond-481' | 'pass';

/** Options of a {@link TransactionLayer}. */
export interface TransactionLayerOptions {
  /** The transport below; the layer installs itself as its `onMessage` handler. */
  readonly transport: Transport;
  /** The clock every transaction timer runs on. */
  readonly clock: Clock;
  /** T1, T2, T4 (defaults 500, 4000, 5000 ms); every other timer derives from them. */
  readonly timers?: Partial<TimerConfig>;
  /** Where the layer logs dropped and unmatched messages. Default: silent. */
  readonly logger?: Logger;
  /** Source of branches and To tags. Default: `CryptoRandom`. */
  readonly random?: Random;
  /**
   * At most this many server transactions at once; a new request beyond it gets a stateless
   * 503 Service Unavailable with Retry-After (STYLE §7). Default 10 000.
   */
  readonly maxServerTransactions?: number;
  /** Retry-After (seconds) of that 503. Default 5. */
  readonly retryAfterSeconds?: number;
  /**
   * A CANCEL that matches no INVITE server transaction gets 481 (RFC 3261 §9.2) from the layer
   * when the `onCancel` handler has not answered it synchronously (`'respond-481'`, the
   * default), or is left to the handler (`'pass'`, e.g. for a proxy that forwards such CANCELs
   * statelessly, §16.10).
   */
  readonly unmatchedCancel?: UnmatchedCancelPolicy;
}

/** Per-request options of {@link TransactionLayer.sendRequest}: the TU's handlers and an optional flow. */
export interface SendRequestOptions extends ClientTransactionHandlers {
  /** Send over this flow when it is still open (RFC 5626, §18.1.1 connection reuse). */
  readonly flow?: Flow;
}

/**
 * Receives each new request with its server transaction — every method but ACK (see
 * {@link StrayAckHandler}) and CANCEL (see {@link CancelHandler}). Retransmissions never reach it.
 * The handler answers through `serverTx.respond()`, now or later; if it throws, the layer
 * answers 500.
 */
export type RequestHandler = (request: SipRequest, serverTx: ServerTransaction, incoming: IncomingMessage) => void;

/**
 * Receives each new CANCEL with its own server transaction and the INVITE server transaction
 * it cancels (§9.2), or undefined when there is none. A UAS answers the CANCEL with 200 and,
 * when `inviteTx.state === 'proceeding'`, the INVITE with 487; with no `inviteTx`, 481.
 */
export type CancelHandler = (
  cancel: SipRequest,
  cancelTx: NonInviteServerTransaction,
  inviteTx: InviteServerTransaction | undefined,
  incoming: IncomingMessage,
) => void;

/**
 * Receives an ACK no transaction absorbs: the ACK for a 2xx (its own transaction-less request,
 * §17.1.1.3, §13.3.1.4), including one matching an IST in Accepted (RFC 6026 §8.7).
 */
export type StrayAckHandler = (ack: SipRequest, incoming: IncomingMessage) => void;

/**
 * Receives a response that matches no client transaction (§17.1.3, RFC 6026 §7.2): a UAC core
 * may find its dialog; a proxy forwards a stray 2xx statelessly (RFC 6026 §8.9).
 */
export type StrayResponseHandler = (response: SipResponse, incoming: IncomingMessage) => void;

interface Route {
  readonly target: TransportAddress;
  readonly flow: Flow | undefined;
}

const DEFAULT_MAX_SERVER_TRANSACTIONS = 10_000;
const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** Turns anything a transport threw into a `TransportError`. */
function asTransportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  return new TransportError(error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * Where the responses of a server transaction go (RFC 3261 §18.2.2, RFC 3581 §4): over a
 * reliable transport, back where the request came from (over its flow); over UDP, to the
 * `maddr` when present, else to the source address, at the `rport` port when the client asked
 * for it, else at the sent-by port (default 5060, 5061 for TLS).
 *
 * @remarks
 * The transport layer has already added `received` when the sent-by host differs from the
 * source, so the source address *is* the `received` address and no DNS lookup is needed.
 */
export function responseTarget(incoming: IncomingMessage): TransportAddress {
  const source = incoming.source;
  if (isReliable(source.protocol)) return source;
  const via = incoming.message.topVia();
  if (via === undefined) return source;
  const rport = paramValue(via.params, 'rport');
  const maddr = paramValue(via.params, 'maddr');
  const defaultPort = source.protocol === 'tls' ? 5061 : 5060;
  let port: number;
  if (rport === null) port = source.port;
  else if (rport !== undefined && /^[0-9]{1,5}$/.test(rport)) port = Number(rport);
  else port = via.port ?? defaultPort;
  const host = typeof maddr === 'string' && maddr.length > 0 ? maddr.replace(/^\[(.*)\]$/, '$1') : source.host;
  return { protocol: source.protocol, host, port };
}

/**
 * The RFC 3261 §17 transaction layer over one {@link Transport}.
 *
 * @remarks
 * State drains on its own: every transaction ends on a timer (B/D/M, F/K, H/I/L, J) or on a
 * final response over a reliable transport, and is then removed from the tables, so
 * {@link TransactionLayer.size} returns to 0 once the clock has run past the last timer.
 *
 * @example
 * ```ts
 * const layer = new TransactionLayer({ transport, clock });
 * layer.onRequest((request, tx) => tx.respond(createResponse(request, 200, { toTag: newTag() })));
 * layer.sendRequest(options, { protocol: 'udp', host: '192.0.2.1', port: 5060 }, {
 *   onResponse: (r) => console.log(r.status),
 *   onTimeout: () => console.log('408'),
 *   onTransportError: (e) => console.log(e.code),
 * });
 * ```
 */
export class TransactionLayer {
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly timerSets: TimerSets;
  private readonly logger: Logger;
  private readonly random: Random;
  private readonly maxServerTransactions: number;
  private readonly retryAfterSeconds: number;
  private readonly unmatchedCancel: UnmatchedCancelPolicy;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  /** RFC 2543 INVITE server transactions, under the key their ACK is matched by (§17.2.3). */
  private readonly rfc2543Acks = new Map<string, InviteServerTransaction>();
  private readonly routes = new WeakMap<ClientTransaction, Route>();
  private requestHandler: RequestHandler | undefined;
  private cancelHandler: CancelHandler | undefined;
  private strayAckHandler: StrayAckHandler | undefined;
  private strayResponseHandler: StrayResponseHandler | undefined;
  private closed = false;

  /**
   * @throws RangeError when the timer config or `maxServerTransactions` is invalid.
   */
  constructor(options: TransactionLayerOptions) {
    this.transport = options.transport;
    this.clock = options.clock;
    this.timerSets = createTimerSets(options.timers);
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? new CryptoRandom();
    this.maxServerTransactions = options.maxServerTransactions ?? DEFAULT_MAX_SERVER_TRANSACTIONS;
    if (!Number.isInteger(this.maxServerTransactions) || this.maxServerTransactions < 0) {
      throw new RangeError(`maxServerTransactions must be a non-negative integer, got ${this.maxServerTransactions}`);
    }
    this.retryAfterSeconds = options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    this.unmatchedCancel = options.unmatchedCancel ?? 'respond-481';
    this.transport.onMessage((incoming) => this.receive(incoming));
  }

  /** The resolved timer sets (UDP and reliable) this layer runs with. */
  get timers(): TimerSets {
    return this.timerSets;
  }

  /** Number of live client transactions. */
  get clientTransactionCount(): number {
    return this.clients.size;
  }

  /** Number of live server transactions. */
  get serverTransactionCount(): number {
    return this.servers.size;
  }

  /** Number of live transactions of both kinds; 0 once every timer has run out. */
  get size(): number {
    return this.clients.size + this.servers.size;
  }

  /** Installs the handler for new requests (replacing an earlier one). Without one, requests get 501. */
  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  /**
   * Installs the handler for CANCEL requests (§9.2). Without one, the layer itself answers as a
   * UAS would: 481 when no INVITE matches, else 200 to the CANCEL and 487 to the INVITE if it
   * has no final response yet.
   */
  onCancel(handler: CancelHandler): void {
    this.cancelHandler = handler;
  }

  /** Installs the handler for ACKs that no transaction absorbs (ACKs for 2xx). Without one they are dropped. */
  onStrayAck(handler: StrayAckHandler): void {
    this.strayAckHandler = handler;
  }

  /** Installs the handler for responses matching no client transaction. Without one they are dropped. */
  onStrayResponse(handler: StrayResponseHandler): void {
    this.strayResponseHandler = handler;
  }

  /**
   * Starts a client transaction (RFC 3261 §17.1): an ICT for INVITE, a NICT otherwise.
   *
   * The request's top Via gets a fresh `z9hG4bK` branch when it has none; a request without
   * any Via gets one built from the transport's local address (`;rport`, RFC 3581). Otherwise
   * the caller's Via and branch are used as they are (a CANCEL carries its INVITE's branch,
   * §9.1). The request object is modified in place and must not be changed afterwards: it is
   * what gets retransmitted.
   *
   * @throws TypeError for an ACK (not a transaction: use {@link sendStateless}), when a
   *   transaction with the same branch and method is already running, or when no Via can be built.
   * @throws SipParseError when the request's top Via is malformed.
   */
  sendRequest(request: SipRequest, target: TransportAddress, options: SendRequestOptions): ClientTransaction {
    if (this.closed) throw new TypeError('the transaction layer is closed');
    if (request.method === 'ACK') {
      throw new TypeError('ACK is not a transaction (RFC 3261 §17.1.1.3); send it with sendStateless()');
    }
    const branch = this.ensureBranch(request, target);
    const key = clientTransactionKey(branch, request.method);
    if (this.clients.has(key)) {
      throw new TypeError(`a ${request.method} client transaction with branch ${branch} is already running`);
    }
    const flow = options.flow;
    const handlers: ClientTransactionHandlers = {
      onResponse: options.onResponse,
      onTimeout: options.onTimeout,
      onTransportError: options.onTransportError,
    };
    let tx: ClientTransaction | undefined;
    const env: TransactionEnvironment = {
      clock: this.clock,
      timers: isReliable(target.protocol) ? this.timerSets.reliable : this.timerSets.unreliable,
      logger: this.logger,
      send: (message) => this.transmit(message, target, flow, (error) => tx?.transportError(error)),
      terminated: () => {
        if (this.clients.get(key) === tx) this.clients.delete(key);
      },
    };
    const created: ClientTransaction =
      request.method === 'INVITE'
        ? new InviteClientTransaction(request, env, handlers)
        : new NonInviteClientTransaction(request, env, handlers);
    tx = created;
    this.clients.set(key, created);
    this.routes.set(created, { target, flow });
    created.start();
    return created;
  }

  /**
   * Sends a CANCEL for a pending INVITE client transaction (RFC 3261 §9.1), by default built
   * with `createCancel` (same Request-URI, Call-ID, From, To, CSeq number and top Via, hence the
   * same branch), to the INVITE's destination and flow, as its own NICT.
   *
   * @remarks §9.1 says a CANCEL must wait for a provisional response and should not be sent
   * after a final one, so this is only allowed in the Proceeding state. If no final response to
   * the INVITE arrives 64·T1 after the CANCEL, the TU may `terminate()` the INVITE transaction.
   * @throws TypeError when `inviteTx` is not in the Proceeding state or not from this layer.
   */
  sendCancel(
    inviteTx: InviteClientTransaction,
    options: ClientTransactionHandlers,
    cancel: SipRequest = createCancel(inviteTx.request),
  ): NonInviteClientTransaction {
    const route = this.routes.get(inviteTx);
    if (route === undefined) throw new TypeError('this INVITE transaction does not belong to this layer');
    if (inviteTx.state !== 'proceeding') {
      throw new TypeError(`a CANCEL may only be sent in the proceeding state (RFC 3261 §9.1), not ${inviteTx.state}`);
    }
    if (cancel.method !== 'CANCEL') throw new TypeError(`expected a CANCEL, got ${cancel.method}`);
    const sendOptions: SendRequestOptions = route.flow === undefined ? options : { ...options, flow: route.flow };
    const tx = this.sendRequest(cancel, route.target, sendOptions);
    if (tx.kind !== 'non-invite-client') throw new TypeError('a CANCEL runs as a non-INVITE transaction');
    return tx;
  }

  /**
   * Sends a message outside any transaction: the ACK for a 2xx (§13.2.2.4, its own branch),
   * a 2xx forwarded statelessly by a proxy (RFC 6026 §8.9), or any stateless forwarding
   * (§16.11). A request without a branch gets one, as in {@link sendRequest}.
   * @throws TransportError (as a rejected promise) when the transport cannot send it.
   */
  async sendStateless(message: SipMessage, target: TransportAddress, options: { readonly flow?: Flow } = {}): Promise<void> {
    if (message.kind === 'request') this.ensureBranch(message, target);
    try {
      await this.transport.send(message, target, options.flow === undefined ? undefined : { flow: options.flow });
    } catch (error) {
      throw asTransportError(error);
    }
  }

  /**
   * Stops every transaction without telling the TUs and ignores further messages. Idempotent.
   * The transport is left open: it belongs to whoever created it.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const tx of [...this.clients.values()]) tx.terminate();
    for (const tx of [...this.servers.values()]) tx.terminate();
    this.clients.clear();
    this.servers.clear();
    this.rfc2543Acks.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Outgoing

  /** Makes sure the top Via has a branch (adding a Via when there is none) and returns it. */
  private ensureBranch(request: SipRequest, target: TransportAddress): string {
    const top = request.topVia();
    if (top === undefined) {
      const local = this.transport.localAddress(target.protocol);
      if (local === undefined) {
        throw new TypeError(`the request has no Via and the transport has no ${target.protocol} address to build one`);
      }
      const branch = newBranch(this.random);
      const host = local.host.includes(':') ? `[${local.host}]` : local.host;
      request.headers.prepend('Via', `SIP/2.0/${local.protocol.toUpperCase()} ${host}:${local.port};rport;branch=${branch}`);
      return branch;
    }
    const existing = viaBranch(top);
    if (existing !== undefined) return existing;
    // RFC 3261 §8.1.1.7: the branch identifies the transaction; replace only the top value.
    const branch = newBranch(this.random);
    request.headers.shift('via');
    request.headers.prepend('Via', formatVia({ ...top, params: withParam(top.params, 'branch', branch) }));
    return branch;
  }

  /** Hands one message to the transport; a failure, sync or async, goes to `onError` later. */
  private transmit(
    message: SipMessage,
    target: TransportAddress,
    flow: Flow | undefined,
    onError: (error: TransportError) => void,
  ): void {
    let pending: Promise<void>;
    try {
      pending = this.transport.send(message, target, flow === undefined ? undefined : { flow });
    } catch (error) {
      // Never call back into a machine from inside its own send: report on the next microtask.
      queueMicrotask(() => onError(asTransportError(error)));
      return;
    }
    pending.then(undefined, (error: unknown) => {
      this.logger.debug('transport send failed', { error: String(error) });
      onError(asTransportError(error));
    });
  }

  // -------------------------------------------------------------------------------------------
  // Incoming

  private receive(incoming: IncomingMessage): void {
    if (this.closed) return;
    const message = incoming.message;
    try {
      if (message.kind === 'response') this.receiveResponse(message, incoming);
      else this.receiveRequest(message, incoming);
    } catch (error) {
      // Only a header the transport's parser accepted but a key needs (e.g. a bad To) lands here.
      this.logger.warn('transaction layer dropped a message', { error: String(error) });
    }
  }

  private receiveResponse(response: SipResponse, incoming: IncomingMessage): void {
    const key = responseTransactionKey(response);
    const tx = key === undefined ? undefined : this.clients.get(key);
    if (tx !== undefined) {
      tx.receiveResponse(response);
      return;
    }
    // §17.1.3 / RFC 6026 §7.2: no transaction — the core (or a proxy) decides.
    if (this.strayResponseHandler !== undefined) this.callTu('onStrayResponse', () => this.strayResponseHandler?.(response, incoming));
    else this.logger.debug('stray response dropped', { status: response.status });
  }

  private receiveRequest(request: SipRequest, incoming: IncomingMessage): void {
    const key = serverTransactionKey(request);
    if (key === undefined) {
      this.logger.debug('request without Via dropped', { method: request.method });
      return;
    }
    if (request.method === 'ACK') {
      this.receiveAck(request, key, incoming);
      return;
    }
    const existing = this.servers.get(key);
    if (existing !== undefined) {
      // §17.2.3: a retransmission — the transaction absorbs it (resending its last response).
      existing.receiveRetransmission();
      return;
    }
    if (this.servers.size >= this.maxServerTransactions) {
      this.rejectOverloaded(request, incoming);
      return;
    }
    const tx = this.createServerTransaction(request, key, incoming);
    if (request.method === 'CANCEL' && tx.kind === 'non-invite-server') this.dispatchCancel(request, tx, incoming);
    else this.dispatchRequest(request, tx, incoming);
  }

  private receiveAck(ack: SipRequest, key: string, incoming: IncomingMessage): void {
    const direct = this.servers.get(key);
    let tx: InviteServerTransaction | undefined;
    if (direct !== undefined && direct.kind === 'invite-server') tx = direct;
    else {
      // RFC 2543 peer: same fields as the INVITE but the To tag, which must be the response's.
      const candidate = this.rfc2543Acks.get(key);
      if (candidate !== undefined && rfc2543AckMatches(ack, candidate.lastResponse)) tx = candidate;
    }
    if (tx !== undefined) {
      tx.receiveAck(ack, incoming);
      return;
    }
    this.passStrayAck(ack, incoming);
  }

  private passStrayAck(ack: SipRequest, incoming: IncomingMessage): void {
    if (this.strayAckHandler !== undefined) this.callTu('onStrayAck', () => this.strayAckHandler?.(ack, incoming));
    else this.logger.debug('ACK without transaction dropped', { callId: ack.callId() });
  }

  private createServerTransaction(request: SipRequest, key: string, incoming: IncomingMessage): ServerTransaction {
    const target = responseTarget(incoming);
    const flow = incoming.flow;
    const ackKey = request.method === 'INVITE' ? rfc2543AckKey(request) : undefined;
    let tx: ServerTransaction | undefined;
    const env: TransactionEnvironment = {
      clock: this.clock,
      timers: isReliable(incoming.source.protocol) ? this.timerSets.reliable : this.timerSets.unreliable,
      logger: this.logger,
      send: (message) => this.transmit(message, target, flow, (error) => tx?.transportError(error)),
      terminated: () => {
        if (this.servers.get(key) === tx) this.servers.delete(key);
        if (ackKey !== undefined && this.rfc2543Acks.get(ackKey) === tx) this.rfc2543Acks.delete(ackKey);
      },
    };
    let created: ServerTransaction;
    if (request.method === 'INVITE') {
      const ist = new InviteServerTransaction(request, {
        ...env,
        passAck: (ack, ackIncoming) => this.passStrayAck(ack, ackIncoming ?? incoming),
      });
      if (ackKey !== undefined) this.rfc2543Acks.set(ackKey, ist);
      created = ist;
    } else {
      created = new NonInviteServerTransaction(request, env);
    }
    tx = created;
    this.servers.set(key, created);
    created.start();
    return created;
  }

  private dispatchRequest(request: SipRequest, tx: ServerTransaction, incoming: IncomingMessage): void {
    const handler = this.requestHandler;
    if (handler === undefined) {
      this.logger.warn('no onRequest handler: answering 501', { method: request.method });
      tx.respond(createResponse(request, 501, { toTag: newTag(this.random) }));
      return;
    }
    if (!this.callTu('onRequest', () => handler(request, tx, incoming))) this.answerIfUnanswered(tx, 500);
  }

  private dispatchCancel(cancel: SipRequest, cancelTx: NonInviteServerTransaction, incoming: IncomingMessage): void {
    const targetKey = cancelTargetKey(cancel);
    const found = targetKey === undefined ? undefined : this.servers.get(targetKey);
    const inviteTx = found !== undefined && found.kind === 'invite-server' ? found : undefined;
    const handler = this.cancelHandler;
    if (handler === undefined) {
      // §9.2, as a UAS: 481 without a match; else 200 for the CANCEL and 487 for the INVITE.
      if (inviteTx === undefined) {
        cancelTx.respond(createResponse(cancel, 481, { toTag: newTag(this.random) }));
        return;
      }
      cancelTx.respond(createResponse(cancel, 200, { toTag: this.toTagOf(inviteTx) }));
      if (inviteTx.state === 'proceeding') {
        inviteTx.respond(createResponse(inviteTx.request, 487, { toTag: this.toTagOf(inviteTx) }));
      }
      return;
    }
    const ok = this.callTu('onCancel', () => handler(cancel, cancelTx, inviteTx, incoming));
    if (!ok) this.answerIfUnanswered(cancelTx, 500);
    else if (inviteTx === undefined && this.unmatchedCancel === 'respond-481') this.answerIfUnanswered(cancelTx, 481);
  }

  /** The To tag the INVITE's responses already carry, so CANCEL/487 agree with earlier 1xx (§9.2). */
  private toTagOf(inviteTx: InviteServerTransaction): string {
    const last = inviteTx.lastResponse;
    if (last !== undefined && last.status > 100) {
      const tag = paramValue(last.to().params, 'tag');
      if (typeof tag === 'string') return tag;
    }
    return newTag(this.random);
  }

  private answerIfUnanswered(tx: ServerTransaction, status: number): void {
    if (tx.lastResponse !== undefined && tx.lastResponse.status >= 200) return;
    if (tx.isTerminated) return;
    tx.respond(createResponse(tx.request, status, { toTag: newTag(this.random) }));
  }

  /** STYLE §7: beyond the cap, answer 503 statelessly instead of growing the table. */
  private rejectOverloaded(request: SipRequest, incoming: IncomingMessage): void {
    this.logger.warn('server transaction table full: 503', { method: request.method, max: this.maxServerTransactions });
    const response = createResponse(request, 503, {
      toTag: newTag(this.random),
      headers: [['Retry-After', String(this.retryAfterSeconds)]],
    });
    this.transmit(response, responseTarget(incoming), incoming.flow, () => {});
  }

  /** Calls a TU handler; returns false (after logging) when it threw. */
  private callTu(what: string, call: () => void): boolean {
    try {
      call();
      return true;
    } catch (error) {
      this.logger.error('transaction user handler threw', { handler: what, error: String(error) });
      return false;
    }
  }
}
