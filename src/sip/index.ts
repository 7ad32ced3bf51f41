export { SipParseError, type SipParseErrorKind } from './errors.js';
export { DEFAULT_LIMITS, withLimits, type ParseLimits } from './limits.js';
export {
  Headers,
  headerKey,
  canonicalHeaderName,
  isListHeader,
  unfold,
  type HeaderField,
} from './headers.js';
export { splitList, quote, unquote, isToken } from './grammar.js';
export {
  parseParams,
  formatParams,
  paramValue,
  withParam,
  parseVia,
  parseViaList,
  formatVia,
  viaBranch,
  parseNameAddr,
  parseNameAddrList,
  formatNameAddr,
  tagOf,
  parseContactList,
  parseCSeq,
  formatCSeq,
  parseDecimal,
  isValidHost,
  WILDCARD_CONTACT,
  type HeaderParam,
  type Via,
  type NameAddr,
  type Contact,
  type CSeq,
} from './header-values.js';
export * from './uri.js';
export { SipRequest, SipResponse, isRequest, isResponse, SINGLE_VALUED_HEADERS, type SipMessage } from './message.js';
export { parseMessage, scanMessage, findHeaderEnd, type ParseOptions, type FramingMode, type ScannedMessage } from './parser.js';
export { formatMessage, formatHeaderSection } from './serializer.js';
export { StreamParser, type StreamEvent, type StreamParserOptions } from './stream-parser.js';
export {
  createResponse,
  createNon2xxAck,
  createCancel,
  createResponseToUnparsable,
  newBranch,
  newTag,
  newCallId,
  BRANCH_MAGIC_COOKIE,
  type ResponseOptions,
} from './build.js';
export { reasonPhrase, REASON_PHRASES } from './status.js';
export { dumpMessage, dumpParseError, printable } from './dump.js';
export {
  parseAuthHeader,
  formatAuthHeader,
  authParam,
  isAuthToken,
  MAX_AUTH_PARAM_VALUE_LENGTH,
  type AuthParam,
  type AuthHeaderValue,
  type AuthHeaderName,
} from './auth-header.js';
