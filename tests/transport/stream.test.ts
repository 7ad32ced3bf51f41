/**
 * TCP and TLS streams over loopback: framing under any segmentation (G37), keep-alives,
 * bad input (G02, G03, G14), deadlines and caps (G11), backpressure (STYLE §7).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { createResponse, parseMessage, type SipRequest } from '../../src/sip/index.js';
import { TransportError } from '../../src/transport/transport.js';
import {
  assertNoSocketHandles,
  makeCertificate,
  RawStreamClient,
  requestText,
  startPeer,
  viaFor,
  within,
  type Peer,
} from './helpers.js';

let cert: { cert: string; key: string };

before(() => {
  cert = makeCertificate();
});

after(async () => {
  await assertNoSocketHandles();
});

/** Answers every request with 200 over its flow. */
function echo(peer: Peer): void {
  peer.layer.onMessage((incoming) => {
    peer.inbox.push(incoming);
    if (incoming.message.kind !== 'request') return;
    void peer.layer.send(createResponse(incoming.message, 200), incoming.source, { flow: incoming.flow }).catch(() => undefined);
  });
}

function countResponses(text: string): number {
  return text.split('SIP/2.0 200 OK\r\n').length - 1;
}

test('tcp: a message written one octet per write is received whole (G37)', async () => {
  const server = await startPeer([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }]);
  echo(server);
  const client = new RawStreamClient('127.0.0.1', server.address('tcp').port);
  try {
    await client.connected;
    const bytes = Buffer.from(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKoctet', body: 'hello', callId: 'octets' }));
    for (let i = 0; i < bytes.length; i++) {
      client.write(bytes.subarray(i, i + 1));
      // Let each octet leave on its own.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const incoming = await server.inbox.next();
    assert.equal(incoming.message.callId(), 'octets');
    assert.equal(incoming.message.body.toString(), 'hello');
    await client.waitFor((t) => countResponses(t) === 1, 3000, 'the 200');
  } finally {
    client.destroy();
    await server.layer.close();
  }
});

for (const protocol of ['tcp', 'tls'] as const) {
  test(`${protocol}: N pipelined messages in one write get N responses in order, a ping between them gets a pong (G37)`, async () => {
    const listener = protocol === 'tls' ? { protocol, host: '127.0.0.1', port: 0, tls: cert } : { protocol, host: '127.0.0.1', port: 0 };
    const server = await startPeer([listener]);
    echo(server);
    const client = new RawStreamClient('127.0.0.1', server.address(protocol).port, protocol === 'tls' ? { ca: cert.cert } : undefined);
    try {
      await client.connected;
      const via = (n: number): string => `SIP/2.0/${protocol.toUpperCase()} 127.0.0.1:9;branch=z9hG4bKpipe${n}`;
      const batch =
        requestText({ via: via(1), callId: 'p1', cseq: 1 }) +
        requestText({ via: via(2), callId: 'p2', cseq: 2, body: 'two' }) +
        '\r\n\r\n' +
        requestText({ via: via(3), callId: 'p3', cseq: 3 });
      client.write(batch);
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await server.inbox.next()).message.callId());
      assert.deepEqual(ids, ['p1', 'p2', 'p3']);
      const text = await client.waitFor((t) => countResponses(t) === 3, 3000, 'three responses');
      const order = [...text.matchAll(/Call-ID: (p\d)/g)].map((m) => m[1]);
      assert.deepEqual(order, ['p1', 'p2', 'p3']);
      // The pong: a bare CRLF between the first two responses and the third.
      assert.match(text, /Content-Length: 0\r\n\r\n\r\nSIP\/2\.0 200 OK/);
    } finally {
      client.destroy();
      await server.layer.close();
    }
  });
}

test('tcp: a CRLFCRLF ping gets a CRLF pong (RFC 5626 §4.4.1)', async () => {
  const server = await startPeer([{ protocol: 'tcp', host: '::1', port: 0 }]);
  const client = new RawStreamClient('::1', server.address('tcp').port);
  try {
    await client.connected;
    client.write('\r\n\r\n');
    assert.equal(await client.waitFor((t) => t.length >= 2, 3000, 'the pong'), '\r\n');
  } finally {
    client.destroy();
    await server.layer.close();
  }
});

