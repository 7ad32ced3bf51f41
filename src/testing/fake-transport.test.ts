import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { SeededRandom } from '../core/random.js';
import { paramValue } from '../sip/header-values.js';
import { Headers } from '../sip/headers.js';
import { SipRequest, type SipMessage } from '../sip/message.js';
import { TransportError, type IncomingMessage } from '../transport/transport.js';
import { FakeNetwork, formatAddress, parseAddress, type FakeTransport } from './fake-transport.js';

function options(seq = 1, via = 'SIP/2.0/UDP 127.0.1.1:5060;branch=z9hG4bK-ft'): SipRequest {
  const headers = new Headers();
  headers.append('Via', via);
  headers.append('From', '<sip:a@example.com>;tag=1');
  headers.append('To', '<sip:b@example.com>');
  headers.append('Call-ID', 'fake-transport-test');
  headers.append('CSeq', `${seq} OPTIONS`);
  headers.append('Content-Length', '0');
  return new SipRequest({ method: 'OPTIONS', uri: 'sip:b@127.0.1.2', headers });
}

interface Ctx {
  clock: FakeClock;
  net: FakeNetwork;
  a: FakeTransport;
  b: FakeTransport;
  atB: IncomingMessage[];
}

let ctx: Ctx;

beforeEach(() => {
  const clock = new FakeClock();
  const net = new FakeNetwork({ clock });
  const a = net.endpoint('127.0.1.1:5060', ['udp', 'tcp']);
  const b = net.endpoint('127.0.1.2:5060', ['udp', 'tcp']);
  const atB: IncomingMessage[] = [];
  b.onMessage((m) => atB.push(m));
  ctx = { clock, net, a, b, atB };
});

function seqOf(m: SipMessage): number {
  return m.cseq().seq;
}

