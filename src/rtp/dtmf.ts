/**
 * DTMF over RTP as telephone-events (RFC 4733): the 4-octet payload, a sans-I/O sender that plans
 * the packets of a digit string, and a receiver that reports each digit once however the
 * packets were lost, duplicated or reordered.
 */
import { checkUint, outputBuffer, readU16, writeU16 } from './bytes.js';

/** The DTMF events 0–15 in event-code order (RFC 4733 §3.2). */
export const DTMF_DIGITS = '0123456789*#ABCD';
/** Octets of one telephone-event block. */
export const TELEPHONE_EVENT_SIZE = 4;

/** The event code of a DTMF character (`0`–`9`, `*`, `#`, `A`–`D`, case-insensitive), or `undefined`. */
export function dtmfDigitToEvent(digit: string): number | undefined {
  if (digit.length !== 1) return undefined;
  const index = DTMF_DIGITS.indexOf(digit.toUpperCase());
  return index < 0 ? undefined : index;
}

/** The DTMF character of an event code 0–15, or `undefined` for any other event. */
export function dtmfEventToDigit(event: number): string | undefined {
  return Number.isInteger(event) && event >= 0 && event < 16 ? DTMF_DIGITS[event] : undefined;
}

/**
 * One telephone-event block (RFC 4733 §2.3).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     event     |E|R| volume    |          duration             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
export interface TelephoneEvent {
  /** Event code (0–255; 0–15 are DTMF). */
  event: number;
  /** E bit: this packet ends the event (§2.3.3). */
  end: boolean;
  /** Power level in −dBm0, 0–63 (§2.3.4); larger is quieter. */
  volume: number;
  /** Duration so far in timestamp units, 0–65535 (§2.3.5). */
  duration: number;
}

/**
 * Reads the first telephone-event block of a payload; `null` when shorter than 4 octets.
 * The R bit is ignored, as §2.3.3 asks of receivers.
 */
export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | null {
  if (payload.length < TELEPHONE_EVENT_SIZE) return null;
  const flags = payload[1]!;
  return { event: payload[0]!, end: (flags & 0x80) !== 0, volume: flags & 0x3f, duration: readU16(payload, 2) };
}

/**
 * Writes a telephone-event block into `into` at `offset` (or a fresh buffer) and returns the
 * 4 written octets.
 *
 * @throws RangeError when event > 255, volume > 63, duration > 65535 or `into` is too small.
 */
export function serializeTelephoneEvent(event: TelephoneEvent, into?: Uint8Array, offset = 0): Uint8Array {
  checkUint('event', event.event, 255);
  checkUint('volume', event.volume, 63);
  checkUint('duration', event.duration, 0xffff);
  if (into === undefined) offset = 0;
  const out = outputBuffer(TELEPHONE_EVENT_SIZE, into, offset);
  out[offset] = event.event;
  out[offset + 1] = (event.end ? 0x80 : 0) | event.volume;
  writeU16(out, offset + 2, event.duration);
  return out.subarray(offset, offset + TELEPHONE_EVENT_SIZE);
}

/** Options of {@link DtmfSender}. */
export interface DtmfSenderOptions {
  /** Clock rate of the telephone-event format (SDP rtpmap); default 8000. */
  clockRate?: number;
  /** Tone duration per digit in ms; default 100. Must fit 65535 timestamp units. */
  durationMs?: number;
  /** Time between packets of an event in ms (the audio ptime); default 20. */
  intervalMs?: number;
  /** Pause between consecutive digits in ms; default 50. */
  gapMs?: number;
  /** Volume, 0–63 (−dBm0); default 10. */
  volume?: number;
  /** Times the final packet is sent (RFC 4733 §2.5.1.4 says three); default 3. */
  endRepeats?: number;
}

/** One packet the sender wants sent, with when and how. */
export interface DtmfPacket {
  /** When to send it, in ms after the start of the digit string. */
  offsetMs: number;
  /** Marker bit: set on the first packet of each event (RFC 4733 §2.5.1.2). */
  marker: boolean;
  /** RTP timestamp: the event's start, the same for all its packets (§2.5.1.2). */
  timestamp: number;
  /** The DTMF character. */
  digit: string;
  /** The telephone-event block. */
  event: TelephoneEvent;
  /** The 4-octet RTP payload. */
  payload: Uint8Array;
}

