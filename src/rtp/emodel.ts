/**
 * A simplified ITU-T G.107 E-model: a transmission rating R from delay, codec and packet loss,
 * and the R → MOS mapping of G.107 Annex B. Meant for call-quality estimates from RTCP data
 * (RTT, jitter, loss), not for network planning.
 *
 * ```
 * R = (Ro − Is) − Id − Ie,eff + A          (G.107 §7.1, with default Ro − Is = 93.2)
 * Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)            (G.107 §7.5, eq. 7-29)
 * ```
 */

/** `Ro − Is` with every G.107 parameter at its default (Table 3): the best narrowband R. */
export const EMODEL_DEFAULT_R = 93.2;

/** Equipment impairment of a codec (G.113 Appendix I). */
export interface CodecImpairment {
  /** Equipment impairment factor at zero loss. */
  ie: number;
  /** Packet-loss robustness factor. */
  bpl: number;
  /** Algorithmic delay (frame + look-ahead) in ms, added to the mouth-to-ear delay. */
  delayMs: number;
}

/**
 * Impairment values for common narrowband codecs, from ITU-T G.113 Appendix I (Ie from
 * Table I.1, Bpl from Table I.3). G.711 is robust to loss only with concealment (G.711
 * Appendix I PLC): Bpl 25.1 with it, 4.3 without.
 */
export const CODEC_IMPAIRMENTS = {
  /** G.711 (PCMU/PCMA) with packet loss concealment. */
  g711Plc: { ie: 0, bpl: 25.1, delayMs: 0.125 },
  /** G.711 (PCMU/PCMA) without concealment (silence or repeat in place of a lost frame). */
  g711: { ie: 0, bpl: 4.3, delayMs: 0.125 },
  /** G.729A with VAD. */
  g729a: { ie: 11, bpl: 19, delayMs: 15 },
  /** G.723.1 at 6.3 kbit/s with VAD. */
  g7231: { ie: 15, bpl: 16.1, delayMs: 37.5 },
} as const satisfies Record<string, CodecImpairment>;

/** Inputs of {@link computeEModel}. */
export interface EModelInput {
  /** Codec impairment; default G.711 with PLC. */
  codec?: CodecImpairment;
  /** Packet loss in percent (0–100), network loss plus packets discarded as late by the jitter buffer. */
  packetLossPercent?: number;
  /** G.107 BurstR: 1 for random loss, > 1 for bursty loss (see {@link burstRatio}); default 1. */
  burstRatio?: number;
  /** Round-trip time in ms (from RTCP LSR/DLSR); half of it counts as network delay. Default 0. */
  rttMs?: number;
  /** Jitter buffer delay in ms; default 0. */
  jitterBufferMs?: number;
  /** Packetisation time in ms (one frame waits this long to be filled); default 0. */
  packetizationMs?: number;
  /** Advantage factor A (G.107 §7.6): 0 wired, up to 5 mobile, 10 hard-to-reach; default 0. */
  advantage?: number;
  /** Which delay impairment to use; see {@link delayImpairment}. Default `'cole-rosenbluth'`. */
  delayModel?: DelayModel;
}

/** How Id is estimated from the one-way delay. */
export type DelayModel = 'cole-rosenbluth' | 'g107-idd';

/** Result of {@link computeEModel}. */
export interface EModelResult {
  /** Transmission rating R (may fall below 0 or, with A, exceed 100). */
  r: number;
  /** Mean opinion score from R (G.107 Annex B), in [1, 4.5]. */
  mos: number;
  /** Delay impairment Id. */
  id: number;
  /** Effective equipment impairment Ie,eff. */
  ieEff: number;
  /** Mouth-to-ear delay used for Id, in ms. */
  mouthToEarMs: number;
}

/**
 * Effective equipment impairment under packet loss (G.107 eq. 7-29):
 * `Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)`.
 *
 * @param packetLossPercent - Ppl, 0–100.
 * @param burstR - BurstR, ≥ 1 (1 = random loss).
 */
export function effectiveEquipmentImpairment(
  ie: number,
  bpl: number,
  packetLossPercent: number,
  burstR = 1,
): number {
  const ppl = Math.min(100, Math.max(0, packetLossPercent));
  if (ppl === 0) return ie;
  return ie + ((95 - ie) * ppl) / (ppl / burstR + bpl);
}

/**
 * Delay impairment Id from the one-way mouth-to-ear delay `d` in ms.
 *
 * - `'cole-rosenbluth'` (default): `Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)`, the
 *   linear fit of the full G.107 Id (talker echo with default TELR plus interactivity) by Cole
 *   and Rosenbluth (ACM CCR 2001). It grows slowly up to ~177 ms and steeply beyond.
 * - `'g107-idd'`: only the pure-delay term Idd of G.107 §7.4 (eq. 7-27/7-28) with
 *   Ta = d, which assumes perfect echo cancellation: 0 up to 100 ms.
 */
export function delayImpairment(delayMs: number, model: DelayModel = 'cole-rosenbluth'): number {
  const d = Math.max(0, delayMs);
  switch (model) {
    case 'cole-rosenbluth':
      return 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
    case 'g107-idd': {
      if (d <= 100) return 0;
      const x = Math.log10(d / 100) / Math.log10(2);
      return 25 * (Math.pow(1 + Math.pow(x, 6), 1 / 6) - 3 * Math.pow(1 + Math.pow(x / 3, 6), 1 / 6) + 2);
    }
  }
}

/**
 * R → MOS (G.107 Annex B, eq. B-4): 1 for R < 0, 4.5 for R > 100, otherwise
 * `1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶`, clamped to [1, 4.5] (the cubic dips just below
 * 1 for R under ~6.5). R = 93.2 gives ≈ 4.41.
 */
export function rToMos(r: number): number {
  if (!(r > 0)) return 1;
  if (r >= 100) return 4.5;
  const mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
  return Math.min(4.5, Math.max(1, mos));
}

/**
 * BurstR from a two-state (Gilbert) loss model (G.107 §7.5): `1 / (p + q)`, where `p` is the
 * probability of losing a packet after a received one and `q` of receiving one after a loss.
 * Returns 1 (random loss) when there is no loss to characterise.
 */
export function burstRatio(p: number, q: number): number {
  if (!(p > 0) || !(q > 0)) return 1;
  return 1 / (p + q);
}

/**
 * The simplified E-model: R = 93.2 − Id(mouth-to-ear) − Ie,eff(codec, loss, burst) + A, where
 * mouth-to-ear ≈ RTT/2 + jitter buffer + packetisation + codec delay.
 */
export function computeEModel(input: EModelInput = {}): EModelResult {
  const codec = input.codec ?? CODEC_IMPAIRMENTS.g711Plc;
  const mouthToEarMs =
    (input.rttMs ?? 0) / 2 + (input.jitterBufferMs ?? 0) + (input.packetizationMs ?? 0) + codec.delayMs;
  const id = delayImpairment(mouthToEarMs, input.delayModel ?? 'cole-rosenbluth');
  const ieEff = effectiveEquipmentImpairment(codec.ie, codec.bpl, input.packetLossPercent ?? 0, input.burstRatio ?? 1);
  const r = EMODEL_DEFAULT_R - id - ieEff + (input.advantage ?? 0);
  return { r, mos: rToMos(r), id, ieEff, mouthToEarMs };
}
