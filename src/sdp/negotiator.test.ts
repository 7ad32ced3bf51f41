import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SeededRandom } from '../core/random.js';
import { getDirection, getPtime, getRtcp } from './attributes.js';
import { getRtpFormats } from './codecs.js';
import { NegotiationError, SdpParseError, SdpStateError } from './errors.js';
import { SdpNegotiator, type LocalMediaOptions } from './negotiator.js';
import { parseSdp } from './parse.js';
import type { MediaDirection } from './types.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const text = (name: string): string =>
  readFileSync(new URL(`../../tests/fixtures/sdp/${name}.sdp`, import.meta.url), 'latin1');
// Parsed once and frozen: the negotiator must never modify a description it is given.
const fixtures = deepFreeze({
  baresipOffer: parseSdp(text('baresip-offer')),
  baresipAnswer: parseSdp(text('baresip-answer')),
  linphoneOffer: parseSdp(text('linphone-offer')),
  linphoneAnswer: parseSdp(text('linphone-answer')),
  baresipOpusOffer: parseSdp(text('baresip-opus-offer')),
  baresipOpusAnswer: parseSdp(text('baresip-opus-answer')),
});

const G711: LocalMediaOptions = {
  address: '127.0.0.1',
  port: 16000,
  codecs: [
    { name: 'PCMU', clockRate: 8000 },
    { name: 'PCMA', clockRate: 8000 },
  ],
  telephoneEvent: true,
  ptime: 20,
};

function negotiator(patch: Partial<LocalMediaOptions> = {}): SdpNegotiator {
  return new SdpNegotiator({ ...G711, ...patch }, { sessionId: '4242', initialVersion: 1n });
}

const crlf = (lines: readonly string[]): string => lines.map((l) => `${l}\r\n`).join('');

/** A remote offer: session head + the given m= section lines. */
function offer(media: readonly string[], conn = 'c=IN IP4 192.0.2.7', version = '1'): string {
  return crlf(['v=0', `o=peer 77 ${version} IN IP4 192.0.2.7`, 's=-', conn, 't=0 0', ...media]);
}

function lines(sdp: string): string[] {
  return sdp.split('\r\n').filter((l) => l !== '');
}

