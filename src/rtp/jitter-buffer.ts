/**
 * An adaptive playout (jitter) buffer for one RTP audio stream, sans-I/O: packets are pushed as
 * they arrive, and a pacer pops one frame per frame period. Time comes from an injected
 * {@link Clock}; there are no timers.
 *
 * How it plays out:
 * - Packets are stored in a fixed ring of `capacity` slots indexed by extended sequence number,
 *   which reorders them, detects duplicates, and bounds memory (G40): a packet outside the
 *   window `[next to play, next to play + capacity)` is never stored.
 * - A playout cursor (next sequence number, its expected timestamp and due time) advances one
 *   frame per {@link JitterBuffer.pop}. The first packet is due `initialDelayMs` after it
 *   arrives; later ones follow their RTP timestamps, so a silence gap (DTX, or a talkspurt
 *   starting with the marker bit) is kept as silence rather than concealed.
 * - A missing frame whose successors have arrived is reported as `lost` (reason `missing`) so
 *   the caller conceals it; missing sequence numbers that carry no media time (for example
 *   telephone-event packets interleaved in the same sequence space) are skipped silently.
 * - When nothing is buffered at a due time (underrun), `lost` (reason `underrun`) is returned
 *   without consuming a sequence number, so a late packet still plays and the delay grows by
 *   what it missed. After `maxDelayMs` of continuous underrun the buffer goes `idle` and the
 *   next packet re-anchors playout.
 * - Adaptation: the interarrival jitter J (RFC 3550 A.8 style, in ms) sets the target delay,
 *   `clamp(jitterMultiplier × J, minDelayMs, maxDelayMs)`. The buffer tracks the average time
 *   packets wait before playout; when it is more than a frame off target (or a packet arrives
 *   too late) the buffer grows by one concealed frame (`lost`, reason `expand`) or shrinks by
 *   one frame, preferring to stretch or cut a silence gap when one comes; a frame of speech is
 *   dropped to shrink only when the delay is more than three frames above target.
 *
 * @remarks The objects returned by `pop()` are owned by the buffer and overwritten by the next
 * `pop()`: copy the fields you keep. Payloads are stored by reference (no copy), so the memory
 * behind a pushed payload must not be reused while it is buffered.
 */
import type { Clock } from '../core/clock.js';

/** Options of {@link JitterBuffer}. */

/** Excess delay, in frames, above which a frame is dropped mid-talkspurt instead of waiting for a gap. */
const SHRINK_WITHOUT_GAP_FRAMES = 3;

export interface JitterBufferOptions {
  /** The session clock; `push()`/`pop()` default `now` to `clock.now()`. */
  clock: Clock;
  /** Media clock rate in Hz; default 8000. */
  clockRate?: number;
  /** Frame duration assumed until timestamps show otherwise, in ms; default 20. */
  ptimeMs?: number;
  /** Lowest target delay in ms; default 20. */
  minDelayMs?: number;
  /** Highest target delay in ms; default 200. */
  maxDelayMs?: number;
  /** Delay before the first packet plays, in ms; default 40 (clamped to min/max). */
  initialDelayMs?: number;
  /** Packets held at most (ring slots); default 64. */
  capacity?: number;
  /** Target delay as a multiple of the jitter estimate; default 3. */
  jitterMultiplier?: number;
  /** Least time between two adaptation steps, in ms; default 500. */
  adaptIntervalMs?: number;
  /** Backward sequence step still treated as a late packet rather than a restart; default 100. */
  maxMisorder?: number;
}

/** What a buffer needs from a packet (an {@link RtpPacket} fits). */
export interface JitterBufferPacket {
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly payload: Uint8Array;
  readonly marker?: boolean;
}

/** What `push()` did with a packet. */
export type JitterBufferPushResult =
  /** Stored for playout. */
  | 'buffered'
  /** Already held: dropped. */
  | 'duplicate'
  /** Its playout slot has passed: dropped (and the buffer will grow). */
  | 'late'
  /** Outside the window (a jump, awaiting confirmation by the next packet): dropped. */
  | 'overflow';

/** A frame to decode and play. Owned by the buffer: valid until the next `pop()`. */
export interface JitterBufferFrame {
  readonly kind: 'frame';
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly payload: Uint8Array;
  readonly marker: boolean;
}

/** Why `pop()` returned a concealment marker. */
export type JitterBufferLossReason =
  /** The packet never arrived (later ones did); its sequence number is consumed. */
  | 'missing'
  /** Nothing arrived in time; the sequence number is still awaited. */
  | 'underrun'
  /** The buffer is deliberately growing its delay by one frame. */
  | 'expand';

