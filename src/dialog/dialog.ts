/**
 * Dialogs (RFC 3261 §12): the peer-to-peer state two user agents keep for the life of a call or
 * subscription — the dialog ID, the CSeq counters, the remote target and the route set — and
 * the requests built from it. Pure and sans-I/O: messages in, messages and decisions out.
 *
 * ```
 *              1xx with To tag                2xx (§13.2.2.4 / §13.3.1.4)
 *   (request) ----------------> early --------------------------------> confirmed
 *       |                         | non-2xx final (§12.3),                  | BYE (§15), 481/408
 *       |  2xx                    | BYE, 481, 408                           | (§12.2.1.2), close()
 *       +-------------------------|---------------> confirmed               v
 *                                 +-------------------------------------> terminated
 * ```
 */
import { CryptoRandom, type Random } from '../core/random.js';
import { createResponse as createSipResponse, newBranch, type ResponseOptions } from '../sip/build.js';
import { SipParseError } from '../sip/errors.js';
import { isToken } from '../sip/grammar.js';
import { formatVia, isValidHost, parseNameAddr, tagOf, type HeaderParam } from '../sip/header-values.js';
import { Headers, headerKey, type HeaderField } from '../sip/headers.js';
import { SipRequest, type SipMessage, type SipResponse } from '../sip/message.js';
import { formatUri, isSipUri, uriParam, type Uri } from '../sip/uri.js';
import { DialogRequestError, DialogStateError } from './errors.js';

const defaultRandom = new CryptoRandom();

/** The three parts that identify a dialog (RFC 3261 §12). Compared octet for octet. */
export interface DialogId {
  /** The Call-ID, unfolded (case-sensitive, §20.8). */
  readonly callId: string;
  /** Our tag: the From tag of requests we send, the To tag of requests we receive. */
  readonly localTag: string;
  /**
   * The peer's tag, or `''` when the peer sent none (an RFC 2543 UA, §12.1.1: "remote tag
   * MUST be set to null"). Requests from such a peer carry no From tag and still match.
   */
  readonly remoteTag: string;
}

/** Which side of the dialog-creating request this UA was (RFC 3261 §12.1.1, §12.1.2). */
export type DialogRole = 'uac' | 'uas';

/** Dialog states (RFC 3261 §12: early, confirmed; terminated once nothing may use it). */
export type DialogState = 'early' | 'confirmed' | 'terminated';

/**
 * What moves a dialog between states.
 * - `confirm`: a 2xx to the dialog-creating request was received (UAC, §13.2.2.4) or sent (UAS, §13.3.1.4).
 * - `reject`: a non-2xx final response to the dialog-creating request (§12.3).
 * - `bye`: a BYE was received (§15.1.2), or a final response other than 401/407 to our BYE (§15.1.1).
 * - `gone`: a 481 to a request within the dialog (§12.2.1.2).
 * - `timeout`: a 408 to a request within the dialog, or no response at all (§12.2.1.2).
 * - `close`: the owner ended the dialog ({@link Dialog.terminate}).
 */
export type DialogEvent = 'confirm' | 'reject' | 'bye' | 'gone' | 'timeout' | 'close';

/** Why a dialog was terminated: the event that did it. */
export type DialogTerminationReason = Exclude<DialogEvent, 'confirm'>;

/**
 * The dialog transition table. An event missing from a row is absorbed (a retransmitted 2xx on
 * a confirmed dialog, anything on a terminated one).
 */
export const DIALOG_TRANSITIONS = {
  early: {
    confirm: 'confirmed', // §12.1.2 / §13.2.2.4: 2xx received; §13.3.1.4: 2xx sent
    reject: 'terminated', // §12.3: a non-2xx final ends the early dialogs of the request
    bye: 'terminated', // §15: the caller may BYE an early dialog
    gone: 'terminated', // §12.2.1.2
    timeout: 'terminated', // §12.2.1.2
    close: 'terminated',
  },
  confirmed: {
    bye: 'terminated', // §15.1
    gone: 'terminated', // §12.2.1.2: 481
    timeout: 'terminated', // §12.2.1.2: 408 or no response
    close: 'terminated',
  },
  terminated: {},
} as const satisfies { readonly [S in DialogState]: Partial<Readonly<Record<DialogEvent, DialogState>>> };

/**
 * Target refresh requests (RFC 3261 §12.2, "target refresh request"): their Contact replaces the
 * remote target. INVITE (§12.2), UPDATE (RFC 3311 §5.1), SUBSCRIBE and NOTIFY (RFC 6665 §4.1, §4.2).
 */
export const TARGET_REFRESH_METHODS: ReadonlySet<string> = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY']);