describe('SdpNegotiator as offerer', () => {
  test('first offer: codecs in our order, static PTs, telephone-event 101 with 0-15, ptime, sendrecv', () => {
    const n = negotiator();
    assert.equal(n.state, 'idle');
    const sdp = n.createOffer();
    assert.equal(n.state, 'local-offer');
    assert.deepEqual(lines(sdp), [
      'v=0',
      'o=- 4242 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 16000 RTP/AVP 0 8 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
      'a=sendrecv',
    ]);
    assert.ok(sdp.endsWith('\r\n'));
  });

  test('lineEnding lf, IPv6 address, RTCP port announced with a=rtcp, dynamic PT numbering', () => {
    const n = negotiator({
      address: '::1',
      rtcpPort: 16011,
      lineEnding: 'lf',
      codecs: [
        { name: 'opus', clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1' },
        { name: 'G7221', clockRate: 16000 },
        { name: 'PCMU', clockRate: 8000 },
        { name: 'speex', clockRate: 16000, payloadType: 96 },
      ],
    });
    const sdp = n.createOffer();
    assert.ok(!sdp.includes('\r'));
    const parsed = parseSdp(sdp);
    assert.equal(parsed.connection?.addressType, 'IP6');
    const m = parsed.media[0]!;
    // speex keeps its configured 96 though listed last; the others get free dynamic numbers;
    // one telephone-event per clock rate (101 first).
    assert.deepEqual(m.formats, ['97', '98', '0', '96', '101', '99', '100']);
    assert.deepEqual(
      getRtpFormats(m).map((f) => `${f.payloadType} ${f.name}/${f.clockRate}${f.fmtp === undefined ? '' : ` ${f.fmtp}`}`),
      [
        '97 opus/48000 useinbandfec=1',
        '98 G7221/16000',
        '0 PCMU/8000',
        '96 speex/16000',
        '101 telephone-event/48000 0-15',
        '99 telephone-event/16000 0-15',
        '100 telephone-event/8000 0-15',
      ],
    );
    assert.deepEqual(getRtcp(m), { port: 16011 });
  });

  test('baresip answer (captured) completes the exchange', () => {
    const n = negotiator();
    n.createOffer();
    const result = n.setRemoteAnswer(fixtures.baresipAnswer);
    assert.equal(n.state, 'stable');
    assert.deepEqual(result, {
      mediaIndex: 0,
      remoteAddress: '127.0.0.1',
      remoteAddressScope: 'unicast',
      remotePort: 15830,
      remoteRtcpPort: 15831,
      remoteRtcpAddress: '127.0.0.1',
      codec: { payloadType: 0, name: 'PCMU', clockRate: 8000, channels: 1 },
      telephoneEventPayloadType: 101,
      telephoneEventClockRate: 8000,
      receivePayloadType: 0,
      receiveTelephoneEventPayloadType: 101,
      ptime: 20,
      direction: 'sendrecv',
      remoteDirection: 'sendrecv',
    });
    assert.equal(n.result, result);
    assert.equal(n.remoteDescription, fixtures.baresipAnswer);
  });

  test('linphone answer (captured, no rtpmap for 0/8, no direction, no ptime) completes the exchange', () => {
    const n = negotiator({ ptime: 30 });
    n.createOffer();
    const result = n.setRemoteAnswer(text('linphone-answer'));
    assert.equal(result.codec.name, 'PCMU');
    assert.equal(result.codec.payloadType, 0);
    assert.equal(result.telephoneEventPayloadType, 101);
    assert.equal(result.ptime, 30); // the peer states none: our own
    assert.equal(result.direction, 'sendrecv');
    assert.equal(result.remotePort, 15920);
  });

  test('the answerer may reorder: we send with the first answered codec (RFC 3264 §7)', () => {
    const n = negotiator({ telephoneEvent: false });
    n.createOffer();
    const r = n.setRemoteAnswer(offer(['m=audio 5000 RTP/AVP 8 0', 'a=ptime:30', 'a=maxptime:25', 'a=rtcp:5009 IN IP4 192.0.2.9']));
    assert.equal(r.codec.name, 'PCMA');
    assert.equal(r.ptime, 25); // peer's ptime, capped by its maxptime
    assert.equal(r.remoteRtcpPort, 5009);
    assert.equal(r.remoteRtcpAddress, '192.0.2.9');
    assert.equal(r.telephoneEventPayloadType, undefined);
  });

  test('answers that do not fit the offer are NegotiationErrors and leave local-offer', () => {
    const bad: ReadonlyArray<[string, string]> = [
      ['audio rejected', offer(['m=audio 0 RTP/AVP 0'])],
      ['codec we did not offer', offer(['m=audio 5000 RTP/AVP 9'])],
      ['two m= lines for one', offer(['m=audio 5000 RTP/AVP 0', 'm=video 0 RTP/AVP 31'])],
      ['protocol changed', offer(['m=audio 5000 RTP/SAVP 0'])],
      ['multicast destination', offer(['m=audio 5000 RTP/AVP 0'], 'c=IN IP4 233.252.0.1/16')],
      ['no connection', crlf(['v=0', 'o=peer 77 1 IN IP4 192.0.2.7', 's=-', 't=0 0', 'm=audio 5000 RTP/AVP 0'])],
    ];
    for (const [title, answer] of bad) {
      const n = negotiator();
      n.createOffer();
      assert.throws(() => n.setRemoteAnswer(answer), (e: unknown) => e instanceof NegotiationError && e.status === 488, title);
      assert.equal(n.state, 'local-offer', title);
      n.rollback();
      assert.equal(n.state, 'idle', title);
    }
  });

  test('hold and resume: sendonly re-offer with o= version +1, then back to sendrecv', () => {
    const n = negotiator();
    n.createOffer();
    n.setRemoteAnswer(fixtures.baresipAnswer);

    n.setDirection('sendonly');
    const hold = parseSdp(n.createOffer());
    assert.equal(hold.origin.sessionVersion, 2n);
    assert.equal(hold.origin.sessionId, '4242');
    assert.equal(getDirection(hold.media[0]!, hold), 'sendonly');
    const held = n.setRemoteAnswer(offer(['m=audio 15830 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=recvonly']));
    assert.equal(held.direction, 'sendonly');
    assert.equal(held.remoteDirection, 'recvonly');

    n.setDirection('sendrecv');
    const resume = parseSdp(n.createOffer());
    assert.equal(resume.origin.sessionVersion, 3n);
    assert.equal(getDirection(resume.media[0]!, resume), 'sendrecv');
    assert.equal(n.setRemoteAnswer(fixtures.baresipAnswer).direction, 'sendrecv');
  });

  test('a re-offer with nothing changed keeps the o= version and the exact SDP (RFC 3264 §8)', () => {
    const n = negotiator();
    const first = n.createOffer();
    n.setRemoteAnswer(fixtures.baresipAnswer);
    const again = n.createOffer();
    assert.equal(again, first);
    n.setRemoteAnswer(fixtures.baresipAnswer);
    n.updateLocal({ port: 16002 });
    assert.equal(parseSdp(n.createOffer()).origin.sessionVersion, 2n);
  });

  test('rollback after a rejected re-offer returns to stable with the old result', () => {
    const n = negotiator();
    n.createOffer();
    const before = n.setRemoteAnswer(fixtures.baresipAnswer);
    const agreed = n.localDescription;
    n.setDirection('inactive');
    n.createOffer();
    n.rollback();
    assert.equal(n.state, 'stable');
    assert.equal(n.result, before);
    assert.equal(n.localDescription, agreed);
    // The version of the abandoned offer is not reused.
    n.setDirection('sendrecv');
    n.updateLocal({ ptime: 40 });
    assert.equal(parseSdp(n.createOffer()).origin.sessionVersion, 3n);
  });
});

describe('SdpNegotiator as answerer', () => {
  test('baresip offer (captured): PCMU/0 + telephone-event 101, answer mirrors it', () => {
    const n = negotiator({ port: 16010 });
    n.setRemoteOffer(fixtures.baresipOffer);
    assert.equal(n.state, 'remote-offer');
    const answer = n.createAnswer();
    assert.equal(n.state, 'stable');
    assert.deepEqual(lines(answer), [
      'v=0',
      'o=- 4242 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 16010 RTP/AVP 0 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
      'a=sendrecv',
    ]);
    assert.deepEqual(n.result, {
      mediaIndex: 0,
      remoteAddress: '127.0.0.1',
      remoteAddressScope: 'unicast',
      remotePort: 15834,
      remoteRtcpPort: 15835,
      remoteRtcpAddress: '127.0.0.1',
      codec: { payloadType: 0, name: 'PCMU', clockRate: 8000, channels: 1 },
      telephoneEventPayloadType: 101,
      telephoneEventClockRate: 8000,
      receivePayloadType: 0,
      receiveTelephoneEventPayloadType: 101,
      ptime: 20,
      direction: 'sendrecv',
      remoteDirection: 'sendrecv',
    });
  });

  test('linphone offer (captured): static PCMA without rtpmap, telephone-event kept at 96', () => {
    const n = negotiator({ codecs: [{ name: 'PCMA', clockRate: 8000 }] });
    n.setRemoteOffer(text('linphone-offer'));
    const answer = parseSdp(n.createAnswer());
    assert.deepEqual(answer.media[0]?.formats, ['8', '96']);
    assert.ok(answer.media[0]?.attributes.some((a) => a.name === 'fmtp' && a.value === '96 0-15'));
    const r = n.result!;
    assert.equal(r.codec.payloadType, 8);
    assert.equal(r.telephoneEventPayloadType, 96);
    assert.equal(r.remoteAddress, '192.0.2.2');
    assert.equal(r.remotePort, 15920);
    assert.equal(r.ptime, 20);
  });

  test('intersection follows the offerer order, whatever ours is', () => {
    const n = negotiator({ codecs: [{ name: 'PCMA', clockRate: 8000 }, { name: 'PCMU', clockRate: 8000 }] });
    n.setRemoteOffer(fixtures.baresipOffer);
    n.createAnswer();
    assert.equal(n.result?.codec.name, 'PCMU');
  });

  test('dynamic payload types match by name and rate case-insensitively and keep the offerer numbers', () => {
    const n = negotiator({ codecs: [{ name: 'OPUS', clockRate: 48000, channels: 2 }, { name: 'pcmu', clockRate: 8000 }] });
    n.setRemoteOffer(offer(['m=audio 5000 RTP/AVP 109 111 0 100', 'a=rtpmap:109 opus/16000/2', 'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 useinbandfec=1', 'a=rtpmap:100 Telephone-Event/48000']));
    const answer = parseSdp(n.createAnswer());
    assert.deepEqual(answer.media[0]?.formats, ['111', '100']);
    assert.equal(n.result?.codec.payloadType, 111);
    assert.equal(n.result?.codec.name, 'OPUS');
    assert.equal(n.result?.codec.fmtp, 'useinbandfec=1');
    assert.equal(n.result?.telephoneEventPayloadType, 100);
    // The offerer's payload type numbers and spelling (RFC 3264 §6.1).
    assert.deepEqual(
      getRtpFormats(answer.media[0]!).map((f) => `${f.payloadType} ${f.name}/${f.clockRate}/${f.channels ?? 1}`),
      ['111 opus/48000/2', '100 Telephone-Event/48000/1'],
    );
  });

  test('no common codec: NegotiationError 488, state unchanged, nothing answered', () => {
    const n = negotiator();
    assert.throws(
      () => n.setRemoteOffer(offer(['m=audio 5000 RTP/AVP 9 18', 'a=rtpmap:18 G729/8000'])),
      (e: unknown) => e instanceof NegotiationError && e.status === 488 && e.code === 'SDP_ERR_NEGOTIATION' && /codec/.test(e.message),
    );
    assert.equal(n.state, 'idle');
    assert.throws(() => n.createAnswer(), SdpStateError);
  });

  test('unparsable offer: SdpParseError 488, state unchanged (G39)', () => {
    const n = negotiator();
    assert.throws(() => n.setRemoteOffer(offer(['m=audio 70000 RTP/AVP 0'])), SdpParseError);
    assert.throws(() => n.setRemoteOffer(offer(['m=audio 5000 RTP/AVP 0'], 'c=IN IP4 ::1')), SdpParseError);
    assert.equal(n.state, 'idle');
  });

  test('video and other unsupported streams are answered with port 0 in place', () => {
    const n = negotiator();
    n.setRemoteOffer(offer([
      'm=video 5002 RTP/AVP 31', 'a=rtpmap:31 H261/90000',
      'm=audio 5000 RTP/SAVP 0', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:xxxx',
      'm=audio 5004 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000',
      'm=application 5006 UDP/BFCP *',
    ]));
    const answer = parseSdp(n.createAnswer());
    assert.deepEqual(
      answer.media.map((m) => `${m.type} ${m.port} ${m.protocol} ${m.formats.join(' ')}`),
      ['video 0 RTP/AVP 31', 'audio 0 RTP/SAVP 0', 'audio 16000 RTP/AVP 0 101', 'application 0 UDP/BFCP *'],
    );
    assert.deepEqual(answer.media[0]?.attributes, []);
    assert.equal(n.result?.mediaIndex, 2);
    assert.equal(n.result?.remotePort, 5004);

    // Our later re-offer keeps the layout, rejected slots included (RFC 3264 §8).
    const reoffer = parseSdp(n.createOffer());
    assert.deepEqual(reoffer.media.map((m) => `${m.type} ${m.port}`), ['video 0', 'audio 0', 'audio 16000', 'application 0']);
    assert.equal(reoffer.origin.sessionVersion, 2n); // our offer lists more codecs than our answer did
  });

  test('only SRTP / only video: 488', () => {
    for (const media of [['m=audio 5000 RTP/SAVP 0'], ['m=video 5000 RTP/AVP 31'], ['m=audio 0 RTP/AVP 0']]) {
      const n = negotiator();
      assert.throws(() => n.setRemoteOffer(offer(media)), NegotiationError, media.join());
    }
  });

  const directions: ReadonlyArray<[offered: string, ours: MediaDirection, answer: MediaDirection, conn?: string]> = [
    ['a=sendrecv', 'sendrecv', 'sendrecv'],
    ['', 'sendrecv', 'sendrecv'], // no attribute = sendrecv (RFC 3264 §5.1)
    ['a=sendonly', 'sendrecv', 'recvonly'],
    ['a=recvonly', 'sendrecv', 'sendonly'],
    ['a=inactive', 'sendrecv', 'inactive'],
    ['a=sendrecv', 'sendonly', 'sendonly'],
    ['a=sendrecv', 'recvonly', 'recvonly'],
    ['a=sendonly', 'sendonly', 'inactive'],
    ['a=recvonly', 'recvonly', 'inactive'],
    ['a=sendrecv', 'inactive', 'inactive'],
    // RFC 3264 §8.4 old-style hold: c=0.0.0.0 means the peer receives nothing.
    ['a=sendrecv', 'sendrecv', 'recvonly', 'c=IN IP4 0.0.0.0'],
    ['', 'sendrecv', 'recvonly', 'c=IN IP4 0.0.0.0'],
    ['a=recvonly', 'sendrecv', 'inactive', 'c=IN IP4 0.0.0.0'],
  ];
  for (const [offered, ours, expected, conn] of directions) {
    test(`offer ${offered || '(none)'}${conn === undefined ? '' : ` ${conn}`}, we want ${ours} → answer ${expected} (RFC 3264 §6.1)`, () => {
      const n = negotiator({ direction: ours });
      n.setRemoteOffer(offer(['m=audio 5000 RTP/AVP 0', ...(offered === '' ? [] : [offered])], conn));
      const answer = parseSdp(n.createAnswer());
      assert.equal(getDirection(answer.media[0]!, answer), expected);
      assert.equal(n.result?.direction, expected);
      if (conn !== undefined) {
        assert.equal(n.result?.remoteAddress, '0.0.0.0');
        assert.equal(n.result?.remoteAddressScope, 'unspecified');
      }
    });
  }

  test('a remote hold re-offer (sendonly) is answered recvonly and resumed with sendrecv', () => {
    const n = negotiator();
    n.setRemoteOffer(fixtures.baresipOffer);
    n.createAnswer();
    n.setRemoteOffer(offer(['m=audio 5000 RTP/AVP 0', 'a=sendonly'], undefined, '2'));
    assert.equal(getDirection(parseSdp(n.createAnswer()).media[0]!), 'recvonly');
    assert.equal(n.result?.direction, 'recvonly');
    n.setRemoteOffer(offer(['m=audio 5000 RTP/AVP 0'], undefined, '3'));
    const resumed = parseSdp(n.createAnswer());
    assert.equal(getDirection(resumed.media[0]!), 'sendrecv');
    assert.equal(resumed.origin.sessionVersion, 3n);
  });

  test('multicast and broadcast destinations are refused unless allowMulticast (G39)', () => {
    for (const conn of ['c=IN IP4 233.252.0.1/16', 'c=IN IP4 255.255.255.255', 'c=IN IP6 ff0e::1']) {
      assert.throws(() => negotiator().setRemoteOffer(offer(['m=audio 5000 RTP/AVP 0'], conn)), NegotiationError, conn);
    }
    const n = negotiator({ allowMulticast: true });
    n.setRemoteOffer(offer(['m=audio 5000 RTP/AVP 0'], 'c=IN IP4 233.252.0.1/16'));
    n.createAnswer();
    assert.equal(n.result?.remoteAddressScope, 'multicast');
  });

  test('media-level c= wins over session-level; a=rtcp and ptime are honoured', () => {
    const n = negotiator();
    n.setRemoteOffer(offer(['m=audio 5000 RTP/AVP 0', 'c=IN IP4 198.51.100.4', 'a=rtcp:6001', 'a=ptime:30']));
    const answer = parseSdp(n.createAnswer());
    assert.equal(getPtime(answer.media[0]!), 20); // we still ask for our own ptime
    assert.equal(n.result?.remoteAddress, '198.51.100.4');
    assert.equal(n.result?.remoteRtcpPort, 6001);
    assert.equal(n.result?.ptime, 30);
  });

  test('the port can be set after the offer was accepted (nothing allocated before)', () => {
    const n = negotiator();
    n.setRemoteOffer(fixtures.baresipOffer);
    n.updateLocal({ port: 17000 });
    assert.equal(parseSdp(n.createAnswer()).media[0]?.port, 17000);
  });

  test('our re-offer after answering keeps the payload types agreed (RFC 3264 §8.3.2)', () => {
    const n = negotiator({ codecs: [{ name: 'opus', clockRate: 48000, channels: 2 }] });
    n.setRemoteOffer(offer(['m=audio 5000 RTP/AVP 111 101', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:101 telephone-event/48000']));
    n.createAnswer();
    const reoffer = parseSdp(n.createOffer());
    // The agreed numbers first and unchanged; telephone-event/8000 offered as well (a free number).
    assert.deepEqual(reoffer.media[0]?.formats, ['111', '101', '96']);
  });

  test('baresip offer round-trips through an answer from a second negotiator', () => {
    const a = negotiator();
    const b = new SdpNegotiator({ ...G711, port: 18000, codecs: [{ name: 'PCMA', clockRate: 8000 }] }, { random: new SeededRandom(7) });
    b.setRemoteOffer(a.createOffer());
    const r = a.setRemoteAnswer(b.createAnswer());
    assert.equal(r.codec.name, 'PCMA');
    assert.equal(r.remotePort, 18000);
    assert.equal(b.result?.remotePort, 16000);
    assert.equal(b.result?.codec.payloadType, 8);
    assert.equal(a.state, 'stable');
    assert.equal(b.state, 'stable');
  });
});

describe('SdpNegotiator state machine (RFC 3264 §4)', () => {
  const wrong: ReadonlyArray<[string, (n: SdpNegotiator) => void]> = [
    ['createAnswer in idle', (n) => n.createAnswer()],
    ['setRemoteAnswer in idle', (n) => n.setRemoteAnswer(fixtures.baresipAnswer)],
    ['rollback in idle', (n) => n.rollback()],
    ['createOffer in local-offer', (n) => { n.createOffer(); n.createOffer(); }],
    ['setRemoteOffer in local-offer (glare)', (n) => { n.createOffer(); n.setRemoteOffer(fixtures.baresipOffer); }],
    ['createOffer in remote-offer', (n) => { n.setRemoteOffer(fixtures.baresipOffer); n.createOffer(); }],
    ['setRemoteAnswer in remote-offer', (n) => { n.setRemoteOffer(fixtures.baresipOffer); n.setRemoteAnswer(fixtures.baresipAnswer); }],
  ];
  for (const [title, run] of wrong) {
    test(`${title} throws SdpStateError`, () => {
      assert.throws(() => run(negotiator()), (e: unknown) => e instanceof SdpStateError && e.code === 'SDP_ERR_STATE');
    });
  }

  test('rollback of a remote offer', () => {
    const n = negotiator();
    n.setRemoteOffer(fixtures.linphoneOffer);
    n.rollback();
    assert.equal(n.state, 'idle');
    assert.equal(n.result, undefined);
  });

  test('bad local options are TypeError/RangeError', () => {
    assert.throws(() => negotiator({ codecs: [] }), TypeError);
    assert.throws(() => negotiator({ port: 70000 }), RangeError);
    assert.throws(() => negotiator({ address: 'not an address' }), TypeError);
    assert.throws(() => negotiator({ codecs: [{ name: 'telephone-event', clockRate: 8000 }] }), TypeError);
    assert.throws(() => negotiator({ codecs: [{ name: 'PCMU', clockRate: 8000, payloadType: 128 }] }), RangeError);
    assert.throws(() => negotiator().setDirection('hold' as MediaDirection), TypeError);
  });

  test('a random session id is digits and the first version equals it', () => {
    const n = new SdpNegotiator(G711, { random: new SeededRandom(1) });
    const o = parseSdp(n.createOffer()).origin;
    assert.match(o.sessionId, /^\d+$/);
    assert.equal(o.sessionVersion, BigInt(o.sessionId));
  });
});

describe('SdpNegotiator with Opus (RFC 7587)', () => {
  // What voxlite's caller configures for `--codecs opus` (src/ua/call-media.ts).
  const OPUS = { name: 'opus', clockRate: 48000, channels: 2, fmtp: 'stereo=0;sprop-stereo=0;useinbandfec=0' };

  test('offer: opus at the first dynamic payload type, opus/48000/2 with its fmtp, telephone-event at 48000 and at 8000', () => {
    const sdp = negotiator({ codecs: [OPUS] }).createOffer();
    assert.deepEqual(lines(sdp).slice(5), [
      'm=audio 16000 RTP/AVP 96 101 97',
      'a=rtpmap:96 opus/48000/2', // §7: clock rate 48000 and 2 channels, always
      'a=fmtp:96 stereo=0;sprop-stereo=0;useinbandfec=0',
      'a=rtpmap:101 telephone-event/48000', // at the codec's clock rate (RFC 4733)
      'a=fmtp:101 0-15',
      'a=rtpmap:97 telephone-event/8000', // the default rate, for peers that know no other
      'a=fmtp:97 0-15',
      'a=ptime:20',
      'a=sendrecv',
    ]);
    // Exactly what the captured exchange with baresip sent (the m= port aside).
    assert.deepEqual(lines(sdp).slice(5), lines(text('capture-opus-offer')).slice(5).map((l) => l.replace('15903', '16000')));
  });

  test('offer of opus then PCMU: PCMU keeps 0, one telephone-event per clock rate', () => {
    const m = parseSdp(negotiator({ codecs: [OPUS, { name: 'PCMU', clockRate: 8000 }] }).createOffer()).media[0]!;
    assert.deepEqual(
      getRtpFormats(m).map((f) => `${f.payloadType} ${f.name}/${f.clockRate}/${f.channels ?? 1}`),
      ['96 opus/48000/2', '0 PCMU/8000/1', '101 telephone-event/48000/1', '97 telephone-event/8000/1'],
    );
  });

  test('not configured, opus stays out: G.711 offers have no opus, and a baresip opus offer is answered with PCMU', () => {
    assert.doesNotMatch(negotiator().createOffer(), /opus/i);
    const n = negotiator();
    n.setRemoteOffer(fixtures.baresipOpusOffer);
    const answer = n.createAnswer();
    assert.doesNotMatch(answer, /opus/i);
    assert.deepEqual(parseSdp(answer).media[0]?.formats, ['0', '101']);
    assert.equal(n.result?.codec.name, 'PCMU');
  });

  test('baresip answer (captured) to our opus offer: opus at 96, telephone-event only at 8000', () => {
    const n = negotiator({ codecs: [OPUS] });
    n.createOffer();
    const result = n.setRemoteAnswer(fixtures.baresipOpusAnswer);
    assert.deepEqual(result.codec, { payloadType: 96, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'stereo=0;sprop-stereo=0' });
    assert.equal(result.receivePayloadType, 96);
    // The answer took our telephone-event/8000 (97): its durations count at 8 kHz.
    assert.equal(result.telephoneEventPayloadType, 97);
    assert.equal(result.receiveTelephoneEventPayloadType, 97);
    assert.equal(result.telephoneEventClockRate, 8000);
    assert.equal(result.ptime, 20);
  });

  test('an answer may renumber opus: matched by name and rate, sent with its number, received on ours', () => {
    const n = negotiator({ codecs: [OPUS, { name: 'PCMU', clockRate: 8000 }] });
    n.createOffer();
    const result = n.setRemoteAnswer(
      offer(['m=audio 5000 RTP/AVP 120 110', 'a=rtpmap:120 OPUS/48000/2', 'a=fmtp:120 maxaveragebitrate=20000', 'a=rtpmap:110 telephone-event/48000']),
    );
    assert.equal(result.codec.name, 'opus');
    assert.equal(result.codec.payloadType, 120);
    assert.equal(result.codec.fmtp, 'maxaveragebitrate=20000');
    assert.equal(result.receivePayloadType, 96);
    assert.equal(result.telephoneEventPayloadType, 110);
    assert.equal(result.receiveTelephoneEventPayloadType, 101);
    assert.equal(result.telephoneEventClockRate, 48000);
  });

  test('baresip opus offer (captured): answered with opus at its 96, our fmtp, and its telephone-event/8000', () => {
    const n = negotiator({ codecs: [OPUS, { name: 'PCMU', clockRate: 8000 }] });
    n.setRemoteOffer(fixtures.baresipOpusOffer);
    const answer = lines(n.createAnswer());
    assert.deepEqual(answer.slice(5), [
      'm=audio 16000 RTP/AVP 96 101',
      'a=rtpmap:96 opus/48000/2',
      'a=fmtp:96 stereo=0;sprop-stereo=0;useinbandfec=0', // our receiver's parameters (§7.1: declarative)
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
      'a=sendrecv',
    ]);
    const r = n.result!;
    assert.deepEqual(r.codec, { payloadType: 96, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'stereo=0;sprop-stereo=0' });
    assert.equal(r.telephoneEventPayloadType, 101);
    assert.equal(r.telephoneEventClockRate, 8000);
  });

  test('answering opus, telephone-event at the opus rate is preferred over 8000 wherever it is listed', () => {
    const n = negotiator({ codecs: [OPUS] });
    n.setRemoteOffer(
      offer(['m=audio 5000 RTP/AVP 111 126 110', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:126 telephone-event/8000', 'a=rtpmap:110 telephone-event/48000']),
    );
    assert.deepEqual(parseSdp(n.createAnswer()).media[0]?.formats, ['111', '110']);
    assert.equal(n.result?.telephoneEventClockRate, 48000);
  });
});
