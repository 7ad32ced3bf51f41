/**
 * `UserAgent`: the public entry a program uses to speak SIP (RFC 3261 §8, §13, §15). It owns a
 * transport layer (or takes one), runs the transaction layer over it, resolves targets by
 * RFC 3263, answers digest challenges, keeps INVITE dialogs (ACK for 2xx, 2xx retransmission
 * until ACK) and hands every incoming request to one handler.
 *
 * One request, one outcome: `await ua.request(req)` resolves with the final response — a
 * timeout is a locally made 408 and a transport failure a 503 (RFC 3261 §8.1.3.1), after every
 * target from RFC 3263 was tried in turn (RFC 3263 §4.3).
 */
import { SystemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { TypedEmitter } from '../core/events.js';
import { silentLogger, type Logger } from '../core/log.js';
import { CryptoRandom, type Random } from '../core/random.js';
import { DigestClient, type DigestCredentials } from '../auth/index.js';
import { Dialog, DialogStore, Uas2xxRetransmitter, unmatchedRequestOutcome, type DialogId } from '../dialog/index.js';
import { createNodeDnsClient, Resolver, type Target } from '../resolver/index.js';
import {
  createResponse,
  isSipUri,
  newCallId,
  newTag,
  parseAuthHeader,
  parseNameAddr,
  parseUri,
  SipRequest,
  tagOf,
  Headers,
  type AuthHeaderValue,
  type ResponseOptions,
  type SipResponse,
  type Uri,
} from '../sip/index.js';
import {
  TransactionLayer,
  type ClientTransaction,
  type InviteServerTransaction,
  type ServerTransaction,
  type TimerConfig,
} from '../transaction/index.js';
import { TransportLayer, type ListenerConfig } from '../transport/index.js';
import { fixNatContact } from './nat.js';
import type { IncomingMessage, Transport, TransportAddress, TransportProtocol } from '../transport/transport.js';

/** Options of a {@link UserAgent}. Every field has a default; see each one. */
export interface UserAgentOptions {
  /** Sockets to open when no `transport` is given. Default: UDP on 127.0.0.1, any port. */
  readonly listen?: readonly ListenerConfig[];
  /** A transport to use instead of opening sockets (e.g. `FakeTransport` in tests). Not closed by `close()`. */
  readonly transport?: Transport;
  /** Our address-of-record, the default From of requests we build. Default `sip:voxlite@<listen host>`. */
  readonly aor?: string;
  /** Display name put in From. */
  readonly displayName?: string;
  /** Credentials used to answer 401/407 challenges (RFC 3261 §22.2). Default: none (challenges are returned). */
  readonly credentials?: DigestCredentials;
  /** Every out-of-dialog request is sent here first (loose route), e.g. `sip:proxy.example.com;lr`. */
  readonly outboundProxy?: string;
  /** User-Agent / Server header value. Default `voxlite/<version>`. */
  readonly userAgent?: string;
  /** RFC 3263 resolver. Default: one on node:dns. */
  readonly resolver?: Resolver;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
  /** T1/T2/T4 overrides. */
  readonly timers?: Partial<TimerConfig>;
  /** Upper bound of `close()` in milliseconds. Default 2000. */
  readonly closeTimeoutMs?: number;
  /**
   * rtclite's `--fix-nat`: in a received INVITE or MESSAGE whose first Contact is a private IPv4
   * address while the packet came from a public one, use the packet's source instead, so the
   * dialog's requests reach a peer behind NAT. Default false.
   */
  readonly fixNat?: boolean;
  /**
   * The transport for targets whose URI names none (rtclite's first `--transport`): RFC 3263
   * would pick UDP for a numeric host, which a TCP-only UA cannot send. Default: RFC 3263's choice.
   */
  readonly preferredTransport?: TransportProtocol;
}

/** Per-request options of {@link UserAgent.request}. */
export interface RequestOptions {
  /** Send here instead of resolving the Request-URI / Route / outbound proxy. */
  readonly target?: TransportAddress;
  /** Called with each provisional response (1xx). */
  readonly onProvisional?: (response: SipResponse) => void;
  /** Aborting sends CANCEL for an INVITE (RFC 3261 §9.1); other requests stop being awaited. */
  readonly signal?: AbortSignal;
  /** Credentials for this request; `null` turns automatic authentication off. Default: the UA's. */
  readonly credentials?: DigestCredentials | null;
}

/** What {@link UserAgent.createRequest} needs. */
export interface RequestInit {
  readonly method: string;
  /** Request-URI. */
  readonly uri: string;
  /** To (URI or name-addr). Default: the Request-URI. */
  readonly to?: string;
  /** From (URI or name-addr), without tag. Default: the UA's AOR. */
  readonly from?: string;
  readonly callId?: string;
  readonly cseq?: number;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array | string;
  readonly contentType?: string;
}

/** Options of {@link IncomingRequest.respond}. */
export interface RespondOptions {
  readonly reason?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array | string;
  readonly contentType?: string;
}

/** A request received by the UA, with the means to answer it once (finally). */
export interface IncomingRequest {
  readonly request: SipRequest;
  /** Where it really came from. */
  readonly source: TransportAddress;
  /** The dialog it belongs to, for in-dialog requests and for an INVITE once answered with 2xx. */
  readonly dialog: Dialog | undefined;
  /** Aborted when a CANCEL for this INVITE arrives (the UA then answers 487 itself). */
  readonly signal: AbortSignal;
  /** Whether a final response was sent. */
  readonly answered: boolean;
  /** Sends a response; a 2xx to INVITE creates the dialog and is retransmitted until the ACK. */
  respond(status: number, options?: RespondOptions): SipResponse;
}

/** Events of a {@link UserAgent}. */
export interface UserAgentEvents extends Record<string, unknown> {
  /** An ACK for a 2xx we sent (it may carry the SDP answer of a late offer). */
  ack: { readonly ack: SipRequest; readonly dialog: Dialog };
  /** A dialog ended: BYE received or sent, 2xx never ACKed, 481/408 in dialog. */
  dialogTerminated: { readonly dialog: Dialog; readonly reason: string };
  /** Something failed outside any awaited call (a handler threw, an ACK could not be sent). */
  error: Error;
}

type RequestHandler = (incoming: IncomingRequest) => void | Promise<void>;

type Outcome =
  | { readonly kind: 'response'; readonly response: SipResponse }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'transport-error'; readonly error: Error }
  | { readonly kind: 'aborted'; readonly reason: unknown };