/** Where to put a Via on a request the dialog builds. Without it, no Via is added. */
export interface ViaOptions {
  /** Transport token (`UDP`, `TCP`, `TLS`, `WS`, `WSS`); written upper case. */
  readonly transport: string;
  /** sent-by host: a hostname, IPv4 address or bracketed IPv6 reference. */
  readonly host: string;
  /** sent-by port; omitted when undefined. */
  readonly port?: number;
  /** Adds `;rport` (RFC 3581). Default false. */
  readonly rport?: boolean;
  /** The branch; default a fresh `z9hG4bK…` one from the dialog's {@link Random} (§8.1.1.7). */
  readonly branch?: string;
}

/** Options shared by {@link Dialog.createRequest} and {@link Dialog.createAck}. */
export interface DialogRequestOptions {
  /** Body octets (a string is encoded as UTF-8). Needs {@link contentType} when not empty. */
  readonly body?: Uint8Array | string;
  /** Content-Type of the body (RFC 3261 §20.15). */
  readonly contentType?: string;
  /**
   * Extra header fields, appended in order. Not From, To, Call-ID, CSeq, Route, Via, Contact,
   * Content-Type or Content-Length: the dialog (or another option) owns those.
   */
  readonly headers?: ReadonlyArray<readonly [name: string, value: string]>;
  /**
   * A Via to add, with a fresh branch. When absent the request has no Via and the transaction
   * or transport layer adds one (it knows the flow).
   */
  readonly via?: ViaOptions;
}

/** Options of {@link Dialog.createRequest}. */
export interface InDialogRequestOptions extends DialogRequestOptions {
  /**
   * A new Contact value for this and later target refresh requests (RFC 3261 §12.2.1.1: "unless
   * there is a need to change it, the URI SHOULD be the same as used in previous requests").
   */
  readonly contact?: string;
}

/** Options of the dialog factories. */
export interface DialogOptions {
  /** Randomness for Via branches and a UAS dialog's first local CSeq. Default: `CryptoRandom`. */
  readonly random?: Random;
  /**
   * The secure flag (RFC 3261 §12.1.1, §12.1.2): true when the request travelled over TLS and
   * its Request-URI was a SIPS URI. The dialog cannot see the transport, so the default is
   * "the Request-URI is SIPS" (a SIPS URI is only ever sent over TLS, §26.2.2).
   */
  readonly secure?: boolean;
}

/** Options of {@link Dialog.fromUasRequest}. */
export interface UasDialogOptions extends DialogOptions {
  /**
   * Initial state: `early` (default) when the UAS is about to send a 1xx with a To tag,
   * `confirmed` when it is about to send the 2xx straight away (§12.1.1).
   */
  readonly state?: 'early' | 'confirmed';
}

/** The outcome of {@link Dialog.receiveRequest}: go on, or answer with `status`. */
export type InDialogRequestResult =
  | {
      readonly ok: true;
      /** Whether the request's Contact replaced the remote target (§12.2.2). */
      readonly targetRefreshed: boolean;
    }
  | {
      readonly ok: false;
      /**
       * 500: CSeq lower than the remote sequence number (§12.2.2). 400: an unusable From, To,
       * CSeq or Contact. 481: the request is not for this dialog, or the dialog is terminated.
       */
      readonly status: 400 | 481 | 500;
      readonly reason: string;
    };

/** Where an in-dialog request goes: the Request-URI and the Route values, in order. */
export interface RequestTarget {
  readonly requestUri: string;
  /** URIs for the Route header field, in order (each written as `<uri>`). */
  readonly route: readonly string[];
}

/** Headers an in-dialog request gets from the dialog; callers may not add them through `headers`. */
const OWNED_HEADERS: ReadonlySet<string> = new Set([
  'from',
  'to',
  'call-id',
  'cseq',
  'route',
  'via',
  'contact',
  'content-type',
  'content-length',
]);

const CALL_DOES_NOT_EXIST = 'Call/Transaction Does Not Exist';

/**
 * The Request-URI and Route of a request sent within a dialog (RFC 3261 §12.2.1.1).
 *
 * @remarks
 * - Empty route set: Request-URI = remote target, no Route.
 * - First route has `lr` (loose router): Request-URI = remote target, Route = the route set.
 * - First route without `lr` (strict router, RFC 2543): Request-URI = the first route's URI with
 *   the parameters a Request-URI may not carry stripped (the `method` parameter and `?headers`,
 *   §19.1.1 Table 1), Route = the rest of the route set, then the remote target.
 */
