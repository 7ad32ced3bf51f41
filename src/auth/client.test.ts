import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../core/random.js';
import { authParam, parseAuthHeader } from '../sip/auth-header.js';
import type { AuthHeaderValue } from '../sip/auth-header.js';
import { DigestClient } from './client.js';
import type { DigestAnswer } from './client.js';
import { computeHa1, computeResponse } from './digest.js';
import type { DigestAlgorithm } from './digest.js';

const REALM = 'example.com';
const REQUEST = Object.freeze({ method: 'REGISTER', uri: 'sip:example.com' });

function challenge(extra: string, realm = REALM): AuthHeaderValue {
  return parseAuthHeader(`Digest realm="${realm}", ${extra}`, 'www-authenticate');
}

/** Recomputes the response from what the answer says, as a server would. */
function expectedResponse(answer: DigestAnswer, password: string, method: string, body?: string): string {
  const p = (name: string): string | undefined => authParam(answer.credentials, name);
  return computeResponse({
    algorithm: answer.algorithm,
    ha1: computeHa1(answer.algorithm, p('username') ?? '', p('realm') ?? '', password),
    nonce: p('nonce') ?? '',
    cnonce: p('cnonce'),
    nc: p('nc'),
    qop: answer.qop,
    method,
    uri: p('uri') ?? '',
    body,
  });
}

interface Ctx {
  client: DigestClient;
}

