import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DATAGRAM_DROP_REASONS, demuxDatagram, looksLikeRtcp } from './demux.js';
import { RtpPacket } from './packet.js';
import { serializeRtcp } from './rtcp.js';

const rtp = (): Uint8Array =>
  new RtpPacket({ payloadType: 0, sequenceNumber: 7, timestamp: 160, ssrc: 0x1234, payload: new Uint8Array(160) }).serialize();
const rr = (): Uint8Array => serializeRtcp([{ type: 'rr', ssrc: 1, reports: [] }]);

describe('demuxDatagram (RFC 3550 A.1/A.2, RFC 5761 §4)', () => {
  test('RTP and RTCP are told apart and parsed', () => {
    const packet = demuxDatagram(rtp());
    assert.ok(packet instanceof RtpPacket);
    assert.equal(packet.sequenceNumber, 7);
    const compound = demuxDatagram(rr());
    assert.ok(Array.isArray(compound));
    assert.equal(compound[0]?.type, 'rr');
    assert.equal(looksLikeRtcp(rr()), true);
    assert.equal(looksLikeRtcp(rtp()), false);
  });

  test('refills the caller packet', () => {
    const into = new RtpPacket();
    assert.equal(demuxDatagram(rtp(), into), into);
  });

  test('hostile datagrams get a reason, never a throw', () => {
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(0), 'too-short'],
      [Uint8Array.of(0x80), 'too-short'],
      [Buffer.from('hello, garbage'), 'version'],
      [Uint8Array.of(0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1), 'version'],
      [Uint8Array.of(0x80, 0, 0, 1, 0, 0), 'rtp.too-short'],
      [Uint8Array.of(0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0), 'rtp.csrc-count'],
      [Uint8Array.of(0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xff, 0xff), 'rtp.extension-length'],
      [Uint8Array.of(0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 0), 'rtp.padding'],
      [Uint8Array.of(0x80, 201, 0, 9, 0, 0, 0, 1), 'rtcp.length'],
      [Uint8Array.of(0x80, 202, 0, 1, 0, 0, 0, 1), 'rtcp.first-not-report'],
      [Uint8Array.of(0x80, 201, 0, 1, 0, 0, 0), 'rtcp.too-short'],
    ];
    for (const [datagram, reason] of cases) {
      assert.equal(demuxDatagram(datagram), reason, Buffer.from(datagram).toString('hex'));
      assert.ok(DATAGRAM_DROP_REASONS.includes(demuxDatagram(datagram) as never));
    }
  });

  test('STUN on a media port and oversize datagrams', () => {
    const stun = new Uint8Array(20);
    stun.set([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]);
    assert.equal(demuxDatagram(stun), 'stun');
    assert.equal(demuxDatagram(rtp(), undefined, 100), 'oversize');
  });

  test('random bytes never throw (G40)', () => {
    let seed = 99;
    for (let i = 0; i < 2000; i++) {
      const length = i % 64;
      const bytes = new Uint8Array(length);
      for (let j = 0; j < length; j++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        bytes[j] = seed >>> 24;
      }
      if (length > 0) bytes[0] = 0x80 | (bytes[0]! & 0x3f);
      demuxDatagram(bytes);
    }
  });
});