/** "Conceal one frame here" (repeat or fade the last one). Owned by the buffer: valid until the next `pop()`. */
export interface JitterBufferLoss {
  readonly kind: 'lost';
  /** Sequence number of the frame concealed (or awaited). */
  readonly sequenceNumber: number;
  /** Timestamp the concealed frame would have had. */
  readonly timestamp: number;
  readonly reason: JitterBufferLossReason;
}

/** One playout step. */
export type JitterBufferOutput = JitterBufferFrame | JitterBufferLoss;

/** Counters since creation or {@link JitterBuffer.reset}. */
export interface JitterBufferStats {
  /** Packets pushed. */
  received: number;
  /** Frames returned for playout. */
  played: number;
  /** `lost` markers returned, all reasons. */
  concealed: number;
  /** … of which `missing`. */
  missing: number;
  /** Packets dropped as duplicates. */
  duplicates: number;
  /** Packets dropped as too late. */
  late: number;
  /** Packets dropped as outside the window. */
  overflow: number;
  /** Frames dropped to shrink the delay. */
  dropped: number;
  /** Times playout re-anchored (first packet, after idle, after a confirmed jump). */
  resyncs: number;
}

/** `empty`: no packet yet. `playing`: the cursor advances. `idle`: long underrun, waiting to re-anchor. */
export type JitterBufferState = 'empty' | 'playing' | 'idle';

// Extended sequence numbers start this far up so unwrapping backwards never goes negative.
const SEQ_BASE = 0x1000000;
const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Adaptive jitter buffer; see the module comment for the algorithm.
 *
 * @example
 * ```ts
 * const jb = new JitterBuffer({ clock });
 * socket.onRtp = (packet) => jb.push(packet);
 * every 20 ms: for (let out; (out = jb.pop()); ) out.kind === 'frame' ? play(out.payload) : conceal();
 * ```
 */
export class JitterBuffer {
  private readonly clock: Clock;
  private readonly clockRate: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly initialDelayMs: number;
  private readonly capacity: number;
  private readonly jitterMultiplier: number;
  private readonly adaptIntervalMs: number;
  private readonly maxMisorder: number;

  // The ring: slot i holds extended sequence slotSeq[i] (or -1 when empty).
  private readonly slotSeq: Float64Array;
  private readonly slotTs: Uint32Array;
  private readonly slotArrival: Float64Array;
  private readonly slotMarker: Uint8Array;
  private readonly slotPayload: Uint8Array[];
  private count = 0;

  private currentState: JitterBufferState = 'empty';
  private highestSeq = 0;
  private cursorSeq = 0;
  private cursorTs = 0;
  private cursorDue = 0;
  private underrunMs = 0;
  private playing = false;
  private frameTs: number;
  private jumpSeq = -1;

  private jitterEstimate = 0;
  private hasLast = false;
  private lastArrival = 0;
  private lastTs = 0;
  private waitEstimate: number;
  private pendingAdjust = 0;
  private lastAdjustAt = Number.NEGATIVE_INFINITY;

  private readonly counters: JitterBufferStats = {
    received: 0,
    played: 0,
    concealed: 0,
    missing: 0,
    duplicates: 0,
    late: 0,
    overflow: 0,
    dropped: 0,
    resyncs: 0,
  };
  private readonly frameOut = {
    kind: 'frame' as const,
    sequenceNumber: 0,
    timestamp: 0,
    payload: EMPTY,
    marker: false,
  };
  private readonly lossOut = {
    kind: 'lost' as const,
    sequenceNumber: 0,
    timestamp: 0,
    reason: 'missing' as JitterBufferLossReason,
  };

  /** @throws RangeError on inconsistent options (min > max, capacity < 2, non-positive rates). */
  constructor(options: JitterBufferOptions) {
    this.clock = options.clock;
    this.clockRate = options.clockRate ?? 8000;
    const ptimeMs = options.ptimeMs ?? 20;
    this.minDelayMs = options.minDelayMs ?? 20;
    this.maxDelayMs = options.maxDelayMs ?? 200;
    this.capacity = options.capacity ?? 64;
    this.jitterMultiplier = options.jitterMultiplier ?? 3;
    this.adaptIntervalMs = options.adaptIntervalMs ?? 500;
    this.maxMisorder = options.maxMisorder ?? 100;
    if (!(this.clockRate > 0) || !(ptimeMs > 0)) throw new RangeError('clockRate and ptimeMs must be positive');
    if (!(this.minDelayMs >= 0) || !(this.maxDelayMs >= this.minDelayMs)) {
      throw new RangeError(`need 0 <= minDelayMs <= maxDelayMs, got ${this.minDelayMs}, ${this.maxDelayMs}`);
    }
    if (!Number.isInteger(this.capacity) || this.capacity < 2) {
      throw new RangeError(`capacity must be an integer >= 2, got ${this.capacity}`);
    }
    this.initialDelayMs = clamp(options.initialDelayMs ?? 40, this.minDelayMs, this.maxDelayMs);
    this.frameTs = Math.round((ptimeMs * this.clockRate) / 1000);
    this.waitEstimate = this.initialDelayMs;
    this.slotSeq = new Float64Array(this.capacity).fill(-1);
    this.slotTs = new Uint32Array(this.capacity);
    this.slotArrival = new Float64Array(this.capacity);
    this.slotMarker = new Uint8Array(this.capacity);
    this.slotPayload = new Array<Uint8Array>(this.capacity).fill(EMPTY);
  }

