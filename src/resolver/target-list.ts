/**
 * Trying targets in turn (RFC 3263 §4.3). The resolver returns an ordered list; the UA and the
 * proxy walk it, moving on when a request to the current target times out, meets a transport
 * error, or is answered 503 (Service Unavailable).
 */
import type { Target } from './resolver.js';

/**
 * What happened to a request sent to the current target: the transaction timed out (Timer B
 * or F, RFC 3261 §17.1), the transport failed (RFC 3261 §18.4), or a final response arrived
 * with this status code.
 */
export type FailoverOutcome = 'timeout' | 'transport-error' | number;

/**
 * Whether an outcome calls for the next target (RFC 3263 §4.3): a timeout, a transport error,
 * or a 503 response. Any other response is an answer from the server and ends the search.
 */
export function shouldFailOver(outcome: FailoverOutcome): boolean {
  return outcome === 'timeout' || outcome === 'transport-error' || outcome === 503;
}

/**
 * An ordered list of targets and a cursor over it.
 *
 * ```ts
 * const targets = new TargetList(await resolver.resolve(uri));
 * let target = targets.nextTarget();
 * while (target !== undefined) {
 *   const outcome = await send(request, target); // 'timeout' | 'transport-error' | status
 *   target = targets.failover(outcome);          // undefined: answered, or nothing left
 * }
 * ```
 *
 * @remarks RFC 3263 §4.3 asks that a retried request be a new transaction (new branch), and
 * that ACK and CANCEL for a transaction go to the same target as the request: keep
 * {@link TargetList.current} with the transaction.
 */
export class TargetList implements Iterable<Target> {
  /** Every target, in the order they are tried. */
  readonly targets: readonly Target[];
  private index = -1;

  constructor(targets: readonly Target[]) {
    this.targets = Object.freeze([...targets]);
  }

  /** The target last returned by {@link TargetList.nextTarget}, or `undefined` before the first call or once exhausted. */
  get current(): Target | undefined {
    return this.targets[this.index];
  }

  /** How many targets have not been handed out yet. */
  get remaining(): number {
    return Math.max(0, this.targets.length - this.index - 1);
  }

  /** Whether every target has been handed out and the cursor moved past the last. */
  get exhausted(): boolean {
    return this.index >= this.targets.length;
  }

  /** The targets handed out so far, in order. */
  get tried(): readonly Target[] {
    return this.targets.slice(0, Math.min(this.index + 1, this.targets.length));
  }

  /** Moves to and returns the next target; `undefined` when there is none left. */
  nextTarget(): Target | undefined {
    if (this.index < this.targets.length) this.index++;
    return this.targets[this.index];
  }

  /**
   * Reports how the current target did: returns the next target when the outcome calls for
   * fail-over ({@link shouldFailOver}), otherwise `undefined` without moving the cursor (the
   * server answered; that answer is the result).
   */
  failover(outcome: FailoverOutcome): Target | undefined {
    return shouldFailOver(outcome) ? this.nextTarget() : undefined;
  }

  /** Iterates over the targets not yet handed out, advancing the cursor as it goes. */
  *[Symbol.iterator](): Iterator<Target> {
    for (let t = this.nextTarget(); t !== undefined; t = this.nextTarget()) yield t;
  }
}
