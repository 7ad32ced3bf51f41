/**
 * UDP receive and send paths over loopback: RFC 3261 §18.1.1 (MTU switch), §18.1.2, §18.2.1,
 * RFC 3581, and the bad-input guarantees G07, G14, G17.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import { createResponse, parseMessage, paramValue, type SipRequest, type SipResponse } from '../../src/sip/index.js';
import { TransportError } from '../../src/transport/transport.js';
import { assertNoSocketHandles, RawUdpClient, recordingLogger, requestText, startPeer, viaFor } from './helpers.js';

after(async () => {
  await assertNoSocketHandles();
});

for (const family of [4, 6] as const) {
  const host = family === 4 ? '127.0.0.1' : '::1';

  test(`udp IPv${family}: a lying sent-by gets received and rport; the response goes to the real source (RFC 3581 §4)`, async () => {
    const server = await startPeer([{ protocol: 'udp', host, port: 0 }]);
    const client = new RawUdpClient(family);
    try {
      const me = await client.ready;
      await client.send(requestText({ via: 'SIP/2.0/UDP 192.0.2.99:5060;rport;branch=z9hG4bKlie' }), server.address('udp'));
      const incoming = await server.inbox.next();
      const top = incoming.message.topVia()!;
      assert.equal(top.host, '192.0.2.99');
      assert.equal(paramValue(top.params, 'received'), host);
      assert.equal(paramValue(top.params, 'rport'), String(me.port));
      const response = createResponse(incoming.message as SipRequest, 200);
      const target = server.layer.responseTarget(response)!;
      assert.deepEqual(target, { protocol: 'udp', host, port: me.port });
      await server.layer.send(response, target, { flow: incoming.flow });
      const reply = (await client.inbox.next()).toString('latin1');
      assert.match(reply, /^SIP\/2\.0 200 OK\r\n/);
      assert.match(reply, new RegExp(`Via: SIP/2\\.0/UDP 192\\.0\\.2\\.99:5060;rport=${me.port};branch=z9hG4bKlie;received=${host.replace(/\./g, '\\.')}\\r\\n`));
    } finally {
      await client.close();
      await server.layer.close();
    }
  });
}

test('udp: a malformed request with a readable start line gets 400 back at its source', async () => {
  const server = await startPeer([{ protocol: 'udp', host: '127.0.0.1', port: 0 }]);
  const client = new RawUdpClient(4);
  try {
    await client.ready;
    await client.send(requestText({ via: 'SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKbad', extra: ['CSeq: 2 OPTIONS'] }), server.address('udp'));
    const reply = (await client.inbox.next()).toString('latin1');
    assert.match(reply, /^SIP\/2\.0 400 /);
    assert.match(reply, /Via: SIP\/2\.0\/UDP 192\.0\.2\.99;branch=z9hG4bKbad\r\n/);
    assert.equal(server.inbox.size, 0);
  } finally {
    await client.close();
    await server.layer.close();
  }
});

test('udp: garbage and a request without Via are dropped, logged once per source per second, and service goes on (G07, G14)', async () => {
  // A clock that never moves makes "once per second" exact.
  const logger = recordingLogger();
  const server = await startPeer([{ protocol: 'udp', host: '127.0.0.1', port: 0 }], { clock: new FakeClock(), logger });
  const client = new RawUdpClient(4);
  try {
    await client.ready;
    const noVia = requestText({ via: 'x' }).replace(/^Via: x\r\n/m, '');
    const garbage = [Buffer.from([0, 1, 2, 0xff, 0xfe]), Buffer.from('\r\n\r\n\r\n'), Buffer.from('hello world'), Buffer.from(noVia), Buffer.from('SIP/2.0 999 Bad\r\n\r\n')];
    for (const g of garbage) await client.send(g, server.address('udp'));
    await client.send(requestText({ via: 'SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKok', callId: 'after-garbage' }), server.address('udp'));
    const incoming = await server.inbox.next();
    assert.equal(incoming.message.callId(), 'after-garbage');
    assert.equal(client.inbox.size, 0, 'nothing was answered');
    assert.equal(logger.warnings.length, 1, logger.warnings.join('\n'));
  } finally {
    await client.close();
    await server.layer.close();
  }
});

test('udp: a response whose top Via is not ours is dropped (RFC 3261 §18.1.2); ours is handed up', async () => {
  const server = await startPeer([{ protocol: 'udp', host: '127.0.0.1', port: 0 }]);
  const client = new RawUdpClient(4);
  try {
    await client.ready;
    const ours = server.address('udp');
    const response = (via: string, callId: string): string =>
      ['SIP/2.0 200 OK', `Via: ${via}`, 'To: <sip:b@x>;tag=2', 'From: <sip:a@x>;tag=1', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
    await client.send(response('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1', 'foreign'), ours);
    await client.send(response(`SIP/2.0/UDP 127.0.0.1:${ours.port + 1 === 65536 ? 1 : ours.port + 1};branch=z9hG4bK2`, 'wrong-port'), ours);
    await client.send(response(viaFor(ours), 'mine'), ours);
    const incoming = await server.inbox.next();
    assert.equal(incoming.message.callId(), 'mine');
    assert.equal(server.inbox.size, 0);
  } finally {
    await client.close();
    await server.layer.close();
  }
});

test('udp: the §18.1.2 check honours sentByNames and can be replaced', async () => {
  const named = await startPeer([{ protocol: 'udp', host: '127.0.0.1', port: 0 }], { sentByNames: ['proxy.example.com'] });
  const open = await startPeer([{ protocol: 'udp', host: '127.0.0.1', port: 0 }], { isOwnSentBy: () => true });
  const client = new RawUdpClient(4);
  try {
    await client.ready;
    const response = (via: string): string =>
      ['SIP/2.0 200 OK', `Via: ${via}`, 'To: <sip:b@x>;tag=2', 'From: <sip:a@x>;tag=1', 'Call-ID: n', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
    await client.send(response('SIP/2.0/UDP PROXY.example.com;branch=z9hG4bK1'), named.address('udp'));
    assert.equal((await named.inbox.next()).message.kind, 'response');
    await client.send(response('SIP/2.0/UDP 203.0.113.1:7;branch=z9hG4bK1'), open.address('udp'));
    assert.equal((await open.inbox.next()).message.kind, 'response');
  } finally {
    await client.close();
    await named.layer.close();
    await open.layer.close();
  }
});

test('udp: responses toward broadcast or multicast addresses are dropped (G17)', async () => {
  const server = await startPeer([{ protocol: 'udp', host: '127.0.0.1', port: 0 }]);
  try {
    const text = ['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1', 'To: <sip:b@x>;tag=2', 'From: <sip:a@x>;tag=1', 'Call-ID: b', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
    const response = parseMessage(Buffer.from(text)) as SipResponse;
    assert.equal(server.layer.responseTarget(response), null);
    // Even when a caller insists, nothing is sent and nothing fails (without setBroadcast the OS would refuse).
    await server.layer.send(response, { protocol: 'udp', host: '255.255.255.255', port: 5060 });
    await server.layer.send(response, { protocol: 'udp', host: '239.1.2.3', port: 5060 });
  } finally {
    await server.layer.close();
  }
});

test('udp: a request over udpMtuSwitchBytes goes over TCP, and its top Via says TCP (RFC 3261 §18.1.1)', async () => {
  const client = await startPeer([
    { protocol: 'udp', host: '127.0.0.1', port: 0 },
    { protocol: 'tcp', host: '127.0.0.1', port: 0 },
  ]);
  const server = await startPeer([
    { protocol: 'udp', host: '127.0.0.1', port: 0 },
    { protocol: 'tcp', host: '127.0.0.1', port: 0 },
  ]);
  try {
    // The target is the server's port as RFC 3263 would give it; the test listens TCP there.
    const tcpPort = server.address('tcp').port;
    const big = parseMessage(
      Buffer.from(requestText({ method: 'MESSAGE', via: viaFor(client.address('udp')), body: 'x'.repeat(2000), extra: ['Content-Type: text/plain'] })),
    ) as SipRequest;
    await client.layer.send(big, { protocol: 'udp', host: '127.0.0.1', port: tcpPort });
    const incoming = await server.inbox.next();
    assert.equal(incoming.source.protocol, 'tcp');
    const top = incoming.message.topVia()!;
    assert.equal(top.transport, 'TCP');
    assert.equal(top.port, client.address('tcp').port, 'the sent-by port follows to the TCP listener');
    assert.equal(big.topVia()!.transport, 'TCP', "the caller's copy says what went on the wire");

    const small = parseMessage(Buffer.from(requestText({ via: viaFor(client.address('udp')) }))) as SipRequest;
    await client.layer.send(small, server.address('udp'));
    const second = await server.inbox.next();
    assert.equal(second.source.protocol, 'udp');
    assert.equal(second.message.topVia()!.transport, 'UDP');
  } finally {
    await client.layer.close();
    await server.layer.close();
  }
});

test('udp: a large request stays on UDP when there is no TCP listener', async () => {
  const client = await startPeer([{ protocol: 'udp', host: '127.0.0.1', port: 0 }]);
  const server = await startPeer([{ protocol: 'udp', host: '127.0.0.1', port: 0 }]);
  try {
    const big = parseMessage(Buffer.from(requestText({ method: 'MESSAGE', via: viaFor(client.address('udp')), body: 'y'.repeat(2000) }))) as SipRequest;
    await client.layer.send(big, server.address('udp'));
    const incoming = await server.inbox.next();
    assert.equal(incoming.source.protocol, 'udp');
    assert.equal(incoming.message.body.length, 2000);
  } finally {
    await client.layer.close();
    await server.layer.close();
  }
});

test('send: a target that is not an IP literal, or an IPv6 target without an IPv6 socket, is a TransportError', async () => {
  const peer = await startPeer([{ protocol: 'udp', host: '127.0.0.1', port: 0 }]);
  try {
    const req = parseMessage(Buffer.from(requestText({ via: viaFor(peer.address('udp')) }))) as SipRequest;
    await assert.rejects(peer.layer.send(req, { protocol: 'udp', host: 'example.com', port: 5060 }), TransportError);
    await assert.rejects(peer.layer.send(req, { protocol: 'udp', host: '::1', port: 5060 }), TransportError);
    await assert.rejects(peer.layer.send(req, { protocol: 'udp', host: '127.0.0.1', port: 0 }), TransportError);
  } finally {
    await peer.layer.close();
  }
});
