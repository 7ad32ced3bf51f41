import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../core/random.js';
import {
  RTCP_COMPENSATION,
  deterministicRtcpInterval,
  rtcpInterval,
  updateAvgRtcpSize,
  type RtcpIntervalParams,
} from './interval.js';

/** A two-party G.711 call: 64 kbit/s, both sending, ~100-octet compounds. */
const CALL: RtcpIntervalParams = {
  members: 2,
  senders: 2,
  sessionBandwidth: 64_000,
  weSent: true,
  avgRtcpSize: 100,
  initial: false,
};

describe('deterministic interval Td (RFC 3550 §6.3.1, A.7)', () => {
  test('a small call is held at the 5 s minimum', () => {
    assert.equal(deterministicRtcpInterval(CALL), 5000);
  });

  test('the first report uses half the minimum', () => {
    assert.equal(deterministicRtcpInterval({ ...CALL, initial: true }), 2500);
  });

  test('a large audience: receivers share 75 % of 5 % of the bandwidth', () => {
    const params = { ...CALL, members: 1000, senders: 1, weSent: false };
    // rtcp_bw = 64000 · 0.05 / 8 = 400 octets/s; receivers get 300; n = 999.
    assert.ok(Math.abs(deterministicRtcpInterval(params) - (100 * 999 * 1000) / 300) < 1e-6);
  });

  test('a lone sender among many shares 25 % with the other senders only', () => {
    const params = { ...CALL, members: 1000, senders: 1, weSent: true, avgRtcpSize: 1000 };
    // rtcp_bw 400 · 0.25 = 100 octets/s, n = 1 → 10 s.
    assert.equal(deterministicRtcpInterval(params), 10_000);
  });

  test('when senders are more than a quarter, everyone shares the whole RTCP bandwidth', () => {
    const params = { ...CALL, members: 400, senders: 200, avgRtcpSize: 100 };
    assert.equal(deterministicRtcpInterval(params), (100 * 400 * 1000) / 400);
  });

  test('an explicit RTCP bandwidth (b=RS/RR) overrides 5 %', () => {
    const params = { ...CALL, members: 100, senders: 50, rtcpBandwidth: 100 };
    assert.equal(deterministicRtcpInterval(params), (100 * 100 * 1000) / 100);
  });

  test('reduced minimum: 360 / kbit/s', () => {
    assert.equal(deterministicRtcpInterval({ ...CALL, sessionBandwidth: 1_000_000, reducedMinimum: true }), 360);
    assert.equal(
      deterministicRtcpInterval({ ...CALL, sessionBandwidth: 1_000_000, reducedMinimum: true, initial: true }),
      180,
    );
    // Below 72 kbit/s the "reduced" minimum is larger than 5 s (RFC 3550 §6.2).
    assert.equal(deterministicRtcpInterval({ ...CALL, reducedMinimum: true }), 5625);
  });

  test('bad parameters are RangeErrors', () => {
    assert.throws(() => deterministicRtcpInterval({ ...CALL, members: 0 }), RangeError);
    assert.throws(() => deterministicRtcpInterval({ ...CALL, avgRtcpSize: 0 }), RangeError);
    assert.throws(() => deterministicRtcpInterval({ ...CALL, sessionBandwidth: 0 }), RangeError);
  });
});

describe('randomised interval', () => {
  test('uniform over [0.5, 1.5) · Td / (e − 1.5), repeatable with a seed', () => {
    const td = deterministicRtcpInterval(CALL);
    const random = new SeededRandom(11);
    const samples = Array.from({ length: 10_000 }, () => rtcpInterval(CALL, random));
    const low = (0.5 * td) / RTCP_COMPENSATION;
    const high = (1.5 * td) / RTCP_COMPENSATION;
    for (const s of samples) assert.ok(s >= low && s < high, `${s} outside [${low}, ${high})`);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    assert.ok(Math.abs(mean - td / RTCP_COMPENSATION) < 20, `mean ${mean}`);
    // Spread over the whole range, not stuck in one part of it.
    assert.ok(Math.min(...samples) < low + 50 && Math.max(...samples) > high - 50);
    const again = new SeededRandom(11);
    assert.equal(rtcpInterval(CALL, again), samples[0]);
  });

  test('about 2.05 s for the first report of a small call (2.5 s / 1.218)', () => {
    const random = new SeededRandom(1);
    const mean =
      Array.from({ length: 5000 }, () => rtcpInterval({ ...CALL, initial: true }, random)).reduce((a, b) => a + b) /
      5000;
    assert.ok(Math.abs(mean - 2500 / RTCP_COMPENSATION) < 15, `mean ${mean}`);
  });
});

describe('average RTCP size (RFC 3550 §6.3.3)', () => {
  test('moves 1/16 of the way to each new size', () => {
    assert.equal(updateAvgRtcpSize(100, 260), 110);
    let avg = 100;
    for (let i = 0; i < 200; i++) avg = updateAvgRtcpSize(avg, 200);
    assert.ok(Math.abs(avg - 200) < 0.01);
  });
});
