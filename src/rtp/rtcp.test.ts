import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpParseError } from './errors.js';
import {
  decodeRtcp,
  findCname,
  parseRtcp,
  parseRtcpOrThrow,
  rtcpByteLength,
  serializeRtcp,
  type ReceiverReport,
  type RtcpPacket,
  type SenderReport,
} from './rtcp.js';

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Places `packet` at the start of a larger 0xee-filled buffer, so over-reads would see data. */
function inLargerBuffer(packet: Uint8Array): Uint8Array {
  const backing = new Uint8Array(packet.length + 64).fill(0xee);
  backing.set(packet, 0);
  return backing.subarray(0, packet.length);
}

// A hand-assembled SR (one report block) + SDES (CNAME "alice") + BYE ("bye") compound.
const SR = bytes(
  0x81, 0xc8, 0x00, 0x0c, // V=2 RC=1 PT=200 length=12
  0x11, 0x22, 0x33, 0x44, // SSRC
  0x83, 0xaa, 0x7e, 0x80, // NTP msw
  0x80, 0x00, 0x00, 0x00, // NTP lsw
  0x00, 0x00, 0x10, 0x00, // RTP ts
  0x00, 0x00, 0x00, 0x64, // packet count 100
  0x00, 0x00, 0x3e, 0x80, // octet count 16000
  0x55, 0x66, 0x77, 0x88, // block SSRC
  0x0d, 0xff, 0xff, 0xfe, // fraction 13, cumulative lost -2
  0x00, 0x01, 0x00, 0x05, // highest seq 65541
  0x00, 0x00, 0x00, 0x20, // jitter 32
  0x7e, 0x80, 0x80, 0x00, // LSR
  0x00, 0x01, 0x00, 0x00, // DLSR 1 s
);
const SDES = bytes(
  0x81, 0xca, 0x00, 0x03, // V=2 SC=1 PT=202 length=3
  0x11, 0x22, 0x33, 0x44, // SSRC
  0x01, 0x05, 0x61, 0x6c, 0x69, 0x63, 0x65, 0x00, // CNAME "alice", END
);
const BYE = bytes(
  0x81, 0xcb, 0x00, 0x02, // V=2 SC=1 PT=203 length=2
  0x11, 0x22, 0x33, 0x44,
  0x03, 0x62, 0x79, 0x65, // reason "bye"
);
const RR_EMPTY = bytes(0x80, 0xc9, 0x00, 0x01, 0x99, 0x88, 0x77, 0x66);
const COMPOUND = concat(SR, SDES, BYE);

