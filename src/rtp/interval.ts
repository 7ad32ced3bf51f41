/**
 * The RTCP transmission interval (RFC 3550 §6.2, §6.3, A.7), with randomness injected so the
 * schedule is repeatable in tests.
 */
import type { Random } from '../core/random.js';

/** RFC 3550 §6.2: the fraction of the session bandwidth RTCP may use. */
export const RTCP_BANDWIDTH_FRACTION = 0.05;
/** RFC 3550 §6.2 / A.7: the share of the RTCP bandwidth reserved for senders. */
export const RTCP_SENDER_BANDWIDTH_FRACTION = 0.25;
/** RFC 3550 §6.2 / A.7: the fixed minimum interval, in seconds. */
export const RTCP_MIN_TIME_S = 5;
/** RFC 3550 §6.3.1 / A.7: `e − 1.5`, dividing out the bias that timer reconsideration introduces. */
export const RTCP_COMPENSATION = Math.E - 1.5;

/** Inputs of {@link rtcpInterval}, named after the A.7 parameters. */
export interface RtcpIntervalParams {
  /** Session members, including ourselves (`members`, at least 1). */
  members: number;
  /** Members that sent data since the last two reports (`senders`). */
  senders: number;
  /**
   * Session bandwidth in bits per second (SDP `b=AS` × 1000, or the codec's rate with
   * overheads); RTCP gets {@link RTCP_BANDWIDTH_FRACTION} of it unless `rtcpBandwidth` is set.
   */
  sessionBandwidth: number;
  /** RTCP bandwidth in octets per second, overriding 5 % of `sessionBandwidth` (e.g. from SDP `b=RS`/`b=RR`). */
  rtcpBandwidth?: number;
  /** Whether we sent data since the second-to-last report (`we_sent`). */
  weSent: boolean;
  /** Average compound RTCP size in octets, UDP and IP headers included (`avg_rtcp_size`). */
  avgRtcpSize: number;
  /** Whether we have not sent an RTCP packet yet (`initial`): halves the minimum. */
  initial: boolean;
  /**
   * Use the reduced minimum of RFC 3550 §6.2 (360 / session bandwidth in kbit/s seconds)
   * instead of 5 s. Note it exceeds 5 s below 72 kbit/s.
   */
  reducedMinimum?: boolean;
}

/**
 * The deterministic interval `Td` of RFC 3550 §6.3.1 (A.7 before randomisation), in ms: the
 * interval used for member time-outs (§6.3.5, 5 × Td) and the base of {@link rtcpInterval}.
 *
 * @throws RangeError on non-positive bandwidth, members or average size.
 */
export function deterministicRtcpInterval(params: RtcpIntervalParams): number {
  const { members, senders, sessionBandwidth, weSent, avgRtcpSize, initial } = params;
  if (!(members >= 1)) throw new RangeError(`members must be at least 1, got ${members}`);
  if (!(senders >= 0)) throw new RangeError(`senders must be non-negative, got ${senders}`);
  if (!(avgRtcpSize > 0)) throw new RangeError(`avgRtcpSize must be positive, got ${avgRtcpSize}`);
  let rtcpBw = params.rtcpBandwidth ?? (sessionBandwidth * RTCP_BANDWIDTH_FRACTION) / 8;
  if (!(rtcpBw > 0)) throw new RangeError(`RTCP bandwidth must be positive, got ${rtcpBw} octets/s`);

  let minTime = params.reducedMinimum === true ? 360 / (sessionBandwidth / 1000) : RTCP_MIN_TIME_S;
  if (!Number.isFinite(minTime)) minTime = RTCP_MIN_TIME_S;
  // A.7: "Very first call at application start-up uses half the min delay for quicker notification."
  if (initial) minTime /= 2;

  // A.7: if senders are at most a quarter of the members, senders share 25 % of the RTCP
  // bandwidth and receivers the other 75 %; otherwise everyone shares it all.
  let n = members;
  if (senders <= members * RTCP_SENDER_BANDWIDTH_FRACTION) {
    if (weSent) {
      rtcpBw *= RTCP_SENDER_BANDWIDTH_FRACTION;
      n = senders;
    } else {
      rtcpBw *= 1 - RTCP_SENDER_BANDWIDTH_FRACTION;
      n -= senders;
    }
  }
  const t = (avgRtcpSize * Math.max(1, n)) / rtcpBw;
  return Math.max(t, minTime) * 1000;
}

/**
 * The randomised RTCP transmission interval of RFC 3550 §6.3.1 / A.7, in ms:
 * `Td × U[0.5, 1.5) / (e − 1.5)`.
 *
 * @param random - supplies the uniform draw (`drand48()` in A.7).
 */
export function rtcpInterval(params: RtcpIntervalParams, random: Random): number {
  const td = deterministicRtcpInterval(params);
  // A.7: "To avoid traffic bursts from unintended synchronization with other sites, we then
  // pick our actual next report interval as a random number uniformly distributed between 0.5*t
  // and 1.5*t", then divide by e − 3/2 to compensate for timer reconsideration.
  const uniform = random.int(0x1_0000_0000) / 0x1_0000_0000;
  return (td * (uniform + 0.5)) / RTCP_COMPENSATION;
}

/**
 * Updates the average compound RTCP size after sending or receiving one (RFC 3550 §6.3.3):
 * `avg = size / 16 + avg × 15 / 16`.
 *
 * @param packetSize - octets including UDP and IP headers (add 28 for IPv4, 48 for IPv6).
 */
export function updateAvgRtcpSize(avgRtcpSize: number, packetSize: number): number {
  return packetSize / 16 + (avgRtcpSize * 15) / 16;
}
