import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../core/random.js';
import { parseRtcp, serializeRtcp } from './rtcp.js';
import {
  RtpReceiverStats,
  RtpSenderStats,
  msToNtp,
  msToNtpMiddle32,
  ntpMiddle32,
  ntpToMs,
  roundTripTimeMs,
} from './stats.js';

const RATE = 8000;
const FRAME_TS = 160; // 20 ms of G.711
const FRAME_MS = 20;

interface StreamOptions {
  count: number;
  firstSeq?: number;
  firstTs?: number;
  drop?: (index: number) => boolean;
  /** Extra arrival delay in ms for packet i. */
  delay?: (index: number) => number;
}

/** Feeds a synthetic 20 ms stream into `stats`; returns how many packets were delivered. */
function feed(stats: RtpReceiverStats, o: StreamOptions): number {
  let delivered = 0;
  for (let i = 0; i < o.count; i++) {
    if (o.drop?.(i) === true) continue;
    const seq = ((o.firstSeq ?? 0) + i) & 0xffff;
    const ts = ((o.firstTs ?? 0) + i * FRAME_TS) >>> 0;
    stats.update(seq, ts, 1000 + i * FRAME_MS + (o.delay?.(i) ?? 0), 160);
    delivered++;
  }
  return delivered;
}

describe('RtpReceiverStats: sequence tracking (RFC 3550 A.1)', () => {
  test('probation: the first packet only starts it; the second validates the source', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    assert.equal(s.update(100, 0, 0), false);
    assert.equal(s.valid, false);
    assert.equal(s.update(101, 160, 20), true);
    assert.equal(s.valid, true);
    assert.equal(s.received, 1);
    assert.equal(s.expected, 1);
  });

  test('probation restarts on an out-of-order packet', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    assert.equal(s.update(100, 0, 0), false);
    assert.equal(s.update(105, 0, 20), false); // not 101: probation starts over from 105
    assert.equal(s.valid, false);
    assert.equal(s.update(106, 0, 40), true);
    assert.equal(s.expected, 1);
  });

  test('minSequential 1 accepts a source on its first packet', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE, minSequential: 1 });
    assert.equal(s.update(7, 0, 0), true);
    assert.equal(s.received, 1);
  });

  test('sequence wrap at 65535 extends the highest sequence number', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 20, firstSeq: 65530 });
    // 65530 starts probation; 65531 is the base. Last seq is 65530+19 = 65549 → wire seq 13, one cycle.
    assert.equal(s.extendedHighestSequence, 65536 + 13);
    assert.equal(s.expected, 19);
    assert.equal(s.received, 19);
    assert.equal(s.cumulativeLost, 0);
    const block = s.createReportBlock(2000);
    assert.equal(block.highestSequence, 65549);
    assert.equal(block.fractionLost, 0);
  });

  test('several wraps over a long call', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 200_000, firstSeq: 1 });
    assert.equal(s.extendedHighestSequence, 200_000);
    assert.equal(s.cumulativeLost, 0);
  });

  test('reordered packets count without adding a cycle', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    for (const seq of [65533, 65534, 0, 65535, 1, 2]) s.update(seq, 0, 0);
    assert.equal(s.extendedHighestSequence, 65536 + 2);
    assert.equal(s.received, 5);
    assert.equal(s.cumulativeLost, 0);
  });

  test('duplicates make cumulative loss negative, as §6.4.1 allows', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 10 });
    s.update(5, 5 * FRAME_TS, 2000);
    s.update(5, 5 * FRAME_TS, 2001);
    assert.equal(s.cumulativeLost, -2);
    assert.equal(s.createReportBlock(3000).cumulativeLost, -2);
  });

  test('one huge jump is ignored; a second sequential packet confirms a restart', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 10, firstSeq: 1000 });
    assert.equal(s.received, 9);
    assert.equal(s.update(40_000, 0, 5000), false);
    assert.equal(s.extendedHighestSequence, 1009);
    assert.equal(s.update(40_001, 160, 5020), true);
    // init_seq: counts restart from the new base.
    assert.equal(s.extendedHighestSequence, 40_001);
    assert.equal(s.received, 1);
    assert.equal(s.expected, 1);
  });

  test('a forward gap under MAX_DROPOUT is loss, not a restart', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 10, firstSeq: 0 });
    assert.equal(s.update(2999 + 9, 0, 0), true);
    assert.equal(s.cumulativeLost, 2998);
  });

  test('sequence and timestamp jumps keep state O(1): thousands of jumps leave finite numbers', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    const random = new SeededRandom(7);
    feed(s, { count: 10 });
    for (let i = 0; i < 10_000; i++) s.update(random.int(65536), random.int(2 ** 32), 1000 + i, 10);
    assert.ok(Number.isFinite(s.jitter));
    assert.ok(Number.isFinite(s.expected));
    const block = s.createReportBlock(20_000);
    assert.ok(block.highestSequence >= 0 && block.highestSequence <= 0xffffffff);
    assert.ok(block.jitter >= 0 && block.jitter <= 0xffffffff);
    assert.ok(block.cumulativeLost >= -0x800000 && block.cumulativeLost <= 0x7fffff);
  });
});

