/**
 * RTP reception and transmission statistics (RFC 3550 §6.4, A.1, A.3, A.8), round-trip time
 * from LSR/DLSR (§6.4.1), and NTP timestamp helpers (§4).
 *
 * Every object here is O(1) in memory: a sequence or timestamp jump changes a few numbers and
 * never allocates in proportion to the gap (G40). Time comes in as arguments (milliseconds from
 * the session's {@link Clock}), never from globals.
 */
import type { ReportBlock, SenderReport } from './rtcp.js';

/** RFC 3550 A.1 `RTP_SEQ_MOD`. */
export const RTP_SEQ_MOD = 0x10000;
/** Seconds between the NTP epoch (1900-01-01) and the Unix epoch (1970-01-01). */
export const NTP_UNIX_EPOCH_OFFSET_S = 2_208_988_800;

const TWO_POW_32 = 0x1_0000_0000;

/** Options of {@link RtpReceiverStats}. */
export interface ReceiverStatsOptions {
  /** Media clock rate of the payload format in Hz (8000 for G.711). */
  clockRate: number;
  /**
   * In-order packets needed before a new source is declared valid (RFC 3550 A.1
   * `MIN_SEQUENTIAL`); default 2. Use 1 to accept a source on its first packet (for example
   * when SDP `a=ssrc` already announced it).
   */
  minSequential?: number;
  /** Largest forward jump still treated as loss rather than a restart (`MAX_DROPOUT`); default 3000. */
  maxDropout?: number;
  /** Largest backward step still treated as reordering (`MAX_MISORDER`); default 100. */
  maxMisorder?: number;
}

/**
 * What the receiver knows about one remote source: sequence tracking with wrap-around,
 * probation and restart detection (RFC 3550 A.1), loss (A.3), interarrival jitter (A.8), and the
 * LSR/DLSR bookkeeping for the report block it sends back (§6.4.1).
 *
 * @example
 * ```ts
 * const stats = new RtpReceiverStats(packet.ssrc, { clockRate: 8000 });
 * if (stats.update(packet.sequenceNumber, packet.timestamp, clock.now(), packet.payload.length)) {
 *   jitterBuffer.push(packet);
 * }
 * // every RTCP interval:
 * const block = stats.createReportBlock(clock.now());
 * ```
 */
export class RtpReceiverStats {
  /** SSRC of the source. */
  readonly ssrc: number;
  /** Media clock rate in Hz. */
  readonly clockRate: number;

  private readonly minSequential: number;
  private readonly maxDropout: number;
  private readonly maxMisorder: number;

  // RFC 3550 A.1 `source` fields.
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private probation: number;
  private receivedCount = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private started = false;
  private validated = false;

  // RFC 3550 A.8, kept wrap-safe: the previous packet's arrival (in timestamp units) and timestamp.
  private hasTransit = false;
  private lastArrivalUnits = 0;
  private lastTimestamp = 0;
  private jitterUnits = 0;

  private octets = 0;
  private lastFraction = 0;
  private lastSrMiddle = 0;
  private lastSrArrivalMs = 0;

  constructor(ssrc: number, options: ReceiverStatsOptions) {
    if (!(options.clockRate > 0)) throw new RangeError(`clockRate must be positive, got ${options.clockRate}`);
    this.ssrc = ssrc;
    this.clockRate = options.clockRate;
    this.minSequential = Math.max(1, options.minSequential ?? 2);
    this.maxDropout = options.maxDropout ?? 3000;
    this.maxMisorder = options.maxMisorder ?? 100;
    this.probation = this.minSequential;
  }

