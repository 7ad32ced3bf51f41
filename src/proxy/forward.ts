/**
 * The stateful proxy core (RFC 3261 §16): request validation (§16.3), Route processing
 * (§16.4), forwarding to one or more targets in parallel (§16.6), the response context with
 * best-response selection (§16.7), Timer C (§16.8), transport errors (§16.9), CANCEL (§16.10),
 * and the stateless paths: ACK for 2xx and stray 2xx responses (§16.11, RFC 6026 §8.9).
 *
 * Record-Route (§16.6 step 4) is `<sip:host:port;transport=x;lr;vxd=MAC>` where `vxd` is a MAC
 * over the Call-ID and From tag under the agent's secret: an in-dialog request is loose-routed
 * only when it carries a Route we really created for that dialog (G34). When the request changes
 * transport, two Record-Route values are inserted, one per side (RFC 5658 §4). The entry facing
 * a client reached over its own connection (TCP/TLS/WS) carries that flow in its user part, so
 * in-dialog requests go back over the same connection (RFC 5626 §5.3 style).
 */
import { createHash, createHmac } from 'node:crypto';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { randomToken, type Random } from '../core/random.js';
import { TimerC } from '../dialog/invite-session.js';
import { createResponse, newTag } from '../sip/build.js';
import { paramValue, tagOf, type NameAddr, type Via } from '../sip/header-values.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { isSipUri, uriParam, type SipUri, type Uri } from '../sip/uri.js';
import { parseAuthHeader } from '../sip/auth-header.js';
import type { ClientTransaction, ServerTransaction, TransactionLayer } from '../transaction/layer.js';
import type { InviteClientTransaction } from '../transaction/client-invite.js';
import { responseTarget as viaResponseTarget } from '../transport/via.js';
import { isReliable, type Flow, type TransportAddress, type TransportProtocol } from '../transport/transport.js';

/** Prefix of the branches of requests we forward statefully: magic cookie + `vx` + loop hash. */
const BRANCH_PREFIX = 'z9hG4bKvx';
/** Prefix of the branches of ACKs we forward statelessly (§16.11: derived, so retransmissions match). */
const STATELESS_PREFIX = 'z9hG4bKvs';
/** Prefix of the Record-Route user part that names a flow. */
const FLOW_USER_PREFIX = 'vxf-';
/** Record-Route parameter carrying the dialog MAC. */
export const RECORD_ROUTE_TOKEN_PARAM = 'vxd';
/** Most serial rounds `onFailure` may start (a script that always returns targets cannot loop). */
const MAX_ROUNDS = 5;

/** One place to send a branch. */
export interface BranchTarget {
  /** New Request-URI (§16.5 target); undefined keeps the request's (loose routing by Route). */
  readonly uri?: string;
  /** A registered client's connection (RFC 5626) and its remote address: used when no Route is left. */
  readonly flow?: Flow;
  readonly address?: TransportAddress;
  /** Path header values of the binding (RFC 3327 §5.3): pushed as Route. */
  readonly path?: readonly string[];
}

/** What the forwarder needs from its agent. */
export interface ForwardHost {
  readonly transactions: TransactionLayer;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** Timer C (RFC 3261 §16.8), ms. */
  readonly timerCMs: number;
  /** T1, ms (for the wait after a CANCEL, 64·T1). */
  readonly t1: number;
  /** Key of the Record-Route MAC. */
  readonly secret: Uint8Array;
  /** Our address for a protocol (for Via and Record-Route), falling back to any listener. */
  addressFor(protocol: TransportProtocol): TransportAddress;
  /** Whether host:port is one of our listeners (Via loop check, §16.3 step 4). */
  isOwnHostPort(host: string, port: number | null): boolean;
  /** RFC 3263 targets of a next-hop URI (empty when it cannot be resolved). */
  resolve(uri: SipUri): Promise<TransportAddress[]>;
  /** A live inbound stream flow by id. */
  flowById(id: string): Flow | undefined;
  /** Realms whose Proxy-Authorization we consume (RFC 3261 §22.3). */
  readonly realms: readonly string[];
  /** Called for every request sent (the agent's `outgoing` event). */
  outgoing(request: SipRequest, target: TransportAddress): void;
}

