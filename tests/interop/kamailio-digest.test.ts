/**
 * Digest interop: our UserAgent authenticates against Kamailio (Debian package `kamailio`),
 * started with its own minimal config on a spare loopback port — REGISTER answered with 401,
 * INVITE with 407 — for MD5 and SHA-256. A wrong password gives up after one retry.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { UserAgent } from '../../src/ua/index.js';
import { requirePeer } from './lib/peers.js';
import { startKamailio } from './lib/kamailio.js';

const PASSWORD = 'interop-secret';

for (const algorithm of ['MD5', 'SHA-256'] as const) {
  describe(`Kamailio digest auth with ${algorithm}`, { timeout: 60_000 }, () => {
    test('REGISTER (401), then INVITE through the proxy (407), answered, ACKed and hung up', async (t) => {
      if (!requirePeer(t, 'kamailio', 'kamailio')) return;
      const kamailio = await startKamailio({ password: PASSWORD, algorithm });
      const proxy = `sip:${kamailio.host}:${kamailio.port}`;
      const make = (user: string, password: string): UserAgent =>
        new UserAgent({ aor: `sip:${user}@${kamailio.host}`, credentials: { username: user, password }, outboundProxy: proxy, timers: { t1: 200 } });
      const alice = make('alice', PASSWORD);
      const bob = make('bob', PASSWORD);
      const mallory = make('mallory', 'not-the-password');
      try {
        await Promise.all([alice.start(), bob.start(), mallory.start()]);
        const register = async (ua: UserAgent, user: string) => {
          const request = ua.createRequest({ method: 'REGISTER', uri: proxy, to: `sip:${user}@${kamailio.host}`, headers: [['Expires', '60']] });
          return ua.request(request);
        };
        const aliceReg = await register(alice, 'alice');
        assert.equal(aliceReg.status, 200, `alice REGISTER: ${aliceReg.status} ${aliceReg.reason}`);
        const bobReg = await register(bob, 'bob');
        assert.equal(bobReg.status, 200);
        assert.match(kamailio.process.output(), /REQ REGISTER/);

        const wrong = await register(mallory, 'mallory');
        assert.equal(wrong.status, 401, 'a wrong password ends with the 401, no endless retry');

        bob.onRequest((incoming) => {
          if (incoming.request.method === 'INVITE') incoming.respond(200, { body: 'v=0\r\n', contentType: 'application/sdp' });
        });
        const acked = new Promise<void>((resolve) => bob.once('ack', () => resolve()));
        const invite = alice.createRequest({ method: 'INVITE', uri: `sip:bob@${kamailio.host}:${kamailio.port}`, body: 'v=0\r\n' });
        const answer = await alice.request(invite);
        assert.equal(answer.status, 200, `INVITE: ${answer.status} ${answer.reason}`);
        assert.ok(answer.headers.has('record-route'), 'Kamailio record-routes the INVITE');
        await acked;
        const dialog = alice.dialogOf(answer);
        assert.ok(dialog);
        const bye = await alice.requestInDialog(dialog, 'BYE');
        assert.equal(bye.status, 200);
        // The INVITE was challenged with 407 and answered with our Proxy-Authorization.
        const log = kamailio.process.output();
        assert.ok((log.match(/REQ INVITE/g) ?? []).length >= 2, 'INVITE sent twice: challenged, then authorised');
        const used = [...log.matchAll(/AUTH\[(Digest [^\]]*)\]/g)].map((m) => m[1]!);
        assert.ok(used.length >= 3, 'REGISTER x2 and INVITE carried credentials');
        for (const credentials of used) {
          if (algorithm === 'SHA-256') assert.match(credentials, /algorithm="?SHA-256/);
          else assert.doesNotMatch(credentials, /SHA-256/);
          assert.match(credentials, /qop="?auth/);
        }
      } finally {
        await Promise.all([alice.close(), bob.close(), mallory.close()]);
        await kamailio.stop();
      }
    });
  });
}
