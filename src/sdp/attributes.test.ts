import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatRtcpAttribute,
  formatRtpMap,
  getDirection,
  getFmtps,
  getMaxPtime,
  getPtime,
  getRtcp,
  getRtpMaps,
  parseFmtp,
  parseRtcpAttribute,
  parseRtpMap,
} from './attributes.js';
import { parseSdp } from './parse.js';

const sdp = (lines: readonly string[]) => parseSdp(lines.map((l) => `${l}\r\n`).join(''));
const head = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];

test('rtpmap parse/format', () => {
  assert.deepEqual(parseRtpMap('0 PCMU/8000'), { payloadType: 0, encodingName: 'PCMU', clockRate: 8000 });
  assert.deepEqual(parseRtpMap('111 opus/48000/2'), { payloadType: 111, encodingName: 'opus', clockRate: 48000, channels: 2 });
  assert.equal(parseRtpMap('128 x/8000'), undefined);
  assert.equal(parseRtpMap('96 x'), undefined);
  assert.equal(formatRtpMap({ payloadType: 111, encodingName: 'opus', clockRate: 48000, channels: 2 }), '111 opus/48000/2');
});

test('fmtp and rtcp (RFC 3605) parse/format', () => {
  assert.deepEqual(parseFmtp('101 0-15'), { format: '101', parameters: '0-15' });
  assert.deepEqual(parseFmtp('111 minptime=10;useinbandfec=1 '), { format: '111', parameters: 'minptime=10;useinbandfec=1' });
  assert.deepEqual(parseRtcpAttribute('53020'), { port: 53020 });
  assert.deepEqual(parseRtcpAttribute('53020 IN IP4 126.16.64.4'), {
    port: 53020,
    connection: { netType: 'IN', addressType: 'IP4', address: '126.16.64.4' },
  });
  assert.equal(parseRtcpAttribute('70000'), undefined);
  assert.equal(parseRtcpAttribute('5 IN IP4 nope..'), undefined);
  assert.equal(formatRtcpAttribute({ port: 9, connection: { netType: 'IN', addressType: 'IP6', address: '::1' } }), '9 IN IP6 ::1');
});

test('section getters: rtpmaps, fmtps, ptime, maxptime, rtcp; malformed entries skipped', () => {
  const d = sdp([...head, 'a=ptime:30', 'm=audio 4000 RTP/AVP 0 96', 'a=rtpmap:96 telephone-event/8000', 'a=rtpmap:bad',
    'a=fmtp:96 0-16', 'a=maxptime:40', 'a=rtcp:4005', 'a=ptime: 20 ']);
  const m = d.media[0]!;
  assert.deepEqual([...getRtpMaps(m).keys()], [96]);
  assert.equal(getFmtps(m).get('96'), '0-16');
  assert.equal(getPtime(m, d), 20);
  assert.equal(getMaxPtime(m, d), 40);
  assert.deepEqual(getRtcp(m), { port: 4005 });
  const bare = sdp([...head, 'a=ptime:30', 'm=audio 4000 RTP/AVP 0']);
  assert.equal(getPtime(bare.media[0]!, bare), 30); // session-level fallback
  assert.equal(getPtime(bare.media[0]!), undefined);
});

test('direction: media level, else session level, else sendrecv (RFC 3264 §5.1)', () => {
  const d = sdp([...head, 'a=sendonly', 'm=audio 4000 RTP/AVP 0', 'a=inactive', 'm=audio 4002 RTP/AVP 0']);
  assert.equal(getDirection(d.media[0]!, d), 'inactive');
  assert.equal(getDirection(d.media[1]!, d), 'sendonly');
  assert.equal(getDirection(d.media[1]!), 'sendrecv');
});