describe('RTCP parse', () => {
  test('SR + SDES + BYE compound', () => {
    const packets = parseRtcp(COMPOUND);
    assert.ok(packets);
    assert.deepEqual(packets, [
      {
        type: 'sr',
        ssrc: 0x11223344,
        ntpSeconds: 0x83aa7e80,
        ntpFraction: 0x80000000,
        rtpTimestamp: 0x1000,
        packetCount: 100,
        octetCount: 16000,
        reports: [
          {
            ssrc: 0x55667788,
            fractionLost: 13,
            cumulativeLost: -2,
            highestSequence: 65541,
            jitter: 32,
            lastSr: 0x7e808000,
            delaySinceLastSr: 0x10000,
          },
        ],
      },
      { type: 'sdes', chunks: [{ ssrc: 0x11223344, items: [{ type: 1, text: 'alice' }] }] },
      { type: 'bye', sources: [0x11223344], reason: 'bye' },
    ]);
    const sdes = packets[1];
    assert.equal(sdes?.type, 'sdes');
    if (sdes?.type === 'sdes') {
      assert.equal(findCname(sdes), 'alice');
      assert.equal(findCname(sdes, 0x11223344), 'alice');
      assert.equal(findCname(sdes, 1), undefined);
    }
  });

  test('an empty RR alone is the smallest valid compound', () => {
    assert.deepEqual(parseRtcp(RR_EMPTY), [{ type: 'rr', ssrc: 0x99887766, reports: [] }]);
  });

  test('APP / feedback / XR packets are kept opaque', () => {
    const app = bytes(0x85, 0xcc, 0x00, 0x02, 0, 0, 0, 1, 0x6e, 0x61, 0x6d, 0x65);
    const packets = parseRtcp(concat(RR_EMPTY, app));
    assert.ok(packets);
    const last = packets[1];
    assert.equal(last?.type, 'unknown');
    if (last?.type === 'unknown') {
      assert.equal(last.packetType, 204);
      assert.equal(last.count, 5);
      assert.deepEqual([...last.body], [0, 0, 0, 1, 0x6e, 0x61, 0x6d, 0x65]);
    }
  });

  test('padding on the last packet is stripped', () => {
    // BYE with P set: SSRC, then 4 octets of padding (count 4).
    const bye = bytes(0xa1, 0xcb, 0x00, 0x02, 0, 0, 0, 7, 0, 0, 0, 4);
    assert.deepEqual(parseRtcp(concat(RR_EMPTY, bye))?.[1], { type: 'bye', sources: [7] });
  });

  test('a padded single RR is accepted (padding on the last packet)', () => {
    const rr = bytes(0xa0, 0xc9, 0x00, 0x02, 0, 0, 0, 9, 0, 0, 0, 4);
    assert.deepEqual(parseRtcp(rr), [{ type: 'rr', ssrc: 9, reports: [] }]);
  });

  test('SR profile-specific extension is kept as a view', () => {
    const sr = Uint8Array.from(SR);
    sr[3] = 0x0d; // one more word
    const withExt = concat(sr, bytes(0xca, 0xfe, 0xba, 0xbe));
    const packets = parseRtcp(withExt);
    const first = packets?.[0];
    assert.equal(first?.type, 'sr');
    if (first?.type === 'sr') assert.deepEqual([...(first.extension ?? [])], [0xca, 0xfe, 0xba, 0xbe]);
  });

  test('SDES with several items, a PRIV item and two chunks', () => {
    const sdes: RtcpPacket = {
      type: 'sdes',
      chunks: [
        {
          ssrc: 1,
          items: [
            { type: 1, text: 'user@host' },
            { type: 6, text: 'voxlite' },
            { type: 8, text: '\u0003abcdef' },
          ],
        },
        { ssrc: 2, items: [] },
      ],
    };
    const wire = serializeRtcp([{ type: 'rr', ssrc: 1, reports: [] }, sdes]);
    assert.equal(wire.length % 4, 0);
    assert.deepEqual(parseRtcp(wire)?.[1], sdes);
  });

  test('UTF-8 CNAME survives a round trip', () => {
    const sdes: RtcpPacket = { type: 'sdes', chunks: [{ ssrc: 5, items: [{ type: 1, text: 'zoë@例え.jp' }] }] };
    assert.deepEqual(parseRtcp(serializeRtcp([{ type: 'rr', ssrc: 5, reports: [] }, sdes]))?.[1], sdes);
  });
});

