import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionPool } from './connection-pool.js';
import type { Connection } from './connection.js';
import { TransportError, type TransportAddress } from './transport.js';

function fakeConnection(id: string, remote: TransportAddress): Connection & { open: boolean } {
  const c = {
    id,
    protocol: 'tcp' as const,
    flow: { id, local: { protocol: 'tcp' as const, host: '127.0.0.1', port: 5060 }, remote },
    direction: 'outbound' as const,
    open: true,
    get isOpen() {
      return c.open;
    },
    send: () => Promise.resolve(),
    end: () => undefined,
    destroy: () => {
      c.open = false;
    },
    closed: Promise.resolve(),
  };
  return c;
}

const remote: TransportAddress = { protocol: 'tcp', host: '192.0.2.1', port: 5060 };

test('admit enforces the per-IP cap and release gives the slot back (G11)', () => {
  const pool = new ConnectionPool({ maxConnectionsPerIp: 2, maxConnections: 10 });
  assert.ok(pool.admit('192.0.2.1'));
  assert.ok(pool.admit('192.0.2.1'));
  assert.ok(!pool.admit('192.0.2.1'));
  assert.ok(pool.admit('192.0.2.2'), 'another source is not affected');
  // The same IP written differently counts as the same source.
  assert.ok(!pool.admit('::ffff:192.0.2.1'));
  pool.release('192.0.2.1');
  assert.ok(pool.admit('192.0.2.1'));
  assert.equal(pool.connectionsFrom('192.0.2.1'), 2);
});

test('admit enforces the total cap', () => {
  const pool = new ConnectionPool({ maxConnectionsPerIp: 10, maxConnections: 2 });
  assert.ok(pool.admit('192.0.2.1'));
  assert.ok(pool.admit('192.0.2.2'));
  assert.ok(!pool.admit('192.0.2.3'));
});

test('connections are found by flow and by remote address, open ones only', () => {
  const pool = new ConnectionPool({ maxConnectionsPerIp: 10, maxConnections: 10 });
  const a = fakeConnection('tcp-1', remote);
  pool.add(a);
  assert.equal(pool.byFlow('tcp-1'), a);
  assert.equal(pool.toAddress({ protocol: 'tcp', host: '192.0.2.1', port: 5060 }), a);
  assert.equal(pool.toAddress({ protocol: 'tls', host: '192.0.2.1', port: 5060 }), undefined);
  const b = fakeConnection('tcp-2', remote);
  pool.add(b);
  assert.equal(pool.toAddress(remote), b, 'newest wins');
  b.open = false;
  assert.equal(pool.toAddress(remote), a);
  assert.equal(pool.byFlow('tcp-2'), undefined);
  pool.remove(a);
  pool.remove(b);
  assert.equal(pool.size, 0);
  assert.equal(pool.toAddress(remote), undefined);
});

test('acquire reuses an open connection and shares one dial between concurrent senders', async () => {
  const pool = new ConnectionPool({ maxConnectionsPerIp: 10, maxConnections: 10 });
  let dials = 0;
  const dial = async (): Promise<Connection> => {
    dials++;
    await Promise.resolve();
    const c = fakeConnection(`tcp-${dials}`, remote);
    pool.add(c);
    return c;
  };
  const [x, y] = await Promise.all([pool.acquire(remote, dial), pool.acquire(remote, dial)]);
  assert.equal(x, y);
  assert.equal(dials, 1);
  assert.equal(await pool.acquire(remote, dial), x);
  assert.equal(dials, 1);
});

test('acquire wraps dial failures in TransportError and forgets the failed dial', async () => {
  const pool = new ConnectionPool({ maxConnectionsPerIp: 10, maxConnections: 10 });
  await assert.rejects(
    pool.acquire(remote, () => Promise.reject(new Error('ECONNREFUSED'))),
    (error: unknown) => error instanceof TransportError,
  );
  const c = fakeConnection('tcp-9', remote);
  const got = await pool.acquire(remote, () => {
    pool.add(c);
    return Promise.resolve(c);
  });
  assert.equal(got, c);
});
