import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SdpParseError, type SdpParseErrorKind } from './errors.js';
import { formatSdp } from './format.js';
import { isRtpProtocol, parseSdp } from './parse.js';

const FIXTURES = ['baresip-offer', 'baresip-answer', 'linphone-offer', 'linphone-answer', 'capture-offer'] as const;

function fixture(name: string): string {
  return readFileSync(new URL(`../../tests/fixtures/sdp/${name}.sdp`, import.meta.url), 'latin1');
}

const crlf = (lines: readonly string[]): string => lines.map((l) => `${l}\r\n`).join('');

// RFC 8866 §5 example, plus an unknown line type and unknown attributes.
const RFC_EXAMPLE = crlf([
  'v=0',
  'o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1',
  's=Call to John Smith',
  'i=SDP Offer #1',
  'u=http://www.jdoe.example.com/home.html',
  'e=Jane Doe <jane@jdoe.example.com>',
  'p=+1 617 555-6011',
  'c=IN IP4 198.51.100.1',
  'b=CT:128',
  't=0 0',
  'x=an unknown line type',
  'a=recvonly',
  'm=audio 49170 RTP/AVP 0',
  'm=audio 49180 RTP/AVP 0',
  'm=video 51372 RTP/AVP 99',
  'c=IN IP6 2001:db8::2',
  'b=AS:512',
  'a=rtpmap:99 h263-1998/90000',
  'y=another unknown line',
  'a=x-vendor-thing:some value with  two spaces',
  'a=fingerprint:sha-256 AB:CD',
]);

describe('parseSdp / formatSdp round trip', () => {
  for (const name of FIXTURES) {
    test(`${name}.sdp (captured) round-trips byte for byte`, () => {
      const text = fixture(name);
      assert.ok(text.endsWith('\r\n'));
      assert.equal(formatSdp(parseSdp(text)), text);
    });
  }

  test('RFC 8866 example with unknown lines and attributes round-trips', () => {
    assert.equal(formatSdp(parseSdp(RFC_EXAMPLE)), RFC_EXAMPLE);
  });

  test('LF-only input is accepted and can be written back as LF', () => {
    const lf = RFC_EXAMPLE.replaceAll('\r\n', '\n');
    const sdp = parseSdp(lf);
    assert.equal(formatSdp(sdp, { lineEnding: 'lf' }), lf);
    assert.equal(formatSdp(sdp), RFC_EXAMPLE);
  });

  test('trailing whitespace on typed lines, blank lines and a missing final CRLF are tolerated', () => {
    const messy = 'v=0 \r\no=- 1 2 IN IP4 192.0.2.1  \r\ns=-\r\nc=IN IP4 192.0.2.1\t\r\nt=0 0 \r\n\r\nm=audio 4000 RTP/AVP 0 8  \r\na=sendrecv';
    const sdp = parseSdp(messy);
    assert.equal(sdp.connection?.address, '192.0.2.1');
    assert.deepEqual(sdp.media[0]?.formats, ['0', '8']);
    assert.deepEqual(sdp.media[0]?.attributes, [{ name: 'sendrecv' }]);
    assert.equal(
      formatSdp(sdp),
      crlf(['v=0', 'o=- 1 2 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0 8', 'a=sendrecv']),
    );
  });
});

