/**
 * The INVITE usage's own reliability, above the transactions (RFC 3261 §13.2.2.4, §13.3.1.4,
 * RFC 6026): the UAS core retransmits its 2xx until the ACK comes, the UAC core answers each
 * 2xx with the same ACK, and a proxy's Timer C (§16.6 step 11, §16.8). Small clock-driven
 * objects: they send through a callback and take time from an injected {@link Clock}.
 *
 * ```
 *   UAS                                         UAC
 *    |---- 2xx (through the server transaction) -->|  ACK built by Dialog.createAck
 *    |---- 2xx after T1 ---------------------------->|---- same ACK ---->
 *    |---- 2xx after 2·T1 … capped at T2 ---------->|---- same ACK ---->
 *    |<--- ACK: stop -------------------------------|
 *    |  no ACK by 64·T1: stop, onTimeout → send BYE  |
 * ```
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { tagOf } from '../sip/header-values.js';
import type { SipRequest, SipResponse } from '../sip/message.js';

/**
 * The base timers these objects use (RFC 3261 §17.1.1.1). Structurally the same fields as the
 * transaction layer's `TimerConfig`, so one config object serves both.
 */
export interface InviteTimerConfig {
  /** RTT estimate, ms. Default 500. */
  readonly t1: number;
  /** Largest retransmission interval, ms. Default 4000. */
  readonly t2: number;
}

/** T1 = 500 ms, T2 = 4 s (RFC 3261 §17.1.1.1). */
export const DEFAULT_INVITE_TIMERS: InviteTimerConfig = Object.freeze({ t1: 500, t2: 4000 });

function resolveTimers(timers: Partial<InviteTimerConfig> | undefined): InviteTimerConfig {
  const t1 = timers?.t1 ?? DEFAULT_INVITE_TIMERS.t1;
  const t2 = timers?.t2 ?? DEFAULT_INVITE_TIMERS.t2;
  if (!Number.isFinite(t1) || t1 <= 0) throw new RangeError(`t1 must be a positive number of ms, got ${t1}`);
  if (!Number.isFinite(t2) || t2 < t1) throw new RangeError(`t2 must be a number of ms ≥ t1, got ${t2}`);
  return { t1, t2 };
}

// ---------------------------------------------------------------------------------------------
// UAS: 2xx retransmission until ACK (§13.3.1.4)

/** Told to the UAS when no ACK came within 64·T1 (RFC 3261 §13.3.1.4). */
export interface AckTimeout {
  /**
   * "The dialog is confirmed, but the session SHOULD be terminated. This is accomplished with
   * a BYE" (§13.3.1.4): send a BYE on the dialog.
   */
  readonly action: 'send-bye';
  /** The 2xx that was never acknowledged. */
  readonly response: SipResponse;
}

/** States of a {@link Uas2xxRetransmitter}. */
export type Uas2xxRetransmitterState = 'waiting' | 'acknowledged' | 'timed-out' | 'stopped';

/** Options of {@link Uas2xxRetransmitter}. */
export interface Uas2xxRetransmitterOptions {
  /** The 2xx to an INVITE (initial or re-INVITE) to keep sending. */
  readonly response: SipResponse;
  /** Hands the 2xx to the transport (or to the server transaction in its Accepted state, RFC 6026). */
  readonly send: (response: SipResponse) => void;
  readonly clock: Clock;
  /** T1 and T2; default {@link DEFAULT_INVITE_TIMERS}. */
  readonly timers?: Partial<InviteTimerConfig>;
  /** Called once when 64·T1 passed without an ACK. */
  readonly onTimeout?: (timeout: AckTimeout) => void;
}

/**
 * The UAS core's 2xx retransmission (RFC 3261 §13.3.1.4): the 2xx is sent again after T1, then
 * at intervals doubling up to T2 (500, 1000, 2000, 4000, 4000 … ms by default), until the ACK
 * arrives or 64·T1 (32 s) pass, when `onTimeout` says to send a BYE. This is "independent of
 * whatever transport protocols are used" (§13.3.1.4), so it runs over TCP and TLS too.
 *
 * @remarks The first copy is not sent here: it goes through the INVITE server transaction.
 *   Retransmission starts on construction.
 */
export class Uas2xxRetransmitter {
  private currentState: Uas2xxRetransmitterState = 'waiting';
  private interval: number;
  private retransmitTimer: TimerHandle | undefined;
  private readonly timeoutTimer: TimerHandle;
  private readonly deadline: number;
  private readonly response: SipResponse;
  private readonly send: (response: SipResponse) => void;
  private readonly clock: Clock;
  private readonly t2: number;
  private readonly onTimeout: ((timeout: AckTimeout) => void) | undefined;
  private sent = 0;