  /** Current state. */
  get state(): JitterBufferState {
    return this.currentState;
  }

  /** Packets held. */
  get size(): number {
    return this.count;
  }

  /** Interarrival jitter estimate in ms. */
  get jitterMs(): number {
    return this.jitterEstimate;
  }

  /** Delay the buffer aims for, in ms: `clamp(jitterMultiplier × jitter, min, max)`. */
  get targetDelayMs(): number {
    return clamp(this.jitterMultiplier * this.jitterEstimate, this.minDelayMs, this.maxDelayMs);
  }

  /** Average time a packet waits between arrival and playout, in ms (smoothed). */
  get delayMs(): number {
    return this.waitEstimate;
  }

  /** Frame duration in ms, as learned from consecutive timestamps. */
  get frameMs(): number {
    return (this.frameTs * 1000) / this.clockRate;
  }

  /** Counters (a live read-only view). */
  get stats(): Readonly<JitterBufferStats> {
    return this.counters;
  }

  /** Drops everything held and returns to `empty` (counters are kept). */
  reset(): void {
    for (let i = 0; i < this.capacity; i++) {
      this.slotSeq[i] = -1;
      this.slotPayload[i] = EMPTY;
    }
    this.count = 0;
    this.currentState = 'empty';
    this.hasLast = false;
    this.pendingAdjust = 0;
    this.jumpSeq = -1;
  }

