/**
 * The boundary between the wire and the transaction layer (RFC 3261 §18). Transports own the
 * sockets; above them, messages are typed and addresses are plain values.
 */
import { VoxliteError } from '../core/errors.js';
import type { SipMessage } from '../sip/message.js';

/** The transports voxlite speaks; the names are the lower-case Via transport tokens. */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** A transport address: protocol, IP literal (IPv6 without brackets) and port. */
export interface TransportAddress {
  readonly protocol: TransportProtocol;
  readonly host: string;
  readonly port: number;
}

/**
 * One flow (RFC 5626 §3): for stream transports a connection, for UDP the (local, remote) pair.
 * Responses and in-dialog requests go back over the flow a request arrived on when it is
 * still open (RFC 3261 §18.2.2).
 */
export interface Flow {
  /** Stable identifier, unique within a transport layer. */
  readonly id: string;
  readonly local: TransportAddress;
  readonly remote: TransportAddress;
}

/** A message handed up by the transport layer, after Via `received`/`rport` were applied (RFC 3581). */
export interface IncomingMessage {
  readonly message: SipMessage;
  /** The octets as received. */
  readonly bytes: Buffer;
  /** Where the message really came from (not what its Via claims). */
  readonly source: TransportAddress;
  readonly flow: Flow;
  /** Clock time of arrival (ms). */
  readonly receivedAt: number;
}

/** Sending failed: no route, connection refused or reset, socket closed (RFC 3261 §18.4). */
export class TransportError extends VoxliteError {
  readonly code = 'TRANSPORT_ERR_SEND';
}

/** Whether a protocol is reliable (no retransmissions needed at the transaction layer, RFC 3261 §17.1.1.2). */
export function isReliable(protocol: TransportProtocol): boolean {
  return protocol !== 'udp';
}

/** What the transaction layer needs from the transports below it. */
export interface Transport {
  /**
   * Sends one message to `target` (opening a connection for stream protocols if needed, or
   * reusing `flow` when given and open). Resolves once the octets are handed to the socket.
   * @throws TransportError when the message cannot be sent.
   */
  send(message: SipMessage, target: TransportAddress, options?: { readonly flow?: Flow }): Promise<void>;
  /** The address to put in a Via sent-by / Contact for this protocol (the listening address). */
  localAddress(protocol: TransportProtocol): TransportAddress | undefined;
  /** Installs the single upward handler (called synchronously for each valid message). */
  onMessage(handler: (incoming: IncomingMessage) => void): void;
  /** Closes every socket; idempotent. */
  close(): Promise<void>;
}