describe('RtpReceiverStats: loss (RFC 3550 A.3)', () => {
  test('5 % of 1000 packets dropped → cumulative lost 50, fraction ≈ 5 %', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    // Drop every 20th packet, never the first two (those validate the source).
    const delivered = feed(s, { count: 1000, firstSeq: 40_000, drop: (i) => i % 20 === 10 });
    assert.equal(delivered, 950);
    assert.equal(s.expected, 999); // base is the second packet
    assert.equal(s.received, 949);
    assert.equal(s.cumulativeLost, 50);
    const block = s.createReportBlock(30_000);
    assert.equal(block.cumulativeLost, 50);
    assert.equal(block.fractionLost, Math.floor((50 * 256) / 999));
    assert.ok(Math.abs(s.fractionLostRatio - 0.05) < 0.005, `fraction ${s.fractionLostRatio}`);
  });

  test('randomly placed drops give the same totals', () => {
    const random = new SeededRandom(42);
    const dropped = new Set<number>();
    while (dropped.size < 50) dropped.add(2 + random.int(998));
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 1000, firstSeq: 65000, drop: (i) => dropped.has(i) });
    assert.equal(s.cumulativeLost, 50);
    s.createReportBlock(30_000);
    assert.ok(Math.abs(s.fractionLostRatio - 0.05) < 0.005);
  });

  test('fraction lost covers only the interval since the previous report', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 100, drop: (i) => i >= 50 && i < 60 });
    assert.equal(s.createReportBlock(5000).fractionLost, Math.floor((10 * 256) / 99));
    // Next interval: 100 more packets, no loss.
    for (let i = 100; i < 200; i++) s.update(i, i * FRAME_TS, 1000 + i * FRAME_MS);
    const block = s.createReportBlock(10_000);
    assert.equal(block.fractionLost, 0);
    assert.equal(block.cumulativeLost, 10);
  });

  test('an interval with only losses saturates at 255, not 256', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 10 });
    s.createReportBlock(1000);
    // Next packet arrives 20 later: the 19 in between are lost, 1 received → 19/20.
    s.update(29, 0, 0);
    assert.equal(s.createReportBlock(2000).fractionLost, Math.floor((19 * 256) / 20));
    assert.equal(s.createReportBlock(3000).fractionLost, 0);
  });
});