export function computeRequestTarget(routeSet: readonly Uri[], remoteTarget: Uri): RequestTarget {
  const first = routeSet[0];
  if (first === undefined) return { requestUri: formatUri(remoteTarget), route: [] };
  if (isLooseRouter(first)) return { requestUri: formatUri(remoteTarget), route: routeSet.map((u) => formatUri(u)) };
  const route = routeSet.slice(1).map((u) => formatUri(u));
  route.push(formatUri(remoteTarget));
  return { requestUri: formatUri(asRequestUri(first)), route };
}

function isLooseRouter(uri: Uri): boolean {
  return isSipUri(uri) && uriParam(uri, 'lr') !== undefined;
}

/** `uri` without what §19.1.1 Table 1 forbids in a Request-URI: the method parameter and headers. */
function asRequestUri(uri: Uri): Uri {
  if (!isSipUri(uri)) return uri;
  const params = uri.params.filter((p) => p.name.toLowerCase() !== 'method');
  if (params.length === uri.params.length && uri.headers.length === 0) return uri;
  return { ...uri, params, headers: [] };
}

function rawOf(message: SipMessage, key: string): string {
  const field = message.headers.fieldsOf(key)[0];
  if (field === undefined) throw new TypeError(`message has no ${key}`);
  return field.raw;
}

/** RFC 3261 §8.1.1.5: the first CSeq of a UA must be below 2^31; we avoid 0. */
function initialSeq(random: Random): number {
  return 1 + random.int(2 ** 31 - 1);
}

/** The first Contact URI of a response, or undefined when there is none or it is malformed. */
function contactUriOf(response: SipResponse): Uri | undefined {
  try {
    const contacts = response.contacts();
    return contacts === '*' ? undefined : contacts[0]?.uri;
  } catch (error) {
    if (error instanceof SipParseError) return undefined;
    throw error;
  }
}

/** The route set a UAC learns from a response (§12.1.2), or undefined when Record-Route is malformed. */
function routeSetOf(response: SipResponse): Uri[] | undefined {
  try {
    // §12.1.2: "taken in reverse order and preserving all URI parameters"
    return response.recordRoutes().map((r) => r.uri).reverse();
  } catch (error) {
    if (error instanceof SipParseError) return undefined;
    throw error;
  }
}

function hasLineBreak(value: string): boolean {
  return value.includes('\r') || value.includes('\n');
}

/** Checks a Contact value supplied by our own user. @throws TypeError */
function checkContact(value: string): string {
  if (hasLineBreak(value)) throw new TypeError('contact must not contain CR or LF');
  try {
    parseNameAddr(value, 'contact');
  } catch (error) {
    if (error instanceof SipParseError) throw new TypeError(`bad contact: ${error.message}`, { cause: error });
    throw error;
  }
  return value;
}

function checkRequestOptions(options: DialogRequestOptions): void {
  for (const [name, value] of options.headers ?? []) {
    if (!isToken(name)) throw new TypeError(`bad header name ${JSON.stringify(name)}`);
    if (OWNED_HEADERS.has(headerKey(name))) throw new TypeError(`the dialog sets ${name}; do not pass it in headers`);
    if (hasLineBreak(value)) throw new TypeError(`header ${name} must not contain CR or LF`);
  }
  const bodyLength = options.body === undefined ? 0 : typeof options.body === 'string' ? options.body.length : options.body.byteLength;
  // RFC 3261 §20.15: "The Content-Type header field MUST be present if the body is not empty."
  if (bodyLength > 0 && options.contentType === undefined) throw new TypeError('a body needs a contentType');
  if (options.contentType !== undefined && hasLineBreak(options.contentType)) {
    throw new TypeError('contentType must not contain CR or LF');
  }
  if (options.via !== undefined) {
    const via = options.via;
    if (!isToken(via.transport)) throw new TypeError(`bad Via transport ${JSON.stringify(via.transport)}`);
    if (!isValidHost(via.host)) throw new TypeError(`bad Via host ${JSON.stringify(via.host)}`);
    if (via.port !== undefined && (!Number.isInteger(via.port) || via.port < 0 || via.port > 65535)) {
      throw new RangeError(`bad Via port ${via.port}`);
    }
    if (via.branch !== undefined && !isToken(via.branch)) throw new TypeError(`bad Via branch ${JSON.stringify(via.branch)}`);
  }
}

function formatViaOption(via: ViaOptions, random: Random): string {
  const params: HeaderParam[] = [{ name: 'branch', value: via.branch ?? newBranch(random) }];
  if (via.rport === true) params.push({ name: 'rport', value: null });
  return formatVia({
    protocolName: 'SIP',
    protocolVersion: '2.0',
    transport: via.transport.toUpperCase(),
    host: via.host,
    port: via.port ?? null,
    params,
  });
}

