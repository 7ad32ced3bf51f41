/**
 * Server benchmark: `voxlite server` against Kamailio 5.6, both driven by SIPp 3.6.1 over UDP on
 * 127.0.0.1, in the same run, side by side.
 *
 *   node --import tsx bench/server.bench.ts                 # full run (< 5 min)
 *   node --import tsx bench/server.bench.ts --quick         # smoke run (< 60 s)
 *   node --import tsx bench/server.bench.ts --only voxlite --scenario calls
 *   node --import tsx bench/server.bench.ts --cpu-prof DIR  # voxlite under --cpu-prof; prints its hot functions
 *
 * Scenarios (SIPp scenario files in bench/server/):
 * 1. REGISTER/s without authentication (register.xml): one REGISTER → 200 per SIPp "call";
 *    1000 users taken in turn from an injection file, one contact each, so the location
 *    service holds at most 1000 bindings that get refreshed.
 * 2. REGISTER/s with digest (register-auth.xml): REGISTER → 401 → REGISTER with SIPp's
 *    `[authentication]` (MD5, qop=auth) → 200. One registration = two transactions.
 * 3. Calls/s through the proxy (uac.xml → server → uas.xml): the SIPp UAS registers its
 *    contact as `sip:uas@127.0.0.1` once (a plain REGISTER from this script) before the load;
 *    each call is INVITE → location lookup → Record-Route → relay → 200 back (the UAS sends no
 *    180, see uas.xml), ACK and BYE along the route set, calls held 1 s (`-d 1000`). No
 *    authentication on calls; both servers relay to the registered contact, so both do the same
 *    location lookup, Record-Route and stateful relay.
 *
 * Servers: each scenario gets a fresh server process. Kamailio runs bench/server/kamailio.cfg
 * (children=2, usrloc in memory, registrar, rr, tm, auth with one shared password). voxlite
 * runs bench/server/voxlite-server.ts, which is `voxlite server -t udp -l 127.0.0.1:PORT
 * [--users FILE --realm 127.0.0.1]` with the digest challenge offering MD5 before SHA-256
 * (SIPp only answers the first challenge and only knows MD5).
 *
 * Method: per server and scenario, the SIPp rate (`-r R -rp 1000`) goes up in steps, each step a
 * new SIPp with `-m R·seconds` calls and bounded in time (`-timeout`, `-recv_timeout`, and a
 * kill guard), after an uncounted warm-up (3000 REGISTERs, 2000 digest registrations or 300
 * calls; fewer with --quick). A step passes when fewer than 0.1 % of its calls failed or went
 * missing and it kept pace: its wall time minus the call hold time is at most the planned time
 * / 0.9 + 0.3 s (SIPp start, last round trip); otherwise SIPp or the server did not keep up with
 * the offered rate. The ramp stops at the first failing step. SIPp's counts come from the last
 * line of its `-trace_stat` CSV; "drop" is the host's UDP RcvbufErrors during the step (a full
 * socket buffer somewhere, usually the server's).
 * CPU: utime+stime from /proc/PID/stat of the server's whole process tree (Kamailio's forked
 * children, node and any helper it spawned), read before and after each step. "cores" = CPU
 * seconds / wall seconds of the step (hold time and tail included, so below the peak);
 * "per core" = successful calls per CPU second of the server, i.e. the rate one fully busy core
 * would sustain at that load. Per-core efficiency grows with load (fewer wake-ups per message),
 * so the summary gives the voxlite/Kamailio ratio both at each server's highest passing step and
 * at the highest rate both passed (same load).
 *
 * Machine caveat: on a small shared machine SIPp, the server and anything else compete for the
 * same cores; compare the per-core figures rather than the maximum rates.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserDirectory } from '../src/proxy/users.js';
import { sparePort } from '../tests/interop/lib/ports.js';

// ---------------------------------------------------------------------------------------------
// Settings

const HOST = '127.0.0.1';
const PASSWORD = 'secret';
const USERS = 1000;
const CALL_MS = 1000;
const PASS_FAILED_FRACTION = 0.001;
const PASS_RATE_FRACTION = 0.9;
/** Allowance for SIPp's start and the last round trip when judging whether a step kept its pace. */
const PASS_SLACK_SECONDS = 0.3;
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const FILES = join(HERE, 'server');

