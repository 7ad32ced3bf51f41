import { VoxliteError } from '../core/errors.js';

/**
 * Why a SIP URI could not be turned into targets. Stable, so callers (and the proxy's choice of
 * response) branch on it rather than on message text.
 *
 * - `RESOLVER_ERR_BAD_URI`: the text is not a sip/sips URI, or its `maddr` or port is unusable.
 * - `RESOLVER_ERR_UNSUPPORTED_TRANSPORT`: the URI names a transport this resolver was not told
 *   it may use (`protocols`), or one that cannot carry the URI (`sips:…;transport=udp`).
 * - `RESOLVER_ERR_NOT_FOUND`: DNS answered, and there is nothing to contact (no records, or an
 *   SRV target of "." meaning the service is decidedly not available, RFC 2782).
 * - `RESOLVER_ERR_LOOKUP_FAILED`: nothing to contact and at least one lookup failed (timeout,
 *   SERVFAIL, REFUSED); trying again later may succeed. The first failure is the `cause`.
 * - `RESOLVER_ERR_DNS`: one DNS query failed ({@link DnsLookupError}); thrown by a
 *   {@link DnsClient}, and seen by callers only as the `cause` of `RESOLVER_ERR_LOOKUP_FAILED`.
 */
export type ResolverErrorCode =
  | 'RESOLVER_ERR_BAD_URI'
  | 'RESOLVER_ERR_UNSUPPORTED_TRANSPORT'
  | 'RESOLVER_ERR_NOT_FOUND'
  | 'RESOLVER_ERR_LOOKUP_FAILED'
  | 'RESOLVER_ERR_DNS';

/** An error from the resolver layer; branch on {@link ResolverError.code}. */
export class ResolverError extends VoxliteError {
  constructor(
    readonly code: ResolverErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The DNS record types the resolver asks for. */
export type DnsRecordType = 'NAPTR' | 'SRV' | 'A' | 'AAAA';

/**
 * One DNS query failed for a reason other than "no such name" or "no such record": a timeout,
 * SERVFAIL, REFUSED, an unreachable server, a malformed answer (RFC 1035 §4.1.1 RCODEs).
 * Negative answers (NXDOMAIN, NODATA, RFC 2308) are not errors: a {@link DnsClient} returns `[]`.
 */
export class DnsLookupError extends ResolverError {
  declare readonly code: 'RESOLVER_ERR_DNS';

  constructor(
    /** The name that was queried. */
    readonly query: string,
    /** The record type that was queried. */
    readonly type: DnsRecordType,
    /** The platform's error code (node: `ETIMEOUT`, `ESERVFAIL`, `EREFUSED`, …), or `'EUNKNOWN'`. */
    readonly dnsCode: string,
    options?: { cause?: unknown },
  ) {
    super('RESOLVER_ERR_DNS', `DNS ${type} lookup of ${query} failed: ${dnsCode}`, options);
  }
}
