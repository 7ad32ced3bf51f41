/**
 * SIP over WebSocket (RFC 7118) over loopback: subprotocol, message size, masking, keep-alives,
 * malformed input, handshake deadline (G11, G14, G38).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket, type RawData } from 'ws';
import { createResponse } from '../../src/sip/index.js';
import { formatHostPort } from '../../src/transport/address.js';
import type { TransportAddress } from '../../src/transport/transport.js';
import { assertNoSocketHandles, Inbox, makeCertificate, RawStreamClient, requestText, startPeer, within } from './helpers.js';

let cert: { cert: string; key: string };

before(() => {
  cert = makeCertificate();
});

after(async () => {
  await assertNoSocketHandles();
});

function url(address: TransportAddress): string {
  return `${address.protocol}://${formatHostPort(address.host, address.port)}/`;
}

/** A ws client with an inbox of text messages and the close code. */
function client(address: TransportAddress, protocols: string[] = ['sip']): {
  ws: WebSocket;
  inbox: Inbox<string>;
  open: Promise<void>;
  closed: Promise<number>;
} {
  const ws = new WebSocket(url(address), protocols, address.protocol === 'wss' ? { ca: cert.cert } : {});
  const inbox = new Inbox<string>();
  ws.on('message', (data: RawData) => inbox.push(Buffer.isBuffer(data) ? data.toString('latin1') : String(data)));
  ws.on('error', () => undefined);
  const open = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  open.catch(() => undefined);
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  return { ws, inbox, open, closed };
}

for (const protocol of ['ws', 'wss'] as const) {
  test(`${protocol}: a browser-style client (domain sent-by, no Content-Length) is served, and pings get pongs`, async () => {
    const server = await startPeer([protocol === 'wss' ? { protocol, host: '127.0.0.1', port: 0, tls: cert } : { protocol, host: '127.0.0.1', port: 0 }]);
    server.layer.onMessage((incoming) => {
      server.inbox.push(incoming);
      if (incoming.message.kind === 'request') {
        void server.layer.send(createResponse(incoming.message, 200), incoming.source, { flow: incoming.flow });
      }
    });
    const c = client(server.address(protocol));
    try {
      await c.open;
      assert.equal(c.ws.protocol, 'sip');
      const text = requestText({ via: `SIP/2.0/${protocol.toUpperCase()} df7jal23ls0d.invalid;rport;branch=z9hG4bKws`, callId: 'browser' }).replace(
        /Content-Length: 0\r\n/,
        '',
      );
      c.ws.send(text);
      const incoming = await server.inbox.next();
      assert.equal(incoming.message.callId(), 'browser');
      assert.match(incoming.message.headers.get('via') ?? '', /;received=127\.0\.0\.1/);
      const reply = await c.inbox.next();
      assert.match(reply, /^SIP\/2\.0 200 OK\r\n/);
      c.ws.send('\r\n\r\n');
      assert.equal(await c.inbox.next(), '\r\n');
    } finally {
      c.ws.terminate();
      await server.layer.close();
    }
  });
}

test('ws: a handshake without the sip subprotocol is refused (G38)', async () => {
  const server = await startPeer([{ protocol: 'ws', host: '127.0.0.1', port: 0 }]);
  try {
    for (const protocols of [[], ['chat']]) {
      const c = client(server.address('ws'), protocols);
      await assert.rejects(within(c.open, 3000, 'the refusal'), /HTTP 400/);
      c.ws.terminate();
    }
    assert.equal(server.layer.connectionCount, 0);
  } finally {
    await server.layer.close();
  }
});

test('ws: a message over the limit gets close 1009 (G09, G38)', async () => {
  const server = await startPeer([{ protocol: 'ws', host: '::1', port: 0 }], { wsMaxPayloadBytes: 1024 });
  const c = client(server.address('ws'));
  try {
    await c.open;
    c.ws.send('x'.repeat(2000));
    assert.equal(await within(c.closed, 3000, 'the close'), 1009);
    assert.equal(server.inbox.size, 0);
  } finally {
    c.ws.terminate();
    await server.layer.close();
  }
});

test('ws: an unmasked client frame gets close 1002 (G38)', async () => {
  const server = await startPeer([{ protocol: 'ws', host: '127.0.0.1', port: 0 }]);
  const raw = new RawStreamClient('127.0.0.1', server.address('ws').port);
  try {
    await raw.connected;
    raw.write(
      [
        'GET / HTTP/1.1',
        `Host: 127.0.0.1:${server.address('ws').port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Protocol: sip',
        '',
        '',
      ].join('\r\n'),
    );
    await raw.waitFor((t) => t.includes('\r\n\r\n'), 3000, 'the 101');
    assert.match(raw.text, /^HTTP\/1\.1 101 /);
    assert.match(raw.text, /Sec-WebSocket-Protocol: sip\r\n/i);
    const before = raw.text.length;
    // FIN + text opcode, no mask bit, 5 octets.
    raw.write(Buffer.concat([Buffer.from([0x81, 0x05]), Buffer.from('hello')]));
    await within(raw.closed, 3000, 'the close');
    const frame = Buffer.from(raw.text.slice(before), 'latin1');
    assert.equal(frame[0], 0x88, 'a close frame');
    assert.equal(frame.readUInt16BE(2), 1002);
  } finally {
    raw.destroy();
    await server.layer.close();
  }
});

test('ws: a malformed SIP message gets 400 over the WebSocket; garbage is dropped; the connection stays', async () => {
  const server = await startPeer([{ protocol: 'ws', host: '127.0.0.1', port: 0 }]);
  const c = client(server.address('ws'));
  try {
    await c.open;
    c.ws.send(Buffer.from([0, 1, 2, 3]));
    c.ws.send(requestText({ via: 'SIP/2.0/WS x.invalid;branch=z9hG4bKbad', extra: ['CSeq: 9 OPTIONS'] }));
    assert.match(await c.inbox.next(), /^SIP\/2\.0 400 /);
    c.ws.send(requestText({ via: 'SIP/2.0/WS x.invalid;branch=z9hG4bKgood', callId: 'ok' }));
    assert.equal((await server.inbox.next()).message.callId(), 'ok');
  } finally {
    c.ws.terminate();
    await server.layer.close();
  }
});

test('ws: plain HTTP gets 426, and a socket that never upgrades is cut at the header deadline (G11)', async () => {
  const server = await startPeer([{ protocol: 'ws', host: '127.0.0.1', port: 0 }], { headerTimeoutMs: 200 });
  const port = server.address('ws').port;
  const http = new RawStreamClient('127.0.0.1', port);
  const silent = new RawStreamClient('127.0.0.1', port);
  try {
    await http.connected;
    http.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await http.waitFor((t) => t.startsWith('HTTP/1.1 426'), 3000, 'the 426');
    await silent.connected;
    silent.write('GET / HTTP/1.1\r\n');
    await within(silent.closed, 3000, 'the handshake deadline');
  } finally {
    http.destroy();
    silent.destroy();
    await server.layer.close();
  }
});

test('ws: an idle WebSocket is closed (G11)', async () => {
  const server = await startPeer([{ protocol: 'ws', host: '127.0.0.1', port: 0 }], { idleTimeoutMs: 200 });
  const c = client(server.address('ws'));
  try {
    await c.open;
    await within(c.closed, 3000, 'the idle close');
    assert.equal(server.layer.connectionCount, 0);
  } finally {
    c.ws.terminate();
    await server.layer.close();
  }
});
