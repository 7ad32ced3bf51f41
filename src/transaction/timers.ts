/**
 * Transaction timers (RFC 3261 §17.1.1.1, §17.1.2.1, §17.2.1, §17.2.2, Table 4 in Appendix A;
 * RFC 6026 §8.4, §8.7 for Timers L and M), derived from three base values. Nothing here is a
 * global: every transaction layer resolves its own {@link TransactionTimers} from its own
 * {@link TimerConfig}, so a test can shrink T1 without touching any other stack in the process.
 */

/** The three base values every transaction timer is derived from (RFC 3261 §17.1.1.1). */
export interface TimerConfig {
  /** RTT estimate, ms. Default 500 (RFC 3261 §17.1.1.1 recommends 500 ms). */
  readonly t1: number;
  /** Maximum retransmission interval for non-INVITE requests and INVITE responses, ms. Default 4000. */
  readonly t2: number;
  /** Maximum time a message remains in the network, ms. Default 5000. */
  readonly t4: number;
}

/** The defaults of RFC 3261 §17.1.1.1 and Table 4: T1 = 500 ms, T2 = 4 s, T4 = 5 s. */
export const DEFAULT_TIMER_CONFIG: TimerConfig = Object.freeze({ t1: 500, t2: 4000, t4: 5000 });

/**
 * Delay after which an INVITE server transaction sends 100 Trying on its own when the TU has
 * not answered (RFC 3261 §17.2.1: "unless it knows that the TU will generate a provisional or
 * final response within 200 ms").
 */
export const TRYING_DELAY_MS = 200;

/**
 * Every timer value a transaction needs, in ms, resolved for one transport kind.
 *
 * @remarks
 * Retransmission timers (A, E, G) are `undefined` over reliable transports: the transaction
 * layer never retransmits there (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1). The "wait for
 * retransmissions" timers D, I, J and K are 0 over reliable transports (Table 4), which the
 * state machines treat as an immediate transition rather than a pending timer.
 */
export interface TransactionTimers {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** INVITE request retransmit interval, initially T1, doubling (§17.1.1.2). UDP only. */
  readonly A: number | undefined;
  /** INVITE transaction timeout, 64·T1 (§17.1.1.2). */
  readonly B: number;
  /** Proxy INVITE transaction timeout, > 3 min (§16.6 step 11). Used by proxies, not by this layer. */
  readonly C: number;
  /** Wait time for response retransmissions in the ICT, ≥ 32 s over UDP, 0 over reliable (§17.1.1.2). */
  readonly D: number;
  /** Non-INVITE request retransmit interval, initially T1, doubling up to T2 (§17.1.2.2). UDP only. */
  readonly E: number | undefined;
  /** Non-INVITE transaction timeout, 64·T1 (§17.1.2.2). */
  readonly F: number;
  /** INVITE response retransmit interval, initially T1, doubling up to T2 (§17.2.1). UDP only. */
  readonly G: number | undefined;
  /** Wait time for ACK receipt, 64·T1 (§17.2.1). */
  readonly H: number;
  /** Wait time for ACK retransmissions, T4 over UDP, 0 over reliable (§17.2.1). */
  readonly I: number;
  /** Wait time for non-INVITE request retransmissions, 64·T1 over UDP, 0 over reliable (§17.2.2). */
  readonly J: number;
  /** Wait time for non-INVITE response retransmissions, T4 over UDP, 0 over reliable (§17.1.2.2). */
  readonly K: number;
  /** IST Accepted: wait time for INVITE retransmissions and ACKs, 64·T1 (RFC 6026 §8.7). */
  readonly L: number;
  /** ICT Accepted: wait time for 2xx retransmissions (forks included), 64·T1 (RFC 6026 §8.4). */
  readonly M: number;
  /** IST: send 100 Trying after this long if the TU has not answered (§17.2.1). */
  readonly trying: number;
}

function checkPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`TimerConfig.${name} must be a positive number of ms, got ${value}`);
  }
}

/**
 * Merges `config` over {@link DEFAULT_TIMER_CONFIG} and checks it.
 * @throws RangeError when a value is not a positive finite number, or T2 < T1.
 */
export function resolveTimerConfig(config: Partial<TimerConfig> = {}): TimerConfig {
  const merged: TimerConfig = {
    t1: config.t1 ?? DEFAULT_TIMER_CONFIG.t1,
    t2: config.t2 ?? DEFAULT_TIMER_CONFIG.t2,
    t4: config.t4 ?? DEFAULT_TIMER_CONFIG.t4,
  };
  checkPositive('t1', merged.t1);
  checkPositive('t2', merged.t2);
  checkPositive('t4', merged.t4);
  if (merged.t2 < merged.t1) throw new RangeError(`TimerConfig.t2 (${merged.t2}) must not be below t1 (${merged.t1})`);
  return Object.freeze(merged);
}

/**
 * The timers for one transport kind (RFC 3261 Appendix A, Table 4; RFC 6026 §8.4, §8.7).
 *
 * @param reliable whether the transport is reliable (TCP, TLS, WS, WSS — see `isReliable`).
 * @throws RangeError when `config` is invalid (see {@link resolveTimerConfig}).
 */
export function computeTimers(config: Partial<TimerConfig> = {}, reliable = false): TransactionTimers {
  const { t1, t2, t4 } = resolveTimerConfig(config);
  const sixtyFourT1 = 64 * t1;
  return Object.freeze({
    t1,
    t2,
    t4,
    A: reliable ? undefined : t1,
    B: sixtyFourT1,
    C: 180_000,
    // "> 32 s" in Table 4: 32 s, or the server's 64·T1 when a larger T1 makes that longer,
    // so the ICT outlives the IST's response retransmissions (§17.1.1.2).
    D: reliable ? 0 : Math.max(32_000, sixtyFourT1),
    E: reliable ? undefined : t1,
    F: sixtyFourT1,
    G: reliable ? undefined : t1,
    H: sixtyFourT1,
    I: reliable ? 0 : t4,
    J: reliable ? 0 : sixtyFourT1,
    K: reliable ? 0 : t4,
    L: sixtyFourT1,
    M: sixtyFourT1,
    trying: TRYING_DELAY_MS,
  });
}

/**
 * Both timer sets of a layer, computed once: one for unreliable, one for reliable transports.
 */
export interface TimerSets {
  readonly config: TimerConfig;
  readonly unreliable: TransactionTimers;
  readonly reliable: TransactionTimers;
}

/** Resolves `config` into the two {@link TimerSets} a transaction layer uses. */
export function createTimerSets(config: Partial<TimerConfig> = {}): TimerSets {
  const resolved = resolveTimerConfig(config);
  return Object.freeze({
    config: resolved,
    unreliable: computeTimers(resolved, false),
    reliable: computeTimers(resolved, true),
  });
}
