/**
 * `voxlite/transport`: SIP over UDP, TCP, TLS, WebSocket and secure WebSocket (RFC 3261 §18,
 * RFC 3581, RFC 7118), IPv4 and IPv6, behind the {@link Transport} interface.
 */
export {
  TransportError,
  isReliable,
  type Transport,
  type TransportAddress,
  type TransportProtocol,
  type Flow,
  type IncomingMessage,
} from './transport.js';
export { TransportLayer, TRANSPORT_DEFAULTS, type ListenerConfig, type TransportLayerOptions } from './layer.js';
export { applyViaReceived, responseTarget, switchTopViaTransport, replaceTopVia, type ResponseTargetOptions } from './via.js';
export {
  normalizeHost,
  sameHost,
  ipFamily,
  isBroadcastOrMulticast,
  isUnspecified,
  defaultPort,
  formatHostPort,
  addressKey,
  protocolFromVia,
} from './address.js';
export { ConnectionPool, type ConnectionPoolOptions } from './connection-pool.js';
export type { Connection, StreamProtocol } from './connection.js';
export type { TlsCredentials, TlsClientOptions } from './tls.js';
export { SIP_SUBPROTOCOL } from './ws.js';
