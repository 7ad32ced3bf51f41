import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CODEC_IMPAIRMENTS,
  burstRatio,
  computeEModel,
  delayImpairment,
  effectiveEquipmentImpairment,
  rToMos,
} from './emodel.js';

function near(actual: number, expected: number, tolerance = 0.01): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);
}

describe('R → MOS (G.107 Annex B)', () => {
  test('known values', () => {
    near(rToMos(93.2), 4.41);
    near(rToMos(50), 1 + 0.035 * 50 + 50 * -10 * 50 * 7e-6, 1e-12);
    near(rToMos(80), 4.02);
    near(rToMos(70), 3.6);
  });

  test('clamped to [1, 4.5]', () => {
    assert.equal(rToMos(-10), 1);
    assert.equal(rToMos(0), 1);
    assert.equal(rToMos(3), 1); // the cubic dips below 1 here
    assert.equal(rToMos(100), 4.5);
    assert.equal(rToMos(130), 4.5);
    assert.equal(rToMos(Number.NaN), 1);
  });

  test('monotonic in R', () => {
    let previous = 0;
    for (let r = 0; r <= 100; r += 0.5) {
      const mos = rToMos(r);
      assert.ok(mos >= previous, `MOS drops at R=${r}`);
      previous = mos;
    }
  });
});

describe('impairments', () => {
  test('Ie,eff (G.107 eq. 7-29)', () => {
    assert.equal(effectiveEquipmentImpairment(0, 25.1, 0), 0);
    near(effectiveEquipmentImpairment(0, 25.1, 2), (95 * 2) / (2 + 25.1), 1e-12);
    near(effectiveEquipmentImpairment(0, 4.3, 1), 95 / 5.3, 1e-12);
    near(effectiveEquipmentImpairment(11, 19, 3), 11 + (84 * 3) / (3 + 19), 1e-12);
    // Bursty loss hurts more than random loss at the same rate.
    assert.ok(effectiveEquipmentImpairment(0, 25.1, 5, 2) > effectiveEquipmentImpairment(0, 25.1, 5, 1));
    // 100 % loss approaches 95.
    assert.ok(effectiveEquipmentImpairment(0, 25.1, 100) > 75);
  });

  test('Cole–Rosenbluth delay impairment', () => {
    assert.equal(delayImpairment(0), 0);
    near(delayImpairment(100), 2.4, 1e-12);
    near(delayImpairment(177.3), 0.024 * 177.3, 1e-12);
    near(delayImpairment(200), 4.8 + 0.11 * 22.7, 1e-12);
    near(delayImpairment(400), 9.6 + 0.11 * 222.7, 1e-12);
  });

  test('G.107 Idd (pure delay, perfect echo control)', () => {
    assert.equal(delayImpairment(100, 'g107-idd'), 0);
    const x = 1; // Ta = 200 → log2(2)
    near(
      delayImpairment(200, 'g107-idd'),
      25 * ((1 + x ** 6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2),
      1e-12,
    );
    assert.ok(delayImpairment(400, 'g107-idd') > delayImpairment(200, 'g107-idd'));
  });

  test('burst ratio from a Gilbert model', () => {
    assert.equal(burstRatio(0, 0), 1);
    near(burstRatio(0.01, 0.99), 1, 1e-12); // random loss
    near(burstRatio(0.01, 0.49), 2, 1e-12);
  });
});

describe('computeEModel', () => {
  test('G.711, no loss, no delay: R ≈ 93.2, MOS ≈ 4.41', () => {
    const result = computeEModel({ codec: CODEC_IMPAIRMENTS.g711Plc });
    near(result.r, 93.2);
    near(result.mos, 4.41);
    assert.equal(result.ieEff, 0);
  });

  test('mouth-to-ear = RTT/2 + jitter buffer + packetisation + codec delay', () => {
    const result = computeEModel({ rttMs: 100, jitterBufferMs: 40, packetizationMs: 20 });
    near(result.mouthToEarMs, 110.125, 1e-9);
    near(result.id, 0.024 * 110.125, 1e-9);
  });

  test('G.711 with PLC and 2 % random loss', () => {
    const result = computeEModel({ packetLossPercent: 2 });
    near(result.r, 93.2 - (95 * 2) / 27.1, 0.01);
    near(result.mos, rToMos(result.r), 1e-12);
  });

  test('concealment matters: the same loss without PLC costs far more', () => {
    const plc = computeEModel({ codec: CODEC_IMPAIRMENTS.g711Plc, packetLossPercent: 3 });
    const none = computeEModel({ codec: CODEC_IMPAIRMENTS.g711, packetLossPercent: 3 });
    assert.ok(none.r < plc.r - 15);
  });

  test('a bad call: 400 ms RTT, 5 % bursty loss → poor', () => {
    const result = computeEModel({ rttMs: 400, jitterBufferMs: 100, packetLossPercent: 5, burstRatio: 2 });
    assert.ok(result.mos < 3.1, `MOS ${result.mos}`);
  });

  test('G.729A starts at R = 93.2 − 11 − Id(codec delay)', () => {
    near(computeEModel({ codec: CODEC_IMPAIRMENTS.g729a }).r, 93.2 - 11 - 0.024 * 15, 1e-9);
  });

  test('advantage factor adds to R', () => {
    near(computeEModel({ packetLossPercent: 5, advantage: 5 }).r - computeEModel({ packetLossPercent: 5 }).r, 5, 1e-9);
  });
});