describe('RtpReceiverStats: jitter (RFC 3550 A.8)', () => {
  test('a perfectly paced stream has zero jitter', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 500 });
    assert.equal(s.jitter, 0);
  });

  test('alternating 0/10 ms delay converges to 80 timestamp units (10 ms)', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 1000, delay: (i) => (i % 2) * 10 });
    assert.ok(Math.abs(s.jitter - 80) < 0.5, `jitter ${s.jitter}`);
    assert.ok(Math.abs(s.jitterMs - 10) < 0.1);
    assert.equal(s.createReportBlock(30_000).jitter, Math.floor(s.jitter));
  });

  test('jitter grows with injected arrival jitter', () => {
    const results = [0, 5, 20, 60].map((spread) => {
      const random = new SeededRandom(3);
      const s = new RtpReceiverStats(1, { clockRate: RATE });
      feed(s, { count: 2000, delay: () => (spread === 0 ? 0 : random.int(spread * 1000) / 1000) });
      return s.jitterMs;
    });
    for (let i = 1; i < results.length; i++) {
      assert.ok(results[i]! > results[i - 1]!, `jitter ${results.join(', ')} is not increasing`);
    }
    // Uniform U[0, a) delay: E|X − Y| = a/3.
    assert.ok(Math.abs(results[3]! - 20) < 4, `jitter for 60 ms spread: ${results[3]}`);
  });

  test('telephone-event packets (timing = false) count for loss but not jitter', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 10 });
    // Five DTMF updates share the SSRC and sequence space, all with the event-start timestamp.
    for (let i = 10; i < 15; i++) s.update(i, 10 * FRAME_TS, 1000 + i * FRAME_MS, 4, false);
    for (let i = 15; i < 30; i++) s.update(i, i * FRAME_TS, 1000 + i * FRAME_MS, 160);
    assert.equal(s.jitter, 0);
    assert.equal(s.cumulativeLost, 0);
    assert.equal(s.extendedHighestSequence, 29);
  });

  test('a timestamp wrap is not a jump', () => {
    const s = new RtpReceiverStats(1, { clockRate: RATE });
    feed(s, { count: 100, firstTs: 0xffffffff - 50 * FRAME_TS });
    assert.equal(s.jitter, 0);
  });
});

describe('report blocks, LSR/DLSR and round-trip time (RFC 3550 §6.4.1)', () => {
  test('LSR is the middle 32 bits of the last SR; DLSR counts 1/65536 s since it arrived', () => {
    const s = new RtpReceiverStats(0xabc, { clockRate: RATE });
    feed(s, { count: 10 });
    assert.equal(s.createReportBlock(1000).lastSr, 0);
    s.onSenderReport(0x83aa7e80, 0x80000000, 10_000);
    const block = s.createReportBlock(10_500);
    assert.equal(block.ssrc, 0xabc);
    assert.equal(block.lastSr, 0x7e808000);
    assert.equal(block.delaySinceLastSr, 32768);
  });

  test('the RFC 3550 §6.4.1 example: A − LSR − DLSR = 6.125 s', () => {
    // A = 46864.500 s (0xb710:8000), LSR = 46853.125 s (0xb705:2000), DLSR = 5.250 s (0x0005:4000).
    assert.equal(roundTripTimeMs({ lastSr: 0xb7052000, delaySinceLastSr: 0x00054000 }, 0xb7108000), 6125);
  });

  test('no LSR, or an answer from the future, gives undefined', () => {
    assert.equal(roundTripTimeMs({ lastSr: 0, delaySinceLastSr: 0 }, 123), undefined);
    assert.equal(roundTripTimeMs({ lastSr: 1000, delaySinceLastSr: 500 }, 1200), undefined);
  });

  test('RTT across the 16-bit seconds wrap', () => {
    const lsr = 0xffff8000; // 65535.5 s
    const a = 0x00010000; // 65537.0 s (wrapped)
    assert.equal(roundTripTimeMs({ lastSr: lsr, delaySinceLastSr: 0x8000 }, a), 1000);
  });

  test('end to end: SR → RR over the wire → 100 ms RTT', () => {
    const wallStart = Date.UTC(2024, 0, 1);
    const sender = new RtpSenderStats(0x1111, RATE);
    const receiver = new RtpReceiverStats(0x1111, { clockRate: RATE });
    for (let i = 0; i < 50; i++) {
      sender.onPacketSent(160, i * FRAME_TS, i * FRAME_MS);
      receiver.update(i, i * FRAME_TS, 50 + i * FRAME_MS, 160);
    }
    // Sender emits an SR at t = 1000 (sender clock); one-way delay 50 ms.
    const sr = sender.createSenderReport(1000, wallStart + 1000);
    const srOnWire = parseRtcp(serializeRtcp([sr]))?.[0];
    assert.equal(srOnWire?.type, 'sr');
    if (srOnWire?.type !== 'sr') return;
    receiver.onSenderReport(srOnWire.ntpSeconds, srOnWire.ntpFraction, 1050);
    // Receiver answers 333 ms later; the RR reaches the sender 50 ms after that.
    const rr = serializeRtcp([{ type: 'rr', ssrc: 0x2222, reports: [receiver.createReportBlock(1383)] }]);
    const block = parseRtcp(rr)?.[0];
    assert.equal(block?.type, 'rr');
    if (block?.type !== 'rr') return;
    const rtt = roundTripTimeMs(block.reports[0]!, msToNtpMiddle32(wallStart + 1433));
    assert.ok(rtt !== undefined && Math.abs(rtt - 100) < 0.1, `rtt ${rtt}`);
  });
});