function isInteger32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/** Everything a dialog starts with; see the factories. */
interface DialogInit {
  readonly role: DialogRole;
  readonly state: 'early' | 'confirmed';
  readonly callId: string;
  readonly callIdValue: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly localParty: string;
  readonly remoteParty: string;
  readonly localUri: Uri;
  readonly remoteUri: Uri;
  readonly localSeq: number | undefined;
  readonly remoteSeq: number | undefined;
  readonly remoteTarget: Uri;
  readonly routeSet: readonly Uri[];
  readonly localContact: string | undefined;
  readonly secure: boolean;
  readonly initialSeq: number;
  readonly initialMethod: string;
  readonly random: Random;
}

/**
 * One dialog (RFC 3261 §12), from either side. Build it with {@link Dialog.fromUacResponse} or
 * {@link Dialog.fromUasRequest}; then build requests with {@link Dialog.createRequest} and
 * {@link Dialog.createAck}, and feed it what happens: {@link Dialog.receiveRequest},
 * {@link Dialog.receiveResponse} (responses to our requests) and {@link Dialog.responseSent}
 * (responses we sent).
 *
 * @remarks
 * From, To and Call-ID of the requests it builds are copies of the octets the dialog was made
 * from (the request's From, the response's To, and so on), so display names and unknown
 * parameters survive (GUARANTEES G06).
 */
export class Dialog {
  /** Which side of the dialog-creating request this UA was. */
  readonly role: DialogRole;
  /** The Call-ID (unfolded), the first part of the dialog ID. */
  readonly callId: string;
  /** Our tag (§12). */
  readonly localTag: string;
  /** The peer's tag, `''` when it sent none (§12.1.1, RFC 2543 peers). */
  readonly remoteTag: string;
  /** Our URI: From of the request (UAC) or To (UAS), §12.1. */
  readonly localUri: Uri;
  /** The peer's URI: To of the request (UAC) or From (UAS), §12.1. */
  readonly remoteUri: Uri;
  /** The secure flag (§12.1): requests in this dialog must use SIPS and TLS. */
  readonly secure: boolean;
  /** CSeq number of the request that created the dialog. */
  readonly initialSeq: number;
  /** Method of the request that created the dialog (INVITE, SUBSCRIBE, REFER …). */
  readonly initialMethod: string;

  private currentState: DialogState;
  private reason: DialogTerminationReason | undefined;
  private local: number | undefined;
  private remote: number | undefined;
  private target: Uri;
  private routes: readonly Uri[];
  private contact: string | undefined;
  private readonly localParty: string;
  private readonly remoteParty: string;
  private readonly callIdValue: string;
  private readonly random: Random;

  private constructor(init: DialogInit) {
    this.role = init.role;
    this.currentState = init.state;
    this.callId = init.callId;
    this.callIdValue = init.callIdValue;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localParty = init.localParty;
    this.remoteParty = init.remoteParty;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.local = init.localSeq;
    this.remote = init.remoteSeq;
    this.target = init.remoteTarget;
    this.routes = init.routeSet;
    this.contact = init.localContact;
    this.secure = init.secure;
    this.initialSeq = init.initialSeq;
    this.initialMethod = init.initialMethod;
    this.random = init.random;
  }

  /**
   * The UAC side of a dialog (RFC 3261 §12.1.2), made from the request we sent and a response
   * to it that creates a dialog: a 101–199 with a To tag (early) or a 2xx (confirmed). Each
   * forked response with another To tag makes another dialog.
   *
   * @remarks Route set: the response's Record-Route URIs in reverse order, all parameters kept.
   *   Remote target: the response's Contact URI (the Request-URI when a provisional response
   *   has none). Local sequence number: the request's CSeq; remote: empty. Local Contact (for
   *   later target refresh requests): the request's first Contact value.
   * @throws RangeError when the response cannot create a dialog (100, a 1xx without a To tag,
   *   3xx–6xx). TypeError when it does not answer `request` or the request has no From tag.
   *   SipParseError when the response's Contact or Record-Route is malformed.
   */
  static fromUacResponse(request: SipRequest, response: SipResponse, options: DialogOptions = {}): Dialog {
    const status = response.status;
    const toTag = tagOf(response.to());
    if (status < 101 || status >= 300) throw new RangeError(`a ${status} response creates no dialog (RFC 3261 §12.1)`);
    if (status < 200 && toTag === undefined) {
      throw new RangeError('a provisional response without a To tag creates no dialog (RFC 3261 §12.1)');
    }
    const cseq = request.cseq();
    const answered = response.cseq();
    if (response.callId() !== request.callId() || answered.seq !== cseq.seq || answered.method !== request.method) {
      throw new TypeError('the response does not answer the request (Call-ID or CSeq differ)');
    }
    const localTag = tagOf(request.from());
    if (localTag === undefined) throw new TypeError('the request has no From tag (RFC 3261 §8.1.1.3)');
    if (tagOf(response.from()) !== localTag) throw new TypeError('the response From tag differs from the request');
    const contacts = response.contacts();
    const contactUri = contacts === '*' ? undefined : contacts[0]?.uri;
    return new Dialog({
      role: 'uac',
      state: status >= 200 ? 'confirmed' : 'early',
      callId: request.callId(),
      callIdValue: rawOf(request, 'call-id'),
      localTag,
      // A 2xx from an RFC 2543 UAS may lack the tag: remote tag null (§12.1.2).
      remoteTag: toTag ?? '',
      localParty: rawOf(request, 'from'),
      remoteParty: rawOf(response, 'to'),
      localUri: request.from().uri,
      remoteUri: request.to().uri,
      localSeq: cseq.seq,
      remoteSeq: undefined,
      remoteTarget: contactUri ?? request.requestUri(),
      // §12.1.2: "taken in reverse order and preserving all URI parameters"
      routeSet: response.recordRoutes().map((r) => r.uri).reverse(),
      localContact: request.headers.get('contact'),
      secure: options.secure ?? request.requestUri().scheme === 'sips',
      initialSeq: cseq.seq,
      initialMethod: request.method,
      random: options.random ?? defaultRandom,
    });
  }

