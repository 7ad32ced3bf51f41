/**
 * RtpSocket over real UDP on loopback (127.0.0.1 and ::1 only): port allocation, symmetric RTP
 * (RFC 4961), G39 destination checks, G40/G41 drop counters, impairment. Every wait is bounded.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { RtpPacket, RtpSocket, RtpSocketError, isForbiddenDestination, serializeRtcp, type RtpSocketOptions } from '../../src/rtp/index.js';

const RANGE = { min: 20000, max: 29999 };
const opened: RtpSocket[] = [];
const raw: Socket[] = [];

after(async () => {
  await Promise.all(opened.map((s) => s.close()));
  for (const s of raw) s.close();
});

async function open(options: Partial<RtpSocketOptions> = {}): Promise<RtpSocket> {
  const socket = await RtpSocket.open({ address: '127.0.0.1', portRange: RANGE, ...options });
  opened.push(socket);
  return socket;
}

async function rawSocket(type: 'udp4' | 'udp6' = 'udp4'): Promise<Socket & { received: Buffer[] }> {
  const socket = createSocket(type) as Socket & { received: Buffer[] };
  socket.received = [];
  socket.on('message', (m) => socket.received.push(m));
  await new Promise<void>((resolve) => socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', resolve));
  raw.push(socket);
  return socket;
}

/** Polls `predicate` every 5 ms; fails after `timeoutMs`. */
async function waitFor(predicate: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function rtp(seq: number, ssrc = 0xabc): Uint8Array {
  return new RtpPacket({ payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc, payload: new Uint8Array(160) }).serialize();
}

function collect(socket: RtpSocket): { rtp: number[]; rtcp: number } {
  const seen = { rtp: [] as number[], rtcp: 0 };
  socket.attach({ onRtp: (p) => seen.rtp.push(p.sequenceNumber), onRtcp: () => seen.rtcp++ });
  return seen;
}

describe('RtpSocket: ports', () => {
  test('allocates an even RTP port in the range and RTCP on the next one (RFC 3550 §11)', async () => {
    const socket = await open();
    const { rtp: rtpPort, rtcp: rtcpPort } = socket.localPorts;
    assert.equal(rtpPort % 2, 0);
    assert.equal(rtcpPort, rtpPort + 1);
    assert.ok(rtpPort >= RANGE.min && rtcpPort <= RANGE.max);
    const mux = await open({ rtcpMux: true });
    assert.equal(mux.localPorts.rtcp, mux.localPorts.rtp);
    assert.equal(mux.rtcpMux, true);
  });

  test('a taken port fails with RTP_ERR_BIND, an exhausted range with RTP_ERR_NO_PORT', async () => {
    const taken = await open();
    const port = taken.localPorts.rtp;
    await assert.rejects(RtpSocket.open({ address: '127.0.0.1', port }), (e: unknown) => e instanceof RtpSocketError && e.code === 'RTP_ERR_BIND');
    await assert.rejects(
      RtpSocket.open({ address: '127.0.0.1', portRange: { min: port, max: port + 1 } }),
      (e: unknown) => e instanceof RtpSocketError && e.code === 'RTP_ERR_NO_PORT',
    );
    await assert.rejects(RtpSocket.open({ address: 'localhost' }), TypeError);
  });
});

describe('RtpSocket: G39 destinations', () => {
  test('multicast, broadcast and unspecified destinations are refused unless configured', async () => {
    const socket = await open();
    for (const address of ['224.0.0.1', '239.1.2.3', '255.255.255.255', '0.0.0.0', '::ffff:224.0.0.5']) {
      assert.throws(
        () => socket.setRemote({ address, port: 4000 }),
        (e: unknown) => e instanceof RtpSocketError && e.code === 'RTP_ERR_DESTINATION',
        address,
      );
    }
    assert.throws(() => socket.setRemote({ address: 'example.com', port: 4000 }), RtpSocketError);
    assert.throws(() => socket.setRemote({ address: '::1', port: 4000 }), RtpSocketError); // IPv6 peer on an IPv4 socket
    assert.throws(() => socket.setRemote({ address: '127.0.0.1', port: 0 }), RtpSocketError);
    assert.equal(socket.rtpDestination, undefined);
    // An IPv4-mapped peer is the IPv4 address it carries; RTCP defaults to port + 1.
    socket.setRemote({ address: '::FFFF:127.0.0.1', port: 4000 });
    assert.deepEqual(socket.rtpDestination, { address: '127.0.0.1', port: 4000 });
    assert.deepEqual(socket.rtcpDestination, { address: '127.0.0.1', port: 4001 });
    assert.throws(() => socket.setRemote({ address: '127.0.0.1', port: 65535 }), RtpSocketError); // no room for RTCP
    socket.setRemote(undefined);
    const permissive = await open({ allowMulticast: true });
    permissive.setRemote({ address: '239.1.2.3', port: 4000 });
    assert.deepEqual(permissive.rtpDestination, { address: '239.1.2.3', port: 4000 });
    assert.equal(isForbiddenDestination('ff02::1'), true);
    assert.equal(isForbiddenDestination('::'), true);
    assert.equal(isForbiddenDestination('2001:db8::1'), false);
    assert.equal(isForbiddenDestination('192.0.2.1'), false);
    assert.equal(isForbiddenDestination('192.0.2.255', new Set(['192.0.2.255'])), true);
  });

  test('nothing is sent without a destination (hold, or before the answer)', async () => {
    const socket = await open();
    assert.equal(socket.sendRtp(rtp(1)), false);
    assert.equal(socket.counters.sendDrops['no-destination'], 1);
  });
});

describe('RtpSocket: symmetric RTP (RFC 4961)', () => {
  test("'peer': latches to the negotiated IP's real port, answers there, drops other sources", async () => {
    const b = await open();
    const declared = await rawSocket(); // the port the SDP announced
    const real = await rawSocket(); // where media really comes from (a NAT, say)
    const intruder = await rawSocket();
    b.setRemote({ address: '127.0.0.1', port: declared.address().port });
    const seen = collect(b);
    b.sendRtp(rtp(1));
    await waitFor(() => declared.received.length === 1, 'the first packet at the declared port');
    real.send(rtp(10), b.localPorts.rtp, '127.0.0.1');
    await waitFor(() => seen.rtp.length === 1, 'the real source');
    assert.deepEqual(b.latched.rtp, { address: '127.0.0.1', port: real.address().port });
    b.sendRtp(rtp(2));
    await waitFor(() => real.received.length === 1, 'the answer at the real source');
    assert.equal(declared.received.length, 1);
    // Same IP, other port, after latching: RTP injection, dropped and counted.
    intruder.send(rtp(11, 0xbad), b.localPorts.rtp, '127.0.0.1');
    real.send(rtp(12), b.localPorts.rtp, '127.0.0.1');
    await waitFor(() => seen.rtp.length === 2, 'the next packet from the latched source');
    assert.deepEqual(seen.rtp, [10, 12]);
    assert.equal(b.counters.drops.source, 1);
    // RTCP latches on its own port.
    real.send(serializeRtcp([{ type: 'rr', ssrc: 1, reports: [] }]), b.localPorts.rtcp, '127.0.0.1');
    await waitFor(() => seen.rtcp === 1, 'RTCP');
    assert.equal(b.latched.rtcp?.port, real.address().port);
    b.relatch();
    assert.equal(b.latched.rtp, undefined);
  });

  test("'peer' refuses a source at another IP; 'latch' takes it (comedia)", async () => {
    // The negotiated peer is in TEST-NET-1; media arrives from 127.0.0.1 instead.
    const strict = await open({ remote: { address: '192.0.2.10', port: 40000 } });
    const loose = await open({ symmetric: 'latch', remote: { address: '192.0.2.10', port: 40000 } });
    const peer = await rawSocket();
    const strictSeen = collect(strict);
    const looseSeen = collect(loose);
    peer.send(rtp(1), strict.localPorts.rtp, '127.0.0.1');
    peer.send(rtp(1), loose.localPorts.rtp, '127.0.0.1');
    await waitFor(() => looseSeen.rtp.length === 1 && strict.counters.drops.source === 1, 'both sockets to decide');
    assert.equal(strictSeen.rtp.length, 0);
    assert.deepEqual(loose.rtpDestination, { address: '127.0.0.1', port: peer.address().port });
    // RTCP follows the negotiated RTCP port until RTCP itself latches.
    assert.deepEqual(loose.rtcpDestination, { address: '192.0.2.10', port: 40001 });
    loose.sendRtp(rtp(2));
    await waitFor(() => peer.received.length === 1, 'the answer to the latched source');
  });

  test("'off' always answers to the negotiated address", async () => {
    const declared = await rawSocket();
    const other = await rawSocket();
    const socket = await open({ symmetric: 'off', remote: { address: '127.0.0.1', port: declared.address().port } });
    const seen = collect(socket);
    other.send(rtp(5), socket.localPorts.rtp, '127.0.0.1');
    await waitFor(() => seen.rtp.length === 1, 'the packet');
    socket.sendRtp(rtp(6));
    await waitFor(() => declared.received.length === 1, 'the negotiated address');
    assert.equal(other.received.length, 0);
  });
});

describe('RtpSocket: hostile datagrams (G40, G41)', () => {
  test('each is counted by reason and dropped; valid traffic continues', async () => {
    const socket = await open({ rtcpMux: true, symmetric: 'off' });
    const seen = collect(socket);
    const peer = await rawSocket();
    const port = socket.localPorts.rtp;
    const hostile = [
      Buffer.from('GET / HTTP/1.1\r\n\r\n'), // version 1
      Buffer.from([0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), // RTP version 1
      Buffer.from([0x80, 0, 0, 1, 0, 0]), // truncated RTP
      Buffer.from([0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), // 15 CSRCs announced, none present
      Buffer.from([0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff]), // padding longer than the packet
      Buffer.from([0x80, 201, 0, 50, 0, 0, 0, 1]), // RTCP length past the end
      Buffer.alloc(3000, 0x80), // oversize
      Buffer.alloc(0),
    ];
    for (const d of hostile) peer.send(d, port, '127.0.0.1');
    peer.send(rtp(77), port, '127.0.0.1');
    await waitFor(() => seen.rtp.length === 1, 'the valid packet after the hostile ones');
    const drops = socket.counters.drops;
    assert.equal(drops.version, 2);
    assert.equal(drops['rtp.too-short'], 1);
    assert.equal(drops['rtp.csrc-count'], 1);
    assert.equal(drops['rtp.padding'], 1);
    assert.equal(drops['rtcp.length'], 1);
    assert.equal(drops.oversize, 1);
    assert.equal(drops['too-short'], 1);
    assert.deepEqual(seen.rtp, [77]);
  });
});

describe('RtpSocket: impairment', () => {
  test('seeded send-side loss is repeatable; duplicates and delays are counted', async () => {
    const runOnce = async (seed: number): Promise<number[]> => {
      const receiver = await rawSocket();
      const socket = await open({
        remote: { address: '127.0.0.1', port: receiver.address().port },
        sendImpairment: { lossPercent: 10, duplicatePercent: 5, jitterMs: 4, seed },
      });
      for (let i = 0; i < 200; i++) socket.sendRtp(rtp(i));
      const impairment = socket.counters.sendImpairment!;
      const expected = 200 - impairment.lost + impairment.duplicated;
      await waitFor(() => receiver.received.length === expected, `${expected} datagrams`);
      assert.ok(impairment.lost > 5 && impairment.lost < 40, `lost ${impairment.lost}`);
      assert.ok(impairment.duplicated > 0);
      return [...new Set(receiver.received.map((m) => m.readUInt16BE(2)))].sort((x, y) => x - y);
    };
    const a = await runOnce(7);
    const b = await runOnce(7);
    assert.deepEqual(a, b);
  });

  test('receive-side impairment applies to RTP and leaves RTCP alone by default', async () => {
    const socket = await open({ rtcpMux: true, symmetric: 'off', receiveImpairment: { lossPercent: 100 } });
    const seen = collect(socket);
    const peer = await rawSocket();
    peer.send(rtp(1), socket.localPorts.rtp, '127.0.0.1');
    peer.send(serializeRtcp([{ type: 'rr', ssrc: 1, reports: [] }]), socket.localPorts.rtp, '127.0.0.1');
    await waitFor(() => seen.rtcp === 1, 'RTCP');
    await waitFor(() => socket.counters.receiveImpairment!.lost === 1, 'the RTP loss');
    assert.equal(seen.rtp.length, 0);
  });
});

describe('RtpSocket: IPv6 and close', () => {
  test('works on ::1', async (t) => {
    let a: RtpSocket;
    try {
      a = await open({ address: '::1' });
    } catch {
      t.skip('IPv6 loopback unavailable');
      return;
    }
    const b = await open({ address: '::1', remote: { address: '::1', port: a.localPorts.rtp } });
    a.setRemote({ address: '::1', port: b.localPorts.rtp });
    assert.equal(a.family, 6);
    assert.equal(a.headerOverhead, 48);
    const seen = collect(a);
    b.sendRtp(rtp(3));
    await waitFor(() => seen.rtp.length === 1, 'RTP over IPv6');
    assert.equal(a.latched.rtp?.address, '::1');
  });

  test('close is idempotent and later sends are refused', async () => {
    const socket = await open({ remote: { address: '127.0.0.1', port: 40000 } });
    const first = socket.close();
    assert.equal(socket.close(), first);
    await first;
    assert.equal(socket.sendRtp(rtp(1)), false);
    assert.equal(socket.counters.sendDrops.closed, 1);
  });
});
