import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/clock.js';
import { SeededRandom } from '../core/random.js';
import { RtpPacket } from './packet.js';
import { parseRtcpOrThrow, serializeRtcp, type RtcpPacket } from './rtcp.js';
import { RtpSession, RtpSessionError, type RtpFrameInfo, type RtpSessionCodec, type RtpSessionOptions } from './session.js';
import { createMemoryTransportPair, type MemoryRtpTransport } from './transport.js';

/**
 * A lossless 8-bit test codec (rtp/ must not import media/): each sample's high byte, so a
 * decoded frame is `sample & ~0xff`. Payload type 96, 8 kHz.
 */
const TEST_CODEC: RtpSessionCodec = {
  name: 'TEST8',
  clockRate: 8000,
  sampleRate: 8000,
  payloadType: 96,
  createEncoder: () => ({
    encode(pcm: Int16Array, out?: Uint8Array): Uint8Array {
      const dst = out === undefined ? new Uint8Array(pcm.length) : out.subarray(0, pcm.length);
      for (let i = 0; i < pcm.length; i++) dst[i] = (pcm[i]! >> 8) & 0xff;
      return dst;
    },
  }),
  createDecoder: () => ({
    decode(payload: Uint8Array, out?: Int16Array): Int16Array {
      const dst = out === undefined ? new Int16Array(payload.length) : out.subarray(0, payload.length);
      for (let i = 0; i < payload.length; i++) dst[i] = ((payload[i]! << 24) >> 24) << 8;
      return dst;
    },
  }),
};

/** Frame k of the test signal: every sample carries k in its high byte. */
function frameOf(k: number, out: Int16Array): Int16Array {
  return out.fill(((k % 100) + 1) << 8);
}

interface Ctx {
  clock: FakeClock;
  ta: MemoryRtpTransport;
  tb: MemoryRtpTransport;
  a: RtpSession;
  b: RtpSession;
  frames: { value: number; info: RtpFrameInfo }[];
  digits: string[];
}

function setup(extraA: Partial<RtpSessionOptions> = {}, extraB: Partial<RtpSessionOptions> = {}): Ctx {
  const clock = new FakeClock(10_000);
  const [ta, tb] = createMemoryTransportPair({ clock, delayMs: 10 });
  const frames: Ctx['frames'] = [];
  const digits: string[] = [];
  let k = 0;
  const a = new RtpSession({
    transport: ta,
    codec: TEST_CODEC,
    clock,
    random: new SeededRandom(1),
    wallClock: () => 1_700_000_000_000,
    dtmfPayloadType: 101,
    rtcpMinIntervalMs: 1000,
    source: (out) => frameOf(k++, out),
    ...extraA,
  });
  const b = new RtpSession({
    transport: tb,
    codec: TEST_CODEC,
    clock,
    random: new SeededRandom(2),
    wallClock: () => 1_700_000_000_000,
    dtmfPayloadType: 101,
    rtcpMinIntervalMs: 1000,
    onFrame: (pcm, info) => frames.push({ value: pcm[0]! >> 8, info: { ...info } }),
    onDtmf: (digit) => digits.push(digit),
    ...extraB,
  });
  return { clock, ta, tb, a, b, frames, digits };
}

function rtpSent(t: MemoryRtpTransport): RtpPacket[] {
  return t.sent.filter((s) => s.kind === 'rtp').map((s) => RtpPacket.parse(s.datagram));
}

function rtcpSent(t: MemoryRtpTransport): RtcpPacket[][] {
  return t.sent.filter((s) => s.kind === 'rtcp').map((s) => parseRtcpOrThrow(s.datagram));
}

