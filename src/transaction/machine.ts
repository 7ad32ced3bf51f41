/**
 * The machinery the four transaction state machines share (RFC 3261 §17): a transition table
 * typed by state and event, run-to-completion dispatch, named timers on an injected clock, and
 * the sans-I/O environment through which a machine acts on the world.
 *
 * A machine never touches a socket: it asks its environment to `send` a message and is told
 * about failures through an event. Time comes from the environment's `Clock`, so tests drive
 * every timer on a `FakeClock`.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { SipMessage, SipResponse } from '../sip/message.js';
import type { TransportError } from '../transport/transport.js';
import type { TransactionTimeoutError } from './errors.js';
import type { TransactionTimers } from './timers.js';

/**
 * A transition table: for each state, the events it accepts and the state each one leads to.
 * An event missing from a state's row is absorbed without effect (RFC 3261 §17 figures show
 * only the events a state reacts to).
 */
export type Transitions<S extends string, E extends string> = {
  readonly [K in S]: Partial<Readonly<Record<E, S>>>;
};

/** What a transaction needs from the layer that runs it: time, timer values, and a way out. */
export interface TransactionEnvironment {
  readonly clock: Clock;
  /** Timer values already resolved for this transaction's transport (reliable or not). */
  readonly timers: TransactionTimers;
  readonly logger?: Logger;
  /**
   * Hands `message` to the transport (to the transaction's target and flow). Must not throw
   * and must not call back into the transaction synchronously; a failure is reported later
   * through the transaction's `transportError()`.
   */
  send(message: SipMessage): void;
  /** Called exactly once, when the transaction reaches its Terminated state. */
  terminated(): void;
}

/** The TU's handlers for one client transaction (RFC 3261 §17.1). */
export interface ClientTransactionHandlers {
  /**
   * A response for the TU: every provisional response, the final response, and — for INVITE —
   * every 2xx received in the Accepted state (retransmissions and forks, RFC 6026 §8.4).
   * Retransmissions of a non-2xx final response are absorbed and not passed up.
   */
  onResponse(response: SipResponse): void;
  /** Timer B or F fired without a final response (§17.1.1.2, §17.1.2.2); treat as 408. */
  onTimeout(): void;
  /** The transport could not send the request or the ACK (§17.1.4). */
  onTransportError(error: TransportError): void;
}

/** The TU's (optional) handlers for one server transaction (RFC 3261 §17.2). */
export interface ServerTransactionHandlers {
  /** Timer H fired: no ACK for a non-2xx final response to INVITE (§17.2.1). */
  onTimeout?(): void;
  /** The transport could not send a response (§17.2.4). */
  onTransportError?(error: TransportError): void;
}

/** Why a transaction ended early, when it did. */
export type TransactionFailure = TransactionTimeoutError | TransportError;

/**
 * Base of the four transaction machines. Subclasses provide the table and an exhaustive
 * `perform` switch; the base runs events to completion, one at a time, and owns the timers.
 *
 * @remarks
 * Events raised while an event is being handled (a TU calling back into the transaction from a
 * callback, or a timer of 0 ms such as Timer K over TCP) are queued and handled right after
 * the current one, so every transition sees a consistent state.
 */
export abstract class TransactionMachine<S extends string, E extends { readonly type: string }> {
  private current: S;
  private running = false;
  private readonly queue: E[] = [];
  private readonly handles = new Map<string, TimerHandle>();
  private ended = false;
  protected readonly env: TransactionEnvironment;
  protected readonly log: Logger;
  /** The transition table of this machine (a `const` object in each subclass file). */
  protected abstract readonly transitions: Transitions<S, E['type']>;

  protected constructor(initial: S, env: TransactionEnvironment) {
    this.current = initial;
    this.env = env;
    this.log = env.logger ?? silentLogger;
  }

  /** The current state, e.g. `tx.state === 'completed'`. */
  get state(): S {
    return this.current;
  }

  /** Whether the transaction reached Terminated (and the layer forgot it). */
  get isTerminated(): boolean {
    return this.ended;
  }

  /** The actions of one transition: called after the state has changed to `to`. */
  protected abstract perform(event: E, from: S, to: S): void;

  /**
   * Feeds one event to the machine. Returns whether the current state accepts it (for a
   * reentrant call, queued for later, it returns true).
   */
  protected dispatch(event: E): boolean {
    if (this.running) {
      this.queue.push(event);
      return true;
    }
    this.running = true;
    try {
      const accepted = this.step(event);
      this.drain();
      return accepted;
    } finally {
      this.running = false;
    }
  }

  /** Runs `action` (the entry actions of the initial state) with the same run-to-completion rules as events. */
  protected enter(action: () => void): void {
    if (this.running) {
      action();
      return;
    }
    this.running = true;
    try {
      action();
      this.drain();
    } finally {
      this.running = false;
    }
  }

  private drain(): void {
    for (let event = this.queue.shift(); event !== undefined; event = this.queue.shift()) this.step(event);
  }

  private step(event: E): boolean {
    if (this.ended) return false;
    const from = this.current;
    const row: Partial<Readonly<Record<E['type'], S>>> = this.transitions[from];
    const to = row[event.type as E['type']];
    if (to === undefined) {
      this.log.debug('transaction event absorbed', { state: from, event: event.type });
      return false;
    }
    this.current = to;
    this.perform(event, from, to);
    if (to === 'terminated') this.finish();
    return true;
  }

  /**
   * Moves straight to Terminated without telling the TU: for layer shutdown, or a TU that
   * gives up on an INVITE it cancelled (RFC 3261 §9.1: no final response 64·T1 after CANCEL).
   */
  terminate(): void {
    if (this.ended) return;
    this.current = 'terminated' as S;
    this.queue.length = 0;
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    for (const handle of this.handles.values()) handle.cancel();
    this.handles.clear();
    this.env.terminated();
  }

  /**
   * Starts (or restarts) the named timer; `event` is dispatched when it fires. `undefined`
   * means the timer is not used on this transport; 0 means "fire now" (Table 4: D, I, J, K on
   * reliable transports), handled right after the current event without touching the clock.
   */
  protected startTimer(name: string, delayMs: number | undefined, event: E): void {
    this.stopTimer(name);
    if (delayMs === undefined || this.ended) return;
    if (delayMs <= 0) {
      this.queue.push(event);
      return;
    }
    const handle = this.env.clock.setTimer(delayMs, () => {
      if (this.handles.get(name) !== handle) return;
      this.handles.delete(name);
      this.dispatch(event);
    });
    this.handles.set(name, handle);
  }

  /** Cancels the named timer if it is running. */
  protected stopTimer(name: string): void {
    const handle = this.handles.get(name);
    if (handle === undefined) return;
    handle.cancel();
    this.handles.delete(name);
  }

  /** Names of the timers currently running (for tests and diagnostics). */
  get runningTimers(): string[] {
    return [...this.handles.keys()];
  }

  /** Calls into the TU; a throwing TU must not leave the machine half-way through a transition. */
  protected notify(what: string, callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.log.error('transaction user callback threw', { callback: what, error: String(error) });
    }
  }
}

/** Classifies a status code the way the transaction figures do. */
export function statusClass(status: number): 'provisional' | 'success' | 'failure' {
  if (!Number.isInteger(status) || status < 100 || status > 699) {
    throw new RangeError(`status must be an integer in 100..699, got ${status}`);
  }
  if (status < 200) return 'provisional';
  return status < 300 ? 'success' : 'failure';
}