describe('hostile RTCP (G40, RFC 3550 A.2)', () => {
  const sdesFirst = concat(SDES, RR_EMPTY);
  const cases: [string, Uint8Array, string][] = [
    ['empty', bytes(), 'too-short'],
    ['4 octets', bytes(0x80, 0xc9, 0, 0), 'too-short'],
    ['not a multiple of 4', concat(RR_EMPTY, bytes(0)), 'too-short'],
    ['version 1', bytes(0x40, 0xc9, 0x00, 0x01, 0, 0, 0, 0), 'version'],
    ['version 0 on the second packet', concat(RR_EMPTY, bytes(0x00, 0xcb, 0x00, 0x00)), 'version'],
    ['SDES first', sdesFirst, 'first-not-report'],
    ['BYE first', concat(BYE, RR_EMPTY), 'first-not-report'],
    ['APP first', bytes(0x80, 0xcc, 0x00, 0x01, 0, 0, 0, 0), 'first-not-report'],
    ['padding on the first of two', concat(bytes(0xa0, 0xc9, 0x00, 0x01, 0, 0, 0, 0), BYE), 'padding-not-last'],
    ['padding count 0', bytes(0xa0, 0xc9, 0x00, 0x02, 0, 0, 0, 9, 0, 0, 0, 0), 'padding'],
    ['padding count past the packet', bytes(0xa0, 0xc9, 0x00, 0x02, 0, 0, 0, 9, 0, 0, 0, 13), 'padding'],
    ['length past the datagram', bytes(0x80, 0xc9, 0x00, 0x05, 0, 0, 0, 0), 'length'],
    ['length 0xffff', bytes(0x80, 0xc9, 0xff, 0xff, 0, 0, 0, 0), 'length'],
    ['second packet length past the end', concat(RR_EMPTY, bytes(0x80, 0xcb, 0x00, 0x03, 0, 0, 0, 1)), 'length'],
    ['RR with RC=1 but no block', bytes(0x81, 0xc9, 0x00, 0x01, 0, 0, 0, 0), 'body'],
    ['SR shorter than sender info', bytes(0x80, 0xc8, 0x00, 0x01, 0, 0, 0, 0), 'body'],
    ['RR of length 0 (no SSRC)', concat(bytes(0x80, 0xc9, 0x00, 0x00), bytes(0x80, 0xcb, 0x00, 0x00)), 'body'],
    ['SDES item past the packet', concat(RR_EMPTY, bytes(0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x09, 0x61, 0x62)), 'body'],
    ['SDES without an END octet', concat(RR_EMPTY, bytes(0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 0x61, 0x62)), 'body'],
    ['SDES SC=2 with one chunk', concat(RR_EMPTY, bytes(0x82, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0)), 'body'],
    ['BYE SC=3 with one source', concat(RR_EMPTY, bytes(0x83, 0xcb, 0x00, 0x01, 0, 0, 0, 1)), 'body'],
    ['BYE reason past the packet', concat(RR_EMPTY, bytes(0x81, 0xcb, 0x00, 0x02, 0, 0, 0, 1, 0x09, 0x61, 0x62, 0x63)), 'body'],
  ];
  for (const [name, buf, kind] of cases) {
    test(`${name} → ${kind}`, () => {
      const view = inLargerBuffer(buf);
      assert.equal(decodeRtcp(view), kind);
      assert.equal(parseRtcp(view), null);
      assert.throws(
        () => parseRtcpOrThrow(view),
        (err: unknown) => err instanceof RtcpParseError && err.kind === kind,
      );
    });
  }

  test('every truncation of a valid compound is rejected, except at packet boundaries', () => {
    const boundaries = new Set([SR.length, SR.length + SDES.length]);
    for (let n = 0; n < COMPOUND.length; n++) {
      const result = decodeRtcp(inLargerBuffer(COMPOUND.subarray(0, n)));
      if (boundaries.has(n)) assert.equal(Array.isArray(result), true, `cut at boundary ${n}`);
      else assert.equal(typeof result, 'string', `truncated at ${n}`);
    }
  });

  test('random garbage never throws', () => {
    let seed = 99;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (let i = 0; i < 5000; i++) {
      const len = (next() % 16) * 4;
      const buf = new Uint8Array(len);
      for (let j = 0; j < len; j++) buf[j] = next();
      if (len > 0) {
        buf[0] = (buf[0]! & 0x1f) | 0x80;
        buf[1] = 200 + (next() & 3);
        buf[2] = 0;
        buf[3] = next() % 16;
      }
      const result = decodeRtcp(inLargerBuffer(buf));
      if (typeof result !== 'string') {
        for (const p of result) {
          if (p.type === 'unknown') assert.ok(p.body.byteOffset + p.body.length <= len);
        }
      }
    }
  });
});