  /**
   * The UAS side of a dialog (RFC 3261 §12.1.1), made from the dialog-creating request we
   * received, the To tag we put in our responses, and our Contact.
   *
   * @param localTag - The To tag of our 1xx/2xx (use `newTag()`).
   * @param localContact - Our Contact header value as it should be written, e.g.
   *   `<sip:bob@192.0.2.4;transport=tcp>`; used in responses and target refresh requests.
   * @remarks Route set: the request's Record-Route URIs in order, all parameters kept. Remote
   *   target: the request's Contact URI. Remote sequence number: the request's CSeq; local: empty
   *   until we send a request. The dialog starts `early`; {@link Dialog.responseSent} with the 2xx
   *   confirms it (or pass `state: 'confirmed'`).
   * @throws DialogRequestError (answer 400) when the request has no usable Contact or a
   *   malformed Record-Route. TypeError when the request already has a To tag (it is in-dialog),
   *   `localTag` is not a token, or `localContact` is malformed.
   */
  static fromUasRequest(request: SipRequest, localTag: string, localContact: string, options: UasDialogOptions = {}): Dialog {
    if (!isToken(localTag)) throw new TypeError(`bad local tag ${JSON.stringify(localTag)}`);
    checkContact(localContact);
    const to = request.to();
    if (tagOf(to) !== undefined) throw new TypeError('the request has a To tag: it belongs to an existing dialog');
    let remoteTarget: Uri;
    let routeSet: Uri[];
    try {
      const contacts = request.contacts();
      const first = contacts === '*' ? undefined : contacts[0];
      // §8.1.1.8 / §12.1.1: the dialog-creating request carries the peer's target in Contact.
      if (first === undefined || contacts.length !== 1) {
        throw new DialogRequestError('a dialog-creating request needs exactly one Contact (RFC 3261 §8.1.1.8)');
      }
      remoteTarget = first.uri;
      routeSet = request.recordRoutes().map((r) => r.uri);
    } catch (error) {
      if (error instanceof SipParseError) throw new DialogRequestError(`malformed ${error.details.header ?? 'header'}`, { cause: error });
      throw error;
    }
    const cseq = request.cseq();
    return new Dialog({
      role: 'uas',
      state: options.state ?? 'early',
      callId: request.callId(),
      callIdValue: rawOf(request, 'call-id'),
      localTag,
      remoteTag: tagOf(request.from()) ?? '',
      // Our To is the request's To, octet for octet, plus our tag (§12.1.1, §8.2.6.2).
      localParty: `${rawOf(request, 'to')};tag=${localTag}`,
      remoteParty: rawOf(request, 'from'),
      localUri: to.uri,
      remoteUri: request.from().uri,
      localSeq: undefined,
      remoteSeq: cseq.seq,
      remoteTarget,
      routeSet,
      localContact,
      secure: options.secure ?? request.requestUri().scheme === 'sips',
      initialSeq: cseq.seq,
      initialMethod: request.method,
      random: options.random ?? defaultRandom,
    });
  }

  /** The dialog ID (Call-ID, local tag, remote tag). */
  get id(): DialogId {
    return { callId: this.callId, localTag: this.localTag, remoteTag: this.remoteTag };
  }

  get state(): DialogState {
    return this.currentState;
  }

  /** Why the dialog ended; undefined while it lives. */
  get terminationReason(): DialogTerminationReason | undefined {
    return this.reason;
  }