  /**
   * Accounts for one received data packet (RFC 3550 A.1 `update_seq`, then A.8 jitter).
   *
   * @param sequenceNumber - the packet's 16-bit sequence number.
   * @param timestamp - the packet's 32-bit RTP timestamp.
   * @param arrivalMs - arrival time in milliseconds on the session clock.
   * @param payloadLength - payload octets, summed into {@link octetsReceived}.
   * @param timing - `false` for packets whose timestamp does not advance with the media clock,
   * such as telephone-event updates sharing the SSRC (RFC 4733 §2.5.1.2 repeats the event-start
   * timestamp): they count for sequence and loss but stay out of the jitter estimate.
   * @returns `true` when the packet counts (source validated, not a jump awaiting confirmation);
   * `false` during probation or for the first packet after a large jump (A.1 `bad_seq`).
   */
  update(sequenceNumber: number, timestamp: number, arrivalMs: number, payloadLength = 0, timing = true): boolean {
    const seq = sequenceNumber & 0xffff;
    if (!this.started) {
      // RFC 3550 A.1: a new source starts on probation with max_seq = seq - 1.
      this.started = true;
      this.initSeq(seq);
      this.maxSeq = (seq - 1) & 0xffff;
      this.probation = this.minSequential;
    }
    if (!this.updateSeq(seq)) return false;
    this.octets += payloadLength;
    if (timing) this.updateJitter(timestamp >>> 0, arrivalMs);
    return true;
  }

  /** RFC 3550 A.1 `update_seq`. */
  private updateSeq(seq: number): boolean {
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (this.probation > 0) {
      // Source not valid until minSequential packets in sequence have arrived.
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSeq(seq);
          this.validated = true;
          this.receivedCount++;
          return true;
        }
      } else {
        this.probation = this.minSequential - 1;
        this.maxSeq = seq;
      }
      return false;
    } else if (udelta < this.maxDropout) {
      // In order, with a permissible gap; a smaller number means the 16 bits wrapped.
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD;
      this.maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - this.maxMisorder) {
      // A very large jump: believe it only when the next packet continues from it.
      if (seq === this.badSeq) {
        // Two sequential packets: the other side restarted without telling us (A.1).
        this.initSeq(seq);
        this.hasTransit = false;
      } else {
        this.badSeq = (seq + 1) & 0xffff;
        return false;
      }
    }
    // else: duplicate or reordered packet; counted as received, so loss may go negative (§6.4.1).
    this.receivedCount++;
    return true;
  }

  /** RFC 3550 A.1 `init_seq`. */
  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1; // so seq === badSeq is false
    this.cycles = 0;
    this.receivedCount = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /** RFC 3550 A.8, with timestamp differences taken modulo 2^32 so a wrap is not a jump. */
  private updateJitter(timestamp: number, arrivalMs: number): void {
    const arrivalUnits = (arrivalMs * this.clockRate) / 1000;
    if (this.hasTransit) {
      // D(i-1,i) = (Rj - Ri) - (Sj - Si)
      const tsDelta = (timestamp - this.lastTimestamp) | 0;
      const d = Math.abs(arrivalUnits - this.lastArrivalUnits - tsDelta);
      this.jitterUnits += (d - this.jitterUnits) / 16;
    }
    this.hasTransit = true;
    this.lastArrivalUnits = arrivalUnits;
    this.lastTimestamp = timestamp;
  }

  /** Whether probation is over (RFC 3550 A.1); report blocks are meaningful only after it. */
  get valid(): boolean {
    return this.validated;
  }

  /** Extended highest sequence number received: cycles × 65536 + max seq (not wrapped to 32 bits). */
  get extendedHighestSequence(): number {
    return this.cycles + this.maxSeq;
  }

  /** Packets expected since validation (RFC 3550 A.3). */
  get expected(): number {
    return this.validated ? this.extendedHighestSequence - this.baseSeq + 1 : 0;
  }

  /** Packets counted as received since validation (duplicates included, as A.1 does). */
  get received(): number {
    return this.receivedCount;
  }

  /** Payload octets of counted packets. */
  get octetsReceived(): number {
    return this.octets;
  }

  /** Cumulative packets lost (A.3): expected − received, clamped to the signed 24-bit field. */
  get cumulativeLost(): number {
    return Math.max(-0x800000, Math.min(0x7fffff, this.expected - this.receivedCount));
  }

  /** Fraction lost in the last interval closed by {@link createReportBlock}, as the 8-bit field. */
  get fractionLost(): number {
    return this.lastFraction;
  }

  /** {@link fractionLost} as a ratio in [0, 1). */
  get fractionLostRatio(): number {
    return this.lastFraction / 256;
  }

  /** Interarrival jitter estimate in timestamp units (A.8). */
  get jitter(): number {
    return this.jitterUnits;
  }

  /** Interarrival jitter estimate in milliseconds. */
  get jitterMs(): number {
    return (this.jitterUnits * 1000) / this.clockRate;
  }

  /**
   * Records a sender report from this source, for LSR/DLSR in the next report block
   * (RFC 3550 §6.4.1).
   *
   * @param arrivalMs - when the SR arrived, on the same clock later passed to {@link createReportBlock}.
   */
  onSenderReport(ntpSeconds: number, ntpFraction: number, arrivalMs: number): void {
    this.lastSrMiddle = ntpMiddle32(ntpSeconds, ntpFraction);
    this.lastSrArrivalMs = arrivalMs;
  }

  /**
   * Builds the report block about this source and closes the loss interval (RFC 3550 A.3):
   * the next call's fraction lost covers only what happened after this one.
   *
   * @param nowMs - the sending time, on the session clock (for DLSR).
   */
  createReportBlock(nowMs: number): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    this.expectedPrior = expected;
    const receivedInterval = this.receivedCount - this.receivedPrior;
    this.receivedPrior = this.receivedCount;
    const lostInterval = expectedInterval - receivedInterval;
    // A.3: (lost_interval << 8) / expected_interval, kept within the 8-bit field.
    this.lastFraction =
      expectedInterval <= 0 || lostInterval <= 0
        ? 0
        : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    const hasSr = this.lastSrMiddle !== 0;
    const dlsr = hasSr ? Math.floor(((nowMs - this.lastSrArrivalMs) * 65536) / 1000) : 0;
    return {
      ssrc: this.ssrc >>> 0,
      fractionLost: this.lastFraction,
      cumulativeLost: this.cumulativeLost,
      highestSequence: this.validated ? this.extendedHighestSequence % TWO_POW_32 : 0,
      jitter: Math.min(0xffffffff, Math.floor(this.jitterUnits)),
      lastSr: this.lastSrMiddle,
      delaySinceLastSr: Math.max(0, Math.min(0xffffffff, dlsr)),
    };
  }
}

