/**
 * The embedded location store: a Map in this process. Bindings are lost on restart and are not
 * shared with other servers (use the sqlite or redis store for that).
 */
import { SystemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import {
  applyBindingChanges,
  canonicalAor,
  LocationStoreError,
  startSweep,
  type Binding,
  type BindingChange,
  type LocationStore,
  type UpdateOptions,
  type UpdateResult,
  UpdateBasedLocationStore,
} from './store.js';

/** Options of {@link MemoryLocationStore}. */
export interface MemoryLocationStoreOptions {
  /** Time base of `expiresAt`. Default: a {@link SystemClock} (monotonic; fine in one process). */
  readonly clock?: Clock;
  /**
   * When set, {@link MemoryLocationStore.expire} runs every this many milliseconds on the clock
   * to free memory. Without it expiry is lazy: expired bindings are invisible at once and are
   * dropped when their AOR is next touched, with no timer at all. Default: off.
   */
  readonly sweepIntervalMs?: number;
}

/**
 * A {@link LocationStore} in memory. Every operation runs synchronously inside its promise, so
 * each {@link update} is atomic without locks.
 */
export class MemoryLocationStore extends UpdateBasedLocationStore {
  readonly clock: Clock;
  private readonly table = new Map<string, readonly Binding[]>();
  private readonly sweep: TimerHandle | undefined;
  private closed = false;

  constructor(options: MemoryLocationStoreOptions = {}) {
    super();
    this.clock = options.clock ?? new SystemClock();
    this.sweep = options.sweepIntervalMs === undefined ? undefined : startSweep(this.clock, options.sweepIntervalMs, () => this.expire());
  }

  /** Number of AORs held (including ones whose bindings expired but were not swept yet). */
  get size(): number {
    return this.table.size;
  }

  async update(aor: string, changes: readonly BindingChange[], options?: UpdateOptions): Promise<UpdateResult> {
    this.check();
    const key = canonicalAor(aor);
    const result = applyBindingChanges(key, this.table.get(key) ?? [], changes, this.clock.now(), options);
    this.put(key, result.bindings);
    return { ...result, bindings: [...result.bindings] };
  }

  async bindings(aor: string): Promise<Binding[]> {
    return this.current(aor);
  }

  async expire(now: number = this.clock.now()): Promise<number> {
    this.check();
    let count = 0;
    for (const [key, list] of this.table) {
      const kept = list.filter((b) => b.expiresAt > now);
      count += list.length - kept.length;
      this.put(key, kept);
    }
    return count;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweep?.cancel();
    this.table.clear();
  }

  /** Unexpired bindings of an AOR; lazily forgets the expired ones it meets. */
  private current(aor: string): Binding[] {
    this.check();
    const key = canonicalAor(aor);
    const list = this.table.get(key);
    if (list === undefined) return [];
    const now = this.clock.now();
    const kept = list.filter((b) => b.expiresAt > now);
    if (kept.length !== list.length) this.put(key, kept);
    return kept;
  }

  private put(key: string, list: readonly Binding[]): void {
    if (list.length === 0) this.table.delete(key);
    else this.table.set(key, Object.freeze([...list]));
  }

  private check(): void {
    if (this.closed) throw new LocationStoreError('LOCATION_ERR_CLOSED', 'the location store is closed');
  }
}