  /** Local sequence number: the CSeq of the last request we sent; undefined until we send one (UAS). */
  get localSeq(): number | undefined {
    return this.local;
  }

  /** Remote sequence number: the highest CSeq received from the peer; undefined until one arrives (UAC). */
  get remoteSeq(): number | undefined {
    return this.remote;
  }

  /** Remote target: where requests go (the peer's latest Contact, §12.2). */
  get remoteTarget(): Uri {
    return this.target;
  }

  /** The route set, in the order requests visit it (§12.1). Fixed once confirmed. */
  get routeSet(): readonly Uri[] {
    return this.routes;
  }

  /** Our Contact value, put into target refresh requests and dialog-establishing responses. */
  get localContact(): string | undefined {
    return this.contact;
  }

  /**
   * Builds a request within the dialog (RFC 3261 §12.2.1.1): Request-URI and Route from the
   * route set ({@link computeRequestTarget}), CSeq = local sequence number + 1 (a random start
   * below 2^31 when empty), From = our URI and tag, To = the peer's URI and tag, the Call-ID,
   * Max-Forwards 70, our Contact for target refresh requests, and a Via when asked.
   *
   * @remarks Increments the local sequence number: build each request once (a retry after a
   *   401/407 is a new request with a new CSeq, §22.2). ACK for a 2xx: {@link Dialog.createAck}.
   *   CANCEL is not a dialog request: use `createCancel()` from `voxlite/sip` (§9.1).
   * @throws TypeError for a bad method, ACK, CANCEL, or bad options. DialogStateError on a
   *   terminated dialog, or for a BYE from the UAS on an early dialog (§15: "the callee's UA
   *   MUST NOT send a BYE on an early dialog"). RangeError when the CSeq would pass 2^32-1.
   */
  createRequest(method: string, options: InDialogRequestOptions = {}): SipRequest {
    if (!isToken(method)) throw new TypeError(`bad method ${JSON.stringify(method)}`);
    if (method === 'ACK') throw new TypeError('use createAck() for the ACK of a 2xx (RFC 3261 §13.2.2.4)');
    if (method === 'CANCEL') throw new TypeError('CANCEL is not sent within a dialog; use createCancel() (RFC 3261 §9.1)');
    if (this.currentState === 'terminated') throw new DialogStateError(`the dialog is terminated (${String(this.reason)})`);
    if (method === 'BYE' && this.role === 'uas' && this.currentState === 'early') {
      throw new DialogStateError('the callee must not send BYE on an early dialog (RFC 3261 §15)');
    }
    checkRequestOptions(options);
    const contact = options.contact === undefined ? this.contact : checkContact(options.contact);
    // §12.2.1.1: "incremented by one if it is not empty", else an initial value per §8.1.1.5.
    const seq = this.local === undefined ? initialSeq(this.random) : this.local + 1;
    if (seq > 0xffffffff) throw new RangeError('the local CSeq would pass 2^32-1');
    const request = this.build(method, seq, TARGET_REFRESH_METHODS.has(method) ? contact : undefined, [], options);
    this.local = seq;
    this.contact = contact;
    return request;
  }

  /**
   * Builds the ACK for a 2xx to an INVITE (RFC 3261 §13.2.2.4): built like any request of the
   * dialog (route set applied, new branch when a Via is asked for), but with the INVITE's CSeq
   * number and method ACK, and the INVITE's credentials. Does not touch the local sequence
   * number. Allowed in every state: a 2xx must be ACKed even when the UAC then sends BYE.
   *
   * @param invite - The INVITE (its Authorization and Proxy-Authorization fields are copied:
   *   "The ACK MUST contain the same credentials as the INVITE"), or just its CSeq number.
   * @throws TypeError when `invite` is not an INVITE or options are bad; RangeError for a CSeq
   *   number outside 0..2^32-1.
   */
  createAck(invite: SipRequest | number, options: DialogRequestOptions = {}): SipRequest {
    let seq: number;
    let credentials: HeaderField[] = [];
    if (typeof invite === 'number') {
      seq = invite;
    } else {
      if (invite.method !== 'INVITE') throw new TypeError(`an ACK acknowledges an INVITE, not ${invite.method}`);
      seq = invite.cseq().seq;
      credentials = invite.headers.all().filter((f) => f.key === 'authorization' || f.key === 'proxy-authorization');
    }
    if (!isInteger32(seq)) throw new RangeError(`bad CSeq number ${seq}`);
    checkRequestOptions(options);
    return this.build('ACK', seq, undefined, credentials, options);
  }

