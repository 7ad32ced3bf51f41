/**
 * Transaction matching keys (RFC 3261 §17.1.3, §17.2.3, §9.2). A key is an opaque string: two
 * messages belong to the same transaction exactly when their keys are equal, so the layer finds
 * a transaction with one `Map` lookup.
 *
 * - Responses → client transactions (§17.1.3): top Via branch + CSeq method (so a CANCEL and
 *   the INVITE it cancels, which share a branch, stay apart).
 * - Requests → server transactions (§17.2.3), when the top Via branch starts with the magic
 *   cookie `z9hG4bK`: branch + sent-by + method, where an ACK takes the method INVITE.
 * - Otherwise, for RFC 2543 peers, the request's Request-URI, To tag, From tag, Call-ID, CSeq
 *   and top Via; an ACK matches on all of those but the To tag (compared against the To tag of
 *   the response the transaction sent, see {@link rfc2543AckMatches}) and the CSeq method.
 * - A CANCEL (§9.2) matches the INVITE server transaction whose key equals the CANCEL's key
 *   computed as if its method were INVITE ({@link cancelTargetKey}).
 */
import { BRANCH_MAGIC_COOKIE } from '../sip/build.js';
import { formatVia, tagOf, viaBranch, type Via } from '../sip/header-values.js';
import type { SipRequest, SipResponse } from '../sip/message.js';

// Separates key fields; none of the fields (tokens, URIs, Call-IDs, Via values) holds a NUL.
const SEP = '\u0000';

/** Whether a branch was made by an RFC 3261 client, i.e. starts with the magic cookie (§8.1.1.7). */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.length > BRANCH_MAGIC_COOKIE.length && branch.startsWith(BRANCH_MAGIC_COOKIE);
}

/** The sent-by of a Via (host, lower-cased, and port as written) as compared by §17.2.3. */
export function sentBy(via: Via): string {
  return via.port === null ? via.host.toLowerCase() : `${via.host.toLowerCase()}:${via.port}`;
}

/**
 * The key of a client transaction: its branch and its method (RFC 3261 §17.1.3).
 * @param method the request's method (equal to its CSeq method).
 */
export function clientTransactionKey(branch: string, method: string): string {
  return `c${SEP}${branch}${SEP}${method}`;
}

/**
 * The key of the client transaction a response belongs to (RFC 3261 §17.1.3): the branch of its
 * top Via and the method of its CSeq. Undefined when the response has no top Via branch, in
 * which case it matches no client transaction.
 * @throws SipParseError when the Via or CSeq header is malformed.
 */
export function responseTransactionKey(response: SipResponse): string | undefined {
  const via = response.topVia();
  const branch = via === undefined ? undefined : viaBranch(via);
  if (branch === undefined) return undefined;
  return clientTransactionKey(branch, response.cseq().method);
}

function rfc2543Fields(request: SipRequest, via: Via, withToTag: boolean): string {
  const to = withToTag ? (tagOf(request.to()) ?? '') : '';
  const from = tagOf(request.from()) ?? '';
  return `${request.uri}${SEP}${to}${SEP}${from}${SEP}${request.callId()}${SEP}${request.cseq().seq}${SEP}${formatVia(via)}`;
}

function serverKey(request: SipRequest, method: string): string | undefined {
  const via = request.topVia();
  if (via === undefined) return undefined;
  const branch = viaBranch(via);
  if (isRfc3261Branch(branch)) {
    // §17.2.3: branch, sent-by and method; "the method of the request matches the one that
    // created the transaction, except for ACK, where the method … is INVITE".
    return `s${SEP}${branch}${SEP}${sentBy(via)}${SEP}${method === 'ACK' ? 'INVITE' : method}`;
  }
  if (method === 'ACK') return `a${SEP}${rfc2543Fields(request, via, false)}`;
  return `r${SEP}${method}${SEP}${rfc2543Fields(request, via, true)}`;
}

/**
 * The key of the server transaction a request belongs to (RFC 3261 §17.2.3). For an ACK this is
 * the key of the INVITE server transaction it would acknowledge. Undefined when the request has
 * no Via.
 * @throws SipParseError when a header the key needs is malformed.
 */
export function serverTransactionKey(request: SipRequest): string | undefined {
  return serverKey(request, request.method);
}

/**
 * The extra key under which an INVITE server transaction created by an RFC 2543 request
 * (branch without the magic cookie) is found by its ACK: the RFC 2543 fields without the To
 * tag, which the ACK takes from the response (§17.2.3). Undefined for RFC 3261 requests, whose
 * ACK matches the INVITE key itself.
 * @throws SipParseError when a header the key needs is malformed.
 */
export function rfc2543AckKey(invite: SipRequest): string | undefined {
  const via = invite.topVia();
  if (via === undefined || isRfc3261Branch(viaBranch(via))) return undefined;
  return `a${SEP}${rfc2543Fields(invite, via, false)}`;
}

/**
 * For an RFC 2543 ACK found under {@link rfc2543AckKey}: whether its To tag matches the To tag
 * of the response the server transaction sent (§17.2.3). Without a response yet, no ACK matches.
 * @throws SipParseError when a To header is malformed.
 */
export function rfc2543AckMatches(ack: SipRequest, lastResponse: SipResponse | undefined): boolean {
  if (lastResponse === undefined) return false;
  return tagOf(ack.to()) === tagOf(lastResponse.to());
}

/**
 * The key of the INVITE server transaction a CANCEL cancels (RFC 3261 §9.2): the CANCEL matched
 * by §17.2.3 as if its method were INVITE (the CANCEL copies the INVITE's Request-URI, Call-ID,
 * To, From, CSeq number and top Via, §9.1). Undefined when the CANCEL has no Via.
 * @throws SipParseError when a header the key needs is malformed.
 */
export function cancelTargetKey(cancel: SipRequest): string | undefined {
  return serverKey(cancel, 'INVITE');
}
