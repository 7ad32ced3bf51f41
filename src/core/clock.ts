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
 * Timers sit in a binary heap, so thousands of transactions cost log time per timer.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 0;
  private heap: ScheduledTimer[] = [];
  private live = 0;

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
    this.push(timer);
    this.live++;
    return {
      cancel: () => {
        if (timer.cancelled) return;
        timer.cancelled = true;
        this.live--;
      },
    };
  }

  /** Number of timers still waiting to fire. */
  get pendingTimers(): number {
    return this.live;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance needs a non-negative number, got ${ms}`);
    const target = this.current + ms;
    for (;;) {
      const next = this.peek();
      if (next === undefined || next.due > target) break;
      this.pop();
      next.cancelled = true;
      this.live--;
      this.current = next.due;
      next.callback();
    }
    this.current = target;
  }

  /** Fires everything pending, however far away, and returns the time reached. */
  runAll(limit = 100_000): number {
    for (let i = 0; i < limit; i++) {
      const next = this.peek();
      if (next === undefined) return this.current;
      this.advance(next.due - this.current);
    }
    throw new Error(`FakeClock.runAll: more than ${limit} timers fired; a timer keeps re-arming itself`);
  }

  /** The earliest live timer, dropping cancelled ones from the top. */
  private peek(): ScheduledTimer | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0];
  }

  private before(a: ScheduledTimer, b: ScheduledTimer): boolean {
    return a.due < b.due || (a.due === b.due && a.id < b.id);
  }

  private push(timer: ScheduledTimer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && this.before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && this.before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) break;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}
