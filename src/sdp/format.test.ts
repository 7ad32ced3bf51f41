import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatConnection, formatSdp } from './format.js';
import { parseSdp } from './parse.js';
import type { SessionDescription } from './types.js';

function minimal(): SessionDescription {
  return {
    version: 0,
    origin: { username: '-', sessionId: '1', sessionVersion: 2n ** 64n, netType: 'IN', addressType: 'IP4', address: '192.0.2.1' },
    sessionName: '-',
    emails: [],
    phones: [],
    connection: { netType: 'IN', addressType: 'IP4', address: '192.0.2.1' },
    bandwidths: [],
    timing: [{ start: '0', stop: '0', repeats: [] }],
    attributes: [],
    media: [
      {
        type: 'audio', port: 4000, protocol: 'RTP/AVP', formats: ['0'], connections: [], bandwidths: [],
        attributes: [{ name: 'rtpmap', value: '0 PCMU/8000' }, { name: 'sendrecv' }], unknownLines: [],
      },
    ],
    unknownLines: [],
  };
}

test('formatSdp writes CRLF by default and LF when asked', () => {
  const crlf = formatSdp(minimal());
  assert.equal(
    crlf,
    'v=0\r\no=- 1 18446744073709551616 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n' +
      'm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n',
  );
  assert.equal(formatSdp(minimal(), { lineEnding: 'lf' }), crlf.replaceAll('\r\n', '\n'));
  assert.deepEqual(parseSdp(crlf), minimal());
});

test('unknown lines go back after the line they followed, or at the end if it is gone', () => {
  const text = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nx=after o\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\na=one\r\ny=after one\r\na=two\r\nw=after two\r\n';
  const sdp = parseSdp(text);
  assert.equal(formatSdp(sdp), text);
  assert.deepEqual(sdp.unknownLines, [{ type: 'x', value: 'after o', after: { type: 'o', index: 0 } }]);
  assert.deepEqual(sdp.media[0]?.unknownLines, [
    { type: 'y', value: 'after one', after: { type: 'a', index: 0 } },
    { type: 'w', value: 'after two', after: { type: 'a', index: 1 } },
  ]);
  sdp.media[0]!.attributes.pop();
  assert.match(formatSdp(sdp), /a=one\r\ny=after one\r\nw=after two\r\n$/);
});

test('CR or LF inside a value is refused (no line injection)', () => {
  const sdp = minimal();
  sdp.media[0]!.attributes.push({ name: 'x', value: 'a\r\nc=IN IP4 203.0.113.66' });
  assert.throws(() => formatSdp(sdp), TypeError);
  const named = minimal();
  named.sessionName = 'evil\nm=video 1 RTP/AVP 0';
  assert.throws(() => formatSdp(named), TypeError);
});

test('formatConnection', () => {
  assert.equal(formatConnection({ netType: 'IN', addressType: 'IP4', address: '233.252.0.1', ttl: 127, numberOfAddresses: 3 }), 'IN IP4 233.252.0.1/127/3');
  assert.equal(formatConnection({ netType: 'IN', addressType: 'IP6', address: 'ff15::101', numberOfAddresses: 3 }), 'IN IP6 ff15::101/3');
  assert.throws(() => formatConnection({ netType: 'IN', addressType: 'IP4', address: '233.252.0.1', numberOfAddresses: 3 }), TypeError);
});
