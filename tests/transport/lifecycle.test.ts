/**
 * Starting and stopping: close() is idempotent and leaves no socket behind (so the test
 * runner exits), failures to bind undo what was bound, and a closed layer refuses to send.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemClock } from '../../src/core/clock.js';
import { parseMessage, type SipRequest } from '../../src/sip/index.js';
import { TransportLayer } from '../../src/transport/layer.js';
import { TransportError } from '../../src/transport/transport.js';
import { assertNoSocketHandles, makeCertificate, openSocketHandles, RawStreamClient, requestText, startPeer, viaFor } from './helpers.js';

let cert: { cert: string; key: string };

before(() => {
  cert = makeCertificate();
});

after(async () => {
  await assertNoSocketHandles();
});

test('close() is idempotent and closes listeners, live connections and half-done handshakes', async () => {
  const server = await startPeer([
    { protocol: 'udp', host: '127.0.0.1', port: 0 },
    { protocol: 'tcp', host: '::1', port: 0 },
    { protocol: 'tls', host: '127.0.0.1', port: 0, tls: cert },
    { protocol: 'ws', host: '127.0.0.1', port: 0 },
    { protocol: 'wss', host: '::1', port: 0, tls: cert },
  ]);
  const client = await startPeer([{ protocol: 'tcp', host: '::1', port: 0 }]);
  // A live SIP connection, a TLS socket that never says hello, and an HTTP socket that never upgrades.
  await client.layer.send(parseMessage(Buffer.from(requestText({ via: viaFor(client.address('tcp')) }))) as SipRequest, server.address('tcp'));
  await server.inbox.next();
  const tlsIdle = new RawStreamClient('127.0.0.1', server.address('tls').port);
  const wsIdle = new RawStreamClient('127.0.0.1', server.address('ws').port);
  await tlsIdle.connected;
  await wsIdle.connected;
  wsIdle.write('GET / HTTP/1.1\r\n');

  const first = server.layer.close();
  const second = server.layer.close();
  assert.equal(first, second, 'the same promise');
  await first;
  await server.layer.close();
  await client.layer.close();
  await tlsIdle.closed;
  await wsIdle.closed;
  await assertNoSocketHandles();
  assert.deepEqual(openSocketHandles(), []);
});

test('a closed layer refuses to send; a layer that is not listening yet too', async () => {
  const fresh = new TransportLayer({ clock: new SystemClock(), listeners: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] });
  const req = parseMessage(Buffer.from(requestText({ via: 'SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1' }))) as SipRequest;
  await assert.rejects(fresh.send(req, { protocol: 'udp', host: '127.0.0.1', port: 9 }), TransportError);
  await fresh.listen();
  await fresh.close();
  await assert.rejects(fresh.send(req, { protocol: 'udp', host: '127.0.0.1', port: 9 }), TransportError);
  await assert.rejects(fresh.listen(), TransportError);
});

test('a listener that cannot bind fails listen() and the ones already bound are closed', async () => {
  const taken = await startPeer([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }]);
  try {
    const layer = new TransportLayer({
      clock: new SystemClock(),
      listeners: [
        { protocol: 'udp', host: '127.0.0.1', port: 0 },
        { protocol: 'tcp', host: '127.0.0.1', port: taken.address('tcp').port },
      ],
    });
    await assert.rejects(layer.listen(), /EADDRINUSE/);
    await layer.close();
  } finally {
    await taken.layer.close();
  }
});

test('bad configuration is a TypeError at construction', () => {
  const clock = new SystemClock();
  assert.throws(() => new TransportLayer({ clock, listeners: [{ protocol: 'udp', host: 'localhost', port: 0 }] }), TypeError);
  assert.throws(() => new TransportLayer({ clock, listeners: [{ protocol: 'tls', host: '127.0.0.1', port: 0 }] }), TypeError);
  assert.throws(() => new TransportLayer({ clock, listeners: [{ protocol: 'tcp', host: '127.0.0.1', port: 70000 }] }), RangeError);
});

test('localAddress gives the bound port of the first listener of a protocol, IPv6 without brackets', async () => {
  const peer = await startPeer([
    { protocol: 'tcp', host: '[::1]', port: 0 },
    { protocol: 'udp', host: '127.0.0.1', port: 0, advertisedHost: 'sip.example.com' },
  ]);
  try {
    const tcp = peer.layer.localAddress('tcp')!;
    assert.equal(tcp.host, '::1');
    assert.ok(tcp.port > 0);
    assert.deepEqual(peer.layer.localAddress('udp'), { protocol: 'udp', host: 'sip.example.com', port: peer.layer.localAddresses()[1]!.port });
    assert.equal(peer.layer.localAddress('tls'), undefined);
  } finally {
    await peer.layer.close();
  }
});
