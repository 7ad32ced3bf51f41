/**
 * Transaction benchmark: non-INVITE transactions per second, each one created (NICT), sent over
 * the fake network, matched and answered by a NIST, matched back to its NICT, and terminated —
 * the FakeClock advanced past Timers K and J so that both layers' tables drain to 0.
 *
 *   node --import tsx bench/transactions.bench.ts            # full run (~20 s)
 *   node --import tsx bench/transactions.bench.ts --quick    # smoke run
 *
 * Method: each scenario runs batches of BATCH concurrent transactions (send all, deliver the
 * requests, deliver the responses, then advance the clock 64·T1 to drain, then yield to the
 * event loop so the transports' promise reactions run), after a warm-up.
 * A round is as many batches as fit in the round time; the rate reported is the median over
 * rounds. The "wire only" row sends the same two messages per transaction through the same
 * fake network without transaction layers (serialise, parse, FakeClock delivery), so the
 * difference between rows is the cost of the transaction layer itself.
 *
 * Numbers are for comparison within one run on one machine only; tests never assert on them.
 */
import os from 'node:os';
import { FakeClock } from '../src/core/clock.js';
import { SeededRandom } from '../src/core/random.js';
import { createResponse } from '../src/sip/build.js';
import { Headers } from '../src/sip/headers.js';
import { SipRequest } from '../src/sip/message.js';
import { FakeNetwork } from '../src/testing/fake-transport.js';
import { TransactionLayer } from '../src/transaction/index.js';
import type { TransportProtocol } from '../src/transport/transport.js';

const QUICK = process.argv.includes('--quick');
const SETTINGS = QUICK
  ? { warmupMs: 200, rounds: 3, roundMs: 200, batch: 100 }
  : { warmupMs: 1000, rounds: 10, roundMs: 400, batch: 100 };

const ALICE = '10.0.0.1:5060';
const BOB = '10.0.0.2:5060';