/**
 * What a sender counts for its SR (RFC 3550 §6.4.1): packets and payload octets sent, and the
 * RTP timestamp/wall-clock pairing that lets receivers synchronise streams.
 */
export class RtpSenderStats {
  /** SSRC of the stream. */
  readonly ssrc: number;
  /** Media clock rate in Hz. */
  readonly clockRate: number;
  /** Data packets sent (wrapped to 32 bits only in the SR). */
  packetCount = 0;
  /** Payload octets sent, headers and padding excluded (wrapped to 32 bits only in the SR). */
  octetCount = 0;

  private lastTimestamp = 0;
  private lastSentMs = Number.NEGATIVE_INFINITY;

  constructor(ssrc: number, clockRate: number) {
    if (!(clockRate > 0)) throw new RangeError(`clockRate must be positive, got ${clockRate}`);
    this.ssrc = ssrc;
    this.clockRate = clockRate;
  }

  /** Accounts for one data packet sent at `nowMs` carrying `rtpTimestamp`. */
  onPacketSent(payloadLength: number, rtpTimestamp: number, nowMs: number): void {
    this.packetCount++;
    this.octetCount += payloadLength;
    this.lastTimestamp = rtpTimestamp >>> 0;
    this.lastSentMs = nowMs;
  }

  /** Whether a data packet went out at or after `sinceMs` (the `we_sent` flag of RFC 3550 §6.3). */
  sentSince(sinceMs: number): boolean {
    return this.lastSentMs >= sinceMs;
  }