describe('parseSdp typed access', () => {
  test('baresip offer', () => {
    const sdp = parseSdp(fixture('baresip-offer'));
    assert.deepEqual(sdp.origin, {
      username: '-',
      sessionId: '2008385895',
      sessionVersion: 1557104147n,
      netType: 'IN',
      addressType: 'IP4',
      address: '127.0.0.1',
    });
    assert.equal(sdp.sessionName, '-');
    assert.deepEqual(sdp.connection, { netType: 'IN', addressType: 'IP4', address: '127.0.0.1' });
    assert.deepEqual(sdp.timing, [{ start: '0', stop: '0', repeats: [] }]);
    assert.deepEqual(sdp.attributes, [{ name: 'tool', value: 'baresip 1.0.0' }]);
    assert.equal(sdp.media.length, 1);
    const audio = sdp.media[0]!;
    assert.equal(audio.type, 'audio');
    assert.equal(audio.port, 15834);
    assert.equal(audio.numberOfPorts, undefined);
    assert.equal(audio.protocol, 'RTP/AVP');
    assert.deepEqual(audio.formats, ['0', '8', '101']);
    assert.deepEqual(audio.attributes.slice(0, 4), [
      { name: 'rtpmap', value: '0 PCMU/8000' },
      { name: 'rtpmap', value: '8 PCMA/8000' },
      { name: 'rtpmap', value: '101 telephone-event/8000' },
      { name: 'fmtp', value: '101 0-15' },
    ]);
    assert.equal(audio.attributes.length, 10);
  });

  test('linphone offer: session-level attribute and rtcp-fb kept in order', () => {
    const sdp = parseSdp(fixture('linphone-offer'));
    assert.equal(sdp.origin.username, 'lpa');
    assert.equal(sdp.sessionName, 'Talk');
    assert.equal(sdp.attributes[0]?.name, 'rtcp-xr');
    assert.deepEqual(
      sdp.media[0]?.attributes.map((a) => a.name),
      ['rtpmap', 'rtcp-fb', 'rtcp-fb'],
    );
  });

  test('session version beyond 2^53 is exact', () => {
    const sdp = parseSdp(crlf(['v=0', 'o=- 18446744073709551615 18446744073709551616 IN IP6 ::1', 's=-', 't=0 0']));
    assert.equal(sdp.origin.sessionVersion, 18446744073709551616n);
    assert.equal(sdp.origin.sessionId, '18446744073709551615');
    assert.match(formatSdp(sdp), /^o=- 18446744073709551615 18446744073709551616 IN IP6 ::1\r$/m);
  });

  test('multicast connections: IPv4 TTL and count, IPv6 count', () => {
    const sdp = parseSdp(
      crlf([
        'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 233.252.0.1/127/3', 't=0 0',
        'm=audio 49170/2 RTP/AVP 0', 'c=IN IP6 ff15::101/3', 'c=IN IP4 233.252.0.9/32',
      ]),
    );
    assert.deepEqual(sdp.connection, { netType: 'IN', addressType: 'IP4', address: '233.252.0.1', ttl: 127, numberOfAddresses: 3 });
    assert.deepEqual(sdp.media[0]?.connections, [
      { netType: 'IN', addressType: 'IP6', address: 'ff15::101', numberOfAddresses: 3 },
      { netType: 'IN', addressType: 'IP4', address: '233.252.0.9', ttl: 32 },
    ]);
    assert.equal(sdp.media[0]?.numberOfPorts, 2);
  });

  test('host names, non-RTP formats, bandwidth, repeat times and protocols', () => {
    const text = crlf([
      'v=0', 'o=- 1 1 IN IP4 host.example.com', 's=-', 'c=IN IP4 media.example.com', 'b=TIAS:64000',
      't=3724394400 3724398000', 'r=604800 3600 0 90000', 'z=2882844526 -1h 2898848070 0', 'k=prompt',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'i=data', 'k=clear:x', 'a=sctp-port:5000',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111 0', 'm=text 0 RTP/AVP 98',
    ]);
    const sdp = parseSdp(text);
    assert.deepEqual(sdp.bandwidths, [{ type: 'TIAS', value: 64000 }]);
    assert.deepEqual(sdp.timing[0]?.repeats, ['604800 3600 0 90000']);
    assert.equal(sdp.timeZones, '2882844526 -1h 2898848070 0');
    assert.deepEqual(sdp.media[0]?.formats, ['webrtc-datachannel']);
    assert.equal(sdp.media[1]?.protocol, 'UDP/TLS/RTP/SAVPF');
    assert.equal(formatSdp(sdp), text);
  });

  test('isRtpProtocol', () => {
    for (const p of ['RTP/AVP', 'RTP/SAVP', 'RTP/AVPF', 'UDP/TLS/RTP/SAVPF', 'TCP/RTP/AVP', 'rtp/avp']) assert.ok(isRtpProtocol(p), p);
    for (const p of ['udp', 'UDP/DTLS/SCTP', 'TCP/MSRP', 'UDP/BFCP']) assert.ok(!isRtpProtocol(p), p);
  });
});

