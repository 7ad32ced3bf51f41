import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/clock.js';
import { SeededRandom } from '../core/random.js';
import { authParam, formatAuthHeader, parseAuthHeader } from '../sip/auth-header.js';
import type { AuthHeaderValue, AuthParam } from '../sip/auth-header.js';
import { DigestClient } from './client.js';
import { DIGEST_ALGORITHMS, baseAlgorithm, computeHa1 } from './digest.js';
import type { DigestAlgorithm, DigestQop } from './digest.js';
import { DigestServer } from './server.js';
import type { DigestServerOptions } from './server.js';

const REALM = 'example.com';
const URI = 'sip:example.com';
const SECRET = new Uint8Array(32).fill(7);

/** HA1 store keyed by user and base algorithm: what a deployment keeps instead of passwords (G30). */
function ha1Store(users: Record<string, string>): {
  lookup: DigestServerOptions['lookupHa1'];
  calls: [string, string, DigestAlgorithm][];
} {
  const table = new Map<string, string>();
  for (const [user, password] of Object.entries(users)) {
    for (const alg of DIGEST_ALGORITHMS) table.set(`${user}|${alg}`, computeHa1(alg, user, REALM, password));
  }
  const calls: [string, string, DigestAlgorithm][] = [];
  return {
    calls,
    lookup: async (username, realm, algorithm) => {
      calls.push([username, realm, algorithm]);
      return realm === REALM ? table.get(`${username}|${algorithm}`) : undefined;
    },
  };
}

interface Ctx {
  clock: FakeClock;
  store: ReturnType<typeof ha1Store>;
  server: DigestServer;
  make: (overrides?: Partial<DigestServerOptions>) => DigestServer;
  client: (username?: string, password?: string) => DigestClient;
}

function withParams(value: AuthHeaderValue, changes: Record<string, string | null>): AuthHeaderValue {
  const params: AuthParam[] = [];
  for (const p of value.params) {
    const change = changes[p.name];
    if (change === null) continue;
    params.push(change === undefined ? p : { ...p, value: change });
  }
  for (const [name, v] of Object.entries(changes)) {
    if (v !== null && !value.params.some((p) => p.name === name)) params.push({ name, value: v, quoted: true });
  }
  return { scheme: value.scheme, params };
}