test('tcp: a malformed request gets 400 and the connection keeps serving', async () => {
  const server = await startPeer([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }]);
  echo(server);
  const client = new RawStreamClient('127.0.0.1', server.address('tcp').port);
  try {
    await client.connected;
    client.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKbad', extra: ['Max-Forwards: 70'] }));
    await client.waitFor((t) => /^SIP\/2\.0 400 /.test(t), 3000, 'the 400');
    client.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKgood', callId: 'good' }));
    assert.equal((await server.inbox.next()).message.callId(), 'good');
    await client.waitFor((t) => countResponses(t) === 1, 3000, 'the 200');
  } finally {
    client.destroy();
    await server.layer.close();
  }
});

test('tcp: conflicting Content-Length values close the connection (G02, G03); other connections go on', async () => {
  const server = await startPeer([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }]);
  echo(server);
  const port = server.address('tcp').port;
  const bad = new RawStreamClient('127.0.0.1', port);
  const good = new RawStreamClient('127.0.0.1', port);
  try {
    await bad.connected;
    bad.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKcl', body: 'abc', contentLength: ['3', '30'] }) + 'x'.repeat(27));
    await within(bad.closed, 3000, 'the server to close the connection');
    assert.equal(server.inbox.size, 0);
    await good.connected;
    good.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKok', callId: 'still-alive' }));
    assert.equal((await server.inbox.next()).message.callId(), 'still-alive');
  } finally {
    bad.destroy();
    good.destroy();
    await server.layer.close();
  }
});

test('tcp: garbage closes that connection only; the process stays up and a new connection is served (G14)', async () => {
  const server = await startPeer([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }]);
  echo(server);
  const port = server.address('tcp').port;
  const junk = new RawStreamClient('127.0.0.1', port);
  try {
    await junk.connected;
    junk.write(Buffer.concat([Buffer.from([0, 0xff, 0x13, 0x37]), Buffer.from('\r\n\r\n'), Buffer.alloc(100, 0x41), Buffer.from('\r\n\r\n')]));
    await within(junk.closed, 3000, 'the server to close the junk connection');
  } finally {
    junk.destroy();
  }
  const next = new RawStreamClient('127.0.0.1', port);
  try {
    await next.connected;
    next.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKnext', callId: 'next' }));
    assert.equal((await server.inbox.next()).message.callId(), 'next');
  } finally {
    next.destroy();
    await server.layer.close();
  }
});

