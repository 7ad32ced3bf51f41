/**
 * The parser benchmark's corpus: one registration and one call as a softphone (Alice, behind
 * NAT, on 192.0.2.10) and a proxy (sip.example.com, which record-routes) exchange them, plus
 * an instant message and a keep-alive OPTIONS. Shared by `bench/parser.bench.ts` and
 * `tests/bench-smoke.test.ts`.
 *
 * @remarks
 * Each message is written as its header lines; {@link sipMessage} joins them with CRLF and
 * appends the `Content-Length` of the body, so the lengths can never drift from the bodies.
 * Every message must stay acceptable to every parser in the benchmark (voxlite, sip, jssip,
 * sip.js): the benchmark checks that before timing, and the smoke test checks that voxlite
 * writes each one back octet for octet.
 */

/** One corpus message. */
export interface CorpusMessage {
  /** Short label for reports, e.g. `INVITE+SDP`. */
  readonly name: string;
  /** The whole message as sent on the wire (ASCII, CRLF line ends). */
  readonly text: string;
}

const CRLF = '\r\n';

/** Joins header lines with CRLF, appends Content-Length for `body`, the empty line and the body. */
function sipMessage(name: string, lines: readonly string[], body = ''): CorpusMessage {
  const head = [...lines, `Content-Length: ${Buffer.byteLength(body, 'latin1')}`].join(CRLF);
  return Object.freeze({ name, text: head + CRLF + CRLF + body });
}

/** SDP lines joined with CRLF, with the trailing CRLF RFC 4566 §5 requires. */
function sdp(lines: readonly string[]): string {
  return lines.join(CRLF) + CRLF;
}

const OFFER = sdp([
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 192.0.2.10',
  's=Talk',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 7078 RTP/AVP 96 0 8 101',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1; minptime=10',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=rtcp:7079',
  'a=rtcp-mux',
  'a=ptime:20',
  'a=sendrecv',
]);

const ANSWER = sdp([
  'v=0',
  'o=bob 3029847721 3029847722 IN IP4 198.51.100.20',
  's=-',
  'c=IN IP4 198.51.100.20',
  't=0 0',
  'm=audio 40376 RTP/AVP 96 101',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1; minptime=10',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=rtcp:40377 IN IP4 198.51.100.20',
  'a=ptime:20',
  'a=maxptime:60',
  'a=sendrecv',
]);

const UA_ALICE = 'User-Agent: Linphone-Desktop/5.2.6 (alice-laptop) ubuntu/22.04 Qt/5.15.2 LinphoneSDK/5.3.72';
const UA_BOB = 'User-Agent: Zoiper rv2.10.20.6';
const ALLOW = 'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, PRACK, UPDATE';
const CALL_ID = 'Call-ID: 7sYq0bT2xW4nKpL9cRz3mA8eVdF1gH6j';
const ALICE_CONTACT =
  'Contact: <sip:alice@192.0.2.10:5060;transport=udp>;+sip.instance="<urn:uuid:1f3e9a62-4c1d-4d7b-9a0e-5b2c7d8e9f10>"';
const BOB_CONTACT = 'Contact: <sip:bob@198.51.100.20:52814;transport=UDP;ob>';
const FROM_ALICE = 'From: "Alice Liddell" <sip:alice@example.com>;tag=9fxced76sl';
const TO_BOB_NO_TAG = 'To: "Bob Baker" <sip:bob@example.com>';
const TO_BOB = 'To: "Bob Baker" <sip:bob@example.com>;tag=8321234356';
const RR = 'Record-Route: <sip:203.0.113.5;lr;ftag=9fxced76sl;did=4a1.b2c3>';
const NONCE = 'Y3Q9c2xrZGpmMjM0OTg3c2RrZmpoMjM0OTg3MjM0OWZzZGtqaDIz';