function nowNs(): bigint {
  return process.hrtime.bigint();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

let counter = 0;

/** A MESSAGE-sized OPTIONS without branch (the layer adds one, as it would for a TU). */
function makeOptions(transport: TransportProtocol): SipRequest {
  counter++;
  const headers = new Headers();
  headers.append('Via', `SIP/2.0/${transport.toUpperCase()} ${ALICE}`);
  headers.append('Max-Forwards', '70');
  headers.append('From', `<sip:alice@example.com>;tag=f${counter}`);
  headers.append('To', '<sip:bob@example.com>');
  headers.append('Call-ID', `bench-${counter}@10.0.0.1`);
  headers.append('CSeq', '1 OPTIONS');
  headers.append('Content-Length', '0');
  return new SipRequest({ method: 'OPTIONS', uri: 'sip:bob@10.0.0.2:5060', headers });
}

interface Scenario {
  readonly name: string;
  /** Runs one batch of `size` transactions to completion; returns how many completed. */
  runBatch(size: number): number;
}

function transactionScenario(protocol: TransportProtocol): Scenario {
  const clock = new FakeClock();
  const net = new FakeNetwork({ clock, record: false, random: new SeededRandom(1) });
  const aliceTransport = net.endpoint(ALICE, protocol);
  const bobTransport = net.endpoint(BOB, protocol);
  const random = new SeededRandom(2);
  const alice = new TransactionLayer({ transport: aliceTransport, clock, random });
  const bob = new TransactionLayer({ transport: bobTransport, clock, random });
  bob.onRequest((request, tx) => tx.respond(createResponse(request, 200, { toTag: 'bench' })));
  const target = net.target(BOB, protocol);
  let completed = 0;
  const handlers = {
    onResponse: (): void => {
      completed++;
    },
    onTimeout: (): void => {
      throw new Error('unexpected timeout');
    },
    onTransportError: (): void => {
      throw new Error('unexpected transport error');
    },
  };
  return {
    name: `NICT+NIST over ${protocol.toUpperCase()}`,
    runBatch(size) {
      completed = 0;
      for (let i = 0; i < size; i++) alice.sendRequest(makeOptions(protocol), target, handlers);
      clock.advance(0); // requests arrive, NISTs answer
      clock.advance(0); // responses arrive, NICTs complete
      clock.advance(64 * 500); // Timers K and J: everything terminates
      if (alice.size !== 0 || bob.size !== 0) throw new Error(`tables did not drain: ${alice.size} + ${bob.size}`);
      return completed;
    },
  };
}

function wireOnlyScenario(protocol: TransportProtocol): Scenario {
  const clock = new FakeClock();
  const net = new FakeNetwork({ clock, record: false });
  const aliceTransport = net.endpoint(ALICE, protocol);
  const bobTransport = net.endpoint(BOB, protocol);
  const toBob = net.target(BOB, protocol);
  const toAlice = net.target(ALICE, protocol);
  let completed = 0;
  bobTransport.onMessage((incoming) => {
    if (incoming.message.kind === 'request') void bobTransport.send(createResponse(incoming.message, 200, { toTag: 'bench' }), toAlice);
  });
  aliceTransport.onMessage(() => {
    completed++;
  });
  return {
    name: `wire only over ${protocol.toUpperCase()}`,
    runBatch(size) {
      completed = 0;
      for (let i = 0; i < size; i++) {
        const request = makeOptions(protocol);
        request.headers.set('via', `SIP/2.0/${protocol.toUpperCase()} ${ALICE};branch=z9hG4bK${counter}`);
        void aliceTransport.send(request, toBob);
      }
      clock.advance(0);
      clock.advance(0);
      return completed;
    },
  };
}

/** Lets the event loop run: the transports' promise reactions are part of the cost, and must not pile up. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs batches for about `ms`; returns transactions per second. */
async function timeFor(scenario: Scenario, ms: number): Promise<number> {
  const deadline = BigInt(ms) * 1_000_000n;
  const start = nowNs();
  let count = 0;
  let elapsed = 0n;
  do {
    const done = scenario.runBatch(SETTINGS.batch);
    if (done !== SETTINGS.batch) throw new Error(`${scenario.name}: ${done}/${SETTINGS.batch} completed`);
    count += done;
    // A synchronous loop would never run the microtasks each send queues (its `.then`), and
    // the heap would grow with every transaction they reference.
    await yieldToEventLoop();
    elapsed = nowNs() - start;
  } while (elapsed < deadline);
  return count / (Number(elapsed) / 1e9);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const scenarios: Scenario[] = [
  transactionScenario('udp'),
  transactionScenario('tcp'),
  wireOnlyScenario('udp'),
  wireOnlyScenario('tcp'),
];

console.log('voxlite transaction benchmark' + (QUICK ? ' (--quick: smoke use only)' : ''));
console.log(`node ${process.version} (V8 ${process.versions.v8}), ${os.platform()}/${os.arch()}`);
console.log(`cpu: ${os.cpus()[0]?.model ?? 'unknown'} ×${os.cpus().length}`);
console.log(
  `method: batches of ${SETTINGS.batch} concurrent OPTIONS → 200 on a FakeNetwork + FakeClock, drained past Timers K/J; ` +
    `warm-up ${SETTINGS.warmupMs} ms per scenario, ${SETTINGS.rounds} round-robin rounds × ${SETTINGS.roundMs} ms; median over rounds`,
);

for (const s of scenarios) await timeFor(s, SETTINGS.warmupMs);
const rates = new Map<string, number[]>();
const timedWall = nowNs();
const timedCpu = process.cpuUsage();
for (let round = 0; round < SETTINGS.rounds; round++) {
  for (let k = 0; k < scenarios.length; k++) {
    const s = scenarios[(k + round) % scenarios.length]!;
    rates.set(s.name, [...(rates.get(s.name) ?? []), await timeFor(s, SETTINGS.roundMs)]);
  }
}

const cpu = process.cpuUsage(timedCpu);
const cpuShare = (cpu.user + cpu.system) / (Number(nowNs() - timedWall) / 1_000);

const rows = scenarios.map((s) => {
  const values = rates.get(s.name) ?? [Number.NaN];
  const rate = median(values);
  const spread = (Math.max(...values) - Math.min(...values)) / 2;
  return [
    s.name,
    Math.round(rate).toLocaleString('en-US'),
    `±${((100 * spread) / rate).toFixed(1)}%`,
    (1e6 / rate).toFixed(2),
  ];
});
console.log('');
console.log(table(['scenario', 'tx/s', 'spread', 'µs/tx'], rows));
console.log('');
console.log(
  `cpu share during the timed rounds: ${(100 * cpuShare).toFixed(0)}% of one core` +
    (cpuShare < 0.9 ? ' (contended machine: compare rows within this run only)' : ''),
);
console.log('µs/tx covers both sides: the client and the server transaction, two messages serialised and parsed.');
