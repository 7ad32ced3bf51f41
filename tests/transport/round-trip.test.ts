/**
 * Request → response over real loopback sockets, for every protocol on IPv4 and IPv6
 * (RFC 3261 §18, RFC 3581, RFC 7118).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, paramValue, parseMessage, type SipRequest } from '../../src/sip/index.js';
import type { ListenerConfig } from '../../src/transport/layer.js';
import type { TransportProtocol } from '../../src/transport/transport.js';
import { assertNoSocketHandles, makeCertificate, requestText, startPeer, until, viaFor } from './helpers.js';

let cert: { cert: string; key: string };

before(() => {
  cert = makeCertificate();
});

after(async () => {
  await assertNoSocketHandles();
});

function listener(protocol: TransportProtocol, host: string): ListenerConfig {
  return protocol === 'tls' || protocol === 'wss' ? { protocol, host, port: 0, tls: cert } : { protocol, host, port: 0 };
}

function parseRequest(text: string): SipRequest {
  const m = parseMessage(Buffer.from(text, 'latin1'));
  assert.equal(m.kind, 'request');
  return m as SipRequest;
}

for (const family of [4, 6] as const) {
  const host = family === 4 ? '127.0.0.1' : '::1';
  for (const protocol of ['udp', 'tcp', 'tls', 'ws', 'wss'] as const) {
    test(`${protocol} over IPv${family}: request and response round trip, received/rport applied`, async () => {
      const a = await startPeer([listener(protocol, host)], { tlsClient: { ca: cert.cert } });
      const b = await startPeer([listener(protocol, host)], { tlsClient: { ca: cert.cert } });
      try {
        const request = parseRequest(requestText({ via: viaFor(a.address(protocol), ';rport'), callId: `rt-${protocol}-${family}` }));
        await a.layer.send(request, b.address(protocol));

        const incoming = await b.inbox.next();
        assert.equal(incoming.message.kind, 'request');
        assert.equal(incoming.source.protocol, protocol);
        assert.equal(incoming.source.host, host);
        assert.equal(incoming.flow.remote.port, incoming.source.port);
        // RFC 3581 §4: rport filled with the source port, received added although equal to sent-by.
        const top = incoming.message.topVia()!;
        assert.equal(paramValue(top.params, 'rport'), String(incoming.source.port));
        assert.equal(paramValue(top.params, 'received'), host);
        if (protocol === 'udp') assert.equal(incoming.source.port, a.address('udp').port, 'UDP requests leave from the listening socket');

        const response = createResponse(incoming.message as SipRequest, 200);
        const target = b.layer.responseTarget(response);
        assert.ok(target !== null);
        if (protocol === 'udp') assert.deepEqual(target, { protocol: 'udp', host, port: incoming.source.port });
        else assert.deepEqual(target, { protocol, host, port: a.address(protocol).port });
        await b.layer.send(response, target, { flow: incoming.flow });

        const answer = await a.inbox.next();
        assert.equal(answer.message.kind, 'response');
        assert.equal(answer.message.kind === 'response' && answer.message.status, 200);
        assert.equal(answer.message.callId(), `rt-${protocol}-${family}`);
        if (protocol !== 'udp') {
          // The response came back over the request's connection, and a second request reuses it.
          assert.equal(a.layer.connectionCount, 1);
          assert.equal(b.layer.connectionCount, 1);
          const second = parseRequest(requestText({ via: viaFor(a.address(protocol)), cseq: 2 }));
          await a.layer.send(second, b.address(protocol));
          const again = await b.inbox.next();
          assert.equal(again.flow.id, incoming.flow.id);
          assert.equal(a.layer.connectionCount, 1);
        }
      } finally {
        await a.layer.close();
        await b.layer.close();
      }
    });
  }
}

test('tcp: a later request to the source address reuses the inbound connection', async () => {
  const a = await startPeer([listener('tcp', '127.0.0.1')]);
  const b = await startPeer([listener('tcp', '127.0.0.1')]);
  try {
    await a.layer.send(parseRequest(requestText({ via: viaFor(a.address('tcp')) })), b.address('tcp'));
    const incoming = await b.inbox.next();
    // B → A, addressed to where A's request came from (its ephemeral port), without naming the flow.
    await b.layer.send(parseRequest(requestText({ via: viaFor(b.address('tcp')), method: 'MESSAGE' })), incoming.source);
    const reverse = await a.inbox.next();
    assert.equal(reverse.message.kind === 'request' && reverse.message.method, 'MESSAGE');
    assert.equal(a.layer.connectionCount, 1);
    assert.equal(b.layer.connectionCount, 1);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('tcp: when the request connection is gone, the response opens one to received + sent-by port (§18.2.2)', async () => {
  const a = await startPeer([listener('tcp', '127.0.0.1')]);
  const b = await startPeer([listener('tcp', '127.0.0.1')]);
  try {
    await a.layer.send(parseRequest(requestText({ via: viaFor(a.address('tcp')) })), b.address('tcp'));
    const incoming = await b.inbox.next();
    const aPort = a.address('tcp').port;
    // A drops its connection (e.g. a NAT reset), and B notices.
    await a.layer.close();
    await until(() => b.layer.connectionCount === 0, 'B to see the connection close');
    const a2 = await startPeer([{ protocol: 'tcp', host: '127.0.0.1', port: aPort }]);
    try {
      const response = createResponse(incoming.message as SipRequest, 200);
      const target = b.layer.responseTarget(response)!;
      assert.equal(target.port, aPort);
      await b.layer.send(response, target, { flow: incoming.flow });
      const answer = await a2.inbox.next();
      assert.equal(answer.message.kind, 'response');
    } finally {
      await a2.layer.close();
    }
  } finally {
    await b.layer.close();
  }
});
