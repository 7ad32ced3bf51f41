/**
 * A frame clock for media: one tick every `periodMs` (20 ms for the usual audio ptime), scheduled
 * against absolute time so it never drifts, with an explicit policy for ticks that fire late.
 *
 * Tick `n` is due at `start + n × periodMs` on the injected {@link Clock}. Each timer is armed for
 * the next due time computed from `start`, never as "now + period", so timer latency does not
 * accumulate: a tick that fires 3 ms late is followed by one armed 17 ms later.
 *
 * Late ticks (the process was busy, or suspended):
 * - **catch-up**: when the timer fires after one or more further ticks fell due, the missed ticks
 *   run back to back in the same callback, up to `maxCatchUpTicks` of them. For a sender this
 *   is a short burst of packets with consecutive timestamps, which a receiver's jitter buffer
 *   absorbs; nothing is lost.
 * - **skip**: ticks further behind than that are skipped: they never run, and the next tick run is
 *   the most recent one due, so the pacer stays real-time instead of flooding the network with
 *   seconds of stale audio after a pause. The callback sees how many were skipped (`skipped`),
 *   and the tick index still counts them, so a sender's RTP timestamp (`index × samples`) jumps
 *   by the skipped time, exactly as a real-time source would have produced it.
 *
 * Lateness (`now − due` when a tick runs) is measured per tick for the statistics; a tick later
 * than `lateThresholdMs` counts as late.
 *
 * All pacers on the same {@link Clock} object share one scheduler: a binary heap ordered by due
 * time and a single clock timer armed for the earliest. A thousand sessions then cost one timer
 * per wake-up instead of a thousand timer objects every 20 ms, which was the largest source of
 * garbage per packet (and so of GC pauses) on a busy media process.
 */
import type { Clock, TimerHandle } from '../core/clock.js';

/** Options of {@link FramePacer}. */
export interface FramePacerOptions {
  /** The clock that schedules and measures ticks. */
  clock: Clock;
  /** Tick period in ms; default 20. */
  periodMs?: number;
  /** Missed ticks run back to back when a timer fires late, at most this many; default 3. */
  maxCatchUpTicks?: number;
  /** A tick running more than this many ms after its due time counts as late; default 5. */
  lateThresholdMs?: number;
  /**
   * A timer firing up to this many ms before the due time runs the tick (timers of a
   * millisecond-granular event loop may fire a fraction of a ms early); default 1.
   */
  earlyToleranceMs?: number;
  /** Called once per tick run. */
  onTick: (tick: PacerTick) => void;
}

/** One tick, as passed to {@link FramePacerOptions.onTick}. The object is reused. */
export interface PacerTick {
  /** Tick number since start (0, 1, 2, …); skipped ticks are counted. */
  index: number;
  /** When it was due, on the clock. */
  dueMs: number;
  /** `now − dueMs`, at least 0. */
  latenessMs: number;
  /** Ticks skipped right before this one (0 unless the pacer fell far behind). */
  skipped: number;
  /** Whether this tick runs as a catch-up, in the same callback as a later-due one. */
  catchUp: boolean;
}

/** What a pacer has done. */
export interface PacerStats {
  /** Ticks run. */
  ticks: number;
  /** … of which ran more than `lateThresholdMs` late. */
  lateTicks: number;
  /** … of which ran as catch-up ticks. */
  catchUpTicks: number;
  /** Ticks never run (the skip policy). */
  skippedTicks: number;
  /** Largest lateness seen, in ms. */
  maxLatenessMs: number;
  /** Sum of the lateness of every tick run, in ms (divide by `ticks` for the mean). */
  totalLatenessMs: number;
}

/** A drift-free periodic scheduler; see the module comment for the catch-up/skip policy. */
export class FramePacer {
  /** Tick period in ms. */
  readonly periodMs: number;
  private readonly clock: Clock;
  private readonly maxCatchUp: number;
  private readonly lateThreshold: number;
  private readonly earlyTolerance: number;
  private readonly onTick: (tick: PacerTick) => void;
  private startMs = 0;
  private next = 0;
  private readonly scheduler: PacerScheduler;
  /** This pacer's entry in the shared scheduler's heap. */
  private readonly slot: HeapSlot;
  private active = false;
  private readonly tick: PacerTick = { index: 0, dueMs: 0, latenessMs: 0, skipped: 0, catchUp: false };
  private readonly counters: PacerStats = {
    ticks: 0,
    lateTicks: 0,
    catchUpTicks: 0,
    skippedTicks: 0,
    maxLatenessMs: 0,
    totalLatenessMs: 0,
  };

  /** @throws RangeError on a non-positive period or negative limits. */
  constructor(options: FramePacerOptions) {
    this.clock = options.clock;
    this.periodMs = options.periodMs ?? 20;
    this.maxCatchUp = options.maxCatchUpTicks ?? 3;
    this.lateThreshold = options.lateThresholdMs ?? 5;
    this.earlyTolerance = options.earlyToleranceMs ?? 1;
    this.onTick = options.onTick;
    this.scheduler = PacerScheduler.for(this.clock);
    this.slot = { due: 0, index: -1, fire: this.fire };
    if (!(this.periodMs > 0)) throw new RangeError(`periodMs must be positive, got ${this.periodMs}`);
    if (!Number.isInteger(this.maxCatchUp) || this.maxCatchUp < 0) {
      throw new RangeError(`maxCatchUpTicks must be a non-negative integer, got ${this.maxCatchUp}`);
    }
    if (!(this.earlyTolerance >= 0 && this.earlyTolerance < this.periodMs)) {
      throw new RangeError(`earlyToleranceMs must be within [0, periodMs), got ${this.earlyTolerance}`);
    }
  }

