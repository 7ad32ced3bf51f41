/**
 * The redis location store against a real redis-server (Debian package `redis-server`) started
 * on a spare 127.0.0.1 port with persistence off, and killed afterwards. Without the binary the
 * suite skips with a message, except under CI=true, where a missing backend is a failure.
 *
 * Beyond the shared contract: two stores on one Redis are two servers of a farm, and the hash
 * of an AOR carries a Redis TTL so lapsed AORs disappear without any sweep.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { FakeClock } from '../../src/core/clock.js';
import { LocationStoreError, RedisLocationStore, WallClock, type Binding, type LocationStore } from '../../src/proxy/index.js';
import { runLocationStoreContract } from './location-contract.js';

const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
const ci = process.env.CI === 'true';
const skip = !hasRedis && !ci ? 'redis-server not found (apt-get install redis-server); skipped locally, fails under CI=true' : false;

let server: ChildProcess | undefined;
let url = '';
let prefixes = 0;

async function sparePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  await once(probe, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function startRedis(): Promise<void> {
  const port = await sparePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(deadline);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
  url = `redis://127.0.0.1:${port}`;
}

before(async () => {
  if (skip !== false) return;
  assert.ok(hasRedis, 'CI=true but redis-server is missing: install the Debian package redis-server');
  await startRedis();
});

after(async () => {
  if (server === undefined || server.exitCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  await exited;
});

/** A store in its own key namespace, so tests never see each other's keys. */
async function openStore(clock: FakeClock | WallClock, keyPrefix = `test:${prefixes++}:`, ttlGraceMs?: number): Promise<LocationStore> {
  return RedisLocationStore.connect(url, { clock, keyPrefix, ...(ttlGraceMs === undefined ? {} : { ttlGraceMs }) });
}

test('redis-server is installed (required under CI=true)', { skip }, () => {
  assert.ok(hasRedis, 'CI=true but redis-server is missing: install the Debian package redis-server');
});

test('connecting to a port where no Redis listens fails with LOCATION_ERR_BACKEND', async () => {
  const port = await sparePort();
  await assert.rejects(RedisLocationStore.connect(`redis://127.0.0.1:${port}`), (error: unknown) => error instanceof LocationStoreError && error.code === 'LOCATION_ERR_BACKEND');
});

runLocationStoreContract('redis', { open: (clock) => openStore(clock) }, { skip });

const AOR = 'sip:alice@example.com';

function binding(now: number, contact: string, ms: number, extra: Partial<Binding> = {}): Binding {
  return { aor: AOR, contact, expiresAt: now + ms, q: 1, callId: 'c@x', cseq: 1, updatedAt: now, ...extra };
}

describe('redis store: a farm of servers', { skip }, () => {
  test('two stores on the same Redis see each other\'s bindings', async () => {
    const clock = new FakeClock(1_000_000);
    const prefix = `farm:${prefixes++}:`;
    const east = await openStore(clock, prefix);
    const west = await openStore(clock, prefix);
    await east.save(AOR, binding(clock.now(), 'sip:alice@192.0.2.10', 600_000));
    assert.deepEqual((await west.lookup(AOR)).map((b) => b.contact), ['sip:alice@192.0.2.10']);
    // A refresh through the other server is still ordered by Call-ID/CSeq.
    await assert.rejects(west.save(AOR, binding(clock.now(), 'sip:alice@192.0.2.10', 600_000)), /out of order/);
    await west.save(AOR, binding(clock.now(), 'sip:alice@192.0.2.10', 900_000, { cseq: 2 }));
    assert.equal((await east.lookup(AOR))[0]!.cseq, 2);
    assert.equal(await east.removeAll(AOR), 1);
    assert.deepEqual(await west.lookup(AOR), []);
    await east.close();
    await west.close();
  });

  test('concurrent updates from two servers are all kept (compare-and-set, no lost update)', async () => {
    const clock = new FakeClock(1_000_000);
    const prefix = `farm:${prefixes++}:`;
    const stores = [await openStore(clock, prefix), await openStore(clock, prefix)];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stores[i % 2]!.save(AOR, binding(clock.now(), `sip:alice@192.0.2.${i + 1}`, 600_000, { callId: `call-${i}` })),
      ),
    );
    assert.equal((await stores[0]!.bindings(AOR)).length, 20);
    // The cap holds across servers too: of 6 concurrent new contacts on a cap of 22, exactly 2 get in.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        stores[i % 2]!.save(AOR, binding(clock.now(), `sip:alice@198.51.100.${i + 1}`, 600_000, { callId: `extra-${i}` }), { maxBindings: 22 }),
      ),
    );
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 2);
    assert.equal((await stores[1]!.bindings(AOR)).length, 22);
    for (const s of stores) await s.close();
  });
});

describe('redis store: expiry with Redis TTLs', { skip }, () => {
  let raw: Redis;
  before(() => {
    raw = new Redis(url);
  });
  after(async () => {
    await raw.quit();
  });

  test('the AOR hash carries a TTL just past its last binding, and goes when its bindings do', async () => {
    const clock = new WallClock();
    const prefix = `ttl:${prefixes++}:`;
    const store = await openStore(clock, prefix);
    await store.save(AOR, binding(clock.now(), 'sip:alice@192.0.2.10', 1500));
    await store.save(AOR, binding(clock.now(), 'sip:alice@192.0.2.11', 1000));
    const ttl = await raw.pttl(prefix + AOR);
    assert.ok(ttl > 1000 && ttl <= 2500, `PTTL ${ttl} is the longest binding (1.5 s) plus the 1 s grace`);
    await store.removeAll(AOR);
    assert.equal(await raw.exists(prefix + AOR), 0, 'an AOR without bindings has no key');
    await store.close();
  });

  test('Redis drops a lapsed AOR by itself, with no sweep', async () => {
    const clock = new WallClock();
    const prefix = `ttl:${prefixes++}:`;
    const store = await openStore(clock, prefix, 0);
    await store.save(AOR, binding(clock.now(), 'sip:alice@192.0.2.10', 300));
    assert.equal(await raw.exists(prefix + AOR), 1);
    // Poll (no fixed sleep) until Redis expires the key, with a generous deadline.
    const deadline = Date.now() + 5000;
    while ((await raw.exists(prefix + AOR)) === 1) {
      assert.ok(Date.now() < deadline, 'the key outlived its TTL by seconds');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(await store.lookup(AOR), []);
    await store.close();
  });

  test('a corrupted binding in Redis is reported, never turned into a header', async () => {
    const clock = new FakeClock(1000);
    const prefix = `bad:${prefixes++}:`;
    const store = await openStore(clock, prefix);
    const evil = JSON.stringify(binding(clock.now(), 'sip:x@192.0.2.1>\r\nRoute: <sip:evil', 600_000));
    await raw.hset(prefix + AOR, 'v', 'x', 'b:0000', evil);
    await assert.rejects(store.lookup(AOR), (error: unknown) => error instanceof Error && 'code' in error && error.code === 'LOCATION_ERR_CORRUPT');
    await store.close();
  });
});