type ServerName = 'voxlite' | 'kamailio';
type ScenarioName = 'register' | 'register-auth' | 'calls';

interface ScenarioPlan {
  readonly name: ScenarioName;
  readonly title: string;
  readonly unit: string;
  /** Offered rates, in order. */
  readonly rates: readonly number[];
  /** Seconds of new calls per step (`-m = rate · seconds`). */
  readonly seconds: number;
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const QUICK = process.argv.includes('--quick');
const CPU_PROF_DIR = argValue('--cpu-prof');
const ONLY = argValue('--only');
const ONLY_SCENARIO = argValue('--scenario');
/** Warm-up: at least this many SIPp calls (voxlite needs a few thousand requests before V8 has optimised its hot paths). */
const WARMUP_CALLS: Readonly<Record<ScenarioName, number>> = QUICK
  ? { register: 2000, 'register-auth': 1500, calls: 200 }
  : { register: 3000, 'register-auth': 2000, calls: 300 };
const WARMUP_SECONDS = QUICK ? 2 : 3;
/** A call waiting longer than this for a message fails (SIPp `-recv_timeout`); retransmissions go on meanwhile. */
const RECV_TIMEOUT_MS = QUICK ? 2000 : 4000;

const PLANS: readonly ScenarioPlan[] = QUICK
  ? [
      { name: 'register', title: 'REGISTER (no auth)', unit: 'REGISTER/s', rates: [1000, 4000, 16000], seconds: 1 },
      { name: 'register-auth', title: 'REGISTER (digest)', unit: 'REGISTER/s', rates: [500, 2000, 8000], seconds: 1 },
      { name: 'calls', title: 'calls (1 s, RR)', unit: 'calls/s', rates: [100, 400, 1600], seconds: 1 },
    ]
  : [
      { name: 'register', title: 'REGISTER (no auth)', unit: 'REGISTER/s', rates: [500, 1000, 2000, 4000, 8000, 16000, 32000, 64000], seconds: 3 },
      { name: 'register-auth', title: 'REGISTER (digest)', unit: 'REGISTER/s', rates: [250, 500, 1000, 2000, 4000, 8000, 16000, 32000], seconds: 3 },
      { name: 'calls', title: 'calls (1 s, RR)', unit: 'calls/s', rates: [100, 200, 400, 800, 1600, 3200], seconds: 4 },
    ];

// ---------------------------------------------------------------------------------------------
// Processes: every child gets its own process group, killed as a group at the end, on errors
// and on Ctrl-C (Kamailio forks workers that would outlive a killed main process).

const children = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** The run's scratch directory (configs, SIPp CSVs, users files), removed at exit. */
let scratch: string | undefined;

function killAll(): void {
  for (const child of children) killGroup(child, 'SIGKILL');
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping every server and SIPp\n`);
    killAll();
    process.exit(130);
  });
}

interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

function start(command: string, args: readonly string[], options: { cwd?: string; maxMs: number }): Child {
  const child = spawn(command, args, { cwd: options.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  let text = '';
  const keep = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    if (text.length > 200_000) text = text.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const guard = setTimeout(() => killGroup(child, 'SIGKILL'), options.maxMs);
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      clearTimeout(guard);
      children.delete(child);
      resolve(code);
    });
    child.once('error', (error) => {
      clearTimeout(guard);
      children.delete(child);
      text += `\nspawn error: ${error.message}`;
      resolve(null);
    });
  });
  return {
    process: child,
    exited,
    output: () => text,
    async stop(graceMs = 3000) {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Workers of a group whose leader already exited.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // no such group: all gone
        }
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CPU of a process tree, from /proc

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

interface ProcStat {
  readonly ppid: number;
  readonly ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // pid (comm) state ppid ... utime(14) stime(15): comm may hold spaces and parentheses.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** CPU seconds used so far by `root` and all its descendants. */
function treeCpuSeconds(root: number): number {
  const stats = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== undefined) stats.set(Number(name), stat);
  }
  const inTree = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, stat] of stats) {
      if (!inTree.has(pid) && inTree.has(stat.ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const pid of inTree) ticks += stats.get(pid)?.ticks ?? 0;
  return ticks / TICKS_PER_SECOND;
}

// ---------------------------------------------------------------------------------------------
// A bit of SIP from this script: readiness probe and the UAS registration

function sipRoundTrip(port: number, build: (localPort: number) => string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const finish = (value: string | undefined): void => {
      clearTimeout(timer);
      socket.close();
      resolve(value);
    };
    socket.on('error', () => finish(undefined));
    socket.on('message', (message) => finish(message.toString('latin1').split('\r\n')[0]));
    socket.bind(0, HOST, () => socket.send(build(socket.address().port), port, HOST));
  });
}

let probeCount = 0;

/** Resolves once the server answers an OPTIONS (any response), rejects after `timeoutMs`. */
async function waitUntilAnswering(port: number, server: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.process.exitCode !== null) throw new Error(`server exited (${server.process.exitCode}):\n${server.output().slice(-3000)}`);
    const n = ++probeCount;
    const line = await sipRoundTrip(
      port,
      (lp) =>
        `OPTIONS sip:${HOST}:${port} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${lp};branch=z9hG4bK-probe${n}-${process.pid}\r\nMax-Forwards: 70\r\n` +
        `From: <sip:probe@${HOST}>;tag=p${n}\r\nTo: <sip:${HOST}:${port}>\r\nCall-ID: probe-${n}-${process.pid}@bench\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
      200,
    );
    if (line !== undefined) return;
  }
  throw new Error(`server on port ${port} did not answer within ${timeoutMs} ms:\n${server.output().slice(-3000)}`);
}

