/**
 * RFC 4475 and RFC 5118 torture messages through the parser (G01, G05, G06). The corpus is read
 * from ../shared/conformance beside the project, never copied; when it is absent (a user's
 * clone) the suite skips and says so. Every message's parse result is compared with its golden
 * summary in tests/fixtures/conformance/ (regenerate with UPDATE_GOLDEN=1 after review), and the
 * tricky fields each RFC case is about are asserted here by hand.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createResponseToUnparsable,
  formatMessage,
  isSipUri,
  parseMessage,
  SipParseError,
  unescapeUriComponent,
  WILDCARD_CONTACT,
  type SipMessage,
} from '../../src/sip/index.js';
import { dumpMessage as describeMessage, dumpParseError as describeError } from '../../src/sip/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = join(here, '..', '..');
const corpusRoot = join(projectRoot, '..', 'shared', 'conformance');
const goldenRoot = join(projectRoot, 'tests', 'fixtures', 'conformance');
const update = process.env.UPDATE_GOLDEN === '1';

interface ManifestEntry {
  file: string;
  validity: 'valid' | 'invalid' | 'valid-but-semantically-rejected';
  kind?: 'request' | 'response';
  group?: string;
  wire?: { file: string };
}

interface Case {
  corpus: 'rfc4475' | 'rfc5118';
  name: string;
  entry: ManifestEntry;
  bytes: Buffer;
}

function loadCases(): Case[] {
  const cases: Case[] = [];
  for (const corpus of ['rfc4475', 'rfc5118'] as const) {
    const dir = join(corpusRoot, corpus);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { messages: ManifestEntry[] };
    for (const entry of manifest.messages) {
      // RFC 5118's archive has bare LF, unterminated headers and wrong Content-Lengths; its
      // wire/ copies are the same messages made ready for the network (see the corpus README).
      const file = corpus === 'rfc5118' && entry.wire !== undefined ? entry.wire.file : entry.file;
      cases.push({ corpus, name: entry.file.replace(/\.dat$/, ''), entry, bytes: readFileSync(join(dir, file)) });
    }
  }
  return cases;
}

function outcome(bytes: Buffer): { message?: SipMessage; error?: SipParseError } {
  try {
    return { message: parseMessage(bytes) };
  } catch (error) {
    if (error instanceof SipParseError) return { error };
    throw error;
  }
}

/**
 * What each invalid message must give, from its manifest entry: the status a server answers,
 * or null for a response, which is dropped. Where the RFC allows a liberal reading and we
 * chose it, the case is listed in LIBERAL with the reason.
 */
const INVALID_STATUS: Record<string, number | null> = {
  badinv01: 400,
  clerr: 400,
  ncl: 400,
  scalar02: 400,
  scalarlg: null,
  quotbal: 400,
  ltgtruri: 400,
  lwsruri: 400,
  lwsstart: 400,
  trws: 400,
  escruri: 400,
  regbadct: 400,
  badaspec: 400,
  baddn: 400,
  badvers: 505,
  mismatch01: 400,
  // RFC 4475 §3.1.2.18 prefers 501 but allows 400; the parser cannot know a method is
  // unsupported, and the CSeq mismatch is a syntax error in its own right.
  mismatch02: 400,
  bigcode: null,
  insuf: 400,
  multi01: 400,
  mcl01: 400,
  'ipv6-bad': 400,
};

/** Invalid per the manifest, accepted here as the RFC permits. */
const LIBERAL: Record<string, string> = {
  baddate: 'RFC 4475 §3.1.2.12: a non-GMT Date may be ignored when Date does not matter to processing',
};

const available = existsSync(join(corpusRoot, 'rfc4475', 'manifest.json')) && existsSync(join(corpusRoot, 'rfc5118', 'manifest.json'));