describe('FakeNetwork', () => {
  test('delivers a fresh parsed copy after the link delay, with source, flow and time, and records the send', async () => {
    ctx.net.setConditions({ delayMs: 30 });
    const sent = options();
    await ctx.a.send(sent, ctx.net.target('127.0.1.2:5060'));
    assert.equal(ctx.atB.length, 0);
    assert.equal(ctx.net.inFlight, 1);
    ctx.clock.advance(29);
    assert.equal(ctx.atB.length, 0);
    ctx.clock.advance(1);
    const [incoming] = ctx.atB;
    assert.ok(incoming !== undefined);
    assert.notEqual(incoming.message, sent);
    assert.deepEqual(incoming.source, { protocol: 'udp', host: '127.0.1.1', port: 5060 });
    assert.equal(incoming.flow.local.port, 5060);
    assert.equal(incoming.receivedAt, 30);
    assert.equal(incoming.bytes.toString('latin1').split('\r\n')[0], 'OPTIONS sip:b@127.0.1.2 SIP/2.0');
    const [wire] = ctx.net.sent;
    assert.equal(wire?.label, 'OPTIONS');
    assert.equal(wire?.fate, 'delivered');
    assert.equal(wire?.sentAt, 0);
    assert.equal(ctx.net.sentTo('127.0.1.2:5060').length, 1);
    assert.equal(ctx.net.sentFrom('127.0.1.1:5060').length, 1);
    assert.equal(ctx.net.sentTo(ctx.net.target('127.0.1.2:5060', 'tcp')).length, 0);
    assert.equal(ctx.a.sent.length, 1);
  });

  test('adds received and fills rport on the top Via of requests, as a transport layer does (§18.2.1, RFC 3581)', async () => {
    await ctx.a.send(options(1, 'SIP/2.0/UDP alice.example:5060;rport;branch=z9hG4bK-x'), ctx.net.target('127.0.1.2:5060'));
    await ctx.a.send(options(2, 'SIP/2.0/UDP 127.0.1.1:5060;branch=z9hG4bK-y'), ctx.net.target('127.0.1.2:5060'));
    ctx.clock.advance(0);
    const first = ctx.atB[0]!.message.topVia()!;
    assert.equal(paramValue(first.params, 'received'), '127.0.1.1');
    assert.equal(paramValue(first.params, 'rport'), '5060');
    assert.equal(ctx.atB[1]!.message.headers.get('via'), 'SIP/2.0/UDP 127.0.1.1:5060;branch=z9hG4bK-y');
  });

  test('drop rules take the next N matching messages, whatever the protocol', async () => {
    const remove = ctx.net.drop((w) => w.message.cseq().seq % 2 === 0, { times: 1 });
    for (let i = 1; i <= 4; i++) await ctx.a.send(options(i), ctx.net.target('127.0.1.2:5060', i === 4 ? 'tcp' : 'udp'));
    ctx.clock.advance(0);
    assert.deepEqual(ctx.atB.map((m) => seqOf(m.message)), [1, 3, 4]);
    assert.deepEqual(ctx.net.sent.map((w) => w.fate), ['delivered', 'dropped', 'delivered', 'delivered']);
    remove();
  });

  test('random loss is repeatable for a seed and spares stream transports', async () => {
    const fates = async (seed: number): Promise<string[]> => {
      const clock = new FakeClock();
      const net = new FakeNetwork({ clock, random: new SeededRandom(seed), conditions: { dropRate: 0.5 } });
      const a = net.endpoint('127.0.1.1:5060', ['udp', 'tcp']);
      net.endpoint('127.0.1.2:5060', ['udp', 'tcp']).onMessage(() => {});
      for (let i = 1; i <= 40; i++) await a.send(options(i), net.target('127.0.1.2:5060', i > 30 ? 'tcp' : 'udp'));
      clock.advance(0);
      return net.sent.map((w) => w.fate);
    };
    const run1 = await fates(42);
    assert.deepEqual(await fates(42), run1);
    const udp = run1.slice(0, 30);
    assert.ok(udp.includes('dropped') && udp.includes('delivered'));
    assert.deepEqual(new Set(run1.slice(30)), new Set(['delivered']));
  });

  test('duplication delivers a UDP datagram twice', async () => {
    ctx.net.setConditions({ duplicateRate: 1 });
    await ctx.a.send(options(), ctx.net.target('127.0.1.2:5060'));
    ctx.clock.advance(0);
    assert.equal(ctx.atB.length, 2);
    assert.notEqual(ctx.atB[0]!.message, ctx.atB[1]!.message);
    assert.equal(ctx.net.sent[0]!.copies, 2);
  });

  test('jitter may reorder UDP datagrams but never a stream', async () => {
    const net = new FakeNetwork({ clock: ctx.clock, random: new SeededRandom(3), conditions: { delayMs: 5, jitterMs: 50 } });
    const a = net.endpoint('127.0.1.1:5060', ['udp', 'tcp']);
    const got: Record<string, number[]> = { udp: [], tcp: [] };
    net.endpoint('127.0.1.2:5060', ['udp', 'tcp']).onMessage((m) => got[m.source.protocol]!.push(seqOf(m.message)));
    for (let i = 1; i <= 20; i++) {
      await a.send(options(i), net.target('127.0.1.2:5060', 'udp'));
      await a.send(options(i), net.target('127.0.1.2:5060', 'tcp'));
    }
    ctx.clock.advance(100);
    const inOrder = Array.from({ length: 20 }, (_, i) => i + 1);
    assert.deepEqual(got['tcp'], inOrder);
    assert.deepEqual([...got['udp']!].sort((x, y) => x - y), inOrder);
    assert.notDeepEqual(got['udp'], inOrder);
  });

  test('unreachable hosts and refused connections reject with TransportError; UDP to nobody vanishes', async () => {
    ctx.net.setUnreachable('127.0.1.2:5060');
    await assert.rejects(ctx.a.send(options(), ctx.net.target('127.0.1.2:5060')), TransportError);
    ctx.net.setUnreachable('127.0.1.2:5060', false);
    await ctx.a.send(options(), ctx.net.target('127.0.1.2:5060'));
    await ctx.a.send(options(), ctx.net.target('127.0.1.9:5060'));
    await assert.rejects(ctx.a.send(options(), ctx.net.target('127.0.1.9:5060', 'tcp')), /connection refused/);
    await assert.rejects(ctx.a.send(options(), ctx.net.target('127.0.1.2:5060', 'tls')), /no tls address/);
    assert.deepEqual(ctx.net.sent.map((w) => w.fate), ['unreachable', 'in-flight', 'no-listener', 'no-listener']);
  });

  test('a closed transport cannot send, and what was in flight to it is lost', async () => {
    await ctx.a.send(options(), ctx.net.target('127.0.1.2:5060'));
    await ctx.b.close();
    await ctx.b.close();
    ctx.clock.advance(0);
    assert.equal(ctx.atB.length, 0);
    assert.equal(ctx.net.sent[0]!.fate, 'no-listener');
    await assert.rejects(ctx.b.send(options(), ctx.net.target('127.0.1.1:5060')), TransportError);
    // Its address is free again.
    ctx.net.endpoint('127.0.1.2:5060');
  });

  test('a stream message without Content-Length is unparsable for the receiver (G02)', async () => {
    const request = options();
    request.headers.delete('content-length');
    await ctx.a.send(request, ctx.net.target('127.0.1.2:5060', 'tcp'));
    ctx.clock.advance(0);
    assert.equal(ctx.atB.length, 0);
    assert.equal(ctx.net.sent[0]!.fate, 'unparsable');
  });

  test('inject() hands a message straight to the handler', () => {
    ctx.b.inject(options(7), '192.0.2.1:5070');
    assert.equal(ctx.atB.length, 1);
    assert.deepEqual(ctx.atB[0]!.source, { protocol: 'udp', host: '192.0.2.1', port: 5070 });
    assert.equal(paramValue(ctx.atB[0]!.message.topVia()!.params, 'received'), '192.0.2.1');
  });

  test('addresses: parse/format round trip, IPv6, defaults, conflicts and bad knobs', () => {
    assert.deepEqual(parseAddress('[2001:DB8::1]:5070', 'tcp'), { protocol: 'tcp', host: '2001:db8::1', port: 5070 });
    assert.deepEqual(parseAddress('example.com', 'tls'), { protocol: 'tls', host: 'example.com', port: 5061 });
    assert.equal(formatAddress(parseAddress('[::1]:5060')), '[::1]:5060');
    assert.throws(() => parseAddress('a:b:c'), TypeError);
    assert.throws(() => ctx.net.endpoint('127.0.1.1:5060'), RangeError);
    assert.throws(() => ctx.net.setConditions({ dropRate: 2 }), RangeError);
    assert.throws(() => ctx.net.setConditions({ delayMs: -1 }), RangeError);
    assert.equal(ctx.a.localAddress('tcp')?.protocol, 'tcp');
    assert.equal(ctx.a.localAddress('ws'), undefined);
  });

  test('recording can be turned off (benchmarks)', async () => {
    const net = new FakeNetwork({ clock: ctx.clock, record: false });
    const a = net.endpoint('127.0.1.1:5060');
    const got: IncomingMessage[] = [];
    net.endpoint('127.0.1.2:5060').onMessage((m) => got.push(m));
    await a.send(options(), net.target('127.0.1.2:5060'));
    ctx.clock.advance(0);
    assert.equal(got.length, 1);
    assert.equal(net.sent.length, 0);
  });
});
