import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMessage, parseMessage, type SipMessage, type SipRequest, type SipResponse } from '../sip/index.js';
import { applyViaReceived, responseTarget, switchTopViaTransport } from './via.js';
import type { TransportAddress } from './transport.js';

function request(via: string | string[]): SipRequest {
  const vias = Array.isArray(via) ? via : [via];
  const text = [
    'OPTIONS sip:bob@example.com SIP/2.0',
    ...vias.map((v) => `Via: ${v}`),
    'To: <sip:bob@example.com>',
    'From: <sip:alice@example.com>;tag=1',
    'Call-ID: via-test',
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const message = parseMessage(Buffer.from(text, 'latin1'));
  assert.equal(message.kind, 'request');
  return message as SipRequest;
}

function response(via: string): SipResponse {
  const text = [
    'SIP/2.0 200 OK',
    `Via: ${via}`,
    'To: <sip:bob@example.com>;tag=2',
    'From: <sip:alice@example.com>;tag=1',
    'Call-ID: via-test',
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const message = parseMessage(Buffer.from(text, 'latin1'));
  assert.equal(message.kind, 'response');
  return message as SipResponse;
}

function topVia(message: SipMessage): string {
  return message.headers.getAll('via')[0] ?? '';
}

const src = (host: string, port: number, protocol: TransportAddress['protocol'] = 'udp'): TransportAddress => ({ protocol, host, port });

test('received is added when the sent-by differs from the source (RFC 3261 §18.2.1)', () => {
  const req = request('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1');
  assert.equal(applyViaReceived(req, src('198.51.100.7', 5060)), true);
  assert.equal(topVia(req), 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;received=198.51.100.7');
});

test('received is not added when the sent-by is the source IP and there is no rport', () => {
  const req = request('SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1');
  assert.equal(applyViaReceived(req, src('192.0.2.1', 40000)), false);
  assert.equal(topVia(req), 'SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1');
});

test('a domain-name sent-by always gets received', () => {
  const req = request('SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1');
  applyViaReceived(req, src('192.0.2.4', 5060));
  assert.equal(topVia(req), 'SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1;received=192.0.2.4');
});

test('an empty rport is filled and received added even when equal to sent-by (RFC 3581 §4)', () => {
  const req = request('SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1');
  applyViaReceived(req, src('192.0.2.1', 40123));
  assert.equal(topVia(req), 'SIP/2.0/UDP 192.0.2.1:5060;rport=40123;branch=z9hG4bK1;received=192.0.2.1');
});

test('an rport that already has a value is left alone', () => {
  const req = request('SIP/2.0/UDP 192.0.2.1:5060;rport=1234;branch=z9hG4bK1');
  applyViaReceived(req, src('192.0.2.1', 40123));
  assert.equal(topVia(req), 'SIP/2.0/UDP 192.0.2.1:5060;rport=1234;branch=z9hG4bK1');
});

test('IPv6: brackets and canonical forms compare equal; received is written without brackets', () => {
  const same = request('SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1');
  assert.equal(applyViaReceived(same, src('0:0:0:0:0:0:0:1', 5060)), false);
  const other = request('SIP/2.0/TCP [2001:db8::9]:5060;rport;branch=z9hG4bK1');
  applyViaReceived(other, src('::1', 5555, 'tcp'));
  assert.equal(topVia(other), 'SIP/2.0/TCP [2001:db8::9]:5060;rport=5555;branch=z9hG4bK1;received=::1');
  // And it still parses.
  const reparsed = parseMessage(formatMessage(other));
  assert.equal(reparsed.topVia()?.host, '[2001:db8::9]');
});

test('an IPv4-mapped source is written as IPv4', () => {
  const req = request('SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1');
  applyViaReceived(req, src('::ffff:198.51.100.1', 5060));
  assert.match(topVia(req), /;received=198\.51\.100\.1$/);
});

test('only the top Via changes, also when Vias share one header field', () => {
  const req = request(['SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1, SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK0']);
  applyViaReceived(req, src('198.51.100.7', 5060));
  const vias = req.via();
  assert.equal(vias.length, 2);
  assert.equal(vias[0]!.host, '192.0.2.1');
  assert.deepEqual(vias[0]!.params.at(-1), { name: 'received', value: '198.51.100.7' });
  assert.equal(vias[1]!.host, '192.0.2.2');
  assert.equal(vias[1]!.params.length, 1);
});

test('responseTarget over UDP: received + rport (RFC 3581 §4)', () => {
  const res = response('SIP/2.0/UDP 10.0.0.1:5060;rport=40123;received=192.0.2.9;branch=z9hG4bK1');
  assert.deepEqual(responseTarget(res), { protocol: 'udp', host: '192.0.2.9', port: 40123 });
});

test('responseTarget over UDP: received + sent-by port, else 5060 (RFC 3261 §18.2.2)', () => {
  assert.deepEqual(responseTarget(response('SIP/2.0/UDP 10.0.0.1:5070;received=192.0.2.9;branch=z9hG4bK1')), {
    protocol: 'udp',
    host: '192.0.2.9',
    port: 5070,
  });
  assert.deepEqual(responseTarget(response('SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1')), { protocol: 'udp', host: '192.0.2.9', port: 5060 });
});

test('responseTarget: an rport without value (never stamped) is ignored', () => {
  assert.deepEqual(responseTarget(response('SIP/2.0/UDP 192.0.2.9:5080;rport;branch=z9hG4bK1')), {
    protocol: 'udp',
    host: '192.0.2.9',
    port: 5080,
  });
});

test('responseTarget over reliable transports: received + sent-by port, rport ignored, TLS default 5061', () => {
  assert.deepEqual(responseTarget(response('SIP/2.0/TCP 10.0.0.1:5062;rport=4000;received=192.0.2.9;branch=z9hG4bK1')), {
    protocol: 'tcp',
    host: '192.0.2.9',
    port: 5062,
  });
  assert.deepEqual(responseTarget(response('SIP/2.0/TLS 192.0.2.9;branch=z9hG4bK1')), { protocol: 'tls', host: '192.0.2.9', port: 5061 });
  assert.deepEqual(responseTarget(response('SIP/2.0/WSS df7jal23ls0d.invalid;received=192.0.2.9;branch=z9hG4bK1')), {
    protocol: 'wss',
    host: '192.0.2.9',
    port: 443,
  });
});

test('responseTarget: IPv6 hosts come back without brackets', () => {
  assert.deepEqual(responseTarget(response('SIP/2.0/UDP [2001:db8::1]:5060;rport=7000;received=2001:db8::2;branch=z9hG4bK1')), {
    protocol: 'udp',
    host: '2001:db8::2',
    port: 7000,
  });
  assert.deepEqual(responseTarget(response('SIP/2.0/TCP [2001:DB8::1];branch=z9hG4bK1')), { protocol: 'tcp', host: '2001:db8::1', port: 5060 });
});

test('responseTarget ignores a unicast maddr (never to a third party, G17) and drops a multicast one', () => {
  assert.deepEqual(responseTarget(response('SIP/2.0/UDP 192.0.2.9;maddr=203.0.113.5;branch=z9hG4bK1')), {
    protocol: 'udp',
    host: '192.0.2.9',
    port: 5060,
  });
  assert.equal(responseTarget(response('SIP/2.0/UDP 192.0.2.9;maddr=239.255.255.1;branch=z9hG4bK1')), null);
});

test('responseTarget refuses broadcast and multicast addresses (G17, RFC 4475 bcast)', () => {
  assert.equal(responseTarget(response('SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1')), null);
  assert.equal(responseTarget(response('SIP/2.0/UDP 10.0.0.1;received=224.0.0.1;branch=z9hG4bK1')), null);
  assert.equal(responseTarget(response('SIP/2.0/UDP [ff02::1];branch=z9hG4bK1')), null);
  assert.equal(responseTarget(response('SIP/2.0/UDP 0.0.0.0;branch=z9hG4bK1')), null);
  assert.equal(
    responseTarget(response('SIP/2.0/UDP 192.0.2.255;branch=z9hG4bK1'), { broadcasts: new Set(['192.0.2.255']) }),
    null,
  );
});

test('responseTarget: a domain sent-by without received, or an unknown transport, has no target', () => {
  assert.equal(responseTarget(response('SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1')), null);
  assert.equal(responseTarget(response('SIP/2.0/SCTP 192.0.2.1;branch=z9hG4bK1')), null);
});

test('switchTopViaTransport rewrites the transport, and the port when it was the UDP one (§18.1.1)', () => {
  const req = request(['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1', 'SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK0']);
  assert.equal(switchTopViaTransport(req, 'TCP', { from: 5060, to: 5070 }), true);
  assert.equal(topVia(req), 'SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bK1');
  assert.equal(req.via()[1]!.transport, 'UDP');
  const other = request('SIP/2.0/UDP 192.0.2.1:6000;branch=z9hG4bK1');
  switchTopViaTransport(other, 'TCP', { from: 5060, to: 5070 });
  assert.equal(topVia(other), 'SIP/2.0/TCP 192.0.2.1:6000;branch=z9hG4bK1');
});