  /** @throws RangeError when the response is not a 2xx or the timers are invalid. */
  constructor(options: Uas2xxRetransmitterOptions) {
    const { response } = options;
    if (response.status < 200 || response.status >= 300) {
      throw new RangeError(`only a 2xx is retransmitted by the UAS core, not ${response.status} (RFC 3261 §13.3.1.4)`);
    }
    const { t1, t2 } = resolveTimers(options.timers);
    this.response = response;
    this.send = options.send;
    this.clock = options.clock;
    this.t2 = t2;
    this.onTimeout = options.onTimeout;
    this.interval = t1;
    this.deadline = this.clock.now() + 64 * t1;
    this.timeoutTimer = this.clock.setTimer(64 * t1, () => this.timeout());
    this.retransmitTimer = this.clock.setTimer(t1, () => this.retransmit());
  }

  get state(): Uas2xxRetransmitterState {
    return this.currentState;
  }

  /** How many retransmissions were sent (the first copy not included). */
  get retransmissions(): number {
    return this.sent;
  }

  /**
   * Offers a received ACK. When it acknowledges this 2xx (same Call-ID and CSeq number, method
   * ACK) retransmission stops and this returns true (§13.3.1.4: "Response retransmissions
   * cease when an ACK request for the response is received").
   */
  receiveAck(ack: SipRequest): boolean {
    if (ack.method !== 'ACK') return false;
    if (ack.callId() !== this.response.callId() || ack.cseq().seq !== this.response.cseq().seq) return false;
    if (this.currentState === 'waiting') this.finish('acknowledged');
    return true;
  }

  /** Stops retransmitting without an ACK (the call is being torn down). Idempotent. */
  stop(): void {
    if (this.currentState === 'waiting') this.finish('stopped');
  }

  private retransmit(): void {
    this.retransmitTimer = undefined;
    if (this.currentState !== 'waiting') return;
    this.send(this.response);
    this.sent++;
    // §13.3.1.4: "an interval that starts at T1 seconds and doubles for each retransmission
    // until it reaches T2 seconds"
    this.interval = Math.min(this.interval * 2, this.t2);
    if (this.currentState === 'waiting' && this.clock.now() + this.interval < this.deadline) {
      this.retransmitTimer = this.clock.setTimer(this.interval, () => this.retransmit());
    }
  }

  private timeout(): void {
    if (this.currentState !== 'waiting') return;
    this.finish('timed-out');
    this.onTimeout?.({ action: 'send-bye', response: this.response });
  }

  private finish(state: Exclude<Uas2xxRetransmitterState, 'waiting'>): void {
    this.currentState = state;
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
    this.timeoutTimer.cancel();
  }
}

// ---------------------------------------------------------------------------------------------
// UAC: the same ACK for every 2xx retransmission (§13.2.2.4)

/** Options of {@link UacAckResponder}. */
export interface UacAckResponderOptions {
  /** The ACK for the 2xx, built once with `Dialog.createAck` (with its Via and branch). */
  readonly ack: SipRequest;
  /** Hands the ACK straight to the transport: an ACK for a 2xx has no transaction (§17.1.1.3). */
  readonly send: (ack: SipRequest) => void;
  readonly clock: Clock;
  /**
   * How long 2xx retransmissions are answered, ms. Default 64·T1 (32 s): the UAS gives up by
   * then (§13.3.1.4), like Timer M of the INVITE client transaction (RFC 6026 §8.4).
   */
  readonly lifetimeMs?: number;
  /** T1 for the default lifetime; default {@link DEFAULT_INVITE_TIMERS}. */
  readonly timers?: Partial<InviteTimerConfig>;
}

/** States of a {@link UacAckResponder}. */
export type UacAckResponderState = 'active' | 'closed';

/**
 * The UAC core's answer to 2xx responses (RFC 3261 §13.2.2.4): every 2xx to the INVITE from
 * this dialog — the first and each retransmission — is answered by sending the same ACK again.
 * A 2xx from another fork (another To tag) is not this dialog's and is left alone.
 */
export class UacAckResponder {
  private currentState: UacAckResponderState = 'active';
  private readonly ack: SipRequest;
  private readonly send: (ack: SipRequest) => void;
  private readonly timer: TimerHandle;
  private readonly seq: number;
  private readonly callId: string;
  private readonly toTag: string;
  private sent = 0;

  /** @throws TypeError when `ack` is not an ACK; RangeError for a bad lifetime or timers. */
  constructor(options: UacAckResponderOptions) {
    const { ack } = options;
    if (ack.method !== 'ACK') throw new TypeError(`expected an ACK, got ${ack.method}`);
    const lifetime = options.lifetimeMs ?? 64 * resolveTimers(options.timers).t1;
    if (!Number.isFinite(lifetime) || lifetime <= 0) throw new RangeError(`lifetimeMs must be positive, got ${lifetime}`);
    this.ack = ack;
    this.send = options.send;
    this.seq = ack.cseq().seq;
    this.callId = ack.callId();
    this.toTag = tagOf(ack.to()) ?? '';
    this.timer = options.clock.setTimer(lifetime, () => this.close());
  }

