/**
 * SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): the hash arithmetic, a client
 * that answers challenges, and a server that issues and verifies them.
 */
export {
  DIGEST_ALGORITHMS,
  algorithmStrength,
  baseAlgorithm,
  computeHa1,
  computeResponse,
  computeSessionHa1,
  digestEquals,
  digestHash,
  formatNonceCount,
  isDigestHex,
  isSessionAlgorithm,
  parseDigestAlgorithm,
  parseNonceCount,
  utf8ToBinary,
} from './digest.js';
export type { DigestAlgorithm, DigestQop, DigestResponseInput } from './digest.js';
export { DigestClient } from './client.js';
export type { DigestAnswer, DigestClientOptions, DigestCredentials, DigestRequestInfo } from './client.js';
export { DigestServer } from './server.js';
export type {
  DigestChallengeOptions,
  DigestFailureReason,
  DigestServerOptions,
  DigestVerifyInput,
  DigestVerifyResult,
  Ha1Lookup,
} from './server.js';
export { authParam, formatAuthHeader, parseAuthHeader } from '../sip/auth-header.js';
export type { AuthHeaderName, AuthHeaderValue, AuthParam } from '../sip/auth-header.js';
