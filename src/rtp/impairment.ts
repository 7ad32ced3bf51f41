/**
 * Network impairment for tests and benchmarks: loss, jitter, reordering and duplication applied
 * to datagrams at a socket, driven by a seeded {@link Random} so that a run is repeatable.
 *
 * The decisions (which datagram is lost, how long each is delayed) depend only on the seed and
 * on the order datagrams are offered, never on timing, so the same traffic gives the same
 * losses on every run. Delivery times come from the injected {@link Clock}.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { SeededRandom, type Random } from '../core/random.js';

/** What to do to datagrams; every field defaults to "nothing". */
export interface ImpairmentOptions {
  /** Chance, in percent (0–100), that a datagram is dropped. */
  lossPercent?: number;
  /**
   * Extra one-way delay, drawn uniformly from `[0, jitterMs)` per datagram. With independent
   * uniform delays the RFC 3550 A.8 interarrival jitter converges to about `jitterMs / 3`.
   */
  jitterMs?: number;
  /** Chance, in percent, that a datagram is held back and delivered right after the next one. */
  reorderPercent?: number;
  /** Chance, in percent, that a datagram is delivered twice. */
  duplicatePercent?: number;
  /** Seed of the generator; default 1. Ignored when `random` is given. */
  seed?: number;
  /** The generator itself (overrides `seed`). */
  random?: Random;
  /** Also impair RTCP, not only RTP; default `false` (the measurements stay intact). */
  rtcp?: boolean;
  /** Longest a reordered datagram waits for a successor before it is released anyway, in ms; default 100. */
  reorderHoldMs?: number;
}

/** What an {@link Impairment} did so far. */
export interface ImpairmentCounters {
  /** Datagrams offered. */
  offered: number;
  /** … dropped. */
  lost: number;
  /** … delivered twice. */
  duplicated: number;
  /** … held back behind a later one. */
  reordered: number;
  /** … delivered after a non-zero delay. */
  delayed: number;
}

const TWO_POW_32 = 0x1_0000_0000;

/** Checks impairment options. @throws RangeError on out-of-range percentages or delays. */
export function checkImpairmentOptions(options: ImpairmentOptions): void {
  for (const key of ['lossPercent', 'reorderPercent', 'duplicatePercent'] as const) {
    const value = options[key];
    if (value !== undefined && !(value >= 0 && value <= 100)) {
      throw new RangeError(`${key} must be within 0..100, got ${value}`);
    }
  }
  if (options.jitterMs !== undefined && !(options.jitterMs >= 0 && options.jitterMs <= 10_000)) {
    throw new RangeError(`jitterMs must be within 0..10000, got ${options.jitterMs}`);
  }
}

/**
 * Applies {@link ImpairmentOptions} to a stream of datagrams.
 *
 * @example
 * ```ts
 * const impair = new Impairment({ lossPercent: 5, jitterMs: 20, seed: 7 }, clock);
 * impair.apply(datagram, (d) => socket.send(d, port, host));
 * ```
 */
export class Impairment {
  /** Whether RTCP goes through this impairment too. */
  readonly rtcp: boolean;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly loss: number;
  private readonly jitterMs: number;
  private readonly reorder: number;
  private readonly duplicate: number;
  private readonly holdMs: number;
  private readonly pending = new Set<TimerHandle>();
  private held: { datagram: Uint8Array; deliver: (d: Uint8Array) => void; timer: TimerHandle } | undefined;
  private closed = false;
  private readonly counts: ImpairmentCounters = { offered: 0, lost: 0, duplicated: 0, reordered: 0, delayed: 0 };

  /** @throws RangeError on out-of-range options. */
  constructor(options: ImpairmentOptions, clock: Clock) {
    checkImpairmentOptions(options);
    this.clock = clock;
    this.random = options.random ?? new SeededRandom(options.seed ?? 1);
    this.loss = (options.lossPercent ?? 0) / 100;
    this.jitterMs = options.jitterMs ?? 0;
    this.reorder = (options.reorderPercent ?? 0) / 100;
    this.duplicate = (options.duplicatePercent ?? 0) / 100;
    this.holdMs = options.reorderHoldMs ?? 100;
    this.rtcp = options.rtcp ?? false;
  }

  /** Counters (a live read-only view). */
  get counters(): Readonly<ImpairmentCounters> {
    return this.counts;
  }

  /**
   * Offers one datagram: `deliver` is called zero, one or two times, now or later on the clock.
   * The datagram must not be modified afterwards (it may be delivered later).
   */
  apply(datagram: Uint8Array, deliver: (d: Uint8Array) => void): void {
    if (this.closed) return;
    this.counts.offered++;
    // Draw every number for every datagram so one knob does not shift the others' sequence.
    const lossDraw = this.uniform();
    const delayDraw = this.uniform();
    const reorderDraw = this.uniform();
    const duplicateDraw = this.uniform();
    if (lossDraw < this.loss) {
      this.counts.lost++;
      return;
    }
    const copies = duplicateDraw < this.duplicate ? 2 : 1;
    if (copies === 2) this.counts.duplicated++;
    const delay = this.jitterMs * delayDraw;
    if (delay > 0) this.counts.delayed++;
    if (reorderDraw < this.reorder && this.held === undefined) {
      this.counts.reordered++;
      this.hold(datagram, deliver, copies);
      return;
    }
    this.after(delay, () => {
      for (let i = 0; i < copies; i++) deliver(datagram);
      this.releaseHeld();
    });
  }

  /** Drops everything still waiting and ignores later datagrams. Idempotent. */
  close(): void {
    this.closed = true;
    for (const timer of this.pending) timer.cancel();
    this.pending.clear();
    this.held?.timer.cancel();
    this.held = undefined;
  }

  private hold(datagram: Uint8Array, deliver: (d: Uint8Array) => void, copies: number): void {
    const send = copies === 2 ? (d: Uint8Array) => (deliver(d), deliver(d)) : deliver;
    const timer = this.clock.setTimer(this.holdMs, () => this.releaseHeld());
    this.held = { datagram, deliver: send, timer };
  }

  private releaseHeld(): void {
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    held.timer.cancel();
    held.deliver(held.datagram);
  }

  private after(delayMs: number, run: () => void): void {
    if (delayMs <= 0) {
      run();
      return;
    }
    const timer = this.clock.setTimer(delayMs, () => {
      this.pending.delete(timer);
      run();
    });
    this.pending.add(timer);
  }

  private uniform(): number {
    return this.random.int(TWO_POW_32) / TWO_POW_32;
  }
}
