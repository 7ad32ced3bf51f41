/**
 * The Via work a transport does (RFC 3261 §18.2.1, §18.2.2, §18.1.1; RFC 3581 §4): stamp
 * `received`/`rport` on requests as they arrive, compute where a response goes, and rewrite the
 * top Via when a request changes transport. Pure functions over messages; no sockets.
 */
import { formatVia, paramValue, withParam, type SipMessage, type SipResponse, type Via } from '../sip/index.js';
import {
  defaultPort,
  ipFamily,
  isBroadcastOrMulticast,
  isUnspecified,
  normalizeHost,
  protocolFromVia,
  sameHost,
  stripBrackets,
} from './address.js';
import { isReliable, type TransportAddress } from './transport.js';

/**
 * Replaces the top Via value by `via`, keeping every other value. A Via field that held a list
 * (`Via: a, b`) is split so that only its first value changes.
 */
export function replaceTopVia(message: SipMessage, via: Via): void {
  // shift() drops only the first value of the first Via field; prepend() puts the new one before it.
  message.headers.shift('via');
  message.headers.prepend('via', formatVia(via));
}

/**
 * Applies RFC 3261 §18.2.1 and RFC 3581 §4 to a request that just arrived from `source`:
 * - `received=<source IP>` when the sent-by host is a domain name or an IP other than the
 *   source, or whenever the request asks for `rport`;
 * - an empty `rport` is filled with the source port.
 *
 * The IP in `received` is written without brackets, as the RFC 3261 grammar has it.
 * @returns whether the top Via changed.
 * @throws SipParseError when the top Via is malformed (the parser has already checked it).
 */
export function applyViaReceived(message: SipMessage, source: TransportAddress): boolean {
  const top = message.topVia();
  if (top === undefined) return false;
  const rport = paramValue(top.params, 'rport');
  const wantsRport = rport === null; // present without a value
  const sourceIp = normalizeHost(source.host);
  let params = top.params;
  let changed = false;
  // RFC 3581 §4: with rport the server MUST add received even when it equals sent-by.
  if (wantsRport || !sameHost(top.host, sourceIp)) {
    const current = paramValue(params, 'received');
    if (current === undefined || current === null || !sameHost(current, sourceIp)) {
      params = withParam(params, 'received', sourceIp);
      changed = true;
    }
  }
  if (wantsRport) {
    params = withParam(params, 'rport', String(source.port));
    changed = true;
  }
  if (changed) replaceTopVia(message, { ...top, params });
  return changed;
}

/** Options for {@link responseTarget}. */
export interface ResponseTargetOptions {
  /** Extra broadcast addresses to refuse (the directed broadcasts of local subnets). */
  readonly broadcasts?: ReadonlySet<string>;
}

/**
 * Where a response goes when it cannot (or, for UDP, need not) reuse the request's connection,
 * from its top Via (RFC 3261 §18.2.2, RFC 3581 §4):
 * - reliable transports (TCP, TLS, WS, WSS): the `received` IP (else the sent-by host) and the
 *   sent-by port (else the default port). The caller first tries the request's own flow.
 * - UDP: the `received` IP (else the sent-by host), and the `rport` value when present, else
 *   the sent-by port, else 5060.
 *
 * `maddr` is not honoured: sending to an address that a message names, rather than to the
 * address that sent it, is what G17 forbids ("never to a third-party sent-by"). A multicast
 * `maddr` means the response was meant for a group, and it is dropped.
 *
 * @returns the address, or null when the response must be dropped: no or unknown Via
 *   transport, a domain-name sent-by without `received` (that needs RFC 3263 §5 resolution,
 *   which is the resolver's job), or a broadcast, multicast or unspecified address (G17).
 */
export function responseTarget(response: SipResponse, options: ResponseTargetOptions = {}): TransportAddress | null {
  let top: Via | undefined;
  try {
    top = response.topVia();
  } catch {
    return null;
  }
  if (top === undefined) return null;
  const protocol = protocolFromVia(top.transport);
  if (protocol === undefined) return null;
  const maddr = paramValue(top.params, 'maddr');
  if (typeof maddr === 'string' && isBroadcastOrMulticast(maddr, options.broadcasts)) return null;
  const received = paramValue(top.params, 'received');
  const host = typeof received === 'string' && received.length > 0 ? received : top.host;
  if (ipFamily(host) === 0) return null;
  if (isBroadcastOrMulticast(host, options.broadcasts) || isUnspecified(host)) return null;
  let port = top.port ?? defaultPort(protocol);
  if (!isReliable(protocol)) {
    // RFC 3581 §4: received + rport for unreliable unicast transports.
    const rport = paramValue(top.params, 'rport');
    if (typeof rport === 'string' && /^[0-9]{1,5}$/.test(rport)) {
      const value = Number(rport);
      if (value > 0 && value < 65536) port = value;
    }
  }
  if (!(port > 0 && port < 65536)) return null;
  return { protocol, host: normalizeHost(stripBrackets(host)), port };
}

/**
 * Rewrites the top Via of a request that moves from UDP to TCP (RFC 3261 §18.1.1: "the value
 * in the top Via MUST be changed"): the transport token becomes `TCP` and, when the sent-by
 * port was the UDP listener's and the TCP listener's differs, the port follows.
 * @returns whether a Via was present and rewritten.
 */
export function switchTopViaTransport(
  message: SipMessage,
  transport: string,
  port?: { readonly from: number; readonly to: number },
): boolean {
  const top = message.topVia();
  if (top === undefined) return false;
  const newPort = port !== undefined && top.port === port.from ? port.to : top.port;
  replaceTopVia(message, { ...top, transport, port: newPort });
  return true;
}