const VERSION = '0.1.0';
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, NOTIFY, UPDATE';
const DEFAULT_LISTEN: readonly ListenerConfig[] = [{ protocol: 'udp', host: '127.0.0.1', port: 0 }];

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function uriOfNameAddr(text: string): Uri {
  return parseNameAddr(text, 'uri').uri;
}

export class UserAgent extends TypedEmitter<UserAgentEvents> {
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  private readonly options: UserAgentOptions;
  private readonly ownsTransport: boolean;
  private transport: Transport | undefined;
  private transactions: TransactionLayer | undefined;
  private resolver: Resolver | undefined;
  private readonly dialogs = new DialogStore();
  private readonly retransmitters = new Map<Dialog, Uas2xxRetransmitter>();
  /** The ACK sent for each confirmed UAC dialog, resent when the 2xx is retransmitted (§13.2.2.4). */
  private readonly acks = new Map<Dialog, { ack: SipRequest; target: TransportAddress }>();
  private handler: RequestHandler | undefined;
  private readonly pendingIncoming = new Map<InviteServerTransaction, AbortController>();
  private closing: Promise<void> | undefined;
  private started = false;
  /** Requests still awaiting their outcome; settled with a 503 when the UA closes. */
  private readonly pendingRequests = new Set<(outcome: Outcome) => void>();

  constructor(options: UserAgentOptions = {}) {
    super((error) => this.logger.error('event listener threw', { error: String(error) }));
    this.options = options;
    this.clock = options.clock ?? new SystemClock();
    this.random = options.random ?? new CryptoRandom();
    this.logger = options.logger ?? silentLogger;
    this.ownsTransport = options.transport === undefined;
    this.transport = options.transport;
  }