describe('RTCP serialise', () => {
  test('golden compound round-trips byte for byte', () => {
    const packets = parseRtcp(COMPOUND);
    assert.ok(packets);
    assert.equal(rtcpByteLength(packets), COMPOUND.length);
    assert.deepEqual([...serializeRtcp(packets)], [...COMPOUND]);
  });

  test('objects → wire → objects', () => {
    const rr: ReceiverReport = {
      type: 'rr',
      ssrc: 0xffffffff,
      reports: [
        { ssrc: 1, fractionLost: 255, cumulativeLost: 0x7fffff, highestSequence: 0xffffffff, jitter: 0, lastSr: 0, delaySinceLastSr: 0 },
        { ssrc: 2, fractionLost: 0, cumulativeLost: -0x800000, highestSequence: 0, jitter: 0xffffffff, lastSr: 1, delaySinceLastSr: 2 },
      ],
    };
    const packets: RtcpPacket[] = [
      rr,
      { type: 'sdes', chunks: [{ ssrc: 0xffffffff, items: [{ type: 1, text: 'abc' }] }] },
      { type: 'bye', sources: [0xffffffff, 3] },
    ];
    assert.deepEqual(parseRtcp(serializeRtcp(packets)), packets);
  });

  test('cumulative loss beyond 24 bits is clamped, not wrapped', () => {
    const sr: SenderReport = {
      type: 'sr',
      ssrc: 1,
      ntpSeconds: 0,
      ntpFraction: 0,
      rtpTimestamp: 0,
      packetCount: 0,
      octetCount: 0,
      reports: [{ ssrc: 2, fractionLost: 0, cumulativeLost: 1e9, highestSequence: 0, jitter: 0, lastSr: 0, delaySinceLastSr: 0 }],
    };
    const parsed = parseRtcp(serializeRtcp([sr]));
    const first = parsed?.[0];
    assert.equal(first?.type === 'sr' ? first.reports[0]?.cumulativeLost : undefined, 0x7fffff);
  });

  test('BYE reason is padded to a word boundary', () => {
    for (const reason of ['', 'a', 'ab', 'abc', 'abcd']) {
      const wire = serializeRtcp([{ type: 'rr', ssrc: 1, reports: [] }, { type: 'bye', sources: [1], reason }]);
      assert.equal(wire.length % 4, 0);
      assert.deepEqual(parseRtcp(wire)?.[1], { type: 'bye', sources: [1], reason });
    }
  });

  test('into a caller buffer at an offset', () => {
    const target = new Uint8Array(COMPOUND.length + 8);
    const packets = parseRtcp(COMPOUND);
    assert.ok(packets);
    const view = serializeRtcp(packets, target, 4);
    assert.equal(view.byteOffset, 4);
    assert.deepEqual([...view], [...COMPOUND]);
    assert.throws(() => serializeRtcp(packets, new Uint8Array(10)), RangeError);
  });

  test('rejects out-of-range content', () => {
    const block = { ssrc: 1, fractionLost: 0, cumulativeLost: 0, highestSequence: 0, jitter: 0, lastSr: 0, delaySinceLastSr: 0 };
    assert.throws(() => serializeRtcp([{ type: 'rr', ssrc: 1, reports: new Array(32).fill(block) }]), RangeError);
    assert.throws(() => serializeRtcp([{ type: 'rr', ssrc: 1, reports: [{ ...block, fractionLost: 256 }] }]), RangeError);
    assert.throws(
      () => serializeRtcp([{ type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 1, text: 'x'.repeat(256) }] }] }]),
      RangeError,
    );
    assert.throws(() => serializeRtcp([{ type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 0, text: '' }] }] }]), RangeError);
    assert.throws(() => serializeRtcp([{ type: 'bye', sources: [1], reason: 'é'.repeat(128) }]), RangeError);
    assert.throws(() => serializeRtcp([{ type: 'unknown', packetType: 204, count: 0, body: bytes(1, 2) }]), RangeError);
    assert.throws(() => serializeRtcp([{ type: 'rr', ssrc: -1, reports: [] }]), RangeError);
  });
});