describe('DigestServer', () => {
  let ctx: Ctx;
  beforeEach(() => {
    const clock = new FakeClock(1_000_000);
    const store = ha1Store({ alice: 'secret', bob: 'hunter2' });
    const make = (overrides: Partial<DigestServerOptions> = {}): DigestServer =>
      new DigestServer({
        realm: REALM,
        secret: SECRET,
        clock,
        random: new SeededRandom(11),
        lookupHa1: store.lookup,
        ...overrides,
      });
    let seed = 100;
    ctx = {
      clock,
      store,
      make,
      server: make(),
      client: (username = 'alice', password = 'secret') =>
        new DigestClient({ credentials: { username, password }, random: new SeededRandom(seed++) }),
    };
  });

  /** One 401 round: challenge, answer, verify. */
  async function login(
    server: DigestServer,
    client: DigestClient,
    request: { method: string; uri: string; body?: string } = { method: 'REGISTER', uri: URI },
  ): Promise<{ answer: AuthHeaderValue; result: Awaited<ReturnType<DigestServer['verify']>> }> {
    const answer = client.respond(server.challenge(), request);
    assert.ok(answer, 'client should answer');
    const result = await server.verify({ method: request.method, requestUri: request.uri, credentials: answer.credentials, body: request.body });
    return { answer: answer.credentials, result };
  }

  describe('challenges', () => {
    test('one per algorithm in preference order, identical except for the algorithm (G24, G28)', () => {
      const server = ctx.make({ algorithms: ['SHA-512-256', 'SHA-256', 'MD5'], qop: ['auth', 'auth-int'] });
      const challenges = server.challenge();
      assert.deepEqual(
        challenges.map((c) => authParam(c, 'algorithm')),
        ['SHA-512-256', 'SHA-256', 'MD5'],
      );
      for (const c of challenges) {
        assert.equal(c.scheme, 'Digest');
        assert.deepEqual(
          c.params.map((p) => p.name),
          ['realm', 'nonce', 'algorithm', 'qop'],
        );
        assert.equal(authParam(c, 'realm'), REALM);
        assert.equal(authParam(c, 'qop'), 'auth,auth-int');
        assert.match(authParam(c, 'nonce') ?? '', /^[A-Za-z0-9_-]{70}$/);
        assert.deepEqual(parseAuthHeader(formatAuthHeader(c)), c);
      }
      assert.equal(formatAuthHeader(challenges[0]!).includes('qop="auth,auth-int"'), true);
    });

    test('stale=true on request, and a fresh nonce each time', () => {
      const [a] = ctx.server.challenge();
      const [b] = ctx.server.challenge({ stale: true });
      assert.ok(a && b);
      assert.equal(authParam(a, 'stale'), undefined);
      assert.equal(authParam(b, 'stale'), 'true');
      assert.notEqual(authParam(a, 'nonce'), authParam(b, 'nonce'));
    });

    test('options are validated', () => {
      assert.throws(() => ctx.make({ secret: new Uint8Array(8) }), RangeError);
      assert.throws(() => ctx.make({ algorithms: [] }), RangeError);
      assert.throws(() => ctx.make({ algorithms: ['MD5', 'MD5'] }), RangeError);
      assert.throws(() => ctx.make({ algorithms: ['SHA-1' as DigestAlgorithm] }), TypeError);
      assert.throws(() => ctx.make({ qop: ['auth-conf' as DigestQop] }), TypeError);
      assert.throws(() => ctx.make({ nonceLifetimeMs: 0 }), RangeError);
    });
  });

  describe('round trip client → server', () => {
    for (const algorithm of DIGEST_ALGORITHMS) {
      for (const qop of ['auth', 'auth-int'] as const) {
        test(`${algorithm}, qop=${qop}`, async () => {
          const server = ctx.make({ algorithms: [algorithm], qop: [qop] });
          const request = { method: 'INVITE', uri: 'sip:bob@example.com', body: 'v=0\r\ns=-\r\n' };
          const { answer, result } = await login(server, ctx.client(), request);
          assert.deepEqual(result, { ok: true, username: 'alice', algorithm });
          assert.equal(authParam(answer, 'qop'), qop);
          assert.deepEqual(ctx.store.calls.at(-1), ['alice', REALM, baseAlgorithm(algorithm)]);
        });
      }
    }

    test('auth-int: a changed body fails', async () => {
      const server = ctx.make({ qop: ['auth-int'] });
      const answer = ctx.client().respond(server.challenge(), { method: 'INVITE', uri: URI, body: 'v=0\r\n' });
      assert.ok(answer);
      const result = await server.verify({ method: 'INVITE', requestUri: URI, credentials: answer.credentials, body: 'v=1\r\n' });
      assert.deepEqual(result, { ok: false, reason: 'bad-password' });
    });

    test('the client prefers the strongest of the default challenges (SHA-256 over MD5)', async () => {
      const { result } = await login(ctx.server, ctx.client());
      assert.deepEqual(result, { ok: true, username: 'alice', algorithm: 'SHA-256' });
    });

    test('RFC 2069 form when no qop is offered; the nonce is then single-use', async () => {
      const server = ctx.make({ qop: [] });
      const { answer, result } = await login(server, ctx.client());
      assert.equal(result.ok, true);
      assert.equal(authParam(answer, 'qop'), undefined);
      const again = await server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer });
      assert.deepEqual(again, { ok: false, reason: 'replay', stale: true });
    });

    test('nc increases across requests on one nonce (preemptive credentials)', async () => {
      const client = ctx.client();
      assert.equal((await login(ctx.server, client)).result.ok, true);
      for (const nc of ['00000002', '00000003']) {
        const next = client.authorize({ method: 'OPTIONS', uri: URI });
        assert.equal(next?.nc, nc);
        const result = await ctx.server.verify({ method: 'OPTIONS', requestUri: URI, credentials: next?.credentials });
        assert.equal(result.ok, true);
      }
    });
  });

  describe('refusals', () => {
    test('wrong password and unknown user both fail with no stale flag, and get the same challenge shape (G24)', async () => {
      const wrong = await login(ctx.server, ctx.client('alice', 'guess'));
      const unknown = await login(ctx.server, ctx.client('mallory', 'guess'));
      assert.deepEqual(wrong.result, { ok: false, reason: 'bad-password' });
      assert.deepEqual(unknown.result, { ok: false, reason: 'unknown-user' });
      // The unknown user went through the lookup and the same digest computation.
      assert.deepEqual(ctx.store.calls.map((c) => c[0]), ['alice', 'mallory']);
      // What the caller sends back is the same for both (and for "no credentials").
      const shape = (cs: AuthHeaderValue[]): unknown =>
        cs.map((c) => c.params.filter((p) => p.name !== 'nonce' && p.name !== 'opaque'));
      const missing = await ctx.server.verify({ method: 'REGISTER', requestUri: URI });
      assert.deepEqual(missing, { ok: false, reason: 'missing' });
      assert.deepEqual(shape(ctx.server.challenge()), shape(ctx.server.challenge()));
    });

    test('the client does not loop on a wrong password', async () => {
      const client = ctx.client('alice', 'guess');
      const first = await login(ctx.server, client);
      assert.equal(first.result.ok, false);
      assert.equal(client.respond(ctx.server.challenge(), { method: 'REGISTER', uri: URI }, first.answer), null);
    });

    test('expired nonce with a correct digest → stale; the client retries and succeeds (G25)', async () => {
      const client = ctx.client();
      const answer = client.respond(ctx.server.challenge(), { method: 'REGISTER', uri: URI });
      assert.ok(answer);
      ctx.clock.advance(300_001);
      const stale = await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer.credentials });
      assert.deepEqual(stale, { ok: false, reason: 'stale', stale: true });
      const retry = client.respond(ctx.server.challenge({ stale: true }), { method: 'REGISTER', uri: URI }, answer.credentials);
      assert.ok(retry);
      const ok = await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: retry.credentials });
      assert.equal(ok.ok, true);
    });

    test('a nonce is still good at exactly its lifetime; nonceLifetimeMs is honoured', async () => {
      const server = ctx.make({ nonceLifetimeMs: 10_000 });
      const answer = ctx.client().respond(server.challenge(), { method: 'REGISTER', uri: URI });
      ctx.clock.advance(10_000);
      assert.equal((await server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer?.credentials })).ok, true);
    });

    test('expired nonce with a wrong digest is a plain failure, not stale', async () => {
      const answer = ctx.client('alice', 'guess').respond(ctx.server.challenge(), { method: 'REGISTER', uri: URI });
      ctx.clock.advance(400_000);
      const result = await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer?.credentials });
      assert.deepEqual(result, { ok: false, reason: 'bad-password' });
    });

    test('forged nonces are refused (G25)', async () => {
      const [c] = ctx.server.challenge();
      assert.ok(c);
      const nonce = authParam(c, 'nonce') ?? '';
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      // Flips a high bit of the 6 a char carries, so the decoded bytes really change.
      const flip = (i: number): string => nonce.slice(0, i) + alphabet[alphabet.indexOf(nonce[i]!) ^ 32] + nonce.slice(i + 1);
      const forgeries = [
        flip(0), // timestamp changed
        flip(20), // random part changed
        flip(60), // MAC changed
        'not-a-nonce',
        nonce + 'AA',
        nonce.slice(0, 69) + '!',
      ];
      for (const forged of forgeries) {
        const answer = ctx.client('alice', 'guess').respond(withParams(c, { nonce: forged }), { method: 'REGISTER', uri: URI });
        assert.ok(answer);
        const result = await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer.credentials });
        assert.deepEqual(result, { ok: false, reason: 'forged-nonce' }, forged);
      }
      // A nonce minted under another secret.
      const other = ctx.make({ secret: new Uint8Array(32).fill(9) });
      const answer = ctx.client('alice', 'guess').respond(other.challenge(), { method: 'REGISTER', uri: URI });
      const result = await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer?.credentials });
      assert.deepEqual(result, { ok: false, reason: 'forged-nonce' });
    });

    test('a foreign nonce with a correct digest (e.g. before a secret change) is forged but stale', async () => {
      const other = ctx.make({ secret: new Uint8Array(32).fill(9) });
      const answer = ctx.client().respond(other.challenge(), { method: 'REGISTER', uri: URI });
      const result = await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer?.credentials });
      assert.deepEqual(result, { ok: false, reason: 'forged-nonce', stale: true });
    });

    test('non-canonical base64url spelling of a real nonce is refused', async () => {
      const [c] = ctx.server.challenge();
      const nonce = authParam(c!, 'nonce') ?? '';
      // 70 chars carry 420 bits for 416: the last char has 4 spare bits; set one.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(nonce[69]!);
      const variant = nonce.slice(0, 69) + alphabet[last ^ 1];
      assert.deepEqual(Buffer.from(variant, 'base64url'), Buffer.from(nonce, 'base64url'));
      const answer = ctx.client().respond(withParams(c!, { nonce: variant }), { method: 'REGISTER', uri: URI });
      const result = await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer?.credentials });
      assert.equal(result.ok, false);
      assert.equal(result.ok === false && result.reason, 'forged-nonce');
    });

    test('replay: the same credentials again, or a lower nc, are refused (G26)', async () => {
      const client = ctx.client();
      const { answer, result } = await login(ctx.server, client);
      assert.equal(result.ok, true);
      // The complete header replayed (e.g. in a new request with another Call-ID).
      const replay = await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer });
      assert.deepEqual(replay, { ok: false, reason: 'replay', stale: true });
      // Move nc forward, then try to go back.
      const n2 = client.authorize({ method: 'REGISTER', uri: URI });
      const n3 = client.authorize({ method: 'REGISTER', uri: URI });
      assert.equal((await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: n3?.credentials })).ok, true);
      const back = await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: n2?.credentials });
      assert.deepEqual(back, { ok: false, reason: 'replay', stale: true });
    });

    test('failed attempts do not advance nc (garbage cannot lock a client out of its nonce)', async () => {
      const client = ctx.client();
      const [c] = ctx.server.challenge();
      const good = client.respond(c!, { method: 'REGISTER', uri: URI });
      assert.ok(good);
      const bogus = withParams(good.credentials, { nc: 'ffffffff', response: '0'.repeat(64) });
      assert.equal((await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: bogus })).ok, false);
      assert.equal((await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: good.credentials })).ok, true);
    });

    test('LRU eviction never reopens a replay window', async () => {
      const server = ctx.make({ maxTrackedNonces: 2 });
      const logins: AuthHeaderValue[] = [];
      for (let i = 0; i < 3; i++) {
        ctx.clock.advance(10);
        const { answer, result } = await login(server, ctx.client());
        assert.equal(result.ok, true);
        logins.push(answer);
      }
      // The first nonce's count was evicted: its replay is not accepted.
      const replay = await server.verify({ method: 'REGISTER', requestUri: URI, credentials: logins[0] });
      assert.deepEqual(replay, { ok: false, reason: 'stale', stale: true });
    });

    test('realm must be ours; credentials for other realms are skipped', async () => {
      const answer = ctx.client().respond(ctx.server.challenge(), { method: 'REGISTER', uri: URI });
      assert.ok(answer);
      const foreign = withParams(answer.credentials, { realm: 'evil.example' });
      assert.deepEqual(await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: foreign }), {
        ok: false,
        reason: 'realm',
      });
      const both = await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: [foreign, answer.credentials] });
      assert.equal(both.ok, true);
      const basic = parseAuthHeader('Basic QWxhZGRpbjpvcGVu');
      assert.deepEqual(await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: basic }), {
        ok: false,
        reason: 'missing',
      });
    });

    test('algorithm must be one offered; with MD5 off an MD5 answer fails (G27, G28)', async () => {
      const server = ctx.make({ algorithms: ['SHA-256'] });
      const md5Client = new DigestClient({ credentials: { username: 'alice', password: 'secret' }, random: new SeededRandom(1), algorithms: ['MD5'] });
      // The client is handed an MD5 challenge carrying one of our nonces.
      const [c] = server.challenge();
      const md5 = md5Client.respond(withParams(c!, { algorithm: 'MD5' }), { method: 'REGISTER', uri: URI });
      assert.ok(md5);
      assert.deepEqual(await server.verify({ method: 'REGISTER', requestUri: URI, credentials: md5.credentials }), {
        ok: false,
        reason: 'algorithm',
      });
      // No algorithm parameter means MD5 (RFC 7616 §3.3).
      const implicit = withParams(md5.credentials, { algorithm: null });
      assert.equal((await server.verify({ method: 'REGISTER', requestUri: URI, credentials: implicit })).ok, false);
      const unknown = withParams(md5.credentials, { algorithm: 'SHA-1' });
      assert.deepEqual(await server.verify({ method: 'REGISTER', requestUri: URI, credentials: unknown }), { ok: false, reason: 'algorithm' });
    });

    test('qop must be one offered: no auth-int when only auth, no RFC 2069 downgrade (G27)', async () => {
      const [c] = ctx.server.challenge();
      const asked = (qop: string): AuthHeaderValue => withParams(c!, { qop });
      const body = { method: 'INVITE', uri: URI, body: '' };
      const authInt = ctx.client().respond(asked('auth-int'), body);
      assert.equal(authInt?.qop, 'auth-int');
      assert.deepEqual(await ctx.server.verify({ method: 'INVITE', requestUri: URI, credentials: authInt?.credentials }), {
        ok: false,
        reason: 'qop',
      });
      const none = ctx.client().respond(withParams(c!, { qop: null }), body);
      assert.equal(none?.qop, undefined);
      assert.deepEqual(await ctx.server.verify({ method: 'INVITE', requestUri: URI, credentials: none?.credentials }), {
        ok: false,
        reason: 'qop',
      });
    });

    test('digest uri must equal the Request-URI (G27, answered with 400)', async () => {
      const answer = ctx.client().respond(ctx.server.challenge(), { method: 'INVITE', uri: 'sip:bob@example.com' });
      const result = await ctx.server.verify({ method: 'INVITE', requestUri: 'sip:carol@example.com', credentials: answer?.credentials });
      assert.deepEqual(result, { ok: false, reason: 'uri-mismatch' });
    });

    test('the method is covered: credentials for REGISTER do not authorise INVITE', async () => {
      const answer = ctx.client().respond(ctx.server.challenge(), { method: 'REGISTER', uri: URI });
      const result = await ctx.server.verify({ method: 'INVITE', requestUri: URI, credentials: answer?.credentials });
      assert.deepEqual(result, { ok: false, reason: 'bad-password' });
    });

    test('missing or malformed parameters are bad-params', async () => {
      const answer = ctx.client().respond(ctx.server.challenge(), { method: 'REGISTER', uri: URI });
      assert.ok(answer);
      const cases: Record<string, string | null>[] = [
        { username: null },
        { nonce: null },
        { uri: null },
        { response: null },
        { nc: null },
        { cnonce: null },
        { nc: '1' },
        { nc: '00000000' },
        { response: 'xyz' },
        { response: 'ab'.repeat(16) }, // an MD5-length response for SHA-256
        { userhash: 'true' },
      ];
      for (const change of cases) {
        const result = await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: withParams(answer.credentials, change) });
        assert.deepEqual(result, { ok: false, reason: 'bad-params' }, JSON.stringify(change));
      }
      assert.deepEqual(ctx.store.calls, [], 'malformed credentials never reach the user store');
    });

    test('a response in upper-case hex is accepted', async () => {
      const answer = ctx.client().respond(ctx.server.challenge(), { method: 'REGISTER', uri: URI });
      assert.ok(answer);
      const upper = withParams(answer.credentials, { response: (authParam(answer.credentials, 'response') ?? '').toUpperCase() });
      assert.equal((await ctx.server.verify({ method: 'REGISTER', requestUri: URI, credentials: upper })).ok, true);
    });

    test('source-IP binding: a nonce used from another address is refused', async () => {
      const server = ctx.make({ bindSourceIp: true });
      const answer = ctx.client().respond(server.challenge({ sourceIp: '192.0.2.1' }), { method: 'REGISTER', uri: URI });
      const moved = await server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer?.credentials, sourceIp: '198.51.100.7' });
      assert.deepEqual(moved, { ok: false, reason: 'forged-nonce', stale: true });
      const same = await server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer?.credentials, sourceIp: '192.0.2.1' });
      assert.equal(same.ok, true);
    });

    test('a corrupt HA1 from the store is a configuration error', async () => {
      const server = ctx.make({ lookupHa1: () => 'not-hex' });
      const answer = ctx.client().respond(server.challenge(), { method: 'REGISTER', uri: URI });
      await assert.rejects(server.verify({ method: 'REGISTER', requestUri: URI, credentials: answer?.credentials }), TypeError);
    });

    test('a synchronous lookup works too', async () => {
      const ha1 = computeHa1('SHA-256', 'alice', REALM, 'secret');
      const server = ctx.make({ algorithms: ['SHA-256'], lookupHa1: (u) => (u === 'alice' ? ha1 : undefined) });
      assert.equal((await login(server, ctx.client())).result.ok, true);
    });
  });
});
