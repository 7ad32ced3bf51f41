/**
 * Parser benchmark: parse + format messages/s over a corpus of realistic SIP messages, for
 * voxlite and, in the same run, the npm packages `sip`, `jssip` and `sip.js`.
 *
 *   npm run bench:parser             # full run (~50 s)
 *   npm run bench:parser -- --quick  # smoke run (a few seconds)
 *
 * Method: every library is checked against every corpus message first (a library that rejects
 * any is reported and left out). Then each (library, operation) pair warms up, and the timed
 * rounds run round-robin over the pairs, rotating the order each round so that no library
 * always runs first or last. Each round cycles through the corpus for a fixed wall time; the
 * reported rate is the median over rounds. Rounds are many and short rather than few and long
 * so that, on a shared machine, other processes' bursts fall on every library alike; the share
 * of a CPU the benchmark actually got is printed so a contended run can be recognised.
 * Latencies come from a separate sample of single calls, each timed with
 * `process.hrtime.bigint()` (the timer's own cost is printed).
 *
 * Numbers are for comparison within one run on one machine only; tests never assert on them.
 */
import os from 'node:os';
import { CORPUS, corpusBytes } from './corpus.js';
import { PARSERS, voxlite, type ParserUnderTest } from './parsers.js';

type Operation = 'parseAndFormat' | 'parse';
const OPERATIONS: readonly Operation[] = ['parseAndFormat', 'parse'];

interface Settings {
  readonly warmupMs: number;
  readonly rounds: number;
  readonly roundMs: number;
  readonly latencySamples: number;
  readonly latencyCapMs: number;
}

const QUICK = process.argv.includes('--quick');
const SETTINGS: Settings = QUICK
  ? { warmupMs: 250, rounds: 3, roundMs: 150, latencySamples: 2_000, latencyCapMs: 200 }
  : { warmupMs: 600, rounds: 20, roundMs: 250, latencySamples: 20_000, latencyCapMs: 600 };

/** Results escape here so that V8 cannot drop the work as dead code. */
let sink: unknown;

function nowNs(): bigint {
  return process.hrtime.bigint();
}

function opOf(parser: ParserUnderTest, op: Operation): (bytes: Buffer) => unknown {
  return op === 'parse' ? parser.parse : parser.parseAndFormat;
}

/** Cycles through `inputs` for about `ms` milliseconds; returns messages per second. */
function timeFor(fn: (bytes: Buffer) => unknown, inputs: readonly Buffer[], ms: number): number {
  const deadline = BigInt(ms) * 1_000_000n;
  const start = nowNs();
  let count = 0;
  let elapsed = 0n;
  do {
    // Check the clock once per pass over the corpus (≥ 10 messages, so its ~0.1 µs is noise),
    // not per message; a slow library then overruns the round by at most one pass.
    for (const bytes of inputs) sink = fn(bytes);
    count += inputs.length;
    elapsed = nowNs() - start;
  } while (elapsed < deadline);
  return count / (Number(elapsed) / 1e9);
}

interface Latency {
  readonly medianUs: number;
  readonly p99Us: number;
  readonly samples: number;
}