/**
 * Plans RFC 4733 packets for DTMF digits, sans-I/O: the caller's RTP session sends each
 * {@link DtmfPacket} at `start + offsetMs` on its clock with the telephone-event payload type
 * and its own sequence numbers and SSRC.
 *
 * Per digit (RFC 4733 §2.5.1.2–§2.5.1.4): a first packet with the marker bit; an update every
 * `intervalMs`, each covering the interval that starts at its send time (so duration grows
 * `interval`, `2 × interval`, …), all with the event-start timestamp; the last update carries the
 * E bit and the final duration, and is sent `endRepeats` times in all, `intervalMs` apart.
 * The next digit starts `durationMs + gapMs` later (or after the last end packet, whichever is
 * later), with a timestamp advanced by the same time.
 *
 * @example
 * ```ts
 * for (const p of new DtmfSender().generate('123#', session.currentTimestamp)) {
 *   clock.setTimer(p.offsetMs, () => session.sendEvent(p.payload, p.timestamp, p.marker));
 * }
 * ```
 */
export class DtmfSender {
  private readonly clockRate: number;
  private readonly durationMs: number;
  private readonly intervalMs: number;
  private readonly gapMs: number;
  private readonly volume: number;
  private readonly endRepeats: number;

  /** @throws RangeError on out-of-range options (duration over 65535 units, volume over 63, …). */
  constructor(options: DtmfSenderOptions = {}) {
    this.clockRate = options.clockRate ?? 8000;
    this.durationMs = options.durationMs ?? 100;
    this.intervalMs = options.intervalMs ?? 20;
    this.gapMs = options.gapMs ?? 50;
    this.volume = options.volume ?? 10;
    this.endRepeats = options.endRepeats ?? 3;
    if (!(this.clockRate > 0) || !(this.intervalMs > 0) || !(this.durationMs > 0) || !(this.gapMs >= 0)) {
      throw new RangeError('clockRate, intervalMs and durationMs must be positive, gapMs non-negative');
    }
    checkUint('volume', this.volume, 63);
    checkUint('endRepeats', this.endRepeats, 10);
    if (this.endRepeats < 1) throw new RangeError('endRepeats must be at least 1');
    // RFC 4733 §2.5.1.3 splits longer events into segments; one 16-bit duration is enough here.
    checkUint('duration in timestamp units', this.units(this.durationMs), 0xffff);
  }

  /**
   * Yields the packets for `digits` in send order.
   *
   * @param startTimestamp - the RTP timestamp (in the stream's clock) at which the first tone starts.
   * @throws RangeError when `digits` contains a character outside `0-9 * # A-D`.
   */
  *generate(digits: string, startTimestamp: number): Generator<DtmfPacket, void, undefined> {
    const events = [...digits].map((digit) => {
      const event = dtmfDigitToEvent(digit);
      if (event === undefined) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
      return event;
    });
    const total = this.units(this.durationMs);
    const step = this.units(this.intervalMs);
    const updates = Math.max(1, Math.ceil(this.durationMs / this.intervalMs));
    const span = Math.max(this.durationMs + this.gapMs, (updates - 1 + this.endRepeats) * this.intervalMs);
    let startMs = 0;
    for (const code of events) {
      const timestamp = (startTimestamp + this.units(startMs)) >>> 0;
      const digit = DTMF_DIGITS[code]!;
      for (let k = 0; k < updates - 1; k++) {
        yield this.packet(startMs + k * this.intervalMs, k === 0, timestamp, digit, code, false, (k + 1) * step);
      }
      for (let r = 0; r < this.endRepeats; r++) {
        const marker = updates === 1 && r === 0;
        yield this.packet(startMs + (updates - 1 + r) * this.intervalMs, marker, timestamp, digit, code, true, total);
      }
      startMs += span;
    }
  }

  /** {@link generate} collected into an array. */
  plan(digits: string, startTimestamp: number): DtmfPacket[] {
    return [...this.generate(digits, startTimestamp)];
  }

