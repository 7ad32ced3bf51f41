import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpParseError } from './errors.js';
import { RtpPacket, decodeRtp, isRtcp, isRtp, isStun, parseRtp } from './packet.js';

/** A minimal G.711 packet: V=2, PT 0, seq 0x1234, ts 0xdeadbeef, SSRC 0x01020304, 4 payload octets. */
const BASIC = Uint8Array.from([
  0x80, 0x00, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb, 0xcc, 0xdd,
]);

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

/**
 * Wraps `packet` at the start of a larger backing buffer filled with 0xee, so any read past
 * `packet.length` would see data (the subarray keeps the bounds; the test checks we honour them).
 */
function inLargerBuffer(packet: Uint8Array): Uint8Array {
  const backing = new Uint8Array(packet.length + 64).fill(0xee);
  backing.set(packet, 0);
  return backing.subarray(0, packet.length);
}

describe('RtpPacket parse', () => {
  test('reads every fixed-header field (RFC 3550 §5.1)', () => {
    const p = RtpPacket.parse(BASIC);
    assert.deepEqual(p.dump(), {
      version: 2,
      marker: false,
      payloadType: 0,
      sequenceNumber: 0x1234,
      timestamp: 0xdeadbeef,
      ssrc: 0x01020304,
      csrcs: [],
      extension: undefined,
      paddingLength: 0,
      payloadLength: 4,
      byteLength: 16,
    });
    assert.deepEqual([...p.payload], [0xaa, 0xbb, 0xcc, 0xdd]);
  });

  test('payload is a view into the datagram, not a copy', () => {
    const buf = Uint8Array.from(BASIC);
    const p = RtpPacket.parse(buf);
    assert.equal(p.payload.buffer, buf.buffer);
    assert.equal(p.payload.byteOffset, 12);
  });

  test('marker, CSRCs, extension and padding together', () => {
    const buf = bytes(
      0xb2, 0xe0, 0x00, 0x01, // V=2 P=1 X=1 CC=2 | M=1 PT=96 | seq 1
      0x00, 0x00, 0x00, 0x02, // ts
      0x00, 0x00, 0x00, 0x03, // ssrc
      0x00, 0x00, 0x00, 0x0a, // csrc 10
      0x00, 0x00, 0x00, 0x0b, // csrc 11
      0xbe, 0xde, 0x00, 0x01, // extension profile 0xbede, 1 word
      0x10, 0x20, 0x30, 0x40, // extension data
      0x55, 0x66, // payload
      0x00, 0x02, // padding: one zero, then the count (2, itself included)
    );
    const p = RtpPacket.parse(buf);
    assert.equal(p.marker, true);
    assert.equal(p.payloadType, 96);
    assert.deepEqual(p.csrcs, [10, 11]);
    assert.equal(p.extensionProfile, 0xbede);
    assert.deepEqual([...p.extensionData!], [0x10, 0x20, 0x30, 0x40]);
    assert.equal(p.paddingLength, 2);
    assert.deepEqual([...p.payload], [0x55, 0x66]);
  });

  test('decodeRtp refills a caller-owned packet', () => {
    const reused = new RtpPacket();
    const a = decodeRtp(BASIC, reused);
    assert.equal(a, reused);
    const other = Uint8Array.from(BASIC);
    other[3] = 0x35;
    const b = decodeRtp(other, reused);
    assert.equal(b, reused);
    assert.equal(reused.sequenceNumber, 0x1235);
  });

  test('a rejected datagram leaves the reused packet untouched', () => {
    const reused = RtpPacket.parse(BASIC);
    const before = reused.dump();
    assert.equal(decodeRtp(bytes(0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), reused), 'version');
    assert.deepEqual(reused.dump(), before);
  });

  test('padding-only packet (count equals everything after the header) is accepted with an empty payload', () => {
    const buf = bytes(0xa0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4);
    const p = RtpPacket.parse(buf);
    assert.equal(p.payload.length, 0);
    assert.equal(p.paddingLength, 4);
  });
});