/** The corpus, in call-flow order. */
export const CORPUS: readonly CorpusMessage[] = Object.freeze([
  sipMessage('REGISTER', [
    'REGISTER sip:example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.Xq3vT0pLm;rport',
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=Hs8b2Lq0a',
    'To: <sip:alice@example.com>',
    'Call-ID: 4bJx9QwErT2yUiOp5aSdFgHk',
    'CSeq: 20 REGISTER',
    `${ALICE_CONTACT};expires=3600`,
    'Expires: 3600',
    ALLOW,
    'Supported: replaces, outbound, gruu, path',
    UA_ALICE,
  ]),
  sipMessage('401', [
    'SIP/2.0 401 Unauthorized',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.Xq3vT0pLm;rport=61842;received=203.0.113.77',
    'From: <sip:alice@example.com>;tag=Hs8b2Lq0a',
    'To: <sip:alice@example.com>;tag=a6c85cf.2b8e1f0c',
    'Call-ID: 4bJx9QwErT2yUiOp5aSdFgHk',
    'CSeq: 20 REGISTER',
    `WWW-Authenticate: Digest realm="example.com", nonce="${NONCE}", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5, qop="auth"`,
    'Server: kamailio (5.7.4 (x86_64/linux))',
  ]),
  sipMessage('REGISTER+auth', [
    'REGISTER sip:example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.Pz7nR1cWk;rport',
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=Hs8b2Lq0a',
    'To: <sip:alice@example.com>',
    'Call-ID: 4bJx9QwErT2yUiOp5aSdFgHk',
    'CSeq: 21 REGISTER',
    `${ALICE_CONTACT};expires=3600`,
    'Expires: 3600',
    ALLOW,
    'Supported: replaces, outbound, gruu, path',
    UA_ALICE,
    `Authorization: Digest username="alice", realm="example.com", nonce="${NONCE}", uri="sip:example.com", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001`,
  ]),
  sipMessage(
    'INVITE+SDP',
    [
      'INVITE sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.e5Lk2Hq9v;rport',
      'Max-Forwards: 70',
      FROM_ALICE,
      TO_BOB_NO_TAG,
      CALL_ID,
      'CSeq: 314159 INVITE',
      ALICE_CONTACT,
      ALLOW,
      'Supported: replaces, outbound, gruu, timer',
      'Session-Expires: 1800',
      UA_ALICE,
      'Content-Type: application/sdp',
    ],
    OFFER,
  ),
  sipMessage('180', [
    'SIP/2.0 180 Ringing',
    'Via: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK2d4f.8e1b6c2a.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;received=203.0.113.77;branch=z9hG4bK.e5Lk2Hq9v;rport=61842',
    RR,
    FROM_ALICE,
    TO_BOB,
    CALL_ID,
    'CSeq: 314159 INVITE',
    BOB_CONTACT,
    UA_BOB,
  ]),
  sipMessage(
    '200+SDP',
    [
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK2d4f.8e1b6c2a.0',
      'Via: SIP/2.0/UDP 192.0.2.10:5060;received=203.0.113.77;branch=z9hG4bK.e5Lk2Hq9v;rport=61842',
      RR,
      FROM_ALICE,
      TO_BOB,
      CALL_ID,
      'CSeq: 314159 INVITE',
      BOB_CONTACT,
      ALLOW,
      'Supported: replaces, timer',
      'Require: timer',
      'Session-Expires: 1800;refresher=uac',
      UA_BOB,
      'Content-Type: application/sdp',
    ],
    ANSWER,
  ),
  sipMessage('ACK', [
    'ACK sip:bob@198.51.100.20:52814;transport=UDP;ob SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.u2Wc8Yp4d;rport',
    'Route: <sip:203.0.113.5;lr;ftag=9fxced76sl;did=4a1.b2c3>',
    'Max-Forwards: 70',
    FROM_ALICE,
    TO_BOB,
    CALL_ID,
    'CSeq: 314159 ACK',
    ALICE_CONTACT,
    UA_ALICE,
  ]),
  sipMessage('BYE', [
    'BYE sip:bob@198.51.100.20:52814;transport=UDP;ob SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.n7Fs1Ga3z;rport',
    'Route: <sip:203.0.113.5;lr;ftag=9fxced76sl;did=4a1.b2c3>',
    'Max-Forwards: 70',
    FROM_ALICE,
    TO_BOB,
    CALL_ID,
    'CSeq: 314160 BYE',
    UA_ALICE,
    'Reason: Q.850;cause=16;text="Normal call clearing"',
  ]),
  sipMessage(
    'MESSAGE',
    [
      'MESSAGE sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.c8Dj3Kq5r;rport',
      'Max-Forwards: 70',
      'From: "Alice Liddell" <sip:alice@example.com>;tag=Pq4sN7wB2',
      'To: "Bob Baker" <sip:bob@example.com>',
      'Call-ID: Lm2Nb8Vc4Xz6As0Df9Gh3Jk',
      'CSeq: 1 MESSAGE',
      'Date: Tue, 14 May 2024 09:26:53 GMT',
      UA_ALICE,
      'Content-Type: text/plain;charset=UTF-8',
    ],
    'Running 5 minutes late, start without me. Dial-in is on the calendar invite.',
  ),
  sipMessage('OPTIONS', [
    'OPTIONS sip:alice@192.0.2.10:5060;transport=udp SIP/2.0',
    'Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK5b1e.0c7d9a3f.0',
    'Max-Forwards: 70',
    'From: <sip:ping@sip.example.com>;tag=uloc-6643f1a2-1f7e-1-0-b2a4',
    'To: <sip:alice@192.0.2.10:5060;transport=udp>',
    'Call-ID: 3d1b1f0e-4c2a7b9e-6f1c@203.0.113.5',
    'CSeq: 10 OPTIONS',
    'Accept: application/sdp',
    'Server: kamailio (5.7.4 (x86_64/linux))',
  ]),
]);

/** The corpus as wire octets, in the same order as {@link CORPUS}. */
export function corpusBytes(): Buffer[] {
  return CORPUS.map((m) => Buffer.from(m.text, 'latin1'));
}