function percentile(sorted: Float64Array, p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Times single calls, cycling through the corpus, up to `samples` calls or `capMs`. */
function sampleLatency(fn: (bytes: Buffer) => unknown, inputs: readonly Buffer[], samples: number, capMs: number): Latency {
  const times = new Float64Array(samples);
  const cap = nowNs() + BigInt(capMs) * 1_000_000n;
  let n = 0;
  while (n < samples) {
    const bytes = inputs[n % inputs.length]!;
    const t0 = nowNs();
    sink = fn(bytes);
    const t1 = nowNs();
    times[n++] = Number(t1 - t0) / 1_000;
    // Stop early only after whole passes over the corpus, so each message weighs the same.
    if (n % inputs.length === 0 && t1 > cap) break;
  }
  const sorted = times.subarray(0, n).sort();
  return { medianUs: percentile(sorted, 0.5), p99Us: percentile(sorted, 0.99), samples: n };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function formatRate(rate: number): string {
  return Math.round(rate).toLocaleString('en-US');
}

function formatSpread(rates: readonly number[]): string {
  const mid = median(rates);
  const half = (Math.max(...rates) - Math.min(...rates)) / 2;
  return `±${((100 * half) / mid).toFixed(1)}%`;
}

function formatUs(us: number): string {
  return us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : us.toFixed(0);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Run

const inputs = corpusBytes();
const totalBytes = inputs.reduce((sum, b) => sum + b.length, 0);
const started = nowNs();

console.log('voxlite parser benchmark' + (QUICK ? ' (--quick: fewer and shorter rounds, smoke use only)' : ''));
console.log(`node ${process.version} (V8 ${process.versions.v8}), ${os.platform()}/${os.arch()}`);
console.log(`cpu: ${os.cpus()[0]?.model ?? 'unknown'} ×${os.cpus().length}`);
console.log(
  `corpus: ${inputs.length} messages, ${totalBytes} bytes (mean ${Math.round(totalBytes / inputs.length)}, ` +
    `min ${Math.min(...inputs.map((b) => b.length))}, max ${Math.max(...inputs.map((b) => b.length))}): ` +
    CORPUS.map((m) => m.name).join(', '),
);
console.log(
  `method: warm-up ${SETTINGS.warmupMs} ms per library and operation, then ${SETTINGS.rounds} round-robin rounds × ` +
    `${SETTINGS.roundMs} ms each; rate = median over rounds (± = half the min–max spread)`,
);

// 1. Acceptance: every library must accept every corpus message.
const accepted: ParserUnderTest[] = [];
for (const parser of PARSERS) {
  const failures: string[] = [];
  inputs.forEach((bytes, i) => {
    const why = parser.check(bytes);
    if (why !== undefined) failures.push(`  ${CORPUS[i]?.name ?? i}: ${why}`);
  });
  if (failures.length === 0) {
    accepted.push(parser);
  } else {
    console.log(`check: ${parser.name} rejected ${failures.length}/${inputs.length} messages; left out of the timing:`);
    for (const f of failures) console.log(f);
  }
}
console.log(`check: ${accepted.map((p) => p.name).join(', ')} accept all ${inputs.length} messages`);
if (!accepted.includes(voxlite)) {
  console.log('voxlite must accept the whole corpus; stopping.');
  process.exit(1);
}

// 2. Warm-up, so that every function is optimised before any timed round.
for (const parser of accepted) {
  for (const op of OPERATIONS) timeFor(opOf(parser, op), inputs, SETTINGS.warmupMs);
}

// 3. Timed rounds, round-robin with a rotating start.
const pairs = accepted.flatMap((parser) => OPERATIONS.map((op) => ({ parser, op })));
const rates = new Map<string, number[]>();
const key = (parser: ParserUnderTest, op: Operation): string => `${parser.name}/${op}`;
const timedWall = nowNs();
const timedCpu = process.cpuUsage();
for (let round = 0; round < SETTINGS.rounds; round++) {
  for (let k = 0; k < pairs.length; k++) {
    const { parser, op } = pairs[(k + round * OPERATIONS.length) % pairs.length]!;
    const rate = timeFor(opOf(parser, op), inputs, SETTINGS.roundMs);
    rates.set(key(parser, op), [...(rates.get(key(parser, op)) ?? []), rate]);
  }
}

const cpu = process.cpuUsage(timedCpu);
const cpuShare = (cpu.user + cpu.system) / (Number(nowNs() - timedWall) / 1_000);

// 4. Latency samples.
const latencies = new Map<string, Latency>();
for (const { parser, op } of pairs) {
  latencies.set(key(parser, op), sampleLatency(opOf(parser, op), inputs, SETTINGS.latencySamples, SETTINGS.latencyCapMs));
}
const timerCost = sampleLatency(() => undefined, inputs, 10_000, 100);

// 5. Report.
const rateOf = (parser: ParserUnderTest, op: Operation): number => median(rates.get(key(parser, op)) ?? [Number.NaN]);
const others = accepted.filter((p) => p !== voxlite);
/** Echo-only "format" is not a serialiser, so it cannot be the bar for parse+format. */
const comparable = (op: Operation): ParserUnderTest[] =>
  op === 'parse' ? others : others.filter((p) => p.formatKind === 'serialise');
const fastest = (op: Operation): ParserUnderTest | undefined =>
  comparable(op).reduce<ParserUnderTest | undefined>((best, p) => (best === undefined || rateOf(p, op) > rateOf(best, op) ? p : best), undefined);

/** Median over rounds of voxlite's rate ÷ `other`'s rate in the same round (a paired estimate). */
const pairedRatio = (other: ParserUnderTest, op: Operation): number => {
  const ours = rates.get(key(voxlite, op)) ?? [];
  const theirs = rates.get(key(other, op)) ?? [];
  return median(ours.map((r, i) => r / (theirs[i] ?? Number.NaN)));
};

const rows = accepted.map((parser) => {
  const cells: string[] = [parser.name];
  for (const op of OPERATIONS) {
    const r = rates.get(key(parser, op)) ?? [];
    const mark = op === 'parseAndFormat' && parser.formatKind === 'echo' ? ' *' : '';
    cells.push(`${formatRate(median(r))} ${formatSpread(r)}${mark}`);
    const lat = latencies.get(key(parser, op));
    cells.push(lat === undefined ? '-' : `${formatUs(lat.medianUs)} / ${formatUs(lat.p99Us)}`);
  }
  const ratios = OPERATIONS.map((op) => {
    if (parser === voxlite) {
      const best = fastest(op);
      return best === undefined ? 'n/a' : `${(rateOf(voxlite, op) / rateOf(best, op)).toFixed(2)}× ${best.name}`;
    }
    if (op === 'parseAndFormat' && parser.formatKind === 'echo') return 'n/a *';
    return `${(rateOf(voxlite, op) / rateOf(parser, op)).toFixed(2)}×`;
  });
  cells.push(ratios.join(' | '));
  return cells;
});

console.log('');
console.log(
  table(
    [
      'library',
      'parse+format msg/s',
      'p+f µs med / p99',
      'parse msg/s',
      'parse µs med / p99',
      'voxlite ÷ this (p+f | parse); voxlite row: ÷ fastest other',
    ],
    rows,
  ),
);
console.log('');
for (const op of OPERATIONS) {
  const best = fastest(op);
  const label = op === 'parse' ? 'parse' : 'parse+format';
  if (best === undefined) {
    console.log(`${label}: no other library to compare with`);
    continue;
  }
  const ratio = rateOf(voxlite, op) / rateOf(best, op);
  console.log(
    `${label}: voxlite ${formatRate(rateOf(voxlite, op))} msg/s vs fastest other ${best.name} ` +
      `${formatRate(rateOf(best, op))} msg/s → ratio voxlite/fastest-other = ${ratio.toFixed(2)} ` +
      `(median of per-round ratios ${pairedRatio(best, op).toFixed(2)})` +
      (ratio < 0.5 ? '  (voxlite is more than 2× slower)' : ''),
  );
}
console.log(
  '* jssip and sip.js have no serialiser for incoming messages: toString() returns the received text, so their ' +
    '"parse+format" is parse + string→Buffer; shown for reference, never used as the parse+format bar.',
);
console.log(
  `latency: ${latencies.get(key(voxlite, 'parse'))?.samples ?? 0} single calls per cell, cycling the corpus; ` +
    `includes the timer's own cost (median ${formatUs(timerCost.medianUs)} µs).`,
);
console.log(
  `cpu share during timed rounds: ${(100 * cpuShare).toFixed(0)}% of one core ` +
    `(load average ${os.loadavg()[0]?.toFixed(2) ?? '?'} on ${os.cpus().length} cores)` +
    (cpuShare < 0.9 ? ' — contended machine: treat rates as rough, prefer the ratios and latency medians' : ''),
);
console.log(`total time ${(Number(nowNs() - started) / 1e9).toFixed(1)} s`);
if (sink === Symbol.for('never')) console.log('');
