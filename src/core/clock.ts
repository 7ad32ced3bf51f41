/**
 * Time, injected. Every timer in voxlite goes through a {@link Clock} so that RFC 3261 timers
 * (T1 = 500 ms, Timer B = 64·T1, …) are tested in microseconds on a {@link FakeClock}.
 */

/** A handle returned by {@link Clock.setTimer}; call `cancel()` to stop it (idempotent). */
export interface TimerHandle {
  cancel(): void;
}

/** The one source of time and timers for a stack. */
export interface Clock {
  /** Milliseconds on a monotonic scale (not wall-clock time). */
  now(): number;
  /** Runs `callback` once after `delayMs` milliseconds. */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
}

/** The real clock: `performance.now()` and `setTimeout`, with timers that do not keep the process alive. */
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    // A pending retransmission must never be what keeps a CLI from exiting.
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  }
}

interface ScheduledTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. Timers fire in due order (ties in creation order), and a
 * timer set by a firing callback fires in the same `advance()` if it falls due within it.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 0;
  private timers: ScheduledTimer[] = [];

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer: ScheduledTimer = {
      id: this.nextId++,
      due: this.current + Math.max(0, delayMs),
      callback,
      cancelled: false,
    };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of timers still waiting to fire. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance needs a non-negative number, got ${ms}`);
    const target = this.current + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (next === undefined) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = next.due;
      next.callback();
    }
    this.current = target;
  }

  /** Fires everything pending, however far away, and returns the time reached. */
  runAll(limit = 100_000): number {
    for (let i = 0; i < limit; i++) {
      const next = this.nextDue(Number.POSITIVE_INFINITY);
      if (next === undefined) return this.current;
      this.advance(next.due - this.current);
    }
    throw new Error(`FakeClock.runAll: more than ${limit} timers fired; a timer keeps re-arming itself`);
  }

  private nextDue(limit: number): ScheduledTimer | undefined {
    let best: ScheduledTimer | undefined;
    this.timers = this.timers.filter((t) => !t.cancelled);
    for (const t of this.timers) {
      if (t.due > limit) continue;
      if (best === undefined || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }
}