  /**
   * Builds a response to a request of this dialog with our To tag. For a 101–299 response to the
   * dialog-creating request it copies every Record-Route value in order (RFC 3261 §12.1.1), and
   * for a 101–299 response to it or to a target refresh request it adds our Contact (§12.1.1,
   * §13.3.1.4). Does not change the dialog: report the response with {@link Dialog.responseSent}
   * once it is sent.
   *
   * @throws TypeError when the request has another Call-ID.
   */
  createResponse(request: SipRequest, status: number, options: Omit<ResponseOptions, 'toTag'> = {}): SipResponse {
    if (request.callId() !== this.callId) throw new TypeError('the request belongs to another dialog (Call-ID)');
    const extra: [string, string][] = [];
    const success = status > 100 && status < 300;
    const creating = this.isCreatingRequest(request.cseq().seq, request.method);
    if (success && creating) for (const f of request.headers.fieldsOf('record-route')) extra.push([f.name, f.raw]);
    if (success && this.contact !== undefined && (creating || TARGET_REFRESH_METHODS.has(request.method))) {
      extra.push(['Contact', this.contact]);
    }
    for (const [name, value] of options.headers ?? []) extra.push([name, value]);
    return createSipResponse(request, status, { ...options, toTag: this.localTag, headers: extra });
  }

  /**
   * Processes a request received within the dialog (RFC 3261 §12.2.2), before the UAS core acts
   * on it. Answer with `status` when the result is not ok.
   *
   * @remarks
   * - ACK and CANCEL are exempt from the CSeq checks and leave the remote sequence number alone
   *   (§12.2.2); an ACK is never answered (G18), whatever this returns.
   * - A CSeq lower than the remote sequence number is out of order: 500 (§12.2.2). An equal one
   *   is accepted (retransmissions are absorbed below, by the transaction layer).
   * - A target refresh request's Contact replaces the remote target (§12.2.2). It must be one
   *   SIP/SIPS value, else 400 (§8.1.1.8). This happens on receipt, as RFC 3261 says; RFC 6141
   *   would wait for the 2xx.
   * - A BYE terminates the dialog (§15.1.2). On an early dialog the UAS then still owes the
   *   INVITE a final response (487, §15.1.2).
   * - 481 for a request whose Call-ID or tags are not this dialog's, or on a terminated dialog.
   */
  receiveRequest(request: SipRequest): InDialogRequestResult {
    let fromTag: string;
    let toTag: string | undefined;
    let seq: number;
    let cseqMethod: string;
    let callId: string;
    try {
      callId = request.callId();
      fromTag = tagOf(request.from()) ?? '';
      toTag = tagOf(request.to());
      ({ seq, method: cseqMethod } = request.cseq());
    } catch (error) {
      if (error instanceof SipParseError) return { ok: false, status: 400, reason: error.reason };
      throw error;
    }
    if (callId !== this.callId || toTag !== this.localTag || fromTag !== this.remoteTag) {
      return { ok: false, status: 481, reason: CALL_DOES_NOT_EXIST };
    }
    const method = request.method;
    if (cseqMethod !== method) return { ok: false, status: 400, reason: 'CSeq Method Mismatch' };
    // §12.2.2: ACK and CANCEL carry the CSeq number of the request they refer to.
    if (method === 'ACK' || method === 'CANCEL') return { ok: true, targetRefreshed: false };
    if (this.currentState === 'terminated') return { ok: false, status: 481, reason: CALL_DOES_NOT_EXIST };
    // §12.2.2: "lower than the remote sequence number ... MUST be rejected with a 500"
    if (this.remote !== undefined && seq < this.remote) return { ok: false, status: 500, reason: 'CSeq Out of Order' };
    let refreshed: Uri | undefined;
    if (TARGET_REFRESH_METHODS.has(method)) {
      try {
        const contacts = request.contacts();
        if (contacts === '*' || contacts.length > 1) return { ok: false, status: 400, reason: 'Bad Contact' };
        refreshed = contacts[0]?.uri;
      } catch (error) {
        if (error instanceof SipParseError) return { ok: false, status: 400, reason: 'Bad Contact' };
        throw error;
      }
      if (refreshed !== undefined && !isSipUri(refreshed)) return { ok: false, status: 400, reason: 'Bad Contact' };
    }
    this.remote = seq;
    if (refreshed !== undefined) this.target = refreshed;
    if (method === 'BYE') this.apply('bye');
    return { ok: true, targetRefreshed: refreshed !== undefined };
  }

