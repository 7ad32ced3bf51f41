/**
 * The non-INVITE client transaction (NICT): RFC 3261 §17.1.2, Figure 6.
 *
 * ```
 *              request sent (Timer E over UDP, Timer F)
 *                          |
 *   Timer E: resend +--> Trying ---- Timer F / transport error: inform TU -----+
 *   (×2, cap T2)    +---/  |  \                                                |
 *                      1xx |   \ 200-699: to TU, start K                        |
 *                          v    \                                               |
 *   Timer E: resend +-> Proceeding -- Timer F / transport error: inform TU -----+
 *   (every T2)      +--/ ^  |  \                                                |
 *            1xx: to TU -+  |   +-- 200-699: to TU, start K                      v
 *                           v                                                   |
 *                       Completed (absorb retransmissions) -- Timer K ----> Terminated
 * ```
 */
import { assertNever } from '../core/errors.js';
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

/** States of the NICT (RFC 3261 Figure 6). */
export type NictState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Events of the NICT. */
export type NictEvent =
  | { readonly type: 'provisional'; readonly response: SipResponse }
  | { readonly type: 'final'; readonly response: SipResponse }
  | { readonly type: 'timerE' }
  | { readonly type: 'timerF' }
  | { readonly type: 'timerK' }
  | { readonly type: 'transportError'; readonly error: TransportError };

/** The names of the NICT's events. */
export type NictEventType = NictEvent['type'];

/** The NICT transition table (RFC 3261 §17.1.2.2, Figure 6). */
export const NICT_TRANSITIONS = {
  trying: {
    provisional: 'proceeding',
    final: 'completed',
    timerE: 'trying',
    timerF: 'terminated',
    transportError: 'terminated',
  },
  proceeding: {
    provisional: 'proceeding',
    final: 'completed',
    timerE: 'proceeding',
    timerF: 'terminated',
    transportError: 'terminated',
  },
  // §17.1.2.2: final response retransmissions are absorbed in Completed (no row entry).
  completed: { timerK: 'terminated' },
  terminated: {},
} as const satisfies Transitions<NictState, NictEventType>;

/** A non-INVITE client transaction (any method but INVITE and ACK), run by the `TransactionLayer`. */
export class NonInviteClientTransaction extends TransactionMachine<NictState, NictEvent> {
  /** Discriminates the four transaction kinds. */
  readonly kind = 'non-invite-client' as const;
  /** The request as sent (its top Via carries the branch). */
  readonly request: SipRequest;
  /** The last response passed to the TU. */
  lastResponse: SipResponse | undefined;
  /** Why the transaction failed (Timer F, or a transport error), if it did. */
  error: TransactionFailure | undefined;
  protected readonly transitions: Transitions<NictState, NictEventType> = NICT_TRANSITIONS;
  private readonly handlers: ClientTransactionHandlers;
  private intervalE: number | undefined;

  /** @param request a non-INVITE, non-ACK request whose top Via carries the transaction's branch. */
  constructor(request: SipRequest, env: TransactionEnvironment, handlers: ClientTransactionHandlers) {
    super('trying', env);
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new TypeError(`a non-INVITE client transaction cannot carry ${request.method}`);
    }
    this.request = request;
    this.handlers = handlers;
  }

  /** The request's method. */
  get method(): string {
    return this.request.method;
  }

  /** Sends the request and starts Timers E (UDP only) and F (RFC 3261 §17.1.2.2). */
  start(): void {
    this.enter(() => {
      this.env.send(this.request);
      this.intervalE = this.env.timers.E;
      this.startTimer('E', this.intervalE, { type: 'timerE' });
      this.startTimer('F', this.env.timers.F, { type: 'timerF' });
    });
  }

  /** A response matched to this transaction by the layer (§17.1.3). */
  receiveResponse(response: SipResponse): void {
    const kind = statusClass(response.status);
    this.dispatch(kind === 'provisional' ? { type: 'provisional', response } : { type: 'final', response });
  }

  /** The transport failed to send the request (§17.1.4). */
  transportError(error: TransportError): void {
    this.dispatch({ type: 'transportError', error });
  }

  protected perform(event: NictEvent, _from: NictState, to: NictState): void {
    switch (event.type) {
      case 'timerE': {
        this.env.send(this.request);
        const { t1, t2 } = this.env.timers;
        // §17.1.2.2: in Trying, E doubles up to T2; in Proceeding it is reset to T2.
        this.intervalE = to === 'proceeding' ? t2 : Math.min(2 * (this.intervalE ?? t1), t2);
        this.startTimer('E', this.intervalE, event);
        return;
      }
      case 'provisional':
        this.passUp(event.response);
        return;
      case 'final':
        // §17.1.2.2: stop retransmitting and timing out; Timer K absorbs retransmitted finals.
        this.stopTimer('E');
        this.stopTimer('F');
        this.startTimer('K', this.env.timers.K, { type: 'timerK' });
        this.passUp(event.response);
        return;
      case 'timerF':
        this.fail(new TransactionTimeoutError('F'));
        return;
      case 'timerK':
        return;
      case 'transportError':
        this.fail(event.error);
        return;
      default:
        assertNever(event, `NICT event in ${to}`);
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