describe('RtpSession', () => {
  let ctx: Ctx;
  beforeEach(() => {
    ctx = setup();
  });
  afterEach(() => {
    ctx.a.close();
    ctx.b.close();
  });

  test('sends one packet per 20 ms tick with random SSRC, sequence and timestamp (RFC 3550 §5.1)', () => {
    const { a, ta, clock } = ctx;
    a.start();
    clock.advance(200);
    const packets = rtpSent(ta);
    assert.equal(packets.length, 11);
    const first = packets[0]!;
    assert.equal(first.ssrc, a.ssrc);
    assert.equal(first.payloadType, 96);
    assert.equal(first.marker, true);
    assert.ok(packets.slice(1).every((p) => !p.marker));
    packets.forEach((p, i) => {
      assert.equal(p.sequenceNumber, (first.sequenceNumber + i) & 0xffff);
      assert.equal(p.timestamp, (first.timestamp + 160 * i) >>> 0);
      assert.equal(p.payload.length, 160);
    });
    // A different seed gives different identifiers.
    const other = setup();
    other.a.start();
    assert.equal(rtpSent(other.ta)[0]!.ssrc, first.ssrc);
    const third = setup({ random: new SeededRandom(77) });
    third.a.start();
    assert.notEqual(rtpSent(third.ta)[0]!.ssrc, first.ssrc);
    for (const c of [other, third]) c.a.close();
  });

  test('the receiver plays the frames in order at the playout pace', () => {
    const { a, b, clock, frames } = ctx;
    a.start();
    b.start();
    clock.advance(2000);
    const played = frames.filter((f) => !f.info.concealed).map((f) => f.value);
    assert.ok(played.length >= 95, `played ${played.length}`);
    assert.deepEqual(played, Array.from({ length: played.length }, (_, i) => (i % 100) + 1));
    assert.equal(frames.filter((f) => f.info.concealed).length, 0);
    const stats = b.stats();
    assert.equal(stats.receive.lost, 0);
    assert.equal(stats.receive.ssrc, a.ssrc);
    assert.equal(stats.receive.jitterMs, 0);
  });

  test("a codec with its own concealment makes up the lost frame, and both codec halves are closed", () => {
    let closed = 0;
    const concealing: RtpSessionCodec = {
      ...TEST_CODEC,
      createEncoder: () => ({ ...TEST_CODEC.createEncoder(), close: () => void closed++ }),
      createDecoder: () => ({
        ...TEST_CODEC.createDecoder(),
        conceal: (out?: Int16Array) => (out ?? new Int16Array(160)).subarray(0, 160).fill(77 << 8),
        close: () => void closed++,
      }),
    };
    const c = setup({ codec: concealing }, { codec: concealing });
    let n = 0;
    const send = c.ta.sendRtp.bind(c.ta);
    c.ta.sendRtp = (d) => (++n === 10 ? true : send(d));
    c.a.start();
    c.b.start();
    c.clock.advance(1000);
    const concealed = c.frames.filter((f) => f.info.concealed);
    assert.equal(concealed.length, 1);
    assert.equal(concealed[0]!.value, 77, "the codec's concealment, not a faded repeat");
    c.a.close();
    c.b.close();
    assert.equal(closed, 4);
  });

  test('a lost packet is concealed by a faded repeat of the last frame', () => {
    const { a, b, clock, frames, ta } = ctx;
    // Drop the 10th RTP packet A sends.
    let n = 0;
    const send = ta.sendRtp.bind(ta);
    ta.sendRtp = (d) => (++n === 10 ? true : send(d));
    a.start();
    b.start();
    clock.advance(1000);
    const concealed = frames.filter((f) => f.info.concealed);
    assert.equal(concealed.length, 1);
    assert.equal(concealed[0]!.info.lossReason, 'missing');
    const i = frames.indexOf(concealed[0]!);
    // The 9th frame (value 9) repeated at 0.8 gain.
    assert.equal(frames[i - 1]!.value, 9);
    assert.equal(concealed[0]!.value, Math.trunc((9 << 8) * 0.8) >> 8);
    assert.equal(frames[i + 1]!.value, 11);
    assert.equal(b.stats().receive.lost, 1);
  });

  test('RFC 4733 DTMF: events arrive once per digit, audio pauses during the event', async () => {
    const { a, b, clock, digits, ta } = ctx;
    a.start();
    b.start();
    clock.advance(100);
    const done = a.sendDtmf('12#');
    clock.advance(1000);
    await done;
    assert.deepEqual(digits, ['1', '2', '#']);
    const packets = rtpSent(ta);
    const events = packets.filter((p) => p.payloadType === 101);
    // 100 ms tone at 20 ms: 4 updates + 3 end packets per digit.
    assert.equal(events.length, 3 * 7);
    const firstEvent = packets.indexOf(events[0]!);
    const lastEvent = packets.indexOf(events[events.length - 1]!);
    assert.ok(packets.slice(firstEvent, lastEvent + 1).every((p) => p.payloadType === 101), 'no audio inside the event run');
    assert.equal(events[0]!.marker, true);
    // Sequence numbers stay contiguous across audio and events; audio resumes with the marker bit.
    packets.forEach((p, i) => i > 0 && assert.equal(p.sequenceNumber, (packets[i - 1]!.sequenceNumber + 1) & 0xffff));
    assert.equal(packets[lastEvent + 1]!.marker, true);
    assert.equal(a.stats().send.dtmfPackets, 21);
  });

  test('sendDtmf rejects without telephone-event, on bad digits, on abort and on close', async () => {
    const [transport] = createMemoryTransportPair();
    const noEvent = new RtpSession({ transport, codec: TEST_CODEC, clock: new FakeClock() });
    await assert.rejects(noEvent.sendDtmf('1'), (e: unknown) => e instanceof RtpSessionError && e.code === 'RTP_ERR_NO_TELEPHONE_EVENT');
    noEvent.close();
    const { a, clock } = ctx;
    a.start();
    await assert.rejects(a.sendDtmf('1x'), RangeError);
    const controller = new AbortController();
    const aborted = a.sendDtmf('123', { signal: controller.signal });
    clock.advance(40);
    controller.abort();
    await assert.rejects(aborted, (e: unknown) => e instanceof RtpSessionError && e.code === 'RTP_ERR_ABORTED');
    const pending = a.sendDtmf('4');
    a.close();
    await assert.rejects(pending, (e: unknown) => e instanceof RtpSessionError && e.code === 'RTP_ERR_CLOSED');
  });

  test('RTCP: SR and RR with CNAME at the interval, RTT from LSR/DLSR (RFC 3550 §6.4.1)', () => {
    const { a, b, clock, ta, tb } = ctx;
    a.start();
    b.start();
    clock.advance(8000);
    const fromA = rtcpSent(ta);
    const fromB = rtcpSent(tb);
    assert.ok(fromA.length >= 3 && fromB.length >= 3, `${fromA.length} and ${fromB.length} compounds`);
    for (const compound of fromA) {
      assert.equal(compound[0]!.type, 'sr');
      assert.equal(compound[1]!.type, 'sdes');
    }
    // B sends nothing, so it reports with RR blocks about A.
    const rr = fromB[fromB.length - 1]![0]!;
    assert.equal(rr.type, 'rr');
    assert.equal(rr.type === 'rr' && rr.reports[0]?.ssrc, a.ssrc);
    const stats = a.stats();
    // 10 ms each way on the memory transport.
    assert.ok(stats.rtt.samples >= 1);
    assert.ok(Math.abs(stats.rtt.ms! - 20) < 0.1, `rtt ${stats.rtt.ms}`);
    assert.equal(stats.send.remote?.lossPercent, 0);
    assert.ok(stats.rtcp.sent >= 3 && stats.rtcp.received >= 3);
    const bStats = b.stats();
    assert.ok(bStats.quality !== undefined && bStats.quality.mos > 4.2, `mos ${bStats.quality?.mos}`);
    assert.equal(bStats.sources[0]?.cname, a.cname);
  });

  test('close sends BYE once, is idempotent and reports; the peer hears the BYE', () => {
    const { a, b, clock, ta } = ctx;
    const byes: number[] = [];
    b.on('bye', (e) => byes.push(e.ssrc));
    let closeEvents = 0;
    a.on('close', () => closeEvents++);
    a.start();
    b.start();
    clock.advance(500);
    const report = a.close('done');
    assert.equal(a.close(), report);
    assert.equal(report.closed, true);
    assert.equal(closeEvents, 1);
    const last = rtcpSent(ta).at(-1)!;
    assert.deepEqual(
      last.map((p) => p.type),
      ['sr', 'sdes', 'bye'],
    );
    assert.equal(last[2]!.type === 'bye' && last[2]!.reason, 'done');
    clock.advance(50);
    assert.deepEqual(byes, [a.ssrc]);
    assert.equal(ta.closed, true);
    assert.throws(() => a.start(), RtpSessionError);
    const sentBefore = ta.sent.length;
    clock.advance(1000);
    assert.equal(ta.sent.length, sentBefore);
  });

  test('a session that never sent anything does not send BYE (RFC 3550 §6.3.7)', () => {
    const { b, tb } = ctx;
    b.close();
    assert.equal(tb.sent.length, 0);
  });

  test('per-SSRC state is bounded (G40) and unknown payload types are dropped', () => {
    const { b, tb } = ctx;
    b.start();
    for (let ssrc = 1; ssrc <= 20; ssrc++) {
      for (let seq = 0; seq < 3; seq++) {
        tb.inject(new RtpPacket({ ssrc, sequenceNumber: seq, timestamp: seq * 160, payloadType: 96, payload: new Uint8Array(160) }).serialize());
      }
    }
    tb.inject(new RtpPacket({ ssrc: 1, sequenceNumber: 3, payloadType: 8, payload: new Uint8Array(160) }).serialize());
    tb.inject(Buffer.from('garbage'));
    const stats = b.stats();
    assert.equal(stats.sources.length, 4);
    assert.equal(stats.drops['ssrc-limit'], 16 * 3);
    assert.equal(stats.drops['payload-type'], 1);
    assert.equal(tb.drops.get('version'), 1);
  });

  test('playout switches to a new SSRC once the old one went quiet', () => {
    const { b, tb, clock } = ctx;
    const switches: number[] = [];
    b.on('remoteSource', (e) => switches.push(e.ssrc));
    b.start();
    const send = (ssrc: number, seq: number): void =>
      tb.inject(new RtpPacket({ ssrc, sequenceNumber: seq, timestamp: seq * 160, payloadType: 96, payload: new Uint8Array(160) }).serialize());
    for (let i = 0; i < 10; i++) {
      send(111, i);
      clock.advance(20);
    }
    for (let i = 0; i < 10; i++) {
      send(222, 1000 + i);
      clock.advance(20);
    }
    assert.deepEqual(switches, [111, 222]);
    assert.equal(b.stats().receive.ssrc, 222);
  });

  test('our own SSRC coming back is a collision: BYE for it and a new SSRC (RFC 3550 §8.2)', () => {
    const { a, ta, clock } = ctx;
    a.start();
    clock.advance(100);
    const old = a.ssrc;
    ta.inject(new RtpPacket({ ssrc: old, sequenceNumber: 1, payloadType: 96, payload: new Uint8Array(160) }).serialize());
    assert.notEqual(a.ssrc, old);
    const bye = rtcpSent(ta).at(-1)!;
    assert.deepEqual(bye.at(-1), { type: 'bye', sources: [old], reason: 'SSRC collision' });
    clock.advance(40);
    assert.equal(rtpSent(ta).at(-1)!.ssrc, a.ssrc);
    assert.equal(a.stats().drops['own-ssrc'], 1);
  });

  test('a hostile RTCP compound is dropped without disturbing the session', () => {
    const { a, b, clock, tb } = ctx;
    a.start();
    b.start();
    clock.advance(200);
    const bad = serializeRtcp([{ type: 'rr', ssrc: 5, reports: [] }]);
    bad[3] = 40; // length runs past the datagram
    tb.inject(bad);
    clock.advance(200);
    assert.equal(tb.drops.get('rtcp.length'), 1);
    assert.ok(b.stats().receive.packets > 15);
  });
});