describe('DigestClient', () => {
  let ctx: Ctx;
  beforeEach(() => {
    ctx = { client: new DigestClient({ credentials: { username: 'alice', password: 'secret' }, random: new SeededRandom(7) }) };
  });

  test('answers RFC 7616 §3.9.1 style challenge with a correct response and the RFC param layout', () => {
    const c = parseAuthHeader(
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, ' +
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
    const answer = ctx.client.respond(c, { method: 'GET', uri: '/dir/index.html' });
    assert.ok(answer);
    assert.equal(answer.algorithm, 'MD5');
    assert.equal(answer.qop, 'auth');
    assert.equal(answer.nc, '00000001');
    assert.deepEqual(
      answer.credentials.params.map((p) => [p.name, p.quoted]),
      [
        ['username', true],
        ['realm', true],
        ['nonce', true],
        ['uri', true],
        ['response', true],
        ['algorithm', false],
        ['cnonce', true],
        ['opaque', true],
        ['qop', false],
        ['nc', false],
      ],
    );
    assert.equal(authParam(answer.credentials, 'opaque'), 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS');
    assert.match(authParam(answer.credentials, 'cnonce') ?? '', /^[0-9a-f]{32}$/);
    assert.equal(authParam(answer.credentials, 'response'), expectedResponse(answer, 'secret', 'GET'));
    assert.deepEqual(parseAuthHeader(answer.text), answer.credentials);
  });

  test('picks the strongest challenge (SHA-512-256 > SHA-256 > MD5)', () => {
    const offered = ['MD5', 'SHA-256', 'SHA-512-256'].map((a) => challenge(`nonce="n-${a}", algorithm=${a}, qop="auth"`));
    const answer = ctx.client.respond(offered, REQUEST);
    assert.equal(answer?.algorithm, 'SHA-512-256');
    assert.equal(answer?.nonce, 'n-SHA-512-256');
  });

  test('on a tie the first offered wins; -sess variants are usable', () => {
    const offered = [challenge('nonce="a", algorithm=SHA-256-sess, qop="auth"'), challenge('nonce="b", algorithm=SHA-256, qop="auth"')];
    const answer = ctx.client.respond(offered, REQUEST);
    assert.ok(answer);
    assert.equal(answer.algorithm, 'SHA-256-sess');
    assert.equal(authParam(answer.credentials, 'response'), expectedResponse(answer, 'secret', 'REGISTER'));
  });

  test('honours the algorithms it is limited to, and skips unknown ones', () => {
    const client = new DigestClient({
      credentials: { username: 'alice', password: 'secret' },
      random: new SeededRandom(1),
      algorithms: ['SHA-256', 'MD5'],
    });
    const offered = [
      challenge('nonce="x", algorithm=SHA-512-256, qop="auth"'),
      challenge('nonce="y", algorithm=SHA-1, qop="auth"'),
      challenge('nonce="z", algorithm=MD5, qop="auth"'),
    ];
    assert.equal(client.respond(offered, REQUEST)?.algorithm, 'MD5');
    assert.equal(client.respond([challenge('nonce="q", algorithm=SHA-1')], REQUEST), null);
  });

  test('ignores non-Digest challenges and Digest challenges without realm or nonce', () => {
    assert.equal(ctx.client.respond(parseAuthHeader('Basic realm="x"'), REQUEST), null);
    assert.equal(ctx.client.respond(parseAuthHeader('Digest realm="x"'), REQUEST), null);
    assert.equal(ctx.client.respond(parseAuthHeader('Digest nonce="x"'), REQUEST), null);
    assert.equal(ctx.client.respond([], REQUEST), null);
  });

  test('qop: auth-int when offered and the body is known, else auth', () => {
    const both = challenge('nonce="n1", algorithm=SHA-256, qop="auth,auth-int"');
    const body = 'v=0\r\n';
    const withBody = ctx.client.respond(both, { method: 'INVITE', uri: 'sip:bob@example.com', body });
    assert.ok(withBody);
    assert.equal(withBody.qop, 'auth-int');
    assert.equal(authParam(withBody.credentials, 'response'), expectedResponse(withBody, 'secret', 'INVITE', body));

    const client = new DigestClient({ credentials: { username: 'alice', password: 'secret' }, random: new SeededRandom(2) });
    assert.equal(client.respond(both, { method: 'INVITE', uri: 'sip:bob@example.com' })?.qop, 'auth');
  });

  test('qop: only auth-int and no known body, or only unknown qops → no answer (no 2069 downgrade)', () => {
    assert.equal(ctx.client.respond(challenge('nonce="n", qop="auth-int"'), REQUEST), null);
    assert.equal(ctx.client.respond(challenge('nonce="n", qop="auth-conf"'), REQUEST), null);
  });

  test('qop absent: RFC 2069 form without cnonce, nc, qop or algorithm', () => {
    const answer = ctx.client.respond(challenge('nonce="old"'), REQUEST);
    assert.ok(answer);
    assert.equal(answer.algorithm, 'MD5');
    assert.equal(answer.qop, undefined);
    assert.equal(answer.nc, undefined);
    assert.deepEqual(
      answer.credentials.params.map((p) => p.name),
      ['username', 'realm', 'nonce', 'uri', 'response'],
    );
    assert.equal(authParam(answer.credentials, 'response'), expectedResponse(answer, 'secret', 'REGISTER'));
  });

  test('nc counts per nonce and the cnonce is fresh each time', () => {
    const first = ctx.client.respond(challenge('nonce="N1", algorithm=SHA-256, qop="auth"'), REQUEST);
    const second = ctx.client.authorize({ method: 'REGISTER', uri: 'sip:example.com' });
    const third = ctx.client.authorize({ method: 'OPTIONS', uri: 'sip:example.com' }, REALM);
    assert.deepEqual([first?.nc, second?.nc, third?.nc], ['00000001', '00000002', '00000003']);
    const cnonces = new Set([first, second, third].map((a) => (a ? authParam(a.credentials, 'cnonce') : undefined)));
    assert.equal(cnonces.size, 3);
    assert.ok(third);
    assert.equal(authParam(third.credentials, 'response'), expectedResponse(third, 'secret', 'OPTIONS'));

    // A new nonce (stale) starts again at 1.
    const sent = third.credentials;
    const fresh = ctx.client.respond(challenge('nonce="N2", algorithm=SHA-256, qop="auth", stale=true'), REQUEST, sent);
    assert.equal(fresh?.nc, '00000001');
    assert.equal(ctx.client.authorize(REQUEST)?.nc, '00000002');
  });

  test('authorize() without a cached challenge, or with an unknown realm, gives null', () => {
    assert.equal(ctx.client.authorize(REQUEST), null);
    ctx.client.respond(challenge('nonce="N1", qop="auth"'), REQUEST);
    assert.equal(ctx.client.authorize(REQUEST, 'other.org'), null);
  });

  test('stale=true after our credentials: retries with the new nonce', () => {
    const first = ctx.client.respond(challenge('nonce="N1", algorithm=SHA-256, qop="auth"'), REQUEST);
    assert.ok(first);
    const retry = ctx.client.respond(challenge('nonce="N2", algorithm=SHA-256, qop="auth", stale=TRUE'), REQUEST, first.credentials);
    assert.equal(retry?.nonce, 'N2');
    assert.equal(ctx.client.hasFailed(REALM), false);
  });

  test('stale=true is not followed forever', () => {
    let sent: AuthHeaderValue | undefined = ctx.client.respond(challenge('nonce="S0", qop="auth"'), REQUEST)?.credentials;
    let answered = 0;
    for (let i = 1; i <= 10 && sent !== undefined; i++) {
      const next = ctx.client.respond(challenge(`nonce="S${i}", qop="auth", stale=true`), REQUEST, sent);
      sent = next?.credentials;
      if (next) answered++;
    }
    assert.equal(answered, 3);
  });

  test('stale=true that repeats a nonce we already used is refused', () => {
    const first = ctx.client.respond(challenge('nonce="N1", qop="auth"'), REQUEST);
    assert.ok(first);
    assert.equal(ctx.client.respond(challenge('nonce="N1", qop="auth", stale=true'), REQUEST, first.credentials), null);
  });

  test('a non-stale challenge after our credentials means a wrong password: null, and stays null', () => {
    const first = ctx.client.respond(challenge('nonce="N1", algorithm=SHA-256, qop="auth"'), REQUEST);
    assert.ok(first);
    const again = [challenge('nonce="N2", algorithm=SHA-256, qop="auth"'), challenge('nonce="N2", algorithm=MD5, qop="auth"')];
    assert.equal(ctx.client.respond(again, REQUEST, first.credentials), null);
    assert.equal(ctx.client.hasFailed(REALM), true);
    // Even a later, unrelated request is not answered for that realm, nor preemptively authorised.
    assert.equal(ctx.client.respond(challenge('nonce="N3", qop="auth"'), REQUEST), null);
    assert.equal(ctx.client.authorize(REQUEST), null);
    // Another realm is unaffected; reset() (e.g. new password) clears the failure.
    assert.ok(ctx.client.respond(challenge('nonce="M1", qop="auth"', 'other.org'), REQUEST));
    ctx.client.reset();
    assert.ok(ctx.client.respond(challenge('nonce="N4", qop="auth"'), REQUEST));
  });

  test('a non-stale challenge repeating a nonce we answered is a failure even without `sent`', () => {
    assert.ok(ctx.client.respond(challenge('nonce="N1"'), REQUEST));
    assert.equal(ctx.client.respond(challenge('nonce="N1"'), REQUEST), null);
    assert.equal(ctx.client.hasFailed(REALM), true);
  });

  test('credentials sent for another user or realm do not count as a failure here', () => {
    const foreign = parseAuthHeader('Digest username="bob", realm="example.com", nonce="x", uri="sip:a", response="00"');
    assert.ok(ctx.client.respond(challenge('nonce="N1", qop="auth"'), REQUEST, [foreign]));
  });

  test('works from stored HA1 values only (no password), per algorithm family', () => {
    const ha1: Partial<Record<DigestAlgorithm, string>> = { 'SHA-256': computeHa1('SHA-256', 'alice', REALM, 'secret') };
    const client = new DigestClient({ credentials: { username: 'alice', ha1 }, random: new SeededRandom(3) });
    const offered = [
      challenge('nonce="a", algorithm=SHA-512-256, qop="auth"'),
      challenge('nonce="b", algorithm=SHA-256-sess, qop="auth"'),
      challenge('nonce="c", algorithm=MD5, qop="auth"'),
    ];
    const answer = client.respond(offered, REQUEST);
    assert.ok(answer);
    assert.equal(answer.algorithm, 'SHA-256-sess');
    assert.equal(authParam(answer.credentials, 'response'), expectedResponse(answer, 'secret', 'REGISTER'));
    assert.equal(client.respond(challenge('nonce="d", algorithm=MD5, qop="auth"'), REQUEST), null);
  });

  test('a realm restriction keeps credentials away from other realms', () => {
    const client = new DigestClient({ credentials: { username: 'alice', password: 'pw', realm: REALM }, random: new SeededRandom(4) });
    assert.equal(client.respond(challenge('nonce="a", qop="auth"', 'evil.example'), REQUEST), null);
    assert.equal(client.respond(challenge('nonce="b", qop="auth"'), REQUEST)?.realm, REALM);
  });

  test('Unicode usernames go out as UTF-8 octets (binary string)', () => {
    const client = new DigestClient({ credentials: { username: 'Jäsøn', password: 'pässword' }, random: new SeededRandom(5) });
    const answer = client.respond(challenge('nonce="a", algorithm=SHA-256, qop="auth"'), REQUEST);
    assert.ok(answer);
    const wireName = Buffer.from('Jäsøn', 'utf8').toString('latin1');
    assert.equal(authParam(answer.credentials, 'username'), wireName);
    const ha1 = computeHa1('SHA-256', wireName, REALM, Buffer.from('pässword', 'utf8').toString('latin1'));
    const expected = computeResponse({
      algorithm: 'SHA-256',
      ha1,
      nonce: 'a',
      cnonce: authParam(answer.credentials, 'cnonce'),
      nc: '00000001',
      qop: 'auth',
      method: 'REGISTER',
      uri: 'sip:example.com',
    });
    assert.equal(authParam(answer.credentials, 'response'), expected);
  });

  test('rejects unusable credentials up front', () => {
    const random = new SeededRandom(6);
    assert.throws(() => new DigestClient({ credentials: { username: 'a' }, random }), TypeError);
    assert.throws(() => new DigestClient({ credentials: { username: 'a', ha1: { MD5: 'nothex' } }, random }), TypeError);
  });
});
