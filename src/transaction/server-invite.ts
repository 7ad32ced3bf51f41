/**
 * The INVITE server transaction (IST): RFC 3261 §17.2.1, Figure 7, as updated by RFC 6026 §8.5–8.7
 * (2xx responses take the transaction to Accepted instead of Terminated; the TU — the dialog
 * layer — retransmits its 2xx through {@link InviteServerTransaction.respond} until the ACK
 * arrives, §13.3.1.4).
 *
 * ```
 *            INVITE received: pass to TU, 100 Trying after 200 ms unless the TU answered
 *                                   |
 *   INVITE: resend last 1xx +--> Proceeding -- transport error: inform TU ---------------+
 *   1xx from TU: send       +---/   |    \                                               |
 *                  300-699 from TU  |     \ 2xx from TU: send, start L                    |
 *                  send, G (UDP), H v      +--------> Accepted -------- Timer L ---------+
 *   INVITE: resend  +-------> Completed             INVITE: absorb                       |
 *   Timer G: resend +--------/  |   |               ACK: to TU; 2xx from TU: send        |
 *                           ACK |   +-- Timer H: inform TU / transport error ------------+
 *                    start I    v                                                        v
 *                           Confirmed (absorb ACKs) -- Timer I ------------------> Terminated
 * ```
 */
import { assertNever } from '../core/errors.js';
import { createResponse } from '../sip/build.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import type { IncomingMessage, TransportError } from '../transport/transport.js';
import { TransactionTimeoutError } from './errors.js';
import {
  statusClass,
  TransactionMachine,
  type ServerTransactionHandlers,
  type TransactionEnvironment,
  type TransactionFailure,
  type Transitions,
} from './machine.js';

/** States of the IST (RFC 3261 Figure 7; Accepted from RFC 6026 §8.6). */
export type IstState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/** Events of the IST: request retransmissions and ACKs from the transport, responses from the TU, timers. */
export type IstEvent =
  | { readonly type: 'retransmission' }
  | { readonly type: 'ack'; readonly ack: SipRequest; readonly incoming: IncomingMessage | undefined }
  | { readonly type: 'provisional'; readonly response: SipResponse }
  | { readonly type: 'success'; readonly response: SipResponse }
  | { readonly type: 'failure'; readonly response: SipResponse }
  | { readonly type: 'timerTrying' }
  | { readonly type: 'timerG' }
  | { readonly type: 'timerH' }
  | { readonly type: 'timerI' }
  | { readonly type: 'timerL' }
  | { readonly type: 'transportError'; readonly error: TransportError };

/** The names of the IST's events. */
export type IstEventType = IstEvent['type'];

/** The IST transition table (RFC 3261 §17.2.1, Figure 7; RFC 6026 §8.5–8.7, Figure 7). */
export const IST_TRANSITIONS = {
  proceeding: {
    retransmission: 'proceeding', // §17.2.1: resend the most recent provisional response
    timerTrying: 'proceeding', // §17.2.1: 100 Trying if the TU has not answered in 200 ms
    provisional: 'proceeding',
    success: 'accepted', // RFC 6026 §8.5
    failure: 'completed',
    transportError: 'terminated', // §17.2.4
  },
  completed: {
    retransmission: 'completed', // §17.2.1: resend the final response
    timerG: 'completed', // §17.2.1: resend, G doubles up to T2
    ack: 'confirmed',
    timerH: 'terminated', // §17.2.1: no ACK — inform the TU
    transportError: 'terminated',
  },
  // §17.2.1: further ACKs (and INVITEs) are absorbed until Timer I (no row entry for INVITE).
  confirmed: { ack: 'confirmed', timerI: 'terminated' },
  accepted: {
    retransmission: 'accepted', // RFC 6026 §8.7: absorbed, the TU retransmits the 2xx
    ack: 'accepted', // RFC 6026 §8.7: passed to the TU
    success: 'accepted', // RFC 6026 §8.7: the TU's 2xx retransmissions (and other 2xx) are sent
    timerL: 'terminated',
    transportError: 'accepted', // RFC 6026 §8.7: inform the TU, stay
  },
  terminated: {},
} as const satisfies Transitions<IstState, IstEventType>;

/** What an IST needs beyond the common environment: somewhere to pass ACKs received in Accepted. */
export interface InviteServerEnvironment extends TransactionEnvironment {
  /** An ACK matched this transaction in Accepted: it belongs to the TU (RFC 6026 §8.7). */
  passAck(ack: SipRequest, incoming: IncomingMessage | undefined): void;
}

