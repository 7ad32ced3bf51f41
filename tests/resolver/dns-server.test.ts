/**
 * The resolver against a real DNS server: dnsmasq on 127.0.0.1 and a spare port, serving a
 * NAPTR → SRV → A chain for `voxlite.test` (RFC 6761 §6.2: `.test` never leaks to real DNS).
 * It checks the node:dns adapter (TTLs, NXDOMAIN/NODATA as empty, failures as errors), the
 * RFC 3263 order, and a fail-over over real TCP from a refused target to the next SRV target.
 *
 * Needs the Debian package `dnsmasq-base` (the binary only, no system service). Without it the
 * suite is skipped, unless CI=true, where it fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server } from 'node:net';
import { delimiter, join } from 'node:path';
import { DnsLookupError, Resolver, TargetList, createNodeDnsClient } from '../../src/resolver/index.js';
import type { FailoverOutcome, NodeDnsClient, Target } from '../../src/resolver/index.js';

const HOST = '127.0.0.1';
const SUITE_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 2_000;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `VOXLITE_DNSMASQ` names the binary when set; otherwise PATH is searched, then /usr/sbin and
 * /sbin, where Debian puts dnsmasq and which are not on every user's PATH.
 */
function findDnsmasq(): string | undefined {
  const override = process.env.VOXLITE_DNSMASQ;
  if (override !== undefined && override !== '') return isExecutable(override) ? override : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  return dirs.filter((d) => d !== '').map((d) => join(d, 'dnsmasq')).find(isExecutable);
}

/** A port free for both UDP and TCP on 127.0.0.1 right now (dnsmasq binds both). */
async function sparePort(): Promise<number> {
  const tcp = createServer();
  await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(0, HOST, resolve));
  const address = tcp.address();
  assert.ok(address !== null && typeof address === 'object');
  const udp = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(address.port, HOST, resolve);
    });
  } finally {
    udp.close();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }
  return address.port;
}

/** A TCP port with nothing listening: connecting to it is refused. */
async function closedTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

interface Dnsmasq {
  readonly child: ChildProcess;
  readonly port: number;
  readonly log: () => string;
}

/** Starts dnsmasq in the foreground and resolves once it says it has started (sockets bound). */
function startDnsmasq(bin: string, port: number, records: readonly string[]): Promise<Dnsmasq> {
  const args = [
    '--no-daemon', // foreground, no pid file, no change of user
    '--conf-file=/dev/null', // ignore /etc/dnsmasq.conf and /etc/dnsmasq.d
    '--no-resolv',
    '--no-hosts',
    '--log-facility=-',
    `--port=${port}`,
    `--listen-address=${HOST}`,
    '--bind-interfaces',
    '--local=/voxlite.test/', // unknown names in the zone: NXDOMAIN rather than REFUSED
    ...records,
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < 64 * 1024) output += chunk.toString('latin1');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return new Promise<Dnsmasq>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dnsmasq did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onData = (): void => {
      if (!output.includes('started, version')) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({ child, port, log: () => output });
    };
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`dnsmasq exited (code ${code}, signal ${signal}):\n${output}`));
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function stopDnsmasq(server: Dnsmasq | undefined): Promise<void> {
  if (server === undefined || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  server.child.kill('SIGTERM');
  const escalate = setTimeout(() => server.child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(escalate);
}

/** Opens a TCP connection to a target: the kind of attempt a UA makes before sending. */
function tryConnect(target: Target): Promise<FailoverOutcome | 'connected'> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.end();
      resolve('connected');
    });
    socket.once('error', () => resolve('transport-error'));
  });
}

const dnsmasqBin = findDnsmasq();
const inCi = process.env.CI === 'true';
const missing = 'dnsmasq not found (install the Debian package dnsmasq-base)';

if (dnsmasqBin === undefined && inCi) {
  test('real DNS (dnsmasq on 127.0.0.1)', () => {
    assert.fail(`${missing}; it is required when CI=true`);
  });
}

