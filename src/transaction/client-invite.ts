/**
 * The INVITE client transaction (ICT): RFC 3261 §17.1.1, Figure 5, as updated by RFC 6026 §8.4
 * (the Accepted state, so that 2xx retransmissions and forked 2xx still reach the TU).
 *
 * ```
 *                     INVITE sent (Timer A over UDP, Timer B)
 *                               |
 *   Timer A: resend  +-------> Calling ----- Timer B / transport error: inform TU --+
 *   (interval ×2)    +-------/  |   \  \                                            |
 *                          1xx  |    \  \ 2xx: to TU, start M                       |
 *                               v     \  +----------------> Accepted --Timer M--+   |
 *                  1xx ----> Proceeding ---- 2xx ------------^  ^ 2xx: to TU    |   |
 *                               |  300-699: send ACK, to TU, start D            |   |
 *                               v                                               v   v
 *                 300-699 --> Completed (resend ACK) -- Timer D / error ---> Terminated
 * ```
 */
import { assertNever } from '../core/errors.js';
import { createNon2xxAck } from '../sip/build.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import type { TransportError } from '../transport/transport.js';
import { TransactionTimeoutError } from './errors.js';
import {
  statusClass,
  TransactionMachine,
  type ClientTransactionHandlers,
  type TransactionEnvironment,
  type TransactionFailure,
  type Transitions,
} from './machine.js';

/** States of the ICT (RFC 3261 Figure 5; Accepted from RFC 6026 §8.4). */
export type IctState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

/** Events of the ICT: responses from the transport, timers, transport errors. */
export type IctEvent =
  | { readonly type: 'provisional'; readonly response: SipResponse }
  | { readonly type: 'success'; readonly response: SipResponse }
  | { readonly type: 'failure'; readonly response: SipResponse }
  | { readonly type: 'timerA' }
  | { readonly type: 'timerB' }
  | { readonly type: 'timerD' }
  | { readonly type: 'timerM' }
  | { readonly type: 'transportError'; readonly error: TransportError };

/** The names of the ICT's events. */
export type IctEventType = IctEvent['type'];

/** The ICT transition table (RFC 3261 §17.1.1.2, Figure 5; RFC 6026 §8.4, Figure 5). */
export const ICT_TRANSITIONS = {
  calling: {
    timerA: 'calling', // §17.1.1.2: retransmit, double A
    timerB: 'terminated', // §17.1.1.2: inform the TU of the timeout
    provisional: 'proceeding', // §17.1.1.2: stop retransmitting
    success: 'accepted', // RFC 6026 §8.4
    failure: 'completed', // §17.1.1.2: ACK, pass up
    transportError: 'terminated', // §17.1.4
  },
  proceeding: {
    provisional: 'proceeding',
    success: 'accepted', // RFC 6026 §8.4
    failure: 'completed',
  },
  accepted: {
    success: 'accepted', // RFC 6026 §8.4: every 2xx (retransmission or fork) goes to the TU
    timerM: 'terminated',
  },
  completed: {
    failure: 'completed', // §17.1.1.2: retransmitted final response → resend ACK, not to TU
    timerD: 'terminated',
    transportError: 'terminated', // Figure 5: Transport Err / Inform TU
  },
  terminated: {},
} as const satisfies Transitions<IctState, IctEventType>;

/**
 * An INVITE client transaction. Created and run by the `TransactionLayer`; the TU reads
 * `state` and receives responses through its {@link ClientTransactionHandlers}.
 */
export class InviteClientTransaction extends TransactionMachine<IctState, IctEvent> {
  /** Discriminates the four transaction kinds. */
  readonly kind = 'invite-client' as const;
  /** The INVITE as sent (its top Via carries the branch). */
  readonly request: SipRequest;
  /** The ACK this transaction built for a non-2xx final response (§17.1.1.3), once there is one. */
  ack: SipRequest | undefined;
  /** The last response passed to the TU. */
  lastResponse: SipResponse | undefined;
  /** Why the transaction failed (Timer B, or a transport error), if it did. */
  error: TransactionFailure | undefined;
  protected readonly transitions: Transitions<IctState, IctEventType> = ICT_TRANSITIONS;
  private readonly handlers: ClientTransactionHandlers;
  private intervalA: number | undefined;