  /**
   * Processes a response to a request we sent (the dialog-creating one or one within the
   * dialog): RFC 3261 §12.2.1.2, §13.2.2.4, §12.3, §15.1.1.
   *
   * @remarks
   * - 2xx to the dialog-creating request on an early dialog: confirmed; the route set is
   *   recomputed from the 2xx's Record-Route and the remote target from its Contact (§13.2.2.4).
   * - 2xx to a target refresh request: its Contact replaces the remote target (§12.2.1.2). The
   *   route set never changes once confirmed.
   * - 481 or 408: terminated (§12.2.1.2). Final response other than 401/407 to our BYE: terminated.
   * - Non-2xx final to the dialog-creating request while early: terminated (§12.3), even when
   *   its To tag is another branch's — feed it to every fork ({@link DialogStore.forks}).
   * - Otherwise a response with another To tag belongs to another dialog (a fork) and is ignored.
   * - A malformed Contact or Record-Route in a 2xx leaves the remote target or route set as it was.
   * @throws TypeError when the response's Call-ID or From tag is not this dialog's.
   */
  receiveResponse(response: SipResponse): void {
    if (response.callId() !== this.callId || tagOf(response.from()) !== this.localTag) {
      throw new TypeError('the response belongs to another dialog (Call-ID or From tag)');
    }
    if (this.currentState === 'terminated') return;
    const status = response.status;
    const { seq, method } = response.cseq();
    const creating = this.role === 'uac' && this.isCreatingRequest(seq, method);
    if ((tagOf(response.to()) ?? '') !== this.remoteTag) {
      if (creating && status >= 300) this.apply('reject');
      return;
    }
    if (status < 200) return;
    if (status < 300) {
      const contact = contactUriOf(response);
      if (creating && this.currentState === 'early') {
        // §13.2.2.4: "the route set for the dialog MUST be recomputed based on the 2xx response"
        this.routes = routeSetOf(response) ?? this.routes;
        if (contact !== undefined) this.target = contact;
        this.apply('confirm');
      } else if (TARGET_REFRESH_METHODS.has(method) && contact !== undefined) {
        this.target = contact; // §12.2.1.2
      }
      if (method === 'BYE') this.apply('bye');
      return;
    }
    if (status === 481) this.apply('gone');
    else if (status === 408) this.apply('timeout');
    // §15.1.1: after a BYE the session is over whatever the answer, unless it asks for credentials.
    else if (method === 'BYE' && status !== 401 && status !== 407) this.apply('bye');
    else if (creating) this.apply('reject');
  }

  /**
   * Tells the dialog that the UAS core sent `response` (a response with our To tag). A 2xx to
   * the dialog-creating request confirms an early dialog (§12.1.1); a non-2xx final response to
   * it terminates an early dialog (§12.3).
   */
  responseSent(response: SipResponse): void {
    if (this.currentState !== 'early' || this.role !== 'uas') return;
    if (response.callId() !== this.callId || tagOf(response.to()) !== this.localTag) return;
    const { seq, method } = response.cseq();
    if (!this.isCreatingRequest(seq, method)) return;
    if (response.status >= 200 && response.status < 300) this.apply('confirm');
    else if (response.status >= 300) this.apply('reject');
  }

  /**
   * Ends the dialog now: on the owner's decision (`close`), or with `timeout` when a request in
   * the dialog got no response at all (§12.2.1.2). Idempotent.
   */
  terminate(reason: 'close' | 'timeout' = 'close'): void {
    this.apply(reason);
  }

  private isCreatingRequest(seq: number, method: string): boolean {
    return seq === this.initialSeq && method === this.initialMethod;
  }

  private apply(event: DialogEvent): void {
    const row: Partial<Record<DialogEvent, DialogState>> = DIALOG_TRANSITIONS[this.currentState];
    const next = row[event];
    if (next === undefined) return;
    this.currentState = next;
    if (next === 'terminated' && event !== 'confirm') this.reason = event;
  }

  private build(
    method: string,
    seq: number,
    contact: string | undefined,
    credentials: readonly HeaderField[],
    options: DialogRequestOptions,
  ): SipRequest {
    const target = computeRequestTarget(this.routes, this.target);
    const headers = new Headers();
    if (options.via !== undefined) headers.append('Via', formatViaOption(options.via, this.random));
    if (target.route.length > 0) headers.append('Route', target.route.map((u) => `<${u}>`).join(', '));
    headers.append('Max-Forwards', '70');
    headers.append('From', this.localParty);
    headers.append('To', this.remoteParty);
    headers.append('Call-ID', this.callIdValue);
    headers.append('CSeq', `${seq} ${method}`);
    if (contact !== undefined) headers.append('Contact', contact);
    for (const f of credentials) headers.append(f.name, f.raw);
    for (const [name, value] of options.headers ?? []) headers.append(name, value);
    const request = new SipRequest({ method, uri: target.requestUri, headers });
    request.setBody(options.body ?? Buffer.alloc(0), options.body === undefined ? undefined : options.contentType);
    return request;
  }
}