  /** Opens the sockets (when the UA owns them) and starts the transaction layer. Idempotent. */
  async start(): Promise<void> {
    if (this.closing !== undefined) throw new TypeError('the user agent is closed');
    if (this.started) return;
    this.started = true;
    if (this.transport === undefined) {
      const layer = new TransportLayer({ listeners: this.options.listen ?? DEFAULT_LISTEN, clock: this.clock, logger: this.logger });
      await layer.listen();
      this.transport = layer;
    }
    this.resolver = this.options.resolver ?? new Resolver({ dns: createNodeDnsClient(), clock: this.clock, random: this.random });
    const transactions = new TransactionLayer({
      transport: this.transport,
      clock: this.clock,
      random: this.random,
      logger: this.logger,
      ...(this.options.timers === undefined ? {} : { timers: this.options.timers }),
    });
    transactions.onRequest((request, tx, incoming) => this.receiveRequest(request, tx, incoming));
    transactions.onCancel((cancel, cancelTx, inviteTx) => {
      cancelTx.respond(this.response(cancel, inviteTx === undefined ? 481 : 200));
      if (inviteTx !== undefined) {
        const controller = this.pendingIncoming.get(inviteTx);
        if (inviteTx.state === 'proceeding' && controller !== undefined) {
          // RFC 3261 §9.2: the UAS answers the INVITE with 487 once CANCEL arrives.
          this.pendingIncoming.delete(inviteTx);
          inviteTx.respond(this.response(inviteTx.request, 487, {}, this.toTags.get(inviteTx.request)));
          controller.abort(new Error('request cancelled by CANCEL'));
        }
      }
    });
    transactions.onStrayAck((ack) => this.receiveAck(ack));
    transactions.onStrayResponse((response) => this.receiveStrayResponse(response));
    this.transactions = transactions;
  }

  /** The address a peer reaches us at for `protocol` (after `start()`). */
  localAddress(protocol: TransportProtocol = 'udp'): TransportAddress | undefined {
    return this.transport?.localAddress(protocol);
  }

  /** Our AOR: the configured one, or `sip:voxlite@host:port`. */
  get aor(): string {
    if (this.options.aor !== undefined) return this.options.aor;
    const local = (['udp', 'tcp', 'tls', 'ws', 'wss'] as const).map((p) => this.localAddress(p)).find((a) => a !== undefined);
    return local === undefined ? 'sip:voxlite@127.0.0.1' : `sip:voxlite@${formatHost(local.host)}:${local.port}`;
  }