  get state(): UacAckResponderState {
    return this.currentState;
  }

  /** How many times the ACK was sent. */
  get acksSent(): number {
    return this.sent;
  }

  /**
   * Offers a received 2xx. When it is a 2xx to this dialog's INVITE (same Call-ID, To tag and
   * CSeq number), sends the ACK and returns true.
   */
  receive2xx(response: SipResponse): boolean {
    if (this.currentState !== 'active') return false;
    if (response.status < 200 || response.status >= 300) return false;
    const cseq = response.cseq();
    if (cseq.method !== 'INVITE' || cseq.seq !== this.seq) return false;
    if (response.callId() !== this.callId || (tagOf(response.to()) ?? '') !== this.toTag) return false;
    this.send(this.ack);
    this.sent++;
    return true;
  }

  /** Stops answering. Idempotent. */
  close(): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.timer.cancel();
  }
}

// ---------------------------------------------------------------------------------------------
// Timer C, for proxies (§16.6 step 11, §16.7 step 2, §16.8)

/** Timer C's default: 3 minutes, the value the RFC's "larger than 3 minutes" rounds to in practice. */
export const DEFAULT_TIMER_C_MS = 180_000;

/**
 * What a proxy must do when Timer C fires (RFC 3261 §16.8): if the client transaction has seen
 * a provisional response, send a CANCEL for it; if not, behave as if it received 408. (It may
 * instead {@link TimerC.reset} the timer.)
 */
export interface TimerCFiring {
  readonly provisionalReceived: boolean;
  readonly action: 'cancel' | 'timeout-408';
}

/** The hook a proxy gives each INVITE client transaction's Timer C. */
export type TimerCHandler = (firing: TimerCFiring) => void;

/** Options of {@link TimerC}. */
export interface TimerCOptions {
  readonly clock: Clock;
  readonly onFire: TimerCHandler;
  /** Duration, ms. Default {@link DEFAULT_TIMER_C_MS}. */
  readonly durationMs?: number;
}

/** States of a {@link TimerC}. */
export type TimerCState = 'running' | 'fired' | 'stopped';

/**
 * Timer C of a proxied INVITE (RFC 3261 §16.6 step 11): fires after {@link DEFAULT_TIMER_C_MS}
 * unless a provisional response other than 100 resets it (§16.7 step 2). Runs from construction.
 */
export class TimerC {
  private currentState: TimerCState = 'running';
  private handle: TimerHandle;
  private provisional = false;
  private readonly clock: Clock;
  private readonly onFire: TimerCHandler;
  private readonly duration: number;

  /** @throws RangeError for a duration that is not a positive number. */
  constructor(options: TimerCOptions) {
    const duration = options.durationMs ?? DEFAULT_TIMER_C_MS;
    if (!Number.isFinite(duration) || duration <= 0) throw new RangeError(`durationMs must be positive, got ${duration}`);
    this.clock = options.clock;
    this.onFire = options.onFire;
    this.duration = duration;
    this.handle = this.clock.setTimer(duration, () => this.fire());
  }

  get state(): TimerCState {
    return this.currentState;
  }

  /**
   * Reports a provisional response on the client transaction: 101–199 reset the timer (§16.7
   * step 2: "anything but 100"); 100 does not.
   */
  provisionalResponse(status: number): void {
    if (status <= 100 || status >= 200 || this.currentState !== 'running') return;
    this.provisional = true;
    this.restart(this.duration);
  }

  /** Restarts the timer (also after it fired: §16.8 lets the proxy "reset the timer with any value"). */
  reset(durationMs = this.duration): void {
    if (this.currentState === 'stopped') return;
    if (!Number.isFinite(durationMs) || durationMs <= 0) throw new RangeError(`durationMs must be positive, got ${durationMs}`);
    this.currentState = 'running';
    this.restart(durationMs);
  }

  /** Stops the timer (a final response arrived, or the transaction ended). Idempotent. */
  stop(): void {
    this.handle.cancel();
    this.currentState = 'stopped';
  }

  private restart(durationMs: number): void {
    this.handle.cancel();
    this.handle = this.clock.setTimer(durationMs, () => this.fire());
  }

  private fire(): void {
    if (this.currentState !== 'running') return;
    this.currentState = 'fired';
    this.onFire({ provisionalReceived: this.provisional, action: this.provisional ? 'cancel' : 'timeout-408' });
  }
}
