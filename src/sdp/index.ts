/**
 * `voxlite/sdp`: SDP parse/format (RFC 8866) and RFC 3264 offer/answer for one audio stream.
 * Pure: no I/O, no timers; the only dependency is `core`.
 *
 * @module
 */
export type {
  AddressScope,
  AddressType,
  Attribute,
  Bandwidth,
  Connection,
  KnownLineType,
  LineEnding,
  MediaDescription,
  MediaDirection,
  Origin,
  SessionDescription,
  Timing,
  UnknownLine,
} from './types.js';
export { SdpParseError, NegotiationError, SdpStateError, type SdpParseErrorKind } from './errors.js';
export { parseSdp, parseOrigin, parseConnection, parseBandwidth, parseMediaLine, isRtpProtocol } from './parse.js';
export {
  formatSdp,
  formatOrigin,
  formatConnection,
  formatBandwidth,
  formatAttribute,
  formatMediaLine,
  type FormatSdpOptions,
} from './format.js';
export { addressScope, addressTypeOf, isFqdn, isIPv4, isIPv6, isValidAddress } from './address.js';
export {
  findAttributes,
  hasAttribute,
  isDirection,
  parseRtpMap,
  formatRtpMap,
  parseFmtp,
  formatFmtp,
  parseRtcpAttribute,
  formatRtcpAttribute,
  getRtpMaps,
  getFmtps,
  getPtime,
  getMaxPtime,
  getDirection,
  getRtcp,
  getConnection,
  type RtpMap,
  type Fmtp,
  type RtcpAttribute,
} from './attributes.js';
export {
  STATIC_PAYLOAD_TYPES,
  DYNAMIC_PAYLOAD_TYPE_MIN,
  codecKey,
  codecMatches,
  getRtpFormats,
  isTelephoneEvent,
  staticPayloadType,
  type CodecSpec,
  type RtpFormat,
} from './codecs.js';
export {
  SdpNegotiator,
  type LocalMediaOptions,
  type NegotiatedCodec,
  type NegotiationResult,
  type NegotiatorEvent,
  type NegotiatorState,
  type SdpNegotiatorOptions,
} from './negotiator.js';
