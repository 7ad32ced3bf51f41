/**
 * `voxlite caller` registering and calling through Kamailio with digest auth (401 for
 * REGISTER, 407 for INVITE), MD5 and SHA-256; a wrong password exits 3; Ctrl-C on both sides
 * sends BYE, unregisters (REGISTER with Expires: 0) and exits within 2 s.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../interop/lib/peers.js';
import { startKamailio, type Kamailio } from '../interop/lib/kamailio.js';
import { sparePort } from '../interop/lib/ports.js';
import { voxlite, type CliProcess } from './lib.js';

const PASSWORD = 'cli-secret';
const processes: CliProcess[] = [];
after(() => {
  for (const p of processes) p.kill('SIGKILL');
});

function run(kamailio: Kamailio, user: string, password: string, extra: string[]): CliProcess {
  const p = voxlite([
    'caller',
    '--int-ip', '127.0.0.1',
    '--no-audio',
    '--user', user,
    '--domain', kamailio.host,
    '--proxy', `${kamailio.host}:${kamailio.port}`,
    '--authuser', user,
    '--authpass', password,
    '--register-interval', '120',
    '--json',
    ...extra,
  ]);
  processes.push(p);
  return p;
}

for (const algorithm of ['MD5', 'SHA-256'] as const) {
  describe(`voxlite caller through Kamailio (${algorithm})`, { timeout: 90_000 }, () => {
    test('register with 401, call with 407, Ctrl-C on both sides: BYE, unregister, exit within 2 s', async (t) => {
      if (!requirePeer(t, 'kamailio', 'kamailio')) return;
      const kamailio = await startKamailio({ password: PASSWORD, algorithm });
      try {
        const bob = run(kamailio, 'bob', PASSWORD, ['--register', '--port', String(await sparePort()), '--auto-respond-after', '0']);
        await bob.waitForEvent('registered', 15_000);
        const alice = run(kamailio, 'alice', PASSWORD, ['--register', '--to', `sip:bob@${kamailio.host}`, '--port', String(await sparePort())]);
        await alice.waitForEvent('registered', 15_000);
        await alice.waitForEvent('answered', 15_000);
        await bob.waitForEvent('answered', 15_000);
        let signalled = Date.now();
        alice.kill('SIGINT');
        assert.equal(await alice.exited(5000), 0, alice.stderr());
        assert.ok(Date.now() - signalled < 2000, `alice exited ${Date.now() - signalled} ms after SIGINT`);
        await bob.waitForOutput(/call closed by remote party/, 5000);
        signalled = Date.now();
        bob.kill('SIGINT');
        assert.equal(await bob.exited(5000), 0, bob.stderr());
        assert.ok(Date.now() - signalled < 2000, `bob exited ${Date.now() - signalled} ms after SIGINT`);
        const log = kamailio.process.output();
        assert.ok((log.match(/REQ BYE/g) ?? []).length >= 1, 'BYE went through the proxy');
        // Two REGISTERs each to register (challenge + answer) and at least one more each to unregister.
        assert.ok((log.match(/REQ REGISTER/g) ?? []).length >= 6, 'registered and unregistered');
        const credentials = [...log.matchAll(/AUTH\[(Digest [^\]]*)\]/g)].map((m) => m[1]!);
        assert.ok(credentials.length >= 3);
        for (const c of credentials) {
          if (algorithm === 'SHA-256') assert.match(c, /algorithm="?SHA-256/);
        }
      } finally {
        await kamailio.stop();
      }
    });

    test('a wrong password exits with code 3 and the status', async (t) => {
      if (!requirePeer(t, 'kamailio', 'kamailio')) return;
      const kamailio = await startKamailio({ password: PASSWORD, algorithm });
      try {
        const mallory = run(kamailio, 'mallory', 'wrong', ['--register', '--port', String(await sparePort())]);
        assert.equal(await mallory.exited(15_000), 3);
        assert.match(mallory.stderr(), /registration failed: 401/);
      } finally {
        await kamailio.stop();
      }
    });
  });
}