  /**
   * Builds a sender report. The RTP timestamp is extrapolated from the last packet sent to
   * `nowMs`, because §6.4.1 wants the RTP time of the same instant as the NTP time, not the
   * timestamp of an adjacent packet.
   *
   * @param nowMs - now on the session clock (the clock `onPacketSent` used).
   * @param wallClockMs - now as Unix time in ms (for the NTP timestamp), e.g. a `Date.now()`
   * taken at session start plus elapsed session-clock time.
   * @param reports - report blocks to include (at most 31).
   */
  createSenderReport(nowMs: number, wallClockMs: number, reports: ReportBlock[] = []): SenderReport {
    const ntp = msToNtp(wallClockMs);
    const elapsed = Number.isFinite(this.lastSentMs) ? nowMs - this.lastSentMs : 0;
    const rtpTimestamp = (this.lastTimestamp + Math.round((elapsed * this.clockRate) / 1000)) % TWO_POW_32;
    return {
      type: 'sr',
      ssrc: this.ssrc >>> 0,
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: rtpTimestamp < 0 ? rtpTimestamp + TWO_POW_32 : rtpTimestamp,
      packetCount: this.packetCount % TWO_POW_32,
      octetCount: this.octetCount % TWO_POW_32,
      reports,
    };
  }
}

/** A 64-bit NTP timestamp (RFC 3550 §4) as two unsigned 32-bit halves. */
export interface NtpTimestamp {
  /** Seconds since 1900-01-01 00:00 UTC, modulo 2^32. */
  seconds: number;
  /** Fraction of a second in units of 2^-32 s. */
  fraction: number;
}

/** Converts Unix time in milliseconds to an NTP timestamp (RFC 3550 §4). */
export function msToNtp(unixMs: number): NtpTimestamp {
  const wholeSeconds = Math.floor(unixMs / 1000);
  const remainderMs = unixMs - wholeSeconds * 1000;
  return {
    seconds: (wholeSeconds + NTP_UNIX_EPOCH_OFFSET_S) % TWO_POW_32,
    fraction: Math.min(0xffffffff, Math.floor((remainderMs / 1000) * TWO_POW_32)),
  };
}

/**
 * Converts an NTP timestamp to Unix time in milliseconds. Seconds with the top bit clear are
 * read as NTP era 1 (after 2036-02-07), per the RFC 4330 §3 convention, so the result covers
 * 1968–2104.
 */
export function ntpToMs(seconds: number, fraction: number): number {
  const fullSeconds = seconds >= 0x8000_0000 ? seconds : seconds + TWO_POW_32;
  return (fullSeconds - NTP_UNIX_EPOCH_OFFSET_S) * 1000 + (fraction / TWO_POW_32) * 1000;
}

/**
 * The middle 32 bits of an NTP timestamp (low 16 of the seconds, high 16 of the fraction), the
 * format of LSR and of the RTT arithmetic in RFC 3550 §6.4.1; units of 1/65536 s.
 */
export function ntpMiddle32(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

/** {@link ntpMiddle32} of a Unix time in milliseconds. */
export function msToNtpMiddle32(unixMs: number): number {
  const ntp = msToNtp(unixMs);
  return ntpMiddle32(ntp.seconds, ntp.fraction);
}

/**
 * Round-trip time from a report block about one of our streams (RFC 3550 §6.4.1):
 * `A − LSR − DLSR`, where A is the middle 32 bits of our NTP time when the report arrived.
 *
 * @param arrivalNtpMiddle32 - {@link msToNtpMiddle32} of the arrival (same wall clock as our SRs).
 * @returns milliseconds, or `undefined` when the block carries no LSR (no SR received yet) or
 * the result is negative (clock step, or a block that does not answer our SR).
 */
export function roundTripTimeMs(
  block: Pick<ReportBlock, 'lastSr' | 'delaySinceLastSr'>,
  arrivalNtpMiddle32: number,
): number | undefined {
  if (block.lastSr === 0) return undefined;
  // Modulo 2^32 so a wrap of the 16-bit seconds between SR and RR is harmless.
  const units = (arrivalNtpMiddle32 - block.lastSr - block.delaySinceLastSr) | 0;
  if (units < 0) return undefined;
  return (units * 1000) / 65536;
}