async function registerUas(port: number, uasPort: number): Promise<void> {
  const line = await sipRoundTrip(
    port,
    (lp) =>
      `REGISTER sip:${HOST}:${port} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${lp};branch=z9hG4bK-uasreg-${process.pid}\r\nMax-Forwards: 70\r\n` +
      `From: <sip:uas@${HOST}>;tag=uasreg\r\nTo: <sip:uas@${HOST}>\r\nCall-ID: uasreg-${process.pid}@bench\r\nCSeq: 1 REGISTER\r\n` +
      `Contact: <sip:uas@${HOST}:${uasPort}>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n`,
    3000,
  );
  if (line === undefined || !/^SIP\/2\.0 200 /.test(line)) throw new Error(`registering the UAS failed: ${line ?? 'no answer'}`);
}

// ---------------------------------------------------------------------------------------------
// Servers

interface RunningServer {
  readonly name: ServerName;
  readonly port: number;
  readonly child: Child;
  stop(): Promise<void>;
}

async function startKamailio(dir: string, auth: boolean): Promise<RunningServer> {
  const port = await sparePort(HOST);
  const cfg = join(dir, `kamailio-${port}.cfg`);
  const text = readFileSync(join(FILES, 'kamailio.cfg'), 'utf8').replaceAll('@HOST@', HOST).replaceAll('@PORT@', String(port)).replaceAll('@PASSWORD@', PASSWORD);
  writeFileSync(cfg, text);
  const defines = auth ? ['-A', 'WITH_AUTH'] : [];
  const check = spawnSync('kamailio', ['-c', '-f', cfg, ...defines], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`kamailio config check failed:\n${check.stdout}${check.stderr}`);
  const child = start('kamailio', ['-DD', '-E', '-f', cfg, ...defines, '-Y', dir, '-w', dir, '-P', join(dir, `kamailio-${port}.pid`), '-m', '256', '-M', '16'], { cwd: dir, maxMs: 600_000 });
  await waitUntilAnswering(port, child, 10_000);
  return { name: 'kamailio', port, child, stop: () => child.stop() };
}

async function startVoxlite(dir: string, usersFile: string | undefined): Promise<RunningServer> {
  const port = await sparePort(HOST);
  const profile = CPU_PROF_DIR === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR];
  const users = usersFile === undefined ? [] : ['--users', usersFile, '--realm', HOST];
  const child = start(process.execPath, [...profile, '--import', 'tsx', join(FILES, 'voxlite-server.ts'), '-t', 'udp', '-l', `${HOST}:${port}`, ...users], { maxMs: 600_000 });
  await waitUntilAnswering(port, child, 20_000);
  return { name: 'voxlite', port, child, stop: () => child.stop(5000) };
}