describe('hostile packets (G40, RFC 3550 A.1)', () => {
  const cases: [string, Uint8Array, string][] = [
    ['empty datagram', bytes(), 'too-short'],
    ['11 octets', BASIC.subarray(0, 11), 'too-short'],
    ['version 0', bytes(0x00, ...BASIC.subarray(1)), 'version'],
    ['version 1', bytes(0x40, ...BASIC.subarray(1)), 'version'],
    ['version 3', bytes(0xc0, ...BASIC.subarray(1)), 'version'],
    ['CC=15 with no CSRCs', bytes(0x8f, ...BASIC.subarray(1, 12)), 'csrc-count'],
    ['CC=2 with one CSRC', bytes(0x82, ...BASIC.subarray(1, 12), 0, 0, 0, 1), 'csrc-count'],
    ['X set, no extension header', bytes(0x90, ...BASIC.subarray(1, 12)), 'extension-length'],
    ['X set, 3 of 4 header octets', bytes(0x90, ...BASIC.subarray(1, 12), 0xbe, 0xde, 0), 'extension-length'],
    ['extension length past the end', bytes(0x90, ...BASIC.subarray(1, 12), 0xbe, 0xde, 0x00, 0x02, 1, 2, 3, 4), 'extension-length'],
    ['extension length 0xffff', bytes(0x90, ...BASIC.subarray(1, 12), 0xbe, 0xde, 0xff, 0xff), 'extension-length'],
    ['padding count 0', bytes(0xa0, ...BASIC.subarray(1, 12), 1, 2, 0), 'padding'],
    ['padding count larger than the payload', bytes(0xa0, ...BASIC.subarray(1, 12), 1, 2, 4), 'padding'],
    ['padding count 255 on a short packet', bytes(0xa0, ...BASIC.subarray(1, 12), 0xff), 'padding'],
    ['padding eating into the CSRC list', bytes(0xa1, ...BASIC.subarray(1, 12), 0, 0, 0, 5), 'padding'],
    ['padding eating into the extension', bytes(0xb0, ...BASIC.subarray(1, 12), 0xbe, 0xde, 0, 1, 0, 0, 0, 2), 'padding'],
  ];
  for (const [name, buf, kind] of cases) {
    test(`${name} → ${kind}`, () => {
      const view = inLargerBuffer(buf);
      assert.equal(decodeRtp(view), kind);
      assert.equal(parseRtp(view), null);
      assert.throws(
        () => RtpPacket.parse(view),
        (err: unknown) => err instanceof RtpParseError && err.kind === kind && err.code === 'RTP_ERR_PARSE',
      );
    });
  }

  test('every truncation of a valid full-featured packet is handled without throwing', () => {
    const full = new RtpPacket({
      csrcs: [1, 2, 3],
      extensionProfile: 0x1000,
      extensionData: new Uint8Array(8).fill(9),
      payload: new Uint8Array(20).fill(7),
      paddingLength: 4,
    }).serialize();
    for (let n = 0; n < full.length; n++) {
      const result = decodeRtp(inLargerBuffer(full.subarray(0, n)));
      // A truncation may still parse (the last octet read as a padding count), but never reads past n.
      if (typeof result !== 'string') assert.ok(result.byteLength <= n);
    }
  });

  test('random garbage never throws and never reads past the end', () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (let i = 0; i < 5000; i++) {
      const len = next() % 64;
      const buf = new Uint8Array(len);
      for (let j = 0; j < len; j++) buf[j] = next();
      if (len > 0) buf[0] = (buf[0]! & 0x3f) | 0x80; // mostly version 2, to reach the deeper rules
      const result = decodeRtp(inLargerBuffer(buf));
      if (typeof result !== 'string') {
        const end = result.payload.byteOffset + result.payload.length + result.paddingLength;
        assert.ok(end <= len, `payload view ends at ${end} past ${len}`);
      }
    }
  });
});