  /** A Contact value for requests and responses sent over `protocol`. */
  contact(protocol?: TransportProtocol): string {
    const order: TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];
    const local = (protocol === undefined ? undefined : this.localAddress(protocol)) ?? order.map((p) => this.localAddress(p)).find((a) => a !== undefined);
    if (local === undefined) throw new TypeError('the user agent has no transport address; call start() first');
    let user = 'voxlite';
    try {
      const aor = uriOfNameAddr(this.aor);
      if (isSipUri(aor) && aor.user !== null) user = aor.user;
    } catch {
      // keep the default user
    }
    const transport = local.protocol === 'udp' ? '' : `;transport=${local.protocol}`;
    return `<sip:${user}@${formatHost(local.host)}:${local.port}${transport}>`;
  }

  /**
   * Installs the one handler of incoming requests (RFC 3261 §8.2); it answers with
   * `incoming.respond()`. A non-INVITE request still unanswered when the handler returns (or when
   * its promise settles) gets a default answer: 200 to OPTIONS, 200 to BYE/INFO/UPDATE inside a
   * dialog (481 outside), 405 to other known methods, 501 to unknown ones. An INVITE waits for
   * `respond()` or a CANCEL. A handler that throws gets 500. Without a handler every request
   * gets the default (480 for INVITE).
   */
  onRequest(handler: RequestHandler): void {
    this.handler = handler;
  }

  /** Builds an out-of-dialog request with a fresh Call-ID, From tag and CSeq (RFC 3261 §8.1.1). */
  createRequest(init: RequestInit): SipRequest {
    const headers = new Headers();
    const fromValue = init.from ?? (this.options.displayName === undefined ? `<${this.aor}>` : `"${this.options.displayName}" <${this.aor}>`);
    const from = fromValue.includes('<') ? fromValue : `<${fromValue}>`;
    const to = init.to === undefined ? `<${init.uri}>` : init.to.includes('<') ? init.to : `<${init.to}>`;
    headers.append('Max-Forwards', '70');
    headers.append('From', `${from};tag=${newTag(this.random)}`);
    headers.append('To', to);
    headers.append('Call-ID', init.callId ?? newCallId(this.random));
    headers.append('CSeq', `${init.cseq ?? 1 + this.random.int(1 << 20)} ${init.method}`);
    if (['INVITE', 'REGISTER', 'SUBSCRIBE', 'REFER', 'UPDATE'].includes(init.method)) headers.append('Contact', this.contact());
    headers.append('User-Agent', this.options.userAgent ?? `voxlite/${VERSION}`);
    for (const [name, value] of init.headers ?? []) headers.append(name, value);
    const request = new SipRequest({ method: init.method, uri: init.uri, headers });
    request.setBody(init.body ?? Buffer.alloc(0), init.body === undefined ? undefined : (init.contentType ?? 'application/sdp'));
    return request;
  }

  /**
   * Sends a request and resolves with its final response (RFC 3261 §8.1). 401/407 are answered
   * with the credentials once per challenge (and again on `stale=true`); timeouts, transport
   * errors and 503 move to the next RFC 3263 target. A 2xx to INVITE is ACKed and its dialog
   * kept (see {@link dialogOf}).
   */
  async request(request: SipRequest, options: RequestOptions = {}): Promise<SipResponse> {
    await this.start();
    const credentials = options.credentials === undefined ? this.options.credentials : options.credentials;
    const auth = credentials === undefined || credentials === null ? undefined : new DigestClient({ credentials, random: this.random });
    let current = request;
    let sent: AuthHeaderValue[] = [];
    const targets = options.target !== undefined ? [options.target] : await this.targetsFor(this.firstHop(current));
    if (targets.length === 0) return this.localResponse(current, 503, 'No Target Found');
    let index = 0;
    let last: SipResponse | undefined;
    for (let attempts = 0; attempts < 20; attempts++) {
      const target = targets[index];
      if (target === undefined) break;
      const attempt = current.clone();
      const outcome = await this.runTransaction(attempt, target, options);
      if (outcome.kind === 'aborted') throw outcome.reason;
      const response =
        outcome.kind === 'response'
          ? outcome.response
          : this.localResponse(attempt, outcome.kind === 'timeout' ? 408 : 503, outcome.kind === 'timeout' ? 'Request Timeout' : 'Transport Error');
      last = response;
      if ((outcome.kind !== 'response' || response.status === 503) && index + 1 < targets.length) {
        // RFC 3263 §4.3: try the next target on timeout, transport failure or 503.
        index++;
        continue;
      }
      if ((response.status === 401 || response.status === 407) && auth !== undefined) {
        const challengeHeader = response.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
        const challenges: AuthHeaderValue[] = [];
        for (const value of response.headers.getAll(challengeHeader)) {
          try {
            challenges.push(parseAuthHeader(value, challengeHeader));
          } catch {
            // an unreadable challenge is skipped; another may still be answerable
          }
        }
        const answer = auth.respond(challenges, { method: current.method, uri: current.uri, body: current.body }, sent);
        if (answer === null) return response;
        // RFC 3261 §22.2: the retry is a new request in the same call: same Call-ID and tags, CSeq + 1.
        const retry = current.clone();
        const cseq = retry.cseq();
        retry.headers.set('CSeq', `${cseq.seq + 1} ${cseq.method}`);
        const credentialHeader = response.status === 401 ? 'Authorization' : 'Proxy-Authorization';
        retry.headers.delete(credentialHeader);
        retry.headers.append(credentialHeader, answer.text);
        current = retry;
        sent = [answer.credentials];
        continue;
      }
      return response;
    }
    return last ?? this.localResponse(current, 503, 'No Target Answered');
  }

  /** The dialog a 2xx (or 1xx with To tag) to our INVITE created, if any. */
  dialogOf(response: SipResponse): Dialog | undefined {
    return this.dialogs.match(response);
  }

  /** Sends a request inside a dialog (BYE, INFO, MESSAGE, re-INVITE…) and resolves with its final response. */
  async requestInDialog(
    dialog: Dialog,
    method: string,
    options: RequestOptions & { readonly body?: Uint8Array | string; readonly contentType?: string; readonly headers?: ReadonlyArray<readonly [string, string]> } = {},
  ): Promise<SipResponse> {
    const request = dialog.createRequest(method, {
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(method === 'INVITE' || method === 'UPDATE' ? { contact: this.contact() } : {}),
    });
    if (method === 'BYE') this.endDialog(dialog, 'bye sent');
    const response = await this.request(request, { ...options });
    dialog.receiveResponse(response);
    if (dialog.state === 'terminated') this.endDialog(dialog, `${response.status} in dialog`);
    return response;
  }

  /** Closes every socket the UA owns and stops all timers. Idempotent; bounded by `closeTimeoutMs`. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const finish of [...this.pendingRequests]) finish({ kind: 'transport-error', error: new Error('user agent closed') });
    for (const r of this.retransmitters.values()) r.stop();
    this.retransmitters.clear();
    for (const controller of this.pendingIncoming.values()) controller.abort(new Error('user agent closed'));
    this.pendingIncoming.clear();
    this.transactions?.close();
    if (this.ownsTransport && this.transport !== undefined) {
      const limit = this.options.closeTimeoutMs ?? 2000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.transport.close(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, limit);
        }),
      ]);
      if (timer !== undefined) clearTimeout(timer);
    }
    this.removeAllListeners();
  }

  // -------------------------------------------------------------------------------------------
  // Sending

  /** The URI of the first hop: the outbound proxy, the top Route, or the Request-URI (RFC 3261 §8.1.2). */
  private firstHop(request: SipRequest): Uri {
    const routes = request.routes();
    if (routes.length > 0) {
      const first = routes[0]!.uri;
      // RFC 3261 §8.1.2: a strict router (no `lr`) is already the Request-URI; send there.
      if (isSipUri(first) && !first.params.some((p) => p.name.toLowerCase() === 'lr')) return parseUri(request.uri);
      return first;
    }
    if (this.options.outboundProxy !== undefined && tagOf(request.to()) === undefined) {
      return uriOfNameAddr(this.options.outboundProxy);
    }
    return parseUri(request.uri);
  }

  private async targetsFor(uri: Uri): Promise<TransportAddress[]> {
    if (this.resolver === undefined) throw new TypeError('the user agent is not started');
    if (!isSipUri(uri)) return [];
    try {
      const preferred = this.options.preferredTransport;
      const named = uri.params.some((p) => p.name.toLowerCase() === 'transport') || uri.scheme === 'sips';
      const targets: Target[] =
        preferred !== undefined && !named ? await this.resolver.resolve(uri, { protocols: [preferred] }) : await this.resolver.resolve(uri);
      return targets.map((t) => ({ protocol: t.protocol, host: t.host, port: t.port }));
    } catch (error) {
      this.logger.warn('target resolution failed', { uri: uri.host, error: String(error) });
      return [];
    }
  }

  private runTransaction(request: SipRequest, target: TransportAddress, options: RequestOptions): Promise<Outcome> {
    const transactions = this.transactions;
    if (transactions === undefined) throw new TypeError('the user agent is not started');
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      let cancelWanted = false;
      let tx: ClientTransaction | undefined;
      let giveUp: TimerHandle | undefined;
      let answeredTag: string | undefined;
      const finish = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        giveUp?.cancel();
        this.pendingRequests.delete(finish);
        options.signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      this.pendingRequests.add(finish);
      const sendCancel = (): void => {
        if (tx === undefined || tx.kind !== 'invite-client' || tx.state !== 'proceeding') return;
        cancelWanted = false;
        try {
          transactions.sendCancel(tx, { onResponse: () => {}, onTimeout: () => {}, onTransportError: () => {} });
          // RFC 3261 §9.1: no final response 64·T1 after the CANCEL: give the INVITE up.
          const t1 = this.options.timers?.t1 ?? 500;
          const invite = tx;
          giveUp = this.clock.setTimer(64 * t1, () => {
            invite.terminate();
            finish({ kind: 'timeout' });
          });
        } catch (error) {
          this.logger.warn('CANCEL could not be sent', { error: String(error) });
        }
      };
      const onAbort = (): void => {
        if (request.method !== 'INVITE') {
          finish({ kind: 'aborted', reason: options.signal?.reason });
          return;
        }
        // RFC 3261 §9.1: CANCEL only once a provisional response arrived; the final response
        // (normally 487) then settles the call.
        cancelWanted = true;
        sendCancel();
      };
      if (options.signal?.aborted) {
        finish({ kind: 'aborted', reason: options.signal.reason });
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        tx = transactions.sendRequest(request, target, {
          onResponse: (response) => {
            if (response.status < 200) {
              if (cancelWanted) sendCancel();
              if (!settled) options.onProvisional?.(response);
              if (request.method === 'INVITE' && tagOf(response.to()) !== undefined && this.dialogs.match(response) === undefined) {
                this.createUacDialog(request, response);
              }
              return;
            }
            if (request.method === 'INVITE' && response.status < 300) {
              this.acknowledge(request, response, target);
              const tag = tagOf(response.to());
              if (!settled) {
                answeredTag = tag;
              } else if (tag !== answeredTag) {
                // A second 2xx from another fork (RFC 3261 §13.2.2.4): ACK it (done above), then
                // end that extra dialog, since the caller already has its answer.
                const extra = this.dialogs.match(response);
                if (extra !== undefined) void this.requestInDialog(extra, 'BYE').catch(() => {});
              }
            } else if (request.method === 'INVITE') {
              this.rejectEarlyDialogs(response);
            }
            finish({ kind: 'response', response });
          },
          onTimeout: () => finish({ kind: 'timeout' }),
          onTransportError: (error) => finish({ kind: 'transport-error', error }),
        });
      } catch (error) {
        finish({ kind: 'transport-error', error: error instanceof Error ? error : new Error(String(error)) });
      }
    });
  }

  private createUacDialog(request: SipRequest, response: SipResponse): Dialog | undefined {
    try {
      const dialog = Dialog.fromUacResponse(request, response, { random: this.random });
      this.dialogs.add(dialog);
      return dialog;
    } catch (error) {
      this.logger.warn('no dialog from response', { status: response.status, error: String(error) });
      return undefined;
    }
  }

  /** ACK for a 2xx (RFC 3261 §13.2.2.4), resent for each retransmission of that 2xx. */
  private acknowledge(invite: SipRequest, response: SipResponse, inviteTarget: TransportAddress): void {
    let dialog = this.dialogs.match(response);
    if (dialog === undefined) dialog = this.createUacDialog(invite, response);
    if (dialog === undefined) return;
    if (dialog.state === 'early') dialog.receiveResponse(response);
    const cached = this.acks.get(dialog);
    // A 2xx to a re-INVITE needs its own ACK (its CSeq), not the one of the first INVITE.
    const known = cached !== undefined && cached.ack.cseq().seq === response.cseq().seq ? cached : undefined;
    const send = (ack: SipRequest, target: TransportAddress): void => {
      this.transactions?.sendStateless(ack, target).catch((error: unknown) => {
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
      });
    };
    if (known !== undefined) {
      send(known.ack, known.target);
      return;
    }
    const ack = dialog.createAck(invite);
    // The ACK goes where the dialog's next request goes; with no Route that is the remote
    // target, whose address we may not know without DNS — fall back to the INVITE's target.
    const hop = ack.routes()[0]?.uri ?? parseUri(ack.uri);
    const entry = { ack, target: this.directTarget(hop, inviteTarget) };
    this.acks.set(dialog, entry);
    send(ack, entry.target);
  }

  /** A transport address straight from a URI with a numeric host, else `fallback`. */
  private directTarget(uri: Uri, fallback: TransportAddress): TransportAddress {
    if (!isSipUri(uri)) return fallback;
    const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
    if (!/^[0-9.]+$/.test(host) && !host.includes(':')) return fallback;
    const param = uri.params.find((p) => p.name.toLowerCase() === 'transport')?.value?.toLowerCase();
    const protocol: TransportProtocol = param === 'tcp' || param === 'tls' || param === 'ws' || param === 'wss' ? param : uri.scheme === 'sips' ? 'tls' : 'udp';
    return { protocol, host, port: uri.port ?? (protocol === 'tls' ? 5061 : 5060) };
  }

  private rejectEarlyDialogs(response: SipResponse): void {
    const callId = response.callId();
    const localTag = tagOf(response.from());
    if (localTag === undefined) return;
    for (const dialog of this.dialogs.forks(callId, localTag)) {
      if (dialog.state === 'early') this.endDialog(dialog, `${response.status} to INVITE`);
    }
  }

  private localResponse(request: SipRequest, status: number, reason: string): SipResponse {
    return createResponse(request, status, { reason });
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  private readonly toTags = new WeakMap<SipRequest, string>();

  private response(request: SipRequest, status: number, options: RespondOptions = {}, toTag?: string): SipResponse {
    const headers: Array<readonly [string, string]> = [];
    headers.push(['Server', this.options.userAgent ?? `voxlite/${VERSION}`]);
    if (status === 405 || (request.method === 'OPTIONS' && status < 300)) headers.push(['Allow', ALLOW]);
    if (request.method === 'OPTIONS' && status < 300) headers.push(['Accept', 'application/sdp']);
    for (const h of options.headers ?? []) headers.push(h);
    if (request.method === 'INVITE' && status > 100 && status < 300) {
      // RFC 3261 §12.1.1: a dialog-creating response copies the Record-Route values, in order.
      for (const f of request.headers.fieldsOf('record-route')) headers.push(['Record-Route', f.raw]);
    }
    const tag = toTag ?? (tagOf(request.to()) === undefined ? this.toTagFor(request) : undefined);
    const responseOptions: ResponseOptions = {
      headers,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(tag === undefined ? {} : { toTag: tag }),
      ...(options.body === undefined ? {} : { body: options.body, contentType: options.contentType ?? 'application/sdp' }),
    };
    return createResponse(request, status, responseOptions);
  }

  private toTagFor(request: SipRequest): string {
    let tag = this.toTags.get(request);
    if (tag === undefined) {
      tag = newTag(this.random);
      this.toTags.set(request, tag);
    }
    return tag;
  }

  private receiveRequest(request: SipRequest, tx: ServerTransaction, incoming: IncomingMessage): void {
    if (this.options.fixNat === true && (request.method === 'INVITE' || request.method === 'MESSAGE')) fixNatContact(request, incoming.source);
    let dialog: Dialog | undefined;
    if (tagOf(request.to()) !== undefined) {
      dialog = this.dialogs.match(request);
      if (dialog === undefined) {
        // RFC 3261 §12.2.2: a request with a To tag that matches no dialog gets 481.
        const outcome = unmatchedRequestOutcome(request);
        if (outcome.action === 'reject') tx.respond(this.response(request, outcome.status, { reason: outcome.reason }));
        return;
      }
      const verdict = dialog.receiveRequest(request);
      if (!verdict.ok) {
        tx.respond(this.response(request, verdict.status, { reason: verdict.reason }));
        return;
      }
    }
    const controller = new AbortController();
    if (tx.kind === 'invite-server') this.pendingIncoming.set(tx, controller);
    let answered = false;
    const ua = this;
    const incomingRequest: IncomingRequest = {
      request,
      source: incoming.source,
      get dialog() {
        return dialog;
      },
      signal: controller.signal,
      get answered() {
        // A CANCELled INVITE was answered 487 by the UA itself (RFC 3261 §9.2).
        return answered || (tx.kind === 'invite-server' && controller.signal.aborted);
      },
      respond(status, options = {}) {
        if (answered) throw new TypeError(`${request.method} was already answered`);
        if (tx.kind === 'invite-server' && controller.signal.aborted) throw new TypeError('the INVITE was cancelled and answered 487');
        if (status >= 200) answered = true;
        const extra: Array<readonly [string, string]> = [...(options.headers ?? [])];
        if (request.method === 'INVITE' && status < 300 && status > 100 && !extra.some(([n]) => n.toLowerCase() === 'contact')) {
          extra.push(['Contact', ua.contact(incoming.source.protocol)]);
        }
        const response = ua.response(request, status, { ...options, headers: extra }, dialog?.id.localTag);
        if (request.method === 'INVITE' && status >= 200 && status < 300 && dialog === undefined) {
          dialog = ua.createUasDialog(request, response);
        } else if (dialog !== undefined) {
          dialog.responseSent(response);
        }
        if (tx.kind === 'invite-server') {
          if (status >= 200) ua.pendingIncoming.delete(tx);
          tx.respond(response);
          if (status >= 200 && status < 300 && dialog !== undefined) ua.retransmit2xx(dialog, response, tx);
        } else {
          tx.respond(response);
        }
        if (request.method === 'BYE' && dialog !== undefined && status >= 200 && status < 300) ua.endDialog(dialog, 'bye received');
        return response;
      },
    };
    const fallback = (): void => {
      if (incomingRequest.answered || controller.signal.aborted) return;
      incomingRequest.respond(this.defaultStatus(request, dialog));
    };
    const handler = this.handler;
    if (handler === undefined) {
      fallback();
      return;
    }
    try {
      const result = handler(incomingRequest);
      if (result instanceof Promise) {
        result.then(
          () => {
            if (request.method !== 'INVITE') fallback();
          },
          (error: unknown) => this.handlerFailed(error, incomingRequest),
        );
      } else if (request.method !== 'INVITE') {
        fallback();
      }
    } catch (error) {
      this.handlerFailed(error, incomingRequest);
    }
  }

  private handlerFailed(error: unknown, incoming: IncomingRequest): void {
    this.logger.error('request handler threw', { error: String(error) });
    this.emit('error', error instanceof Error ? error : new Error(String(error)));
    if (!incoming.answered) incoming.respond(500);
  }

  /** What a request gets when the handler leaves it unanswered. */
  private defaultStatus(request: SipRequest, dialog: Dialog | undefined): number {
    switch (request.method) {
      case 'OPTIONS':
        return 200;
      case 'BYE':
      case 'INFO':
      case 'UPDATE':
        return dialog === undefined ? 481 : 200;
      case 'INVITE':
        return dialog === undefined ? 480 : 488;
      case 'MESSAGE':
      case 'NOTIFY':
      case 'SUBSCRIBE':
      case 'REGISTER':
      case 'PUBLISH':
      case 'REFER':
        return 405;
      default:
        return 501;
    }
  }

  private createUasDialog(request: SipRequest, response: SipResponse): Dialog | undefined {
    try {
      const localTag = tagOf(response.to()) ?? this.toTagFor(request);
      const contact = response.headers.get('contact') ?? this.contact();
      const dialog = Dialog.fromUasRequest(request, localTag, contact, { random: this.random });
      dialog.responseSent(response);
      this.dialogs.add(dialog);
      return dialog;
    } catch (error) {
      this.logger.warn('no dialog from request', { error: String(error) });
      return undefined;
    }
  }

  /** RFC 3261 §13.3.1.4: the UAS core retransmits its 2xx until the ACK arrives. */
  private retransmit2xx(dialog: Dialog, response: SipResponse, tx: InviteServerTransaction): void {
    const retransmitter = new Uas2xxRetransmitter({
      response,
      clock: this.clock,
      ...(this.options.timers === undefined ? {} : { timers: this.options.timers }),
      send: (r) => {
        tx.respond(r);
      },
      onTimeout: () => {
        this.retransmitters.delete(dialog);
        // No ACK after 64·T1: the session is considered lost; BYE it (§13.3.1.4).
        void this.requestInDialog(dialog, 'BYE').catch(() => {});
      },
    });
    this.retransmitters.set(dialog, retransmitter);
  }

  private receiveAck(ack: SipRequest): void {
    const dialog = this.dialogs.match(ack);
    if (dialog === undefined) return;
    const retransmitter = this.retransmitters.get(dialog);
    // Only the ACK of the 2xx being retransmitted stops it (an old ACK repeated must not).
    if (retransmitter !== undefined && retransmitter.receiveAck(ack)) this.retransmitters.delete(dialog);
    this.emit('ack', { ack, dialog });
  }

  private receiveStrayResponse(response: SipResponse): void {
    // A 2xx retransmitted after the INVITE transaction ended: ACK it again (§13.2.2.4).
    if (response.status < 200 || response.status >= 300 || response.cseq().method !== 'INVITE') return;
    const dialog = this.dialogs.match(response);
    const known = dialog === undefined ? undefined : this.acks.get(dialog);
    if (known !== undefined && known.ack.cseq().seq === response.cseq().seq) {
      void this.transactions?.sendStateless(known.ack, known.target).catch(() => {});
    }
  }

  private endDialog(dialog: Dialog, reason: string): void {
    if (dialog.state !== 'terminated') dialog.terminate();
    const retransmitter = this.retransmitters.get(dialog);
    retransmitter?.stop();
    this.retransmitters.delete(dialog);
    this.acks.delete(dialog);
    if (this.dialogs.delete(dialog)) this.emit('dialogTerminated', { dialog, reason });
  }

  /** Dialogs currently known (early and confirmed). */
  get dialogCount(): number {
    return [...this.dialogs].length;
  }

  /** Finds a dialog by id. */
  dialog(id: DialogId): Dialog | undefined {
    return this.dialogs.get(id);
  }
}