  /** Whether the pacer is running. */
  get running(): boolean {
    return this.active;
  }

  /** Counters (a live read-only view). */
  get stats(): Readonly<PacerStats> {
    return this.counters;
  }

  /** The index of the next tick to run. */
  get nextIndex(): number {
    return this.next;
  }

  /** When tick 0 was due. */
  get startedAt(): number {
    return this.startMs;
  }

  /**
   * Starts ticking; tick 0 runs at once (synchronously). Idempotent while running.
   *
   * @param atMs - when tick 0 is due; default now.
   */
  start(atMs: number = this.clock.now()): void {
    if (this.active) return;
    this.active = true;
    this.startMs = atMs;
    this.next = 0;
    this.fire();
  }

  /** Stops ticking. Idempotent. */
  stop(): void {
    this.active = false;
    this.scheduler.remove(this.slot);
  }

  private readonly fire = (): void => {
    if (!this.active) return;
    const now = this.clock.now();
    const due = Math.floor((now + this.earlyTolerance - this.startMs) / this.periodMs);
    if (due >= this.next) {
      let skipped = 0;
      if (due - this.next > this.maxCatchUp) {
        skipped = due - this.next - this.maxCatchUp;
        this.next += skipped;
        this.counters.skippedTicks += skipped;
      }
      const tick = this.tick;
      const counters = this.counters;
      while (this.next <= due) {
        const index = this.next++;
        const dueMs = this.startMs + index * this.periodMs;
        const lateness = now > dueMs ? now - dueMs : 0;
        counters.ticks++;
        counters.totalLatenessMs += lateness;
        if (lateness > this.lateThreshold) counters.lateTicks++;
        if (lateness > counters.maxLatenessMs) counters.maxLatenessMs = lateness;
        tick.index = index;
        tick.dueMs = dueMs;
        tick.latenessMs = lateness;
        tick.skipped = skipped;
        tick.catchUp = index < due;
        if (tick.catchUp) counters.catchUpTicks++;
        skipped = 0;
        this.onTick(tick);
        if (!this.active) return;
      }
    }
    // Scheduled for the absolute due time of the next tick (no drift).
    this.scheduler.schedule(this.slot, this.startMs + this.next * this.periodMs, this.earlyTolerance);
  };
}

/** A pacer's place in the {@link PacerScheduler} heap (one per pacer, reused: no garbage per tick). */
interface HeapSlot {
  due: number;
  /** Position in the heap, or -1 when not scheduled. */
  index: number;
  readonly fire: () => void;
}

/**
 * One clock timer for every pacer on a clock: a binary min-heap of due times. Internal to the
 * pacer; found per clock object through a WeakMap, so pacers on different clocks (each test's
 * FakeClock) never share.
 */
class PacerScheduler {
  private static readonly byClock = new WeakMap<Clock, PacerScheduler>();
  private readonly heap: HeapSlot[] = [];
  private timer: TimerHandle | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  /** Largest early tolerance asked for: a wake-up this close to a due time runs it. */
  private tolerance = 0;

  private constructor(private readonly clock: Clock) {}

  static for(clock: Clock): PacerScheduler {
    let scheduler = PacerScheduler.byClock.get(clock);
    if (scheduler === undefined) {
      scheduler = new PacerScheduler(clock);
      PacerScheduler.byClock.set(clock, scheduler);
    }
    return scheduler;
  }

  schedule(slot: HeapSlot, due: number, tolerance: number): void {
    if (tolerance > this.tolerance) this.tolerance = tolerance;
    if (slot.index >= 0) this.removeAt(slot.index);
    slot.due = due;
    slot.index = this.heap.length;
    this.heap.push(slot);
    this.up(slot.index);
    this.arm();
  }

  remove(slot: HeapSlot): void {
    if (slot.index < 0) return;
    this.removeAt(slot.index);
    if (this.heap.length === 0) this.disarm();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    const limit = this.clock.now() + this.tolerance;
    // Everything due now runs in due order; a pacer re-schedules itself past `limit` (it runs
    // every tick due up to its own now + tolerance), so the loop ends.
    for (let top = this.heap[0]; top !== undefined && top.due <= limit; top = this.heap[0]) {
      this.removeAt(0);
      top.fire();
    }
    this.arm();
  };

  private arm(): void {
    const top = this.heap[0];
    if (top === undefined) return;
    if (this.timer !== undefined && this.timerDue <= top.due) return;
    this.disarm();
    this.timerDue = top.due;
    // Whole milliseconds, which is what the event loop resolves anyway; the tolerance covers a
    // wake-up rounded early.
    const delay = Math.round(top.due - this.clock.now());
    this.timer = this.clock.setTimer(delay > 0 ? delay : 0, this.fire);
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
  }

  private removeAt(index: number): void {
    const heap = this.heap;
    const removed = heap[index]!;
    const last = heap.pop()!;
    removed.index = -1;
    if (last === removed) return;
    heap[index] = last;
    last.index = index;
    this.down(index);
    this.up(last.index);
  }

  private up(index: number): void {
    const heap = this.heap;
    const slot = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (parent.due <= slot.due) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = slot;
    slot.index = index;
  }

  private down(index: number): void {
    const heap = this.heap;
    const length = heap.length;
    const slot = heap[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && heap[right]!.due < heap[left]!.due ? right : left;
      const childSlot = heap[child]!;
      if (childSlot.due >= slot.due) break;
      heap[index] = childSlot;
      childSlot.index = index;
      index = child;
    }
    heap[index] = slot;
    slot.index = index;
  }
}