/** One forwarding job: the request, its server transaction and where it came from. */
export interface ForwardJob {
  readonly request: SipRequest;
  readonly serverTx: ServerTransaction;
  readonly source: TransportAddress;
  readonly flow: Flow;
  readonly targets: readonly BranchTarget[];
  readonly recordRoute: boolean;
  readonly timeoutMs?: number | undefined;
  /** Serial fallback, already normalised to branch targets by the agent. */
  readonly onFailure?: ((response: SipResponse, info: { readonly timedOut: boolean }) => Promise<readonly BranchTarget[]>) | undefined;
}

interface Branch {
  target: BranchTarget;
  request: SipRequest | undefined;
  tx: ClientTransaction | undefined;
  final: SipResponse | undefined;
  provisional: boolean;
  cancelWanted: boolean;
  cancelSent: boolean;
  timerC: TimerC | undefined;
  guard: TimerHandle | undefined;
  address: TransportAddress | undefined;
}

class ResponseContext {
  readonly branches: Branch[] = [];
  finalSent: SipResponse | undefined;
  cancelled = false;
  timedOut = false;
  noNewBranches = false;
  fallbackRunning = false;
  rounds = 0;
  timeout: TimerHandle | undefined;
  starting = 0;
  resolve!: (response: SipResponse) => void;
  readonly done: Promise<SipResponse>;