  /** @param request an INVITE whose top Via carries the transaction's branch. */
  constructor(request: SipRequest, env: TransactionEnvironment, handlers: ClientTransactionHandlers) {
    super('calling', env);
    if (request.method !== 'INVITE') throw new TypeError(`an INVITE client transaction needs an INVITE, got ${request.method}`);
    this.request = request;
    this.handlers = handlers;
  }

  /** The INVITE's method (always `INVITE`). */
  get method(): string {
    return this.request.method;
  }

  /** Sends the INVITE and starts Timers A (UDP only) and B (RFC 3261 §17.1.1.2). */
  start(): void {
    this.enter(() => {
      this.env.send(this.request);
      this.intervalA = this.env.timers.A;
      this.startTimer('A', this.intervalA, { type: 'timerA' });
      this.startTimer('B', this.env.timers.B, { type: 'timerB' });
    });
  }

  /** A response matched to this transaction by the layer (§17.1.3). */
  receiveResponse(response: SipResponse): void {
    this.dispatch({ type: statusClass(response.status), response });
  }

  /** The transport failed to send the INVITE or the ACK (§17.1.4). */
  transportError(error: TransportError): void {
    this.dispatch({ type: 'transportError', error });
  }

  protected perform(event: IctEvent, from: IctState, to: IctState): void {
    switch (event.type) {
      case 'timerA':
        // §17.1.1.2: retransmit and reset Timer A to twice its value (no cap; B ends it).
        this.env.send(this.request);
        this.intervalA = (this.intervalA ?? this.env.timers.t1) * 2;
        this.startTimer('A', this.intervalA, event);
        return;
      case 'timerB':
        this.fail(new TransactionTimeoutError('B'));
        return;
      case 'provisional':
        // §17.1.1.2: no more retransmissions once a provisional response arrived; Timer B only
        // guards the Calling state.
        this.stopTimer('A');
        this.stopTimer('B');
        this.passUp(event.response);
        return;
      case 'success':
        if (from !== 'accepted') {
          // RFC 6026 §8.4: enter Accepted, start Timer M; the TU (dialog) sends the ACK.
          this.stopTimer('A');
          this.stopTimer('B');
          this.startTimer('M', this.env.timers.M, { type: 'timerM' });
        }
        this.passUp(event.response);
        return;
      case 'failure':
        if (from === 'completed') {
          // §17.1.1.2: a retransmitted final response: resend the ACK, do not pass it up.
          if (this.ack !== undefined) this.env.send(this.ack);
          return;
        }
        this.stopTimer('A');
        this.stopTimer('B');
        // §17.1.1.3: the ACK for a non-2xx is built here, sent to the INVITE's destination.
        this.ack = createNon2xxAck(this.request, event.response);
        this.env.send(this.ack);
        this.startTimer('D', this.env.timers.D, { type: 'timerD' });
        this.passUp(event.response);
        return;
      case 'timerD':
      case 'timerM':
        return;
      case 'transportError':
        this.fail(event.error);
        return;
      default:
        assertNever(event, `ICT event in ${to}`);
    }
  }

  private passUp(response: SipResponse): void {
    this.lastResponse = response;
    this.notify('onResponse', () => this.handlers.onResponse(response));
  }

  private fail(error: TransactionFailure): void {
    this.error = error;
    if (error instanceof TransactionTimeoutError) this.notify('onTimeout', () => this.handlers.onTimeout());
    else this.notify('onTransportError', () => this.handlers.onTransportError(error));
  }
}
