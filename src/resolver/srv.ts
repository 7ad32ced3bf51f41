/**
 * SRV target ordering (RFC 2782, "Usage rules"): by priority, lowest first, then within one
 * priority a weighted random order, so that load spreads over servers in proportion to their
 * weights while each client still gets a complete fail-over list. Pure: randomness is injected.
 */
import type { Random } from '../core/random.js';

/** The two fields the ordering reads; {@link SrvRecord} has them. */
export interface SrvWeighted {
  readonly priority: number;
  readonly weight: number;
}

/**
 * Orders SRV records for contacting: every record of a lower priority before any record of a
 * higher one (RFC 2782: "A client MUST attempt to contact the target host with the
 * lowest-numbered priority it can reach"), and within a priority by repeated weighted selection.
 *
 * @param records - The RRset; not modified.
 * @param random - Drives the weighted selection (a `SeededRandom` makes the order repeatable).
 * @returns A new array holding every record once.
 * @remarks Within a priority, RFC 2782 puts weight-0 records first, draws a number in
 * `[0, sum]` and takes the first record whose running weight sum reaches it; the selected record
 * is removed and the draw repeated. Two refinements, both within "arrange in any order":
 * - when no weight-0 record is left the draw is in `[1, sum]`, otherwise the first record would
 *   win the extra value `0` and get `(w+1)/(sum+1)` instead of `w/sum`;
 * - when the draw lands on the weight-0 records (value `0`, or all weights are 0), one of them
 *   is picked uniformly, so an all-zero RRset spreads its load evenly instead of always
 *   favouring the record DNS happened to list first.
 *
 * So a weight-0 record, among non-zero ones, has the "very small chance" of `1/(sum+1)` of going
 * first, as RFC 2782 asks.
 */
export function orderSrvRecords<T extends SrvWeighted>(records: readonly T[], random: Random): T[] {
  // Array.prototype.sort is stable (ES2019), so equal priorities keep their DNS order before
  // the weighted draw; the draw alone decides the final order within a priority.
  const sorted = [...records].sort((a, b) => a.priority - b.priority);
  const out: T[] = [];
  let i = 0;
  while (i < sorted.length) {
    const priority = sorted[i]!.priority;
    let j = i;
    while (j < sorted.length && sorted[j]!.priority === priority) j++;
    orderOnePriority(sorted.slice(i, j), random, out);
    i = j;
  }
  return out;
}

function orderOnePriority<T extends SrvWeighted>(group: readonly T[], random: Random, out: T[]): void {
  const zero = group.filter((r) => r.weight <= 0);
  const weighted = group.filter((r) => r.weight > 0);
  let sum = weighted.reduce((s, r) => s + r.weight, 0);
  while (zero.length > 0 || weighted.length > 0) {
    let draw: number;
    if (sum === 0) draw = 0;
    else if (zero.length > 0) draw = random.int(sum + 1); // RFC 2782: uniform in [0, sum]
    else draw = 1 + random.int(sum);
    if (draw === 0) {
      const k = zero.length === 1 ? 0 : random.int(zero.length);
      out.push(zero.splice(k, 1)[0]!);
      continue;
    }
    let running = 0;
    for (let k = 0; k < weighted.length; k++) {
      const record = weighted[k]!;
      running += record.weight;
      if (running >= draw) {
        weighted.splice(k, 1);
        sum -= record.weight;
        out.push(record);
        break;
      }
    }
  }
}