describe('RtpPacket serialise', () => {
  test('round trip of the basic packet is byte-exact', () => {
    assert.deepEqual([...RtpPacket.parse(BASIC).serialize()], [...BASIC]);
  });

  test('round trip with every feature', () => {
    const original = new RtpPacket({
      marker: true,
      payloadType: 101,
      sequenceNumber: 65535,
      timestamp: 0xffffffff,
      ssrc: 0x80000000,
      csrcs: [0xffffffff, 0],
      extensionProfile: 0xbede,
      extensionData: bytes(0x10, 0xaa, 0, 0),
      payload: bytes(1, 2, 3, 4, 5),
      paddingLength: 3,
    });
    const wire = original.serialize();
    assert.equal(wire.length, original.byteLength);
    assert.equal(wire.length, 12 + 8 + 8 + 5 + 3);
    assert.equal(wire[wire.length - 1], 3);
    const parsed = RtpPacket.parse(wire);
    assert.deepEqual(parsed.dump(), original.dump());
    assert.deepEqual([...parsed.payload], [1, 2, 3, 4, 5]);
    assert.deepEqual([...parsed.serialize()], [...wire]);
  });

  test('serialises into a caller buffer at an offset and returns the written view', () => {
    const target = new Uint8Array(64).fill(0xff);
    const view = RtpPacket.parse(BASIC).serialize(target, 10);
    assert.equal(view.buffer, target.buffer);
    assert.equal(view.byteOffset, 10);
    assert.deepEqual([...view], [...BASIC]);
    assert.equal(target[9], 0xff);
    assert.equal(target[26], 0xff);
  });

  test('rejects a caller buffer that is too small', () => {
    assert.throws(() => RtpPacket.parse(BASIC).serialize(new Uint8Array(15)), RangeError);
    assert.throws(() => RtpPacket.parse(BASIC).serialize(new Uint8Array(20), 5), RangeError);
  });

  test('rejects out-of-range fields', () => {
    assert.throws(() => new RtpPacket({ payloadType: 128 }).serialize(), RangeError);
    assert.throws(() => new RtpPacket({ sequenceNumber: 65536 }).serialize(), RangeError);
    assert.throws(() => new RtpPacket({ timestamp: -1 }).serialize(), RangeError);
    assert.throws(() => new RtpPacket({ csrcs: new Array<number>(16).fill(1) }).serialize(), RangeError);
    assert.throws(() => new RtpPacket({ extensionData: bytes(1, 2, 3) }).serialize(), RangeError);
    assert.throws(() => new RtpPacket({ paddingLength: 256 }).serialize(), RangeError);
  });

  test('a sender can bump fields in place and re-serialise', () => {
    const p = new RtpPacket({ ssrc: 42, payload: new Uint8Array(160) });
    const buf = new Uint8Array(p.byteLength);
    for (let i = 0; i < 3; i++) {
      p.sequenceNumber = (p.sequenceNumber + 1) & 0xffff;
      p.timestamp = (p.timestamp + 160) >>> 0;
      p.serialize(buf);
      assert.equal(RtpPacket.parse(buf).timestamp, 160 * (i + 1));
    }
  });
});

describe('demux (RFC 5761 §4, RFC 7983)', () => {
  test('RTP payload types are RTP, with or without the marker bit', () => {
    for (const pt of [0, 8, 18, 63, 96, 101, 127]) {
      const buf = Uint8Array.from(BASIC);
      buf[1] = pt;
      assert.equal(isRtp(buf), true, `PT ${pt}`);
      assert.equal(isRtcp(buf), false, `PT ${pt}`);
      buf[1] = 0x80 | pt;
      assert.equal(isRtp(buf), true, `PT ${pt} + M`);
    }
  });

  test('RTCP packet types 192–223 are RTCP, not RTP', () => {
    for (const pt of [192, 200, 201, 202, 203, 204, 205, 206, 207, 223]) {
      const buf = bytes(0x80, pt, 0, 1, 0, 0, 0, 1);
      assert.equal(isRtcp(buf), true, `PT ${pt}`);
      assert.equal(isRtp(inLargerBuffer(bytes(0x80, pt, ...new Array<number>(10).fill(0)))), false, `PT ${pt}`);
    }
  });

  test('STUN and short or non-v2 datagrams are neither', () => {
    const stun = bytes(0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, ...new Array<number>(12).fill(0));
    assert.equal(isStun(stun), true);
    assert.equal(isRtp(stun), false);
    assert.equal(isRtcp(stun), false);
    assert.equal(isStun(BASIC), false);
    assert.equal(isRtp(BASIC.subarray(0, 11)), false);
    assert.equal(isRtcp(bytes(0x80, 200, 0, 0)), false);
  });
});