  private packet(
    offsetMs: number,
    marker: boolean,
    timestamp: number,
    digit: string,
    code: number,
    end: boolean,
    duration: number,
  ): DtmfPacket {
    const event: TelephoneEvent = { event: code, end, volume: this.volume, duration: Math.min(duration, 0xffff) };
    return { offsetMs, marker, timestamp, digit, event, payload: serializeTelephoneEvent(event) };
  }

  private units(ms: number): number {
    return Math.round((ms * this.clockRate) / 1000);
  }
}

/** Options of {@link DtmfReceiver}. */
export interface DtmfReceiverOptions {
  /** Clock rate of the telephone-event format; default 8000 (for `durationMs`). */
  clockRate?: number;
  /** Recent events remembered for de-duplication; default 16. */
  memory?: number;
}

/** A digit seen for the first time. */
export interface DtmfDigitEvent {
  type: 'digit';
  digit: string;
  /** Event code 0–15. */
  event: number;
  /** RTP timestamp of the event start. */
  timestamp: number;
  volume: number;
  /** Whether the first packet seen already ended the event (start packets were lost). */
  ended: boolean;
  /** Duration so far (final when `ended`), in ms. */
  durationMs: number;
}

/** The first end packet of a digit already reported with `ended: false`. */
export interface DtmfEndEvent {
  type: 'end';
  digit: string;
  event: number;
  timestamp: number;
  /** Final duration in ms. */
  durationMs: number;
}

/** What {@link DtmfReceiver.receive} reports. */
export type DtmfReceiverEvent = DtmfDigitEvent | DtmfEndEvent;

/**
 * Turns received telephone-event packets into digits, each reported once (RFC 4733 §2.5.2).
 *
 * An event is identified by its RTP timestamp and code (§2.5.1.2: every packet of an event has
 * the event-start timestamp), so the report comes from whichever packet arrives first (start,
 * update or end), and updates, retransmitted end packets and duplicates are absorbed. Sequence
 * numbers are not used: peers interleave events with audio, repeat end packets with the same or
 * new sequence numbers, and reorder. The memory is a fixed ring of recent events.
 *
 * Only DTMF events 0–15 are reported; other events are ignored.
 */
export class DtmfReceiver {
  private readonly clockRate: number;
  private readonly keysTs: Float64Array;
  private readonly keysEvent: Int16Array;
  private readonly ended: Uint8Array;
  private next = 0;

  constructor(options: DtmfReceiverOptions = {}) {
    this.clockRate = options.clockRate ?? 8000;
    const memory = options.memory ?? 16;
    if (!Number.isInteger(memory) || memory < 1) {
      throw new RangeError(`memory must be a positive integer, got ${memory}`);
    }
    this.keysTs = new Float64Array(memory).fill(-1);
    this.keysEvent = new Int16Array(memory).fill(-1);
    this.ended = new Uint8Array(memory);
  }

  /**
   * Accounts for one telephone-event packet.
   *
   * @param payload - the RTP payload (first block used).
   * @param timestamp - the packet's RTP timestamp.
   * @returns a report the first time an event is seen, and once more on its first end packet;
   * otherwise `undefined` (duplicate, update, retransmission, malformed, or not DTMF).
   */
  receive(payload: Uint8Array, timestamp: number): DtmfReceiverEvent | undefined {
    const block = parseTelephoneEvent(payload);
    if (block === null) return undefined;
    const digit = dtmfEventToDigit(block.event);
    if (digit === undefined) return undefined;
    const ts = timestamp >>> 0;
    const durationMs = (block.duration * 1000) / this.clockRate;
    const index = this.find(ts, block.event);
    if (index >= 0) {
      if (!block.end || this.ended[index] === 1) return undefined;
      this.ended[index] = 1;
      return { type: 'end', digit, event: block.event, timestamp: ts, durationMs };
    }
    const slot = this.next;
    this.next = (this.next + 1) % this.keysTs.length;
    this.keysTs[slot] = ts;
    this.keysEvent[slot] = block.event;
    this.ended[slot] = block.end ? 1 : 0;
    return {
      type: 'digit',
      digit,
      event: block.event,
      timestamp: ts,
      volume: block.volume,
      ended: block.end,
      durationMs,
    };
  }

  private find(ts: number, event: number): number {
    for (let i = 0; i < this.keysTs.length; i++) {
      if (this.keysTs[i] === ts && this.keysEvent[i] === event) return i;
    }
    return -1;
  }
}
