import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { codecMatches, getRtpFormats, staticPayloadType } from './codecs.js';
import { parseSdp } from './parse.js';

const fixture = (name: string) => parseSdp(readFileSync(new URL(`../../tests/fixtures/sdp/${name}.sdp`, import.meta.url), 'latin1'));

test('getRtpFormats resolves static payload types without rtpmap (linphone)', () => {
  assert.deepEqual(getRtpFormats(fixture('linphone-offer').media[0]!), [
    { payloadType: 0, name: 'PCMU', clockRate: 8000, channels: 1 },
    { payloadType: 8, name: 'PCMA', clockRate: 8000, channels: 1 },
    { payloadType: 96, name: 'telephone-event', clockRate: 8000 },
  ]);
  assert.deepEqual(getRtpFormats(fixture('baresip-offer').media[0]!)[2], {
    payloadType: 101, name: 'telephone-event', clockRate: 8000, fmtp: '0-15',
  });
});

test('codecMatches: name case-insensitive, rate and channels must agree', () => {
  const opus = { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2 };
  assert.ok(codecMatches({ name: 'OPUS', clockRate: 48000, channels: 2 }, opus));
  assert.ok(!codecMatches({ name: 'opus', clockRate: 48000 }, opus));
  assert.ok(!codecMatches({ name: 'PCMU', clockRate: 16000 }, { payloadType: 0, name: 'PCMU', clockRate: 8000 }));
  // A static number the table does not name (e.g. 19, reserved) is matched by number.
  assert.ok(codecMatches({ name: 'X', clockRate: 8000, payloadType: 19 }, { payloadType: 19 }));
  assert.ok(!codecMatches({ name: 'X', clockRate: 8000, payloadType: 97 }, { payloadType: 97 }));
});

test('staticPayloadType (RFC 3551 §6)', () => {
  assert.equal(staticPayloadType('pcmu', 8000), 0);
  assert.equal(staticPayloadType('PCMA', 8000), 8);
  assert.equal(staticPayloadType('G722', 8000), 9);
  assert.equal(staticPayloadType('L16', 44100, 2), 10);
  assert.equal(staticPayloadType('opus', 48000, 2), undefined);
});