describe('parseSdp rejects invalid c= and m= (G39)', () => {
  const base = (extra: readonly string[], conn = 'c=IN IP4 192.0.2.1'): string =>
    crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', conn, 't=0 0', ...extra]);

  const cases: ReadonlyArray<[title: string, text: string, kind: SdpParseErrorKind, line: number]> = [
    ['IPv6 literal under IP4', base([], 'c=IN IP4 2001:db8::1'), 'connection', 4],
    ['IPv4 literal under IP6', base([], 'c=IN IP6 192.0.2.1'), 'connection', 4],
    ['IPv4 octet over 255', base([], 'c=IN IP4 999.1.1.1'), 'connection', 4],
    ['three-octet IPv4', base([], 'c=IN IP4 10.0.1'), 'connection', 4],
    ['bad IPv6', base([], 'c=IN IP6 2001:db8:::1'), 'connection', 4],
    ['unknown address type', base([], 'c=IN IP5 192.0.2.1'), 'connection', 4],
    ['unknown network type', base([], 'c=ATM NSAP 47.0005'), 'connection', 4],
    ['missing address', base([], 'c=IN IP4'), 'connection', 4],
    ['IPv4 multicast without TTL', base([], 'c=IN IP4 233.252.0.1'), 'connection', 4],
    ['TTL over 255', base([], 'c=IN IP4 233.252.0.1/256'), 'connection', 4],
    ['address count 0', base([], 'c=IN IP4 233.252.0.1/16/0'), 'connection', 4],
    ['TTL on a unicast address', base([], 'c=IN IP4 192.0.2.1/127'), 'connection', 4],
    ['TTL on IPv6 multicast', base([], 'c=IN IP6 ff15::1/127/3'), 'connection', 4],
    ['media-level bad c=', base(['m=audio 4000 RTP/AVP 0', 'c=IN IP4 1.2.3.256']), 'connection', 7],
    ['port over 65535', base(['m=audio 65536 RTP/AVP 0']), 'media', 6],
    ['negative port', base(['m=audio -1 RTP/AVP 0']), 'media', 6],
    ['non-numeric port', base(['m=audio x RTP/AVP 0']), 'media', 6],
    ['port count 0', base(['m=audio 4000/0 RTP/AVP 0']), 'media', 6],
    ['port count past 65535', base(['m=audio 65530/4 RTP/AVP 0']), 'media', 6],
    ['port count not a number', base(['m=audio 4000/x RTP/AVP 0']), 'media', 6],
    ['payload type 128', base(['m=audio 4000 RTP/AVP 0 128']), 'media', 6],
    ['payload type not a number', base(['m=audio 4000 RTP/SAVP PCMU']), 'media', 6],
    ['no formats', base(['m=audio 4000 RTP/AVP']), 'media', 6],
    ['bad protocol', base(['m=audio 4000 RTP//AVP 0']), 'media', 6],
    ['bad bandwidth', base(['b=AS:lots']), 'bandwidth', 6],
    ['not v=0', crlf(['v=1', 'o=- 1 1 IN IP4 192.0.2.1', 's=-']), 'version', 1],
    ['does not start with v=', crlf(['o=- 1 1 IN IP4 192.0.2.1', 'v=0', 's=-']), 'version', 1],
    ['missing o=', crlf(['v=0', 's=-', 't=0 0']), 'missing-line', 0],
    ['missing s=', crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 't=0 0']), 'missing-line', 0],
    ['bad sess-version', crlf(['v=0', 'o=- 1 x IN IP4 192.0.2.1', 's=-']), 'origin', 2],
    ['two session c= lines', base(['c=IN IP4 192.0.2.2']), 'duplicate-line', 6],
    ['not a line', base(['hello']), 'syntax', 6],
    ['space before =', base(['a =sendrecv']), 'syntax', 6],
    ['session line inside media', base(['m=audio 4000 RTP/AVP 0', 's=again']), 'syntax', 7],
    ['empty', '', 'missing-line', 0],
  ];
  for (const [title, text, kind, line] of cases) {
    test(title, () => {
      assert.throws(
        () => parseSdp(text),
        (err: unknown) => {
          assert.ok(err instanceof SdpParseError);
          assert.equal(err.code, 'SDP_ERR_PARSE');
          assert.equal(err.kind, kind);
          assert.equal(err.line ?? 0, line);
          assert.equal(err.status, 488);
          return true;
        },
      );
    });
  }

  test('odd attributes are kept verbatim, not rejected (RFC 8866 §5.13)', () => {
    const text = base(['m=audio 4000 RTP/AVP 0', 'a=rtpmap 0 PCMU/8000', 'a=', 'a=:x']);
    assert.equal(formatSdp(parseSdp(text)), text);
  });

  test('port 0 and 65535 and a non-RTP format list are fine', () => {
    const sdp = parseSdp(base(['m=video 0 RTP/AVP 127', 'm=audio 65535 RTP/AVP 0', 'm=message 2855 TCP/MSRP *']));
    assert.deepEqual(sdp.media.map((m) => m.port), [0, 65535, 2855]);
  });

  test('a non-string is a TypeError', () => {
    assert.throws(() => parseSdp(undefined as unknown as string), TypeError);
  });
});