describe('RFC 4475 / RFC 5118 torture messages', { skip: available ? false : `corpus not found at ${corpusRoot} (it ships beside the project in CI, not in a user's clone)` }, () => {
  const cases = available ? loadCases() : [];

  test('the corpus is complete: 49 + 12 messages', () => {
    assert.equal(cases.filter((c) => c.corpus === 'rfc4475').length, 49);
    assert.equal(cases.filter((c) => c.corpus === 'rfc5118').length, 12);
  });

  for (const c of cases) {
    test(`${c.corpus}/${c.name} (${c.entry.validity})`, () => {
      const result = outcome(c.bytes);
      const summary = result.message !== undefined ? describeMessage(result.message) : describeError(result.error!);
      const goldenPath = join(goldenRoot, c.corpus, `${c.name}.json`);
      if (update) {
        writeFileSync(goldenPath, JSON.stringify(summary, null, 2) + '\n');
      } else {
        assert.ok(existsSync(goldenPath), `no golden file ${goldenPath}; run with UPDATE_GOLDEN=1 and review it`);
        assert.deepEqual(summary, JSON.parse(readFileSync(goldenPath, 'utf8')));
      }

      if (c.entry.validity === 'invalid' && LIBERAL[c.name] === undefined) {
        assert.ok(c.name in INVALID_STATUS, `no expectation recorded for invalid ${c.name}`);
        assert.ok(result.error, `${c.name} must be rejected`);
        const expected = INVALID_STATUS[c.name];
        if (expected === null) {
          assert.equal(c.entry.kind ?? 'response', 'response');
          // A response that fails to parse is dropped: nothing can be answered to it.
          assert.equal(createResponseToUnparsable(c.bytes, result.error), null);
        } else {
          assert.equal(result.error.status, expected);
        }
      } else {
        // Valid and semantically rejected messages must parse (the element above decides the 4xx).
        assert.ok(result.message, `${c.name} must parse: ${result.error?.message}`);
        // Round trip: every header value comes back byte for byte, the body too (G06).
        const again = parseMessage(formatMessage(result.message));
        assert.deepEqual(
          again.headers.all().map((f) => [f.key, f.raw]),
          result.message.headers.all().map((f) => [f.key, f.raw]),
        );
        assert.deepEqual(again.body, result.message.body);
      }
    });
  }

  const byName = new Map(cases.map((c) => [c.name, c]));
  const parsed = (name: string): SipMessage => {
    const c = byName.get(name);
    assert.ok(c, `missing corpus message ${name}`);
    return parseMessage(c.bytes);
  };

  test('wsinv: folding, LWS around separators, leading zeros, unknown headers kept opaque', () => {
    const m = parsed('wsinv');
    assert.equal(m.maxForwards(), 68);
    assert.deepEqual(m.cseq(), { seq: 9, method: 'INVITE' });
    assert.equal(m.via().length, 3);
    assert.equal(m.from().displayName, 'J Rosenberg \\"');
    assert.equal(m.headers.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    assert.equal(m.headers.get('NewFangledHeader'), 'newfangled value continued newfangled value');
    const contacts = m.contacts();
    assert.ok(contacts !== WILDCARD_CONTACT && contacts[0]?.q === 0.33);
    assert.equal(m.body.length, 150);
  });

  test('intmeth: unknown method token kept as written; quoted NUL, BEL and DEL survive', () => {
    const m = parsed('intmeth');
    assert.ok(m.kind === 'request' && m.method.startsWith('!interesting-Method0123456789_*+`.%indeed'));
    const name = m.to().displayName ?? '';
    for (const octet of ['\x00', '\x07', '\x7f']) assert.ok(name.includes(octet), `display name keeps ${JSON.stringify(octet)}`);
  });

  test('esc01 / escnull / semiuri: escapes are unescaped once, %00 does not truncate', () => {
    const esc = parsed('esc01');
    const uri = esc.kind === 'request' ? esc.requestUri() : undefined;
    assert.ok(uri && isSipUri(uri) && uri.user !== null);
    assert.equal(unescapeUriComponent(uri.user), 'sips:user@example.com');
    const nul = parsed('escnull');
    const contacts = nul.contacts();
    assert.ok(contacts !== WILDCARD_CONTACT);
    assert.deepEqual(
      contacts.map((c) => (isSipUri(c.uri) ? c.uri.user : null)),
      ['%00', '%00%00'],
    );
    const semi = parsed('semiuri');
    const semiUri = semi.kind === 'request' ? semi.requestUri() : undefined;
    assert.ok(semiUri && isSipUri(semiUri));
    assert.equal(semiUri.user, 'user;par=u%40example.net');
  });

  test('esc02: RE%47IST%45R is not REGISTER and C%6Fntact is not Contact', () => {
    const m = parsed('esc02');
    assert.ok(m.kind === 'request' && m.method === 'RE%47IST%45R');
    const contacts = m.contacts();
    assert.ok(contacts !== WILDCARD_CONTACT && contacts.length === 2);
    assert.ok(m.headers.has('C%6Fntact'));
  });

  test('transports: every Via hop read, unknown transport kept', () => {
    assert.deepEqual(
      parsed('transports').via().map((v) => v.transport),
      ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP'],
    );
  });

  test('mpart01 / dblreq / inv2543: bodies framed by Content-Length or by the datagram', () => {
    const mpart = parsed('mpart01');
    assert.equal(mpart.body.length, 553);
    assert.ok(mpart.body.includes(0));
    const dbl = parsed('dblreq');
    assert.ok(dbl.kind === 'request' && dbl.method === 'REGISTER' && dbl.body.length === 0);
    const old = parsed('inv2543');
    assert.equal(old.contentLength(), undefined);
    assert.equal(old.body.length, byName.get('inv2543')!.bytes.length - byName.get('inv2543')!.bytes.indexOf('\r\n\r\n') - 4);
  });

  test('unreason / noreason: odd reason phrases are accepted as octets', () => {
    const u = parsed('unreason');
    assert.ok(u.kind === 'response' && u.status === 200);
    assert.ok(/[\x80-\xff]/.test(u.reason));
    const n = parsed('noreason');
    assert.ok(n.kind === 'response' && n.reason === '');
  });

  test('cparam01 / cparam02 / regescrt: contact-params and URI params kept apart, escaped headers stay in the URI (G19, G22)', () => {
    const c1 = parsed('cparam01').contacts();
    assert.ok(c1 !== WILDCARD_CONTACT && isSipUri(c1[0]!.uri));
    assert.ok(c1[0]!.params.some((p) => p.name === 'unknownparam'));
    assert.ok(isSipUri(c1[0]!.uri) && !c1[0]!.uri.params.some((p) => p.name === 'unknownparam'));
    const c2 = parsed('cparam02').contacts();
    assert.ok(c2 !== WILDCARD_CONTACT && isSipUri(c2[0]!.uri) && c2[0]!.uri.params.some((p) => p.name === 'unknownparam'));
    const r = parsed('regescrt');
    const rc = r.contacts();
    assert.ok(rc !== WILDCARD_CONTACT && isSipUri(rc[0]!.uri));
    assert.ok(isSipUri(rc[0]!.uri) && rc[0]!.uri.headers.some((h) => h.name.toLowerCase() === 'route'));
    assert.equal(r.headers.has('route'), false);
  });

  test('zeromf keeps Max-Forwards 0; insuf lacks headers; badvers is 505', () => {
    assert.equal(parsed('zeromf').maxForwards(), 0);
    assert.equal(outcome(byName.get('badvers')!.bytes).error?.status, 505);
    assert.equal(outcome(byName.get('insuf')!.bytes).error?.kind, 'missing-header');
  });

  test('baddn with its header section closed is still 400 for the display name', () => {
    const bytes = Buffer.concat([byName.get('baddn')!.bytes, Buffer.from('\r\n')]);
    const { error } = outcome(bytes);
    assert.equal(error?.status, 400);
    assert.ok(error?.details.header === 'from' || error?.details.header === 'to');
  });

  test('RFC 5118: IPv6 references, the ambiguous port and the 3-colon ABNF bug', () => {
    const ambiguous = parsed('port-ambiguous');
    const a = ambiguous.kind === 'request' ? ambiguous.requestUri() : undefined;
    assert.ok(a && isSipUri(a) && a.host === '[2001:db8::10:5070]' && a.port === null);
    const unambiguous = parsed('port-unambiguous');
    const u = unambiguous.kind === 'request' ? unambiguous.requestUri() : undefined;
    assert.ok(u && isSipUri(u) && u.host === '[2001:db8::10]' && u.port === 5070);
    const hops = parsed('mult-ip-in-header').via().map((v) => v.host);
    assert.ok(hops.some((h) => h.startsWith('[')) && hops.some((h) => /^\d+\.\d+\.\d+\.\d+$/.test(h)));
    assert.ok(parsed('ipv6-bug-abnf-3-colons'));
  });

  test('a 400 can be built for every rejected request with a readable start line and a Via', () => {
    for (const c of cases) {
      const { error } = outcome(c.bytes);
      if (error === undefined || c.entry.kind === 'response') continue;
      const response = createResponseToUnparsable(c.bytes, error);
      if (response === null) continue;
      const text = response.toString('latin1');
      assert.ok(text.startsWith(`SIP/2.0 ${error.status} `), `${c.name}: ${text.slice(0, 40)}`);
      // The copied headers come back octet for octet (G06).
      const reparsed = outcome(response);
      if (reparsed.message !== undefined) assert.equal(reparsed.message.kind, 'response');
    }
  });
});
