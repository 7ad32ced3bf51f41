/**
 * The non-INVITE server transaction (NIST): RFC 3261 §17.2.2, Figure 8.
 *
 * ```
 *                 request received: pass to TU
 *                          |
 *      (absorb requests) Trying ----------- 200-699 from TU: send, start J ----+
 *                          | 1xx from TU: send                                 |
 *   request: resend 1xx    v                                                   v
 *   1xx from TU: send -> Proceeding -- 200-699 from TU: send, start J --> Completed
 *                          |                               request: resend ^ |  |
 *                          +-- transport error: inform TU -+               +-+  | Timer J,
 *                                                          v                    | transport error
 *                                                      Terminated <-------------+
 * ```
 */
import { assertNever } from '../core/errors.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import type { TransportError } from '../transport/transport.js';
import {
  statusClass,
  TransactionMachine,
  type ServerTransactionHandlers,
  type TransactionEnvironment,
  type Transitions,
} from './machine.js';

/** States of the NIST (RFC 3261 Figure 8). */
export type NistState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Events of the NIST. */
export type NistEvent =
  | { readonly type: 'retransmission' }
  | { readonly type: 'provisional'; readonly response: SipResponse }
  | { readonly type: 'final'; readonly response: SipResponse }
  | { readonly type: 'timerJ' }
  | { readonly type: 'transportError'; readonly error: TransportError };

/** The names of the NIST's events. */
export type NistEventType = NistEvent['type'];

/** The NIST transition table (RFC 3261 §17.2.2, Figure 8). */
export const NIST_TRANSITIONS = {
  // §17.2.2: request retransmissions in Trying are discarded (no row entry); nothing is sent
  // yet, so no transport error can happen here.
  trying: { provisional: 'proceeding', final: 'completed' },
  proceeding: {
    retransmission: 'proceeding', // resend the most recent provisional response
    provisional: 'proceeding',
    final: 'completed',
    transportError: 'terminated', // §17.2.4
  },
  // §17.2.2: further final responses from the TU are discarded in Completed (no row entry).
  completed: {
    retransmission: 'completed', // resend the final response
    timerJ: 'terminated',
    transportError: 'terminated',
  },
  terminated: {},
} as const satisfies Transitions<NistState, NistEventType>;

/** A non-INVITE server transaction, created by the `TransactionLayer` for each new non-INVITE request. */
export class NonInviteServerTransaction extends TransactionMachine<NistState, NistEvent> {
  /** Discriminates the four transaction kinds. */
  readonly kind = 'non-invite-server' as const;
  /** The request that created the transaction. */
  readonly request: SipRequest;
  /** The last response sent. */
  lastResponse: SipResponse | undefined;
  /** The transport error that ended the transaction, if one did. */
  error: TransportError | undefined;
  protected readonly transitions: Transitions<NistState, NistEventType> = NIST_TRANSITIONS;
  private handlers: ServerTransactionHandlers = {};

  constructor(request: SipRequest, env: TransactionEnvironment) {
    super('trying', env);
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new TypeError(`a non-INVITE server transaction cannot carry ${request.method}`);
    }
    this.request = request;
  }

  /** The request's method. */
  get method(): string {
    return this.request.method;
  }

  /** Sets the TU's handlers (only `onTransportError` applies: the NIST has no timeout). */
  setHandlers(handlers: ServerTransactionHandlers): void {
    this.handlers = handlers;
  }

  /** Nothing to start: the NIST waits for the TU (§17.2.2). Present for symmetry with the IST. */
  start(): void {}

  /**
   * Sends a response from the TU (§17.2.2). Returns false, sending nothing, once a final
   * response was sent (later ones are discarded).
   * @throws RangeError when the status is not 100..699.
   */
  respond(response: SipResponse): boolean {
    const kind = statusClass(response.status);
    return this.dispatch(kind === 'provisional' ? { type: 'provisional', response } : { type: 'final', response });
  }

  /** A retransmission of the request matched this transaction (§17.2.3). Called by the layer. */
  receiveRetransmission(): void {
    this.dispatch({ type: 'retransmission' });
  }

  /** Sending a response failed (§17.2.4). Called by the layer. */
  transportError(error: TransportError): void {
    this.dispatch({ type: 'transportError', error });
  }

  protected perform(event: NistEvent, _from: NistState, to: NistState): void {
    switch (event.type) {
      case 'retransmission':
        if (this.lastResponse !== undefined) this.env.send(this.lastResponse);
        return;
      case 'provisional':
        this.send(event.response);
        return;
      case 'final':
        this.send(event.response);
        // §17.2.2: Timer J (64·T1 over UDP, 0 over reliable) absorbs request retransmissions.
        this.startTimer('J', this.env.timers.J, { type: 'timerJ' });
        return;
      case 'timerJ':
        return;
      case 'transportError': {
        this.error = event.error;
        const error = event.error;
        this.notify('onTransportError', () => this.handlers.onTransportError?.(error));
        return;
      }
      default:
        assertNever(event, `NIST event in ${to}`);
    }
  }

  private send(response: SipResponse): void {
    this.lastResponse = response;
    this.env.send(response);
  }
}