  constructor(readonly job: ForwardJob) {
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Pure helpers

function base64url(data: Buffer, length: number): string {
  return data.toString('base64url').slice(0, length);
}

/**
 * The dialog MAC of a Record-Route we insert: HMAC-SHA256(secret, Call-ID, From tag), 22
 * base64url characters. In-dialog requests from either side carry the initial From tag as
 * their From or To tag, so {@link verifyRecordRouteToken} tries both.
 */
export function recordRouteToken(secret: Uint8Array, callId: string, fromTag: string): string {
  return base64url(createHmac('sha256', secret).update(`${callId}\n${fromTag}`).digest(), 22);
}

/** Whether `token` is the MAC of this in-dialog request's dialog (G34). */
export function verifyRecordRouteToken(secret: Uint8Array, request: SipRequest, token: string): boolean {
  let callId: string;
  let tags: (string | undefined)[];
  try {
    callId = request.callId();
    tags = [tagOf(request.from()), tagOf(request.to())];
  } catch {
    return false;
  }
  return tags.some((tag) => tag !== undefined && recordRouteToken(secret, callId, tag) === token);
}

/**
 * The loop-detection part of our branch (RFC 3261 §16.6 step 8): a hash of the fields that do
 * not change when a request loops — To tag, From tag, Call-ID, Request-URI, CSeq number,
 * Proxy-Require and Proxy-Authorization. The topmost Via the RFC also lists is left out: it
 * is the previous hop's, which differs on every pass, so it would hide every loop.
 */
export function loopHash(request: SipRequest): string {
  const h = createHash('sha256');
  const to = tagOf(request.to()) ?? '';
  const from = tagOf(request.from()) ?? '';
  h.update([to, from, request.callId(), request.uri, String(request.cseq().seq)].join('\n'));
  for (const f of request.headers.fieldsOf('proxy-require')) h.update('\nPR:' + f.raw);
  for (const f of request.headers.fieldsOf('proxy-authorization')) h.update('\nPA:' + f.raw);
  return base64url(h.digest(), 16);
}

/** Strips the top Via of a response to forward it upstream (RFC 3261 §16.7 step 3). */
export function stripTopVia(response: SipResponse): SipResponse {
  const copy = response.clone();
  copy.headers.shift('via');
  return copy;
}

/** `[v6]` for IPv6 literals. */
function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The flow named by a Record-Route/Route user part we wrote, if any. */
export function flowIdOfRoute(uri: Uri): string | undefined {
  if (!isSipUri(uri) || uri.user === null || !uri.user.startsWith(FLOW_USER_PREFIX)) return undefined;
  try {
    return Buffer.from(uri.user.slice(FLOW_USER_PREFIX.length), 'base64url').toString('utf8');
  } catch {
    return undefined;
  }
}

/** A Record-Route value for our address on `protocol`. */
function recordRouteValue(address: TransportAddress, token: string, flowId: string | undefined): string {
  const user = flowId === undefined ? '' : `${FLOW_USER_PREFIX}${Buffer.from(flowId, 'utf8').toString('base64url')}@`;
  return `<sip:${user}${formatHost(address.host)}:${address.port};transport=${address.protocol};lr;${RECORD_ROUTE_TOKEN_PARAM}=${token}>`;
}

/** Best-response rank within §16.7 step 6: lowest class first; in a class, challenges first, then ordinary answers, then 408/487/503. */
function rank(status: number): number {
  if (status >= 600) return 0;
  const cls = Math.floor(status / 100) * 10;
  if (status === 401 || status === 407) return cls;
  if (status === 408 || status === 487 || status === 503) return cls + 2;
  return cls + 1;
}

/**
 * Chooses the response to send upstream among the final responses of a response context
 * (RFC 3261 §16.7 step 6): a 6xx if any; else the lowest class; 503 becomes 500. Challenges of
 * every 401/407 are gathered into the chosen 401/407 (§16.7 step 7).
 */
export function chooseBestResponse(responses: readonly SipResponse[]): SipResponse {
  let best: SipResponse | undefined;
  for (const r of responses) if (best === undefined || rank(r.status) < rank(best.status)) best = r;
  if (best === undefined) throw new RangeError('no response to choose from');
  let chosen = best;
  if (chosen.status === 503) {
    // §16.7 step 6: "If the selected response is 503, the proxy MUST convert it to 500".
    chosen = chosen.clone();
    chosen.status = 500;
    chosen.reason = 'Server Internal Error';
  }
  if (chosen.status === 401 || chosen.status === 407) {
    chosen = chosen.clone();
    for (const other of responses) {
      if (other === best || (other.status !== 401 && other.status !== 407)) continue;
      for (const f of other.headers.fieldsOf('www-authenticate')) chosen.headers.append('WWW-Authenticate', f.raw);
      for (const f of other.headers.fieldsOf('proxy-authenticate')) chosen.headers.append('Proxy-Authenticate', f.raw);
    }
  }
  return chosen;
}

/**
 * Removes the Route values that name us from the top of the request (RFC 3261 §16.4), and
 * handles a strict-routing previous hop (§16.4: the Request-URI is a value we put in
 * Record-Route, so the real one is the last Route). Returns what was removed, top first.
 */
export function processOwnRoutes(request: SipRequest, isUs: (uri: Uri) => boolean): NameAddr[] {
  const removed: NameAddr[] = [];
  let routes: NameAddr[];
  try {
    routes = request.routes();
  } catch {
    return removed;
  }
  try {
    const ruri = request.requestUri();
    if (isSipUri(ruri) && isUs(ruri) && uriParam(ruri, 'lr') !== undefined && routes.length > 0) {
      // §16.4: strict router upstream — the R-URI is our Record-Route; take the last Route as R-URI.
      const last = routes[routes.length - 1]!;
      removed.push({ ...last, uri: ruri, uriText: request.uri });
      request.uri = last.uriText;
      setRoutes(request, routes.slice(0, -1));
      routes = request.routes();
    }
  } catch {
    // an unparsable R-URI is the handler's problem; Route processing leaves it alone
  }
  let count = 0;
  while (count < routes.length && isUs(routes[count]!.uri)) {
    removed.push(routes[count]!);
    count++;
  }
  if (count > 0) setRoutes(request, routes.slice(count));
  return removed;
}

/** Rewrites every Route header field as one value per field, in order. */
function setRoutes(request: SipRequest, routes: readonly NameAddr[]): void {
  request.headers.delete('route');
  for (const r of routes) request.headers.append('Route', routeText(r));
}

function routeText(r: NameAddr): string {
  const params = r.params.map((p) => (p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`)).join('');
  const name = r.displayName === null ? '' : r.quotedDisplayName ? `"${r.displayName}" ` : `${r.displayName} `;
  return `${name}<${r.uriText}>${params}`;
}

// ---------------------------------------------------------------------------------------------
// The forwarder

/**
 * Runs response contexts (RFC 3261 §16.7) for the requests an agent proxies, keyed by their
 * server transaction so a CANCEL finds them (§16.10).
 */
export class Forwarder {
  private readonly host: ForwardHost;
  private readonly contexts = new Map<ServerTransaction, ResponseContext>();
  /** Upstream flows by the branch of the Via below ours, for stray 2xx forwarding (bounded). */
  private readonly upstream = new Map<string, Flow>();

  constructor(host: ForwardHost) {
    this.host = host;
  }

  /** Response contexts alive. */
  get size(): number {
    return this.contexts.size;
  }

  /**
   * Forwards a request statefully and resolves with the final response sent upstream
   * (the first 2xx, or the best failure). Answers 483, 482 and 420 itself (§16.3).
   */
  async forward(job: ForwardJob): Promise<SipResponse> {
    const { request, serverTx } = job;
    const early = this.validate(request);
    if (early !== undefined) return this.respond(job, early.status, early.reason, early.headers);
    if (job.targets.length === 0) return this.respond(job, 480);
    // §16.2: an INVITE gets 100 Trying at once, so the caller stops retransmitting.
    if (request.method === 'INVITE') serverTx.respond(createResponse(request, 100));
    const ctx = new ResponseContext(job);
    this.contexts.set(serverTx, ctx);
    this.rememberUpstream(request, job.flow);
    if (job.timeoutMs !== undefined && request.method === 'INVITE') {
      ctx.timeout = this.host.clock.setTimer(job.timeoutMs, () => this.noAnswer(ctx));
    }
    this.startRound(ctx, job.targets);
    return ctx.done;
  }

  /**
   * The caller's CANCEL for a request we proxy (RFC 3261 §16.10): every pending branch is
   * cancelled; the 487s come back through the response context. Returns false when the server
   * transaction has no response context.
   */
  cancel(serverTx: ServerTransaction): boolean {
    const ctx = this.contexts.get(serverTx);
    if (ctx === undefined) return false;
    ctx.cancelled = true;
    ctx.noNewBranches = true;
    for (const b of ctx.branches) this.cancelBranch(ctx, b);
    this.maybeFinish(ctx);
    return true;
  }

  /**
   * A response no client transaction matched (RFC 6026 §8.9, §16.7): a 2xx to INVITE whose top
   * Via is ours is forwarded statelessly, once per copy received; anything else is dropped (G17).
   */
  forwardStrayResponse(response: SipResponse): void {
    if (response.status < 200 || response.status >= 300) return;
    let top: Via | undefined;
    try {
      if (response.cseq().method !== 'INVITE') return;
      top = response.topVia();
    } catch {
      return;
    }
    const branch = top === undefined ? undefined : paramValue(top.params, 'branch');
    if (typeof branch !== 'string' || !branch.startsWith(BRANCH_PREFIX)) return;
    const up = stripTopVia(response);
    const next = up.topVia();
    if (next === undefined) return;
    const target = viaResponseTarget(up);
    if (target === null) return;
    const nextBranch = paramValue(next.params, 'branch');
    const flow = typeof nextBranch === 'string' ? this.upstream.get(nextBranch) : undefined;
    this.host.transactions.sendStateless(up, target, flow === undefined ? {} : { flow }).catch((error: unknown) => {
      this.host.logger.debug('stray 2xx could not be forwarded', { error: String(error) });
    });
  }

  /**
   * Forwards an ACK for a 2xx statelessly (RFC 3261 §16.11, §13.2.2.4), with a branch derived
   * from the incoming one so that its retransmissions carry the same branch. ACK is never
   * answered (G18): failures are only logged.
   */
  async forwardAck(ack: SipRequest, target: BranchTarget): Promise<void> {
    const mf = ack.maxForwards();
    if (mf === 0) return;
    const copy = ack.clone();
    if (target.uri !== undefined) copy.uri = target.uri;
    copy.headers.set('Max-Forwards', String(mf === undefined ? 70 : mf - 1));
    const hop = await this.nextHop(copy, target);
    if (hop === undefined) {
      this.host.logger.debug('ACK dropped: no next hop', { uri: copy.uri });
      return;
    }
    const incomingBranch = ack.topVia() === undefined ? '' : String(paramValue(ack.topVia()!.params, 'branch') ?? '');
    const derived = base64url(createHash('sha256').update(`${incomingBranch}\n${copy.uri}\n${ack.callId()}`).digest(), 16);
    this.addVia(copy, hop.address.protocol, `${STATELESS_PREFIX}${derived}`);
    this.host.outgoing(copy, hop.address);
    await this.host.transactions.sendStateless(copy, hop.address, hop.flow === undefined ? {} : { flow: hop.flow }).catch((error: unknown) => {
      this.host.logger.debug('ACK could not be forwarded', { error: String(error) });
    });
  }

  /** Stops every timer (agent shutdown). */
  close(): void {
    for (const ctx of this.contexts.values()) {
      ctx.timeout?.cancel();
      for (const b of ctx.branches) {
        b.timerC?.stop();
        b.guard?.cancel();
      }
    }
    this.contexts.clear();
  }

  // -------------------------------------------------------------------------------------------
  // §16.3 validation

  private validate(request: SipRequest): { status: number; reason?: string; headers?: Array<readonly [string, string]> } | undefined {
    // §16.3 step 3 / G15: Max-Forwards 0 on a request to be forwarded → 483.
    const mf = request.maxForwards();
    if (mf === 0) return { status: 483 };
    // §16.3 step 4: a Via of ours with this request's loop hash means it came back unchanged.
    const hash = loopHash(request);
    for (const via of request.via()) {
      if (!this.host.isOwnHostPort(via.host, via.port)) continue;
      const branch = paramValue(via.params, 'branch');
      if (typeof branch === 'string' && branch.startsWith(`${BRANCH_PREFIX}${hash}.`)) return { status: 482 };
    }
    // §16.3 step 5: we support no extension a proxy would need.
    const proxyRequire = request.headers.getAll('proxy-require');
    if (proxyRequire.length > 0) return { status: 420, headers: [['Unsupported', proxyRequire.join(', ')]] };
    return undefined;
  }

  private respond(job: ForwardJob, status: number, reason?: string, headers?: ReadonlyArray<readonly [string, string]>): SipResponse {
    const response = createResponse(job.request, status, {
      toTag: newTag(this.host.random),
      ...(reason === undefined ? {} : { reason }),
      ...(headers === undefined ? {} : { headers }),
    });
    job.serverTx.respond(response);
    return response;
  }

  private rememberUpstream(request: SipRequest, flow: Flow): void {
    if (!isReliable(flow.remote.protocol)) return;
    const branch = request.topVia() === undefined ? undefined : paramValue(request.topVia()!.params, 'branch');
    if (typeof branch !== 'string') return;
    if (this.upstream.size >= 10_000) {
      const oldest = this.upstream.keys().next().value;
      if (oldest !== undefined) this.upstream.delete(oldest);
    }
    this.upstream.set(branch, flow);
  }

  // -------------------------------------------------------------------------------------------
  // §16.6 branches

  private startRound(ctx: ResponseContext, targets: readonly BranchTarget[]): void {
    ctx.rounds++;
    for (const target of targets) {
      const branch: Branch = {
        target,
        request: undefined,
        tx: undefined,
        final: undefined,
        provisional: false,
        cancelWanted: false,
        cancelSent: false,
        timerC: undefined,
        guard: undefined,
        address: undefined,
      };
      ctx.branches.push(branch);
      ctx.starting++;
      this.startBranch(ctx, branch)
        .catch((error: unknown) => {
          this.host.logger.error('branch failed to start', { error: String(error) });
          this.branchFinal(ctx, branch, this.synthesize(ctx, 500));
        })
        .finally(() => {
          ctx.starting--;
          this.maybeFinish(ctx);
        });
    }
  }

  private async startBranch(ctx: ResponseContext, branch: Branch): Promise<void> {
    const { job } = ctx;
    const copy = job.request.clone();
    // §16.6 step 2: the Request-URI becomes the target.
    if (branch.target.uri !== undefined) copy.uri = branch.target.uri;
    // §16.6 step 3 / G15: Max-Forwards decremented, or 70 when absent.
    const mf = job.request.maxForwards();
    copy.headers.set('Max-Forwards', String(mf === undefined ? 70 : mf - 1));
    // RFC 3261 §22.3: our own credentials are consumed here; others' pass on.
    this.stripOwnCredentials(copy);
    // RFC 3327 §5.3: the binding's Path becomes the Route set to reach it.
    if (branch.target.path !== undefined && branch.target.path.length > 0) {
      const existing = copy.headers.fieldsOf('route').map((f) => f.raw);
      copy.headers.delete('route');
      for (const p of branch.target.path) copy.headers.append('Route', p);
      for (const r of existing) copy.headers.append('Route', r);
    }
    const hop = await this.nextHop(copy, branch.target);
    if (ctx.cancelled || ctx.finalSent !== undefined || branch.cancelWanted) {
      this.branchFinal(ctx, branch, this.synthesize(ctx, 487));
      return;
    }
    if (hop === undefined) {
      // §16.6 step 7 could not find an address: the branch fails as unreachable.
      this.branchFinal(ctx, branch, this.synthesize(ctx, 503, 'Service Unavailable (no route to target)'));
      return;
    }
    if (job.recordRoute) this.addRecordRoute(copy, job, hop);
    // §16.6 step 8: our Via, with the loop hash (§16.3 step 4) and a unique branch.
    this.addVia(copy, hop.address.protocol, `${BRANCH_PREFIX}${loopHash(job.request)}.${randomToken(this.host.random, 10)}`);
    branch.request = copy;
    branch.address = hop.address;
    this.host.outgoing(copy, hop.address);
    branch.tx = this.host.transactions.sendRequest(copy, hop.address, {
      ...(hop.flow === undefined ? {} : { flow: hop.flow }),
      onResponse: (response) => this.branchResponse(ctx, branch, response),
      // §16.7 / §16.8: a timeout is a 408 from that branch; §16.9: a transport error a 503.
      onTimeout: () => this.branchFinal(ctx, branch, this.synthesize(ctx, 408)),
      onTransportError: () => this.branchFinal(ctx, branch, this.synthesize(ctx, 503)),
    });
    if (copy.method === 'INVITE') {
      // §16.6 step 11: Timer C per INVITE branch.
      branch.timerC = new TimerC({
        clock: this.host.clock,
        durationMs: this.host.timerCMs,
        onFire: (firing) => {
          if (firing.action === 'cancel') this.cancelBranch(ctx, branch);
          else this.abandon(ctx, branch, 408);
        },
      });
    }
  }

  /** Where a prepared request goes: top Route (loose or strict, §16.6 steps 6–7), else the flow, else the R-URI. */
  private async nextHop(copy: SipRequest, target: BranchTarget): Promise<{ address: TransportAddress; flow?: Flow } | undefined> {
    let routes: NameAddr[] = [];
    try {
      routes = copy.routes();
    } catch {
      return undefined;
    }
    let hopUri: Uri;
    if (routes.length > 0) {
      const top = routes[0]!;
      if (isSipUri(top.uri) && uriParam(top.uri, 'lr') === undefined) {
        // §16.6 step 6: a strict router next: the R-URI goes to the end of the Route set and the
        // strict router's URI becomes the R-URI.
        const rest = routes.slice(1);
        const ruri = copy.uri;
        copy.uri = top.uriText;
        copy.headers.delete('route');
        for (const r of rest) copy.headers.append('Route', routeText(r));
        copy.headers.append('Route', `<${ruri}>`);
      }
      hopUri = top.uri;
    } else if (target.flow !== undefined && target.address !== undefined) {
      return { address: target.address, flow: target.flow };
    } else {
      try {
        hopUri = copy.requestUri();
      } catch {
        return undefined;
      }
    }
    if (!isSipUri(hopUri)) return undefined;
    const flowId = flowIdOfRoute(hopUri);
    const knownFlow = flowId === undefined ? undefined : this.host.flowById(flowId);
    if (knownFlow !== undefined) return { address: knownFlow.remote, flow: knownFlow };
    const addresses = await this.host.resolve(hopUri);
    const first = addresses[0];
    return first === undefined ? undefined : { address: first };
  }

  private addRecordRoute(copy: SipRequest, job: ForwardJob, hop: { address: TransportAddress; flow?: Flow }): void {
    let fromTag: string | undefined;
    try {
      fromTag = tagOf(job.request.from());
    } catch {
      fromTag = undefined;
    }
    const token = recordRouteToken(this.host.secret, job.request.callId(), fromTag ?? '');
    const inProtocol = job.source.protocol;
    const outProtocol = hop.address.protocol;
    const inFlow = isReliable(inProtocol) ? job.flow.id : undefined;
    const outFlow = hop.flow !== undefined && isReliable(outProtocol) ? hop.flow.id : undefined;
    if (inProtocol !== outProtocol) {
      // RFC 5658 §4: one Record-Route per side, the downstream one on top.
      copy.headers.prepend('Record-Route', recordRouteValue(this.host.addressFor(inProtocol), token, inFlow));
      copy.headers.prepend('Record-Route', recordRouteValue(this.host.addressFor(outProtocol), token, outFlow));
    } else if (inFlow !== undefined || outFlow !== undefined) {
      // Both sides are connections of one protocol: two entries, so each side keeps its flow.
      copy.headers.prepend('Record-Route', recordRouteValue(this.host.addressFor(inProtocol), token, inFlow));
      copy.headers.prepend('Record-Route', recordRouteValue(this.host.addressFor(outProtocol), token, outFlow));
    } else {
      copy.headers.prepend('Record-Route', recordRouteValue(this.host.addressFor(outProtocol), token, undefined));
    }
  }

  private addVia(copy: SipRequest, protocol: TransportProtocol, branch: string): void {
    const local = this.host.addressFor(protocol);
    copy.headers.prepend('Via', `SIP/2.0/${protocol.toUpperCase()} ${formatHost(local.host)}:${local.port};branch=${branch}`);
  }

  private stripOwnCredentials(copy: SipRequest): void {
    const fields = copy.headers.fieldsOf('proxy-authorization');
    if (fields.length === 0 || this.host.realms.length === 0) return;
    const keep = fields.filter((f) => {
      try {
        const realm = parseAuthHeader(f.raw, 'proxy-authorization').params.find((p) => p.name.toLowerCase() === 'realm')?.value;
        return realm === undefined || !this.host.realms.includes(realm);
      } catch {
        return true;
      }
    });
    copy.headers.delete('proxy-authorization');
    for (const f of keep) copy.headers.append('Proxy-Authorization', f.raw);
  }

  // -------------------------------------------------------------------------------------------
  // §16.7 responses

  private branchResponse(ctx: ResponseContext, branch: Branch, response: SipResponse): void {
    const { job } = ctx;
    if (response.status < 200) {
      branch.provisional = true;
      branch.timerC?.provisionalResponse(response.status);
      // §9.1: a CANCEL wanted before any provisional goes now.
      if (branch.cancelWanted && !branch.cancelSent) this.cancelBranch(ctx, branch);
      // §16.7 step 5: provisional responses other than 100 are forwarded at once.
      if (response.status !== 100 && ctx.finalSent === undefined) job.serverTx.respond(stripTopVia(response));
      return;
    }
    if (response.status < 300) {
      const up = stripTopVia(response);
      if (branch.final === undefined) this.settleBranch(branch, up);
      // §16.7 step 5: every 2xx is forwarded (for INVITE, also later ones: forks, RFC 6026).
      if (ctx.finalSent === undefined || job.request.method === 'INVITE') this.sendUpstream(ctx, up);
      if (ctx.finalSent === undefined) {
        ctx.finalSent = up;
        ctx.noNewBranches = true;
        ctx.timeout?.cancel();
        ctx.resolve(up);
        // §16.7 step 10: a 2xx ends the other branches.
        for (const b of ctx.branches) if (b !== branch) this.cancelBranch(ctx, b);
      }
      this.maybeFinish(ctx);
      return;
    }
    this.branchFinal(ctx, branch, stripTopVia(response));
  }

  /** A non-2xx final response (received or synthesised, without our Via) for a branch. */
  private branchFinal(ctx: ResponseContext, branch: Branch, response: SipResponse): void {
    if (branch.final !== undefined) return;
    this.settleBranch(branch, response);
    if (response.status >= 600 && ctx.finalSent === undefined) {
      // §16.7 step 5: a 6xx is not forwarded at once; the other branches are cancelled and no
      // new ones start.
      ctx.noNewBranches = true;
      for (const b of ctx.branches) if (b !== branch) this.cancelBranch(ctx, b);
    }
    this.maybeFinish(ctx);
  }

  private settleBranch(branch: Branch, response: SipResponse): void {
    branch.final = response;
    branch.timerC?.stop();
    branch.guard?.cancel();
  }

  /** §16.7 step 6: once every branch has a final response, the best one goes upstream. */
  private maybeFinish(ctx: ResponseContext): void {
    if (ctx.starting > 0 || ctx.fallbackRunning) return;
    if (!ctx.branches.every((b) => b.final !== undefined)) return;
    if (ctx.finalSent !== undefined) {
      this.forget(ctx);
      return;
    }
    const finals = ctx.branches.map((b) => b.final!).filter((r) => r.status >= 300);
    const best = chooseBestResponse(finals.length > 0 ? finals : ctx.branches.map((b) => b.final!));
    const fallback = ctx.job.onFailure;
    if (fallback !== undefined && !ctx.cancelled && best.status < 600 && ctx.rounds < MAX_ROUNDS && !finals.some((r) => r.status >= 600)) {
      ctx.fallbackRunning = true;
      const timedOut = ctx.timedOut;
      fallback(best, { timedOut })
        .then(
          (targets) => {
            ctx.fallbackRunning = false;
            if (targets.length > 0 && !ctx.cancelled) {
              ctx.timedOut = false;
              this.startRound(ctx, targets);
            } else this.sendBest(ctx, best);
          },
          (error: unknown) => {
            ctx.fallbackRunning = false;
            this.host.logger.error('onFailure threw', { error: String(error) });
            this.sendBest(ctx, best);
          },
        );
      return;
    }
    this.sendBest(ctx, best);
  }

  private sendBest(ctx: ResponseContext, best: SipResponse): void {
    if (ctx.finalSent !== undefined) return;
    const response = best;
    ctx.finalSent = response;
    ctx.timeout?.cancel();
    this.sendUpstream(ctx, response);
    ctx.resolve(response);
    this.forget(ctx);
  }

  private sendUpstream(ctx: ResponseContext, response: SipResponse): void {
    const tx = ctx.job.serverTx;
    if (!tx.isTerminated && tx.respond(response)) return;
    // RFC 6026 §8.9: a 2xx after the server transaction ended is forwarded statelessly.
    if (response.status >= 200 && response.status < 300) {
      const target = viaResponseTarget(response);
      if (target === null) return;
      this.host.transactions.sendStateless(response, target, { flow: ctx.job.flow }).catch(() => {});
    }
  }

  private forget(ctx: ResponseContext): void {
    // The context lives until every branch has a final response, so late 2xx still find it.
    if (ctx.branches.every((b) => b.final !== undefined) && ctx.starting === 0) {
      ctx.timeout?.cancel();
      if (this.contexts.get(ctx.job.serverTx) === ctx) this.contexts.delete(ctx.job.serverTx);
    }
  }

  /** A final response as if the branch had answered, ready to go upstream (no Via of ours). */
  private synthesize(ctx: ResponseContext, status: number, reason?: string): SipResponse {
    return createResponse(ctx.job.request, status, { toTag: newTag(this.host.random), ...(reason === undefined ? {} : { reason }) });
  }

  // -------------------------------------------------------------------------------------------
  // Cancelling branches (§16.10, §9.1)

  private cancelBranch(ctx: ResponseContext, branch: Branch): void {
    if (branch.final !== undefined || branch.cancelSent) return;
    const tx = branch.tx;
    if (tx === undefined) {
      // Not sent yet: startBranch sees the flag and ends it as 487.
      branch.cancelWanted = true;
      return;
    }
    if (tx.kind !== 'invite-client') return; // §9.1: only INVITE is cancelled; others run to completion
    if (tx.state === 'proceeding') {
      branch.cancelSent = true;
      try {
        const cancelTx = this.host.transactions.sendCancel(tx as InviteClientTransaction, {
          onResponse: () => {},
          onTimeout: () => {},
          onTransportError: () => {},
        });
        if (branch.address !== undefined) this.host.outgoing(cancelTx.request, branch.address);
      } catch (error) {
        this.host.logger.debug('CANCEL not sent', { error: String(error) });
      }
      // §9.1: without a final response 64·T1 after the CANCEL, the branch is given up (487).
      branch.guard = this.host.clock.setTimer(64 * this.host.t1, () => this.abandon(ctx, branch, 487));
      return;
    }
    if (tx.state === 'calling') {
      // §9.1: no provisional yet — the CANCEL waits for one. With a "no answer" timeout or a
      // CANCEL from upstream, the branch is given up after 64·T1 if nothing ever comes.
      branch.cancelWanted = true;
      branch.guard ??= this.host.clock.setTimer(64 * this.host.t1, () => this.abandon(ctx, branch, 408));
    }
  }

  private abandon(ctx: ResponseContext, branch: Branch, status: number): void {
    if (branch.final !== undefined) return;
    branch.tx?.terminate();
    this.branchFinal(ctx, branch, this.synthesize(ctx, status));
  }

  /** The "no answer" timer of {@link ForwardJob.timeoutMs}. */
  private noAnswer(ctx: ResponseContext): void {
    if (ctx.finalSent !== undefined) return;
    ctx.timedOut = true;
    for (const b of ctx.branches) {
      if (b.final !== undefined) continue;
      if (b.tx !== undefined && b.tx.state === 'calling') this.abandon(ctx, b, 408);
      else this.cancelBranch(ctx, b);
    }
  }
}