// ---------------------------------------------------------------------------------------------
// One SIPp step

interface StepResult {
  readonly rate: number;
  readonly calls: number;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  readonly wallSeconds: number;
  readonly achieved: number;
  readonly serverCpuSeconds: number;
  readonly sippCpuSeconds: number;
  /** Datagrams the kernel dropped for full receive buffers during the step (whole host). */
  readonly udpDrops: number;
  readonly pass: boolean;
  readonly why: string;
  /** The server logged that its transaction table was full (voxlite's stateless 503). */
  readonly tableFull: boolean;
}

/** The host's UDP RcvbufErrors counter (/proc/net/snmp). */
function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'latin1').split('\n').filter((l) => l.startsWith('Udp: '));
  const names = lines[0]?.split(' ') ?? [];
  const values = lines[1]?.split(' ') ?? [];
  const n = Number(values[names.indexOf('RcvbufErrors')]);
  return Number.isFinite(n) ? n : 0;
}

function parseStatCsv(file: string): Map<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.split(';');
  const last = lines.length > 1 ? lines[lines.length - 1]?.split(';') : undefined;
  if (header === undefined || last === undefined) return undefined;
  return new Map(header.map((name, i) => [name, last[i] ?? '']));
}

function counter(stats: Map<string, string> | undefined, name: string): number {
  const n = Number(stats?.get(name));
  return Number.isFinite(n) ? n : 0;
}

