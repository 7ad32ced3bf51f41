/**
 * A transport wrapper that reports every SIP message sent and received (the caller's `-v`),
 * formatted as it goes on the wire.
 */
import { formatMessage, type SipMessage } from '../sip/index.js';
import type { Flow, IncomingMessage, Transport, TransportAddress, TransportProtocol } from '../transport/transport.js';

export type TraceHandler = (direction: 'sent' | 'received', text: string, peer: string) => void;

function peerOf(address: TransportAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${address.protocol} ${host}:${address.port}`;
}

export class TracingTransport implements Transport {
  private handler: ((incoming: IncomingMessage) => void) | undefined;

  constructor(
    private readonly inner: Transport,
    private readonly trace: TraceHandler | undefined,
  ) {
    inner.onMessage((incoming) => {
      this.trace?.('received', incoming.bytes.toString('latin1'), peerOf(incoming.source));
      this.handler?.(incoming);
    });
  }

  async send(message: SipMessage, target: TransportAddress, options?: { readonly flow?: Flow }): Promise<void> {
    await this.inner.send(message, target, options);
    // Traced after sending, so a transport that rewrites the top Via (UDP → TCP) shows the real one.
    this.trace?.('sent', formatMessage(message).toString('latin1'), peerOf(target));
  }

  localAddress(protocol: TransportProtocol): TransportAddress | undefined {
    return this.inner.localAddress(protocol);
  }

  onMessage(handler: (incoming: IncomingMessage) => void): void {
    this.handler = handler;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