test('tcp: a header section trickled byte by byte is cut at the header deadline (slowloris, G11)', async () => {
  const server = await startPeer([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }], { headerTimeoutMs: 200, messageTimeoutMs: 5000, idleTimeoutMs: 5000 });
  const client = new RawStreamClient('127.0.0.1', server.address('tcp').port);
  try {
    await client.connected;
    const text = requestText({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKslow' });
    let closed = false;
    void client.closed.then(() => (closed = true));
    let sent = 0;
    // One octet every 20 ms keeps the connection far from idle; only the header deadline can stop it.
    while (!closed && sent < text.length) {
      client.write(text[sent++]!);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(closed, 'the connection was closed before the trickle finished');
    assert.ok(sent < text.length);
    assert.equal(server.inbox.size, 0);
  } finally {
    client.destroy();
    await server.layer.close();
  }
});

test('tcp: a body trickled after the header section is cut at the message deadline (G11)', async () => {
  const server = await startPeer([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }], { headerTimeoutMs: 5000, messageTimeoutMs: 250, idleTimeoutMs: 5000 });
  const client = new RawStreamClient('127.0.0.1', server.address('tcp').port);
  try {
    await client.connected;
    const text = requestText({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKslowbody', body: 'b'.repeat(400) });
    const headerEnd = text.indexOf('\r\n\r\n') + 4;
    client.write(text.slice(0, headerEnd));
    let closed = false;
    void client.closed.then(() => (closed = true));
    let sent = headerEnd;
    while (!closed && sent < text.length) {
      client.write(text[sent++]!);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(closed, 'the connection was closed before the body was complete');
    assert.equal(server.inbox.size, 0);
  } finally {
    client.destroy();
    await server.layer.close();
  }
});

test('tcp: an idle connection is closed (G11)', async () => {
  const server = await startPeer([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }], { idleTimeoutMs: 200 });
  echo(server);
  const client = new RawStreamClient('127.0.0.1', server.address('tcp').port);
  try {
    await client.connected;
    client.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKidle' }));
    await server.inbox.next();
    await within(client.closed, 3000, 'the idle close');
    assert.equal(server.layer.connectionCount, 0);
  } finally {
    client.destroy();
    await server.layer.close();
  }
});

test('tcp: connections beyond maxConnectionsPerIp are refused; the admitted ones work (G11)', async () => {
  const server = await startPeer([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }], { maxConnectionsPerIp: 2 });
  echo(server);
  const port = server.address('tcp').port;
  const first = new RawStreamClient('127.0.0.1', port);
  const second = new RawStreamClient('127.0.0.1', port);
  try {
    await first.connected;
    await second.connected;
    // Make sure the server has accepted both before the third arrives.
    first.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKc1', callId: 'c1' }));
    second.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKc2', callId: 'c2' }));
    await server.inbox.next();
    await server.inbox.next();
    const third = new RawStreamClient('127.0.0.1', port);
    try {
      await within(third.closed, 3000, 'the third connection to be refused');
      assert.equal(third.text, '');
    } finally {
      third.destroy();
    }
    await first.waitFor((t) => countResponses(t) === 1, 3000, 'first 200');
    await second.waitFor((t) => countResponses(t) === 1, 3000, 'second 200');
  } finally {
    first.destroy();
    second.destroy();
    await server.layer.close();
  }
});

test('tls: a client that never completes the handshake is cut at the TLS deadline (G11)', async () => {
  const server = await startPeer([{ protocol: 'tls', host: '127.0.0.1', port: 0, tls: cert }], { tlsHandshakeTimeoutMs: 200 });
  // A plain TCP client on a TLS port: it sends nothing, so the handshake never starts.
  const client = new RawStreamClient('127.0.0.1', server.address('tls').port);
  try {
    await client.connected;
    await within(client.closed, 3000, 'the handshake deadline');
  } finally {
    client.destroy();
    await server.layer.close();
  }
});

test('tls: an outbound connection to a server whose certificate does not verify fails with TransportError', async () => {
  const server = await startPeer([{ protocol: 'tls', host: '127.0.0.1', port: 0, tls: cert }]);
  // No CA given: the self-signed certificate is not trusted.
  const client = await startPeer([{ protocol: 'udp', host: '127.0.0.1', port: 0 }], { tlsClient: {} });
  try {
    const req = parseMessage(Buffer.from(requestText({ via: viaFor(client.address('udp')) }))) as SipRequest;
    await assert.rejects(client.layer.send(req, server.address('tls')), TransportError);
    assert.equal(server.inbox.size, 0);
  } finally {
    await client.layer.close();
    await server.layer.close();
  }
});

test('tcp: send() honours write() returning false, then fails once the bounded queue is full', async () => {
  // A peer that accepts but never reads.
  const stalled = new Set<Socket>();
  const sink = createServer((socket) => {
    stalled.add(socket);
    socket.pause();
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const address = sink.address();
  assert.ok(address !== null && typeof address === 'object');
  const client = await startPeer([{ protocol: 'tcp', host: '127.0.0.1', port: 0 }], { maxQueuedBytes: 256 * 1024 });
  const pending: Promise<void>[] = [];
  try {
    const body = 'z'.repeat(30_000);
    let failure: unknown;
    for (let i = 0; i < 5000 && failure === undefined; i++) {
      const req = parseMessage(Buffer.from(requestText({ method: 'MESSAGE', via: viaFor(client.address('tcp')), body }))) as SipRequest;
      const p = client.layer.send(req, { protocol: 'tcp', host: '127.0.0.1', port: address.port });
      // Sends queued behind a full socket stay pending; the one beyond the bound fails at once.
      const settled = await Promise.race([p.then(() => 'sent' as const, (e: unknown) => e), new Promise((r) => setImmediate(() => r('pending')))]);
      if (settled === 'pending') pending.push(p.catch(() => undefined));
      else if (settled !== 'sent') failure = settled;
    }
    assert.ok(failure instanceof TransportError, String(failure));
    assert.match(failure.message, /queue .* is full/);
    assert.ok(pending.length > 0, 'some sends waited for drain');
  } finally {
    await client.layer.close();
    await Promise.all(pending);
    for (const s of stalled) s.destroy();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  }
});
