/**
 * A transport wrapper that loses, duplicates or delays messages on the way out and in, with a
 * seeded random so a test's damage is repeatable. It wraps any `Transport` (real sockets
 * included), which is how tests show that retransmissions repair a lossy path.
 */
import type { Clock } from '../core/clock.js';
import { SeededRandom, type Random } from '../core/random.js';
import type { SipMessage } from '../sip/message.js';
import type { Flow, IncomingMessage, Transport, TransportAddress, TransportProtocol } from '../transport/transport.js';

export interface Impairment {
  /** Share of messages dropped, 0–100, each way. */
  readonly lossPercent?: number;
  /** Share of messages delivered twice, 0–100. */
  readonly duplicatePercent?: number;
  /** Extra delay of every message, in ms (needs `clock`). */
  readonly delayMs?: number;
  /** Which way the damage applies. Default both. */
  readonly direction?: 'send' | 'receive' | 'both';
  readonly seed?: number;
  readonly clock?: Clock;
}

export class ImpairedTransport implements Transport {
  private readonly random: Random;
  private handler: ((incoming: IncomingMessage) => void) | undefined;
  /** Messages dropped so far, by direction. */
  readonly dropped = { send: 0, receive: 0 };

  constructor(
    private readonly inner: Transport,
    private readonly impairment: Impairment,
  ) {
    this.random = new SeededRandom(impairment.seed ?? 1);
    inner.onMessage((incoming) => this.receive(incoming));
  }

  private applies(direction: 'send' | 'receive'): boolean {
    const d = this.impairment.direction ?? 'both';
    return d === 'both' || d === direction;
  }

  private roll(percent: number | undefined): boolean {
    return percent !== undefined && percent > 0 && this.random.int(10_000) < percent * 100;
  }

  private later(action: () => void): void {
    const delay = this.impairment.delayMs ?? 0;
    if (delay > 0 && this.impairment.clock !== undefined) this.impairment.clock.setTimer(delay, action);
    else action();
  }

  async send(message: SipMessage, target: TransportAddress, options?: { readonly flow?: Flow }): Promise<void> {
    if (this.applies('send')) {
      if (this.roll(this.impairment.lossPercent)) {
        this.dropped.send++;
        return;
      }
      if (this.roll(this.impairment.duplicatePercent)) await this.inner.send(message, target, options);
    }
    await this.inner.send(message, target, options);
  }

  private receive(incoming: IncomingMessage): void {
    if (this.applies('receive')) {
      if (this.roll(this.impairment.lossPercent)) {
        this.dropped.receive++;
        return;
      }
      if (this.roll(this.impairment.duplicatePercent)) this.later(() => this.handler?.(incoming));
    }
    this.later(() => this.handler?.(incoming));
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