  /**
   * Offers one received packet.
   *
   * @param now - arrival time on the session clock; default `clock.now()`.
   */
  push(packet: JitterBufferPacket, now: number = this.clock.now()): JitterBufferPushResult {
    this.counters.received++;
    const seq = packet.sequenceNumber & 0xffff;
    const ts = packet.timestamp >>> 0;
    if (this.currentState === 'empty') {
      this.highestSeq = SEQ_BASE + seq;
      this.anchor(this.highestSeq, ts, now);
      this.store(this.highestSeq, packet, ts, now);
      return 'buffered';
    }
    // Unwrap to the extended sequence number nearest the highest seen (RFC 3550 A.1 style).
    const delta = ((seq - (this.highestSeq & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    const extSeq = this.highestSeq + delta;

    if (extSeq < this.cursorSeq - this.maxMisorder || extSeq >= this.cursorSeq + this.capacity) {
      // Out of the window: a restart or a huge loss. Believe it when the next packet follows it.
      if (extSeq === this.jumpSeq) {
        this.reset();
        this.highestSeq = extSeq;
        this.anchor(extSeq, ts, now);
        this.store(extSeq, packet, ts, now);
        return 'buffered';
      }
      this.jumpSeq = extSeq + 1;
      this.counters.overflow++;
      return 'overflow';
    }
    this.jumpSeq = -1;
    if (extSeq > this.highestSeq) this.highestSeq = extSeq;
    this.observeArrival(ts, now);

    if (this.currentState === 'idle' && extSeq >= this.cursorSeq) {
      // RFC 3550 §5.1 / RFC 3551 §4.1: a new talkspurt (marker or not) after a long gap re-anchors.
      this.anchor(extSeq, ts, now);
      this.store(extSeq, packet, ts, now);
      return 'buffered';
    }
    if (extSeq < this.cursorSeq && !this.playing && this.highestSeq - extSeq < this.capacity) {
      // Nothing played since the anchor: an earlier packet that was overtaken becomes the start.
      const backMs = (((this.cursorTs - ts) | 0) * 1000) / this.clockRate;
      this.cursorSeq = extSeq;
      this.cursorTs = ts;
      this.cursorDue -= Math.max(0, backMs);
      this.store(extSeq, packet, ts, now);
      return 'buffered';
    }
    if (extSeq < this.cursorSeq) {
      this.counters.late++;
      // A packet that missed its slot: ask for one more frame of delay (fast attack).
      if (this.pendingAdjust <= 0 && this.waitEstimate + this.frameMs <= this.maxDelayMs) {
        this.pendingAdjust = this.frameMs;
        this.lastAdjustAt = now;
      }
      return 'late';
    }
    const slot = extSeq % this.capacity;
    if (this.slotSeq[slot] === extSeq) {
      this.counters.duplicates++;
      return 'duplicate';
    }
    this.store(extSeq, packet, ts, now);
    this.observeWait(ts, now);
    return 'buffered';
  }

  /**
   * The next playout step if one is due at `now`: a frame, a `lost` marker to conceal, or
   * `undefined` when nothing is due (not started, idle, before the due time, or inside a
   * silence gap). At most one step per call: a pacer that fell behind calls again until
   * `undefined`.
   *
   * @param now - the playout time on the session clock; default `clock.now()`.
   */
  pop(now: number = this.clock.now()): JitterBufferOutput | undefined {
    if (this.currentState !== 'playing' || now < this.cursorDue) return undefined;
    for (;;) {
      const slot = this.cursorSeq % this.capacity;
      if (this.slotSeq[slot] === this.cursorSeq) {
        const ts = this.slotTs[slot]!;
        const gap = (ts - this.cursorTs) | 0;
        if (gap > 0) {
          // A silence gap (or loss) in media time: keep it, stretched or cut by pending adaptation.
          let gapMs = (gap * 1000) / this.clockRate;
          if (this.cursorDue + gapMs - this.slotArrival[slot]! > this.maxDelayMs + this.frameMs) {
            // The timestamp jumped further than the arrival time did: re-anchor on arrival.
            gapMs = Math.max(0, this.slotArrival[slot]! + this.targetDelayMs - this.cursorDue);
          }
          if (this.pendingAdjust !== 0) {
            const adjusted = Math.max(0, gapMs + this.pendingAdjust);
            this.waitEstimate += adjusted - gapMs;
            this.pendingAdjust = 0;
            gapMs = adjusted;
          }
          this.cursorTs = ts;
          this.cursorDue += gapMs;
          if (now < this.cursorDue) return undefined;
        }
        if (this.pendingAdjust > 0) return this.expand(now);
        // Shrinking by dropping a frame cuts into speech, so it waits for a silence gap (handled
        // above) unless the excess delay is large enough that waiting would cost more.
        if (
          this.pendingAdjust < 0 &&
          this.waitEstimate - this.targetDelayMs > SHRINK_WITHOUT_GAP_FRAMES * this.frameMs &&
          this.slotSeq[(this.cursorSeq + 1) % this.capacity] === this.cursorSeq + 1
        ) {
          // Shrink: drop this frame; the next one takes its due time.
          this.clear(slot);
          this.counters.dropped++;
          this.cursorSeq++;
          this.cursorTs = (ts + this.frameTs) >>> 0;
          this.waitEstimate += this.pendingAdjust;
          this.pendingAdjust = 0;
          continue;
        }
        const out = this.frameOut;
        out.sequenceNumber = this.cursorSeq & 0xffff;
        out.timestamp = ts;
        out.payload = this.slotPayload[slot]!;
        out.marker = this.slotMarker[slot] === 1;
        this.clear(slot);
        this.cursorSeq++;
        this.cursorTs = (ts + this.frameTs) >>> 0;
        this.cursorDue += this.frameMs;
        this.underrunMs = 0;
        this.playing = true;
        this.counters.played++;
        return out;
      }
      if (this.count > 0) {
        // Missing, but later packets are here. If no media time separates the cursor from the
        // next one (the gap was filled by underrun concealment, or the missing sequence numbers
        // were not audio), skip straight to it; otherwise conceal one frame.
        const next = this.nextBuffered();
        const mediaGap = (this.slotTs[next % this.capacity]! - this.cursorTs) | 0;
        if (mediaGap <= 0) {
          this.cursorSeq = next;
          continue;
        }
        this.counters.missing++;
        const out = this.loss('missing');
        this.cursorSeq++;
        this.advanceTime();
        return out;
      }
      // Underrun: conceal without consuming the sequence number, so a late packet still plays.
      this.underrunMs += this.frameMs;
      if (this.underrunMs > this.maxDelayMs) {
        this.currentState = 'idle';
        return undefined;
      }
      const out = this.loss('underrun');
      this.advanceTime();
      // Underrun grew the delay: hold off shrinking it again for a while.
      this.lastAdjustAt = now;
      return out;
    }
  }

  private expand(now: number): JitterBufferLoss {
    // Grow: conceal one frame without moving the media cursor.
    const out = this.loss('expand');
    this.lastAdjustAt = now;
    this.cursorDue += this.frameMs;
    this.waitEstimate += this.pendingAdjust;
    this.pendingAdjust = 0;
    return out;
  }

  private loss(reason: JitterBufferLossReason): JitterBufferLoss {
    const out = this.lossOut;
    out.sequenceNumber = this.cursorSeq & 0xffff;
    out.timestamp = this.cursorTs;
    out.reason = reason;
    this.counters.concealed++;
    return out;
  }

  private advanceTime(): void {
    this.cursorTs = (this.cursorTs + this.frameTs) >>> 0;
    this.cursorDue += this.frameMs;
  }

  private anchor(extSeq: number, ts: number, now: number): void {
    const delay = this.currentState === 'empty' ? this.initialDelayMs : this.targetDelayMs;
    this.currentState = 'playing';
    this.cursorSeq = extSeq;
    this.cursorTs = ts;
    this.cursorDue = now + delay;
    this.waitEstimate = delay;
    this.underrunMs = 0;
    this.playing = false;
    this.pendingAdjust = 0;
    // Let the wait estimate settle before the first adaptation step.
    this.lastAdjustAt = now;
    this.jumpSeq = -1;
    this.counters.resyncs++;
    this.hasLast = true;
    this.lastArrival = now;
    this.lastTs = ts;
  }

  private store(extSeq: number, packet: JitterBufferPacket, ts: number, now: number): void {
    const slot = extSeq % this.capacity;
    this.slotSeq[slot] = extSeq;
    this.slotTs[slot] = ts;
    this.slotArrival[slot] = now;
    this.slotMarker[slot] = packet.marker === true ? 1 : 0;
    this.slotPayload[slot] = packet.payload;
    this.count++;
    // Learn the frame duration from a consecutive neighbour (20 ms G.711 → 160).
    const prev = (extSeq - 1) % this.capacity;
    if (this.slotSeq[prev] === extSeq - 1) {
      const step = (ts - this.slotTs[prev]!) | 0;
      if (step > 0 && step <= (this.maxDelayMs * this.clockRate) / 1000) this.frameTs = step;
    }
  }

  private clear(slot: number): void {
    this.slotSeq[slot] = -1;
    this.slotPayload[slot] = EMPTY;
    this.count--;
  }

  private nextBuffered(): number {
    // count > 0 and every held packet is in (cursorSeq, cursorSeq + capacity): bounded scan.
    for (let seq = this.cursorSeq + 1; seq < this.cursorSeq + this.capacity; seq++) {
      if (this.slotSeq[seq % this.capacity] === seq) return seq;
    }
    return this.cursorSeq + 1;
  }

  /** RFC 3550 A.8-style jitter, in ms, on every in-window arrival. */
  private observeArrival(ts: number, now: number): void {
    if (this.hasLast) {
      const tsDeltaMs = (((ts - this.lastTs) | 0) * 1000) / this.clockRate;
      // Clamped so one timestamp jump cannot pin the target at its maximum for seconds.
      const d = Math.min(this.maxDelayMs, Math.abs(now - this.lastArrival - tsDeltaMs));
      this.jitterEstimate += (d - this.jitterEstimate) / 16;
    }
    this.hasLast = true;
    this.lastArrival = now;
    this.lastTs = ts;
  }

  /** Tracks how long packets wait and schedules a one-frame adaptation step when off target. */
  private observeWait(ts: number, now: number): void {
    if (this.currentState !== 'playing') return;
    const offsetMs = (((ts - this.cursorTs) | 0) * 1000) / this.clockRate;
    const wait = Math.max(this.cursorDue, this.cursorDue + offsetMs) - now;
    // A wait beyond the maximum delay means the timestamps jumped (pop() re-anchors those): skip.
    if (wait > this.maxDelayMs + this.frameMs) return;
    this.waitEstimate += (Math.max(-this.maxDelayMs, wait) - this.waitEstimate) / 16;
    if (this.pendingAdjust !== 0 || now - this.lastAdjustAt < this.adaptIntervalMs) return;
    const frame = this.frameMs;
    const off = this.waitEstimate - this.targetDelayMs;
    if (off > frame && this.waitEstimate - frame >= this.minDelayMs) {
      this.pendingAdjust = -frame;
      this.lastAdjustAt = now;
    } else if (off < -frame && this.waitEstimate + frame <= this.maxDelayMs) {
      this.pendingAdjust = frame;
      this.lastAdjustAt = now;
    }
  }
}

function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}