describe('RtpSenderStats', () => {
  test('counts packets and payload octets; SR extrapolates the RTP timestamp to now', () => {
    const s = new RtpSenderStats(5, RATE);
    assert.equal(s.sentSince(0), false);
    for (let i = 0; i < 10; i++) s.onPacketSent(160, 1000 + i * FRAME_TS, i * FRAME_MS);
    assert.equal(s.packetCount, 10);
    assert.equal(s.octetCount, 1600);
    assert.equal(s.sentSince(180), true);
    assert.equal(s.sentSince(181), false);
    const sr = s.createSenderReport(230, Date.UTC(2024, 0, 1));
    // Last packet: ts 1000 + 9·160 = 2440 at t=180; 50 ms later → +400.
    assert.equal(sr.rtpTimestamp, 2840);
    assert.equal(sr.packetCount, 10);
    assert.equal(sr.octetCount, 1600);
    assert.equal(sr.ssrc, 5);
  });

  test('the extrapolated RTP timestamp wraps at 2^32', () => {
    const s = new RtpSenderStats(5, RATE);
    s.onPacketSent(160, 0xffffff00, 0);
    assert.equal(s.createSenderReport(100, 0).rtpTimestamp, (0xffffff00 + 800) % 2 ** 32);
  });
});

describe('NTP helpers (RFC 3550 §4)', () => {
  test('Unix epoch is NTP second 2208988800', () => {
    assert.deepEqual(msToNtp(0), { seconds: 2_208_988_800, fraction: 0 });
    assert.equal(ntpToMs(2_208_988_800, 0), 0);
  });

  test('half a second is fraction 2^31', () => {
    assert.equal(msToNtp(1500).fraction, 0x80000000);
  });

  test('round trip is exact to well under a millisecond', () => {
    for (const ms of [Date.UTC(2000, 0, 1), Date.UTC(2024, 5, 30, 12, 34, 56, 789), 1_700_000_000_123]) {
      const ntp = msToNtp(ms);
      assert.ok(Math.abs(ntpToMs(ntp.seconds, ntp.fraction) - ms) < 0.001);
    }
  });

  test('era 1 (after 2036-02-07T06:28:16Z) is read back correctly', () => {
    const rollover = Date.UTC(2036, 1, 7, 6, 28, 16);
    assert.deepEqual(msToNtp(rollover), { seconds: 0, fraction: 0 });
    assert.equal(ntpToMs(0, 0), rollover);
    const later = rollover + 86_400_000;
    const ntp = msToNtp(later);
    assert.equal(ntpToMs(ntp.seconds, ntp.fraction), later);
  });

  test('middle 32 bits', () => {
    assert.equal(ntpMiddle32(0x12345678, 0x9abcdef0), 0x56789abc);
    assert.equal(msToNtpMiddle32(0), ntpMiddle32(2_208_988_800, 0));
  });
});