/** An INVITE server transaction, created by the `TransactionLayer` for each new INVITE. */
export class InviteServerTransaction extends TransactionMachine<IstState, IstEvent> {
  /** Discriminates the four transaction kinds. */
  readonly kind = 'invite-server' as const;
  /** The INVITE that created the transaction. */
  readonly request: SipRequest;
  /** The last response sent (what a retransmitted INVITE gets again in Proceeding/Completed). */
  lastResponse: SipResponse | undefined;
  /** Why the transaction failed (Timer H, or a transport error), if it did. */
  error: TransactionFailure | undefined;
  protected readonly transitions: Transitions<IstState, IstEventType> = IST_TRANSITIONS;
  private readonly istEnv: InviteServerEnvironment;
  private handlers: ServerTransactionHandlers = {};
  private intervalG: number | undefined;

  constructor(request: SipRequest, env: InviteServerEnvironment) {
    super('proceeding', env);
    if (request.method !== 'INVITE') throw new TypeError(`an INVITE server transaction needs an INVITE, got ${request.method}`);
    this.request = request;
    this.istEnv = env;
  }

  /** Always `INVITE`. */
  get method(): string {
    return this.request.method;
  }

  /** Sets the TU's handlers for Timer H and transport errors (replacing earlier ones). */
  setHandlers(handlers: ServerTransactionHandlers): void {
    this.handlers = handlers;
  }

  /** Starts the 200 ms 100-Trying timer (RFC 3261 §17.2.1). Called by the layer. */
  start(): void {
    this.enter(() => this.startTimer('trying', this.env.timers.trying, { type: 'timerTrying' }));
  }

  /**
   * Sends a response from the TU (RFC 3261 §17.2.1): 1xx in Proceeding; 2xx in Proceeding or
   * Accepted (RFC 6026: the TU's 2xx retransmissions go through here); 300–699 in Proceeding.
   * Returns false, sending nothing, when the state does not take this response (e.g. a 487
   * after a 200, or a second final response).
   * @throws RangeError when the status is not 100..699.
   */
  respond(response: SipResponse): boolean {
    return this.dispatch({ type: statusClass(response.status), response });
  }

  /** A retransmission of the INVITE matched this transaction (§17.2.3). Called by the layer. */
  receiveRetransmission(): void {
    this.dispatch({ type: 'retransmission' });
  }

  /** An ACK matched this transaction (§17.2.3). Called by the layer. */
  receiveAck(ack: SipRequest, incoming?: IncomingMessage): void {
    this.dispatch({ type: 'ack', ack, incoming });
  }

  /** Sending a response failed (§17.2.4). Called by the layer. */
  transportError(error: TransportError): void {
    this.dispatch({ type: 'transportError', error });
  }

  protected perform(event: IstEvent, from: IstState, to: IstState): void {
    switch (event.type) {
      case 'timerTrying':
        // §17.2.1: only when the TU has sent nothing yet (it may have answered meanwhile).
        if (this.lastResponse === undefined) this.send(createResponse(this.request, 100));
        return;
      case 'retransmission':
        // §17.2.1 (Proceeding: last provisional, Completed: the final); RFC 6026 §8.7 (Accepted: absorb).
        if (from !== 'accepted' && this.lastResponse !== undefined) this.env.send(this.lastResponse);
        return;
      case 'provisional':
        this.stopTimer('trying');
        this.send(event.response);
        return;
      case 'success':
        this.stopTimer('trying');
        // RFC 6026 §8.5: enter Accepted and start Timer L; later 2xx from the TU are just sent.
        if (from === 'proceeding') this.startTimer('L', this.env.timers.L, { type: 'timerL' });
        this.send(event.response);
        return;
      case 'failure':
        this.stopTimer('trying');
        this.send(event.response);
        // §17.2.1: Timer G (unreliable only) retransmits, Timer H bounds the wait for the ACK.
        this.intervalG = this.env.timers.G;
        this.startTimer('G', this.intervalG, { type: 'timerG' });
        this.startTimer('H', this.env.timers.H, { type: 'timerH' });
        return;
      case 'timerG':
        if (this.lastResponse !== undefined) this.env.send(this.lastResponse);
        this.intervalG = Math.min(2 * (this.intervalG ?? this.env.timers.t1), this.env.timers.t2);
        this.startTimer('G', this.intervalG, event);
        return;
      case 'ack':
        if (from === 'completed') {
          // §17.2.1: stop retransmitting; Timer I absorbs ACK retransmissions.
          this.stopTimer('G');
          this.stopTimer('H');
          this.startTimer('I', this.env.timers.I, { type: 'timerI' });
        } else if (from === 'accepted') {
          this.istEnv.passAck(event.ack, event.incoming);
        }
        return;
      case 'timerH':
        this.error = new TransactionTimeoutError('H', 'no ACK for the final response (Timer H)');
        this.notify('onTimeout', () => this.handlers.onTimeout?.());
        return;
      case 'timerI':
      case 'timerL':
        return;
      case 'transportError': {
        this.error = event.error;
        const error = event.error;
        this.notify('onTransportError', () => this.handlers.onTransportError?.(error));
        return;
      }
      default:
        assertNever(event, `IST event in ${to}`);
    }
  }

  private send(response: SipResponse): void {
    this.lastResponse = response;
    this.env.send(response);
  }
}