async function runStep(dir: string, server: RunningServer, plan: ScenarioPlan, rate: number, usersCsv: string, seconds = plan.seconds): Promise<StepResult> {
  const calls = Math.max(1, Math.round(rate * seconds));
  const holdMs = plan.name === 'calls' ? CALL_MS : 0;
  const limitSeconds = Math.ceil(seconds * 2 + holdMs / 1000 + RECV_TIMEOUT_MS / 1000 + 2);
  const localPort = await sparePort(HOST);
  const csv = join(dir, `stat-${server.name}-${plan.name}-${rate}.csv`);
  const scenario =
    plan.name === 'calls'
      ? ['-sf', join(FILES, 'uac.xml'), '-s', 'uas', '-d', String(CALL_MS)]
      : ['-sf', join(FILES, plan.name === 'register' ? 'register.xml' : 'register-auth.xml'), '-inf', usersCsv];
  const args = [
    `${HOST}:${server.port}`,
    ...scenario,
    '-i', HOST,
    '-p', String(localPort),
    '-r', String(rate),
    '-rp', '1000',
    '-m', String(calls),
    '-nostdin',
    '-buff_size', '4194304',
    '-recv_timeout', String(RECV_TIMEOUT_MS),
    '-timeout', `${limitSeconds}s`,
    '-trace_stat', '-stf', csv, '-fd', '1',
  ];
  const cpuBefore = treeCpuSeconds(server.child.process.pid ?? 0);
  const logBefore = server.child.output().length;
  const dropsBefore = udpRcvbufErrors();
  const t0 = process.hrtime.bigint();
  const sipp = start('sipp', args, { cwd: dir, maxMs: (limitSeconds + 5) * 1000 });
  const sippPid = sipp.process.pid ?? 0;
  // SIPp's own CPU, to tell a saturated load generator from a saturated server.
  let sippCpu = 0;
  const sampler = setInterval(() => {
    const s = readStat(sippPid);
    if (s !== undefined) sippCpu = s.ticks / TICKS_PER_SECOND;
  }, 100);
  const code = await sipp.exited;
  clearInterval(sampler);
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const serverCpuSeconds = treeCpuSeconds(server.child.process.pid ?? 0) - cpuBefore;
  const udpDrops = udpRcvbufErrors() - dropsBefore;
  const tableFull = server.child.output().slice(logBefore).includes('transaction table full');

  const stats = parseStatCsv(csv);
  const successful = counter(stats, 'SuccessfulCall(C)');
  const failed = counter(stats, 'FailedCall(C)');
  const retransmissions = counter(stats, 'Retransmissions(C)');
  const loadSeconds = Math.max(0.001, wallSeconds - holdMs / 1000);
  const achieved = successful / loadSeconds;
  const missing = calls - successful - failed;
  let why = '';
  if (stats === undefined) why = `sipp exit ${code}: ${lastLines(sipp.output(), 3)}`;
  else if (failed + Math.max(0, missing) > calls * PASS_FAILED_FRACTION) {
    const statuses = [...new Set([...sipp.output().matchAll(/received 'SIP\/2\.0 ([0-9]{3})/g)].map((m) => m[1]))];
    const reasons = [
      ['unexpected', counter(stats, 'FailedUnexpectedMessage(C)')],
      ['max-retrans', counter(stats, 'FailedMaxUDPRetrans(C)')],
      ['recv-timeout', counter(stats, 'FailedTimeoutOnRecv(C)')],
      ['not-finished', Math.max(0, missing)],
    ] as const;
    why = `${failed + Math.max(0, missing)}/${calls} failed (${tableFull ? 'server log: transaction table full; ' : ''}${reasons
      .filter(([, n]) => n > 0)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ')}${statuses.length === 0 ? '' : `; got ${statuses.join(', ')}`})`;
  } else if (loadSeconds > seconds / PASS_RATE_FRACTION + PASS_SLACK_SECONDS) {
    // SIPp fell behind its schedule: it (or the server) did not keep up with the offered rate.
    why = `rate not sustained (${Math.round(achieved)}/s)`;
  }
  return { rate, calls, successful, failed, retransmissions, wallSeconds, achieved, serverCpuSeconds, sippCpuSeconds: sippCpu, udpDrops, pass: why === '', why, tableFull };
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

// ---------------------------------------------------------------------------------------------
// Reporting helpers

function fmtRate(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n));
}

function perCore(step: StepResult): number {
  return step.serverCpuSeconds > 0 ? step.successful / step.serverCpuSeconds : Number.POSITIVE_INFINITY;
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function stepLine(server: ServerName, plan: ScenarioPlan, s: StepResult): string {
  const cores = s.serverCpuSeconds / s.wallSeconds;
  return (
    `  ${pad(server, 8)} ${pad(plan.name, 13)} ${pad(String(s.rate), 6, true)}/s  m=${pad(String(s.calls), 6)} ok=${pad(String(s.successful), 6)} ` +
    `fail=${pad(String(s.failed), 5)} rtx=${pad(String(s.retransmissions), 5)} drop=${pad(String(s.udpDrops), 5)} ${s.wallSeconds.toFixed(2)} s  got ${pad(fmtRate(s.achieved), 6, true)}/s  ` +
    `server ${cores.toFixed(2)} cores (${s.serverCpuSeconds.toFixed(2)} s)  sipp ${(s.sippCpuSeconds / s.wallSeconds).toFixed(2)} cores  ` +
    `${pad(fmtRate(perCore(s)), 6, true)}/s/core  ${s.pass ? 'PASS' : `FAIL: ${s.why}`}`
  );
}

/** Top self-time functions of the newest .cpuprofile in `dir`. */
function hotFunctions(dir: string, top: number): string[] {
  const files = readdirSync(dir)
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (1 is the module loader's).
    .filter((f) => /^CPU\.[0-9]+\.[0-9]+\.[0-9]+\.0\.[0-9]+\.cpuprofile$/.test(f))
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  const newest = files[0];
  if (newest === undefined) return ['  (no .cpuprofile written)'];
  interface ProfileNode {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly hitCount?: number;
  }
  const profile = JSON.parse(readFileSync(join(dir, newest.f), 'utf8')) as { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, i) => {
    const node = byId.get(id);
    if (node === undefined) return;
    const us = deltas[i + 1] ?? deltas[i] ?? 0;
    const frame = node.callFrame;
    const url = frame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '');
    const key = `${frame.functionName === '' ? '(anonymous)' : frame.functionName}  ${url === '' ? '' : `${url}:${frame.lineNumber + 1}`}`;
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  });
  const busy = total - (self.get('(idle)  ') ?? 0);
  return [
    `  ${newest.f}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle; self time, % of not idle:`,
    ...[...self.entries()]
      .filter(([k]) => k !== '(idle)  ')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `  ${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)} %  ${k}`),
  ];
}

// ---------------------------------------------------------------------------------------------
// Main

interface ScenarioOutcome {
  readonly plan: ScenarioPlan;
  readonly server: ServerName;
  readonly steps: StepResult[];
}

async function runScenario(dir: string, serverName: ServerName, plan: ScenarioPlan, files: { usersCsv: string; usersTxt: string }): Promise<ScenarioOutcome> {
  const auth = plan.name === 'register-auth';
  const server = serverName === 'kamailio' ? await startKamailio(dir, auth) : await startVoxlite(dir, auth ? files.usersTxt : undefined);
  let uas: Child | undefined;
  const steps: StepResult[] = [];
  try {
    if (plan.name === 'calls') {
      const uasPort = await sparePort(HOST);
      uas = start('sipp', ['-sf', join(FILES, 'uas.xml'), '-i', HOST, '-p', String(uasPort), '-nostdin', '-buff_size', '4194304'], { cwd: dir, maxMs: 300_000 });
      await new Promise((r) => setTimeout(r, 300));
      if (uas.process.exitCode !== null) throw new Error(`SIPp UAS exited: ${lastLines(uas.output(), 5)}`);
      await registerUas(server.port, uasPort);
    }
    // Warm-up (not counted): JIT compilation, first allocations, the location service filling up.
    const warmRate = Math.max(plan.rates[0] ?? 100, Math.ceil(WARMUP_CALLS[plan.name] / WARMUP_SECONDS));
    const warm = await runStep(dir, server, plan, warmRate, files.usersCsv, WARMUP_SECONDS);
    console.log(stepLine(serverName, plan, warm).replace(/(PASS|FAIL)/, 'warm-up, $1'));
    await new Promise((r) => setTimeout(r, 300));
    for (const rate of plan.rates) {
      const step = await runStep(dir, server, plan, rate, files.usersCsv);
      steps.push(step);
      console.log(stepLine(serverName, plan, step));
      if (!step.pass) break;
      // Let the last responses and retransmissions of this step drain before the next.
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    await uas?.stop();
    await server.stop();
  }
  if (CPU_PROF_DIR !== undefined && serverName === 'voxlite') {
    console.log(`  voxlite hot functions (${plan.name}):`);
    for (const line of hotFunctions(CPU_PROF_DIR, 15)) console.log(line);
  }
  return { plan, server: serverName, steps };
}

function best(outcome: ScenarioOutcome | undefined): StepResult | undefined {
  const passed = outcome?.steps.filter((s) => s.pass) ?? [];
  return passed[passed.length - 1];
}

async function main(): Promise<void> {
  for (const tool of ['sipp', 'kamailio']) {
    if (spawnSync('which', [tool]).status !== 0) throw new Error(`${tool} not found (Debian packages sip-tester and kamailio)`);
  }
  const servers: ServerName[] = ONLY === 'voxlite' || ONLY === 'kamailio' ? [ONLY] : ['voxlite', 'kamailio'];
  const plans = PLANS.filter((p) => ONLY_SCENARIO === undefined || p.name === ONLY_SCENARIO);
  const dir = mkdtempSync(join(os.tmpdir(), 'voxlite-server-bench-'));
  scratch = dir;
  const started = Date.now();
  try {
    // 1000 subscribers, one password: SIPp's injection file and voxlite's users file.
    const names = Array.from({ length: USERS }, (_, i) => `u${String(i + 1).padStart(4, '0')}`);
    const usersCsv = join(dir, 'users.csv');
    writeFileSync(usersCsv, ['SEQUENTIAL', ...names.map((u) => `${u};[authentication username=${u} password=${PASSWORD}]`)].join('\n') + '\n');
    const directory = new UserDirectory();
    for (const u of names) directory.set(UserDirectory.record(u, HOST, PASSWORD));
    const usersTxt = join(dir, 'users.txt');
    writeFileSync(usersTxt, directory.format());

    const kamailioVersion = /kamailio ([0-9.]+)/.exec(spawnSync('kamailio', ['-v'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
    const sippVersion = /SIPp (v[0-9.]+)/.exec(spawnSync('sipp', ['-v'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
    console.log(`server bench${QUICK ? ' (quick)' : ''}: voxlite (node ${process.version}) vs Kamailio ${kamailioVersion} (children=2), SIPp ${sippVersion}, UDP on ${HOST}`);
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`pass = < ${PASS_FAILED_FRACTION * 100} % failed or missing calls and the planned pace kept (within /${PASS_RATE_FRACTION} + ${PASS_SLACK_SECONDS} s); per core = successful / server CPU s`);
    if (CPU_PROF_DIR !== undefined) console.log(`voxlite runs under --cpu-prof (${CPU_PROF_DIR}): its numbers are not representative`);
    console.log('');

    const outcomes: ScenarioOutcome[] = [];
    for (const plan of plans) {
      console.log(`${plan.title} — rates ${plan.rates.join(', ')} ${plan.unit}, ${plan.seconds} s of new calls per step`);
      for (const serverName of servers) outcomes.push(await runScenario(dir, serverName, plan, { usersCsv, usersTxt }));
      console.log('');
    }

    // Summary
    console.log('summary (at the highest passing step of each server)');
    const header = `${pad('scenario', 19)} | ${pad('server', 8)} | ${pad('max rate', 10, true)} | ${pad('achieved', 9, true)} | ${pad('server cores', 12, true)} | ${pad('per core', 9, true)} | ${pad('SIPp cores', 10, true)} | stopped by`;
    console.log(header);
    console.log('-'.repeat(header.length + 20));
    for (const o of outcomes) {
      const b = best(o);
      const stopped = o.steps.find((s) => !s.pass);
      const stop = stopped === undefined ? 'end of ramp' : `${stopped.rate}/s: ${stopped.why}`;
      console.log(
        b === undefined
          ? `${pad(o.plan.title, 19)} | ${pad(o.server, 8)} | ${pad('none', 10, true)} | ${pad('', 9)} | ${pad('', 12)} | ${pad('', 9)} | ${pad('', 10)} | ${stop}`
          : `${pad(o.plan.title, 19)} | ${pad(o.server, 8)} | ${pad(`${b.rate}/s`, 10, true)} | ${pad(`${fmtRate(b.achieved)}/s`, 9, true)} | ` +
              `${pad((b.serverCpuSeconds / b.wallSeconds).toFixed(2), 12, true)} | ${pad(`${fmtRate(perCore(b))}/s`, 9, true)} | ` +
              `${pad((b.sippCpuSeconds / b.wallSeconds).toFixed(2), 10, true)} | ${stop}`,
      );
    }
    console.log('');
    if (servers.length === 2) {
      for (const plan of plans) {
        const v = outcomes.find((o) => o.plan === plan && o.server === 'voxlite');
        const k = outcomes.find((o) => o.plan === plan && o.server === 'kamailio');
        const bv = best(v);
        const bk = best(k);
        const atMax = bv !== undefined && bk !== undefined ? (perCore(bv) / perCore(bk)).toFixed(2) : 'n/a';
        // The same offered load for both: the highest rate both passed.
        const common = (v?.steps ?? []).filter((s) => s.pass && (k?.steps ?? []).some((t) => t.pass && t.rate === s.rate)).map((s) => s.rate);
        const rate = common[common.length - 1];
        const sv = v?.steps.find((s) => s.rate === rate);
        const sk = k?.steps.find((s) => s.rate === rate);
        const same = sv !== undefined && sk !== undefined ? `${(perCore(sv) / perCore(sk)).toFixed(2)} at ${rate} ${plan.unit}` : 'n/a';
        const maxRatio = bv !== undefined && bk !== undefined ? (bv.rate / bk.rate).toFixed(2) : 'n/a';
        console.log(`${pad(plan.title, 19)}: per-core voxlite/Kamailio = ${atMax} (each at its max), ${same} (same load); max-rate ratio ${maxRatio}; target per core ≥ 0.50`);
      }
    }
    if (outcomes.some((o) => o.steps.some((st) => st.tableFull))) {
      console.log(
        '\nnote: "transaction table full" = voxlite answered 503 because it held 10 000 server transactions (its\n' +
          'transaction layer cap); over UDP a non-INVITE transaction lives 32 s after its response (Timer J = 64·T1) and an\n' +
          'accepted INVITE 32 s (Timer L), so ~310 new server transactions/s is the sustainable rate whatever the CPU.\n' +
          'Kamailio answers REGISTER statelessly (sl) and keeps relayed transactions ~5 s (tm wait timer).',
      );
    }
    console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    killAll();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : String(error));
  killAll();
  process.exit(1);
});
