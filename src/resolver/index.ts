/**
 * `voxlite/resolver`: locating SIP servers (RFC 3263) with NAPTR (RFC 3403), SRV (RFC 2782)
 * and A/AAAA lookups, a TTL cache, and a target list for fail-over.
 */
export {
  Resolver,
  TARGET_PROTOCOLS,
  DEFAULT_PORTS,
  type Target,
  type TargetProtocol,
  type IpPreference,
  type ResolverOptions,
  type ResolveOptions,
} from './resolver.js';
export { TargetList, shouldFailOver, type FailoverOutcome } from './target-list.js';
export { orderSrvRecords, type SrvWeighted } from './srv.js';
export { CachingDnsClient, DEFAULT_DNS_CACHE_OPTIONS, type DnsCacheOptions } from './cache.js';
export {
  createNodeDnsClient,
  DEFAULT_NAPTR_SRV_TTL_SECONDS,
  type DnsClient,
  type NodeDnsClient,
  type NodeDnsClientOptions,
  type NaptrRecord,
  type SrvRecord,
  type AddressRecord,
} from './dns.js';
export { ResolverError, DnsLookupError, type ResolverErrorCode, type DnsRecordType } from './errors.js';