describe(
  'real DNS (dnsmasq on 127.0.0.1): NAPTR → SRV → A and fail-over',
  { skip: dnsmasqBin === undefined && !inCi ? `${missing}; skipping` : false, timeout: SUITE_TIMEOUT_MS },
  () => {
    let server: Dnsmasq | undefined;
    let client: NodeDnsClient;
    let live: Server;
    let livePort: number;
    let refusedPort: number;
    let accepted = 0;
    const killOnExit = (): void => {
      server?.child.kill('SIGKILL');
    };

    before(async () => {
      assert.ok(dnsmasqBin !== undefined);
      live = createServer((socket) => {
        accepted++;
        socket.on('error', () => {});
        socket.end();
      });
      await new Promise<void>((resolve, reject) => live.once('error', reject).listen(0, HOST, resolve));
      const address = live.address();
      assert.ok(address !== null && typeof address === 'object');
      livePort = address.port;
      refusedPort = await closedTcpPort();
      const records = [
        // RFC 3263 §4.1: TCP preferred (order 10), then UDP (order 20); the "a"-flag record and
        // the SIPS service (not enabled below) must be ignored.
        '--naptr-record=voxlite.test,5,10,a,SIP+D2U,,ignored.voxlite.test',
        '--naptr-record=voxlite.test,10,10,s,SIP+D2T,,_sip._tcp.voxlite.test',
        '--naptr-record=voxlite.test,20,10,s,SIP+D2U,,_sip._udp.voxlite.test',
        '--naptr-record=voxlite.test,30,10,s,SIPS+D2T,,_sips._tcp.voxlite.test',
        // dnsmasq's order is target,port,priority,weight
        `--srv-host=_sip._tcp.voxlite.test,primary.voxlite.test,${refusedPort},10,0`,
        `--srv-host=_sip._tcp.voxlite.test,backup.voxlite.test,${livePort},20,0`,
        '--srv-host=_sip._udp.voxlite.test,udp.voxlite.test,5060,10,0',
        `--host-record=primary.voxlite.test,${HOST},300`,
        `--host-record=backup.voxlite.test,${HOST}`,
        `--host-record=udp.voxlite.test,${HOST}`,
        `--host-record=ignored.voxlite.test,${HOST}`,
      ];
      process.once('exit', killOnExit);
      // A port can be taken between picking and binding; try a few.
      let lastError: unknown;
      for (let attempt = 0; attempt < 3 && server === undefined; attempt++) {
        try {
          server = await startDnsmasq(dnsmasqBin, await sparePort(), records);
        } catch (error) {
          lastError = error;
        }
      }
      if (server === undefined) throw lastError;
      client = createNodeDnsClient({ servers: [`${HOST}:${server.port}`], timeoutMs: 1_000, tries: 2, defaultTtlSeconds: 45 });
    });

    after(async () => {
      client?.cancel();
      await stopDnsmasq(server);
      process.off('exit', killOnExit);
      await new Promise<void>((resolve) => (live ? live.close(() => resolve()) : resolve()));
    });

    test('the node:dns adapter: records, TTLs, negative answers and failures', async () => {
      assert.deepEqual(await client.resolve4('primary.voxlite.test'), [{ address: HOST, ttl: 300 }]);
      const naptr = await client.resolveNaptr('voxlite.test');
      assert.equal(naptr.length, 4);
      assert.ok(naptr.every((r) => r.ttl === 45), 'NAPTR gets the configured default TTL');
      const srv = await client.resolveSrv('_sip._tcp.voxlite.test');
      assert.deepEqual(
        [...srv].sort((a, b) => a.priority - b.priority),
        [
          { priority: 10, weight: 0, port: refusedPort, target: 'primary.voxlite.test', ttl: 45 },
          { priority: 20, weight: 0, port: livePort, target: 'backup.voxlite.test', ttl: 45 },
        ],
      );
      assert.deepEqual(await client.resolveSrv('_sips._tcp.voxlite.test'), [], 'NXDOMAIN is an empty answer');
      assert.deepEqual(await client.resolve6('primary.voxlite.test'), [], 'NODATA is an empty answer');
      // Outside its local zone and without upstream servers, dnsmasq refuses to answer.
      await assert.rejects(client.resolve4('elsewhere.invalid'), (e: unknown) => e instanceof DnsLookupError && e.type === 'A' && e.dnsCode !== '');
    });

    test('RFC 3263 order from NAPTR → SRV → A, then fail-over to the second SRV target', async () => {
      const resolver = new Resolver({ dns: client, protocols: ['tcp', 'udp'] });
      const targets = await resolver.resolve('sip:alice@voxlite.test');
      assert.deepEqual(targets, [
        { protocol: 'tcp', host: HOST, port: refusedPort, hostname: 'primary.voxlite.test' },
        { protocol: 'tcp', host: HOST, port: livePort, hostname: 'backup.voxlite.test' },
        { protocol: 'udp', host: HOST, port: 5060, hostname: 'udp.voxlite.test' },
      ]);

      const list = new TargetList(targets);
      const attempts: string[] = [];
      let target = list.nextTarget();
      while (target !== undefined) {
        const outcome = await tryConnect(target);
        attempts.push(`${target.hostname ?? target.host} ${outcome}`);
        if (outcome === 'connected') break;
        target = list.failover(outcome);
      }
      assert.deepEqual(attempts, ['primary.voxlite.test transport-error', 'backup.voxlite.test connected']);
      assert.equal(list.current?.port, livePort);
      assert.equal(accepted, 1);
    });
  },
);
