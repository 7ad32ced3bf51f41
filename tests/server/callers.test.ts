/**
 * Two `voxlite caller` processes register with digest (users file made by `voxlite users add`)
 * through `voxlite server` (a child process on a spare 127.0.0.1 port) and call each other
 * through it: REGISTER answered 401 then 200, INVITE 407 then forwarded (G32: a local From is
 * proven), answered, a `quality` report on both sides, BYE through the proxy, exit 0. A wrong
 * password or an unknown user exits 3 and leaves no binding behind (G20).
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CliProcess } from '../e2e/lib.js';
import { receivedThroughServer, registeredWithDigest, startCaller, trace } from './caller.js';
import { startServerProcess, type ServerProcess } from './process.js';

const ALICE = { user: 'alice', password: 'alice-Secr3t' };
const BOB = { user: 'bob', password: 'bob-s3cret!' };

const processes: CliProcess[] = [];
const servers: ServerProcess[] = [];
after(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.stop()));
});

async function server(): Promise<ServerProcess> {
  const s = await startServerProcess({ users: [ALICE, BOB], maxMs: 60_000 });
  servers.push(s);
  return s;
}

async function caller(srv: ServerProcess, user: string, password: string, extra: readonly string[]): Promise<CliProcess> {
  const p = await startCaller(srv, user, password, extra);
  processes.push(p);
  return p;
}

function context(srv: ServerProcess, ...callers: [string, CliProcess][]): string {
  return [
    ...callers.map(([name, p]) => `--- ${name} stdout:\n${p.stdout().slice(-2000)}\n--- ${name} stderr:\n${p.stderr().slice(-6000)}`),
    `--- server:\n${srv.log().slice(-3000)}`,
  ].join('\n');
}

function assertRegisteredWithDigest(p: CliProcess, name: string): void {
  assert.ok(registeredWithDigest(p), `${name}: REGISTER challenged with 401, answered with Authorization, 200`);
}

/** INVITE: a 407 from the proxy, then an INVITE with Proxy-Authorization. */
function assertInviteAuthenticated(p: CliProcess, name: string): void {
  const messages = trace(p);
  assert.ok(
    messages.some((m) => m.direction === 'received' && /^SIP\/2\.0 407 /.test(m.text) && /^CSeq: *\d+ INVITE/im.test(m.text) && /^Proxy-Authenticate: *Digest /im.test(m.text)),
    `${name}: the INVITE is challenged with 407`,
  );
  assert.ok(messages.some((m) => m.direction === 'sent' && /^INVITE /.test(m.text) && /^Proxy-Authorization: *Digest /im.test(m.text)), `${name}: INVITE with Proxy-Authorization`);
}

function assertQuality(q: Record<string, unknown>, what: string, minPackets: number): void {
  assert.equal(q['codec'], 'PCMU', `${what}: codec`);
  assert.ok(Number(q['packetsReceived']) >= minPackets, `${what}: packets received ${String(q['packetsReceived'])}`);
  assert.ok(Number(q['packetsSent']) >= minPackets, `${what}: packets sent ${String(q['packetsSent'])}`);
}

describe('voxlite caller ↔ voxlite caller through voxlite server (digest)', { timeout: 120_000 }, () => {
  test('alice calls bob: both register (401→200), INVITE 407→200, answered, alice hangs up, BYE through the server, quality, exit 0', { timeout: 45_000 }, async () => {
    const srv = await server();
    const bob = await caller(srv, BOB.user, BOB.password, ['--auto-respond-after', '0']);
    await bob.waitForEvent('registered', 10_000);
    const alice = await caller(srv, ALICE.user, ALICE.password, ['--to', `sip:bob@${srv.domain}`, '--hangup-after', '2']);
    const ctx = (): string => context(srv, ['alice', alice], ['bob', bob]);
    try {
      await alice.waitForEvent('registered', 10_000);
      await alice.waitForEvent('answered', 10_000);
      await bob.waitForEvent('incoming', 5000);
      await bob.waitForEvent('answered', 5000);
      // --hangup-after 2: alice sends BYE, reports quality and exits 0 (not listening)
      assert.equal(await alice.exited(15_000), 0, ctx());
      const aliceQuality = alice.events().find((e) => e.event === 'quality');
      assert.ok(aliceQuality !== undefined, `alice: a quality report\n${ctx()}`);
      assertQuality(aliceQuality, 'alice', 50);
      await bob.waitForOutput(/call closed by remote party/, 5000);
      assertQuality(await bob.waitForEvent('quality', 5000), 'bob', 50);

      assertRegisteredWithDigest(alice, 'alice');
      assertRegisteredWithDigest(bob, 'bob');
      assertInviteAuthenticated(alice, 'alice');
      assert.ok(receivedThroughServer(bob, srv, 'INVITE'), `bob got the INVITE from the server\n${ctx()}`);
      assert.ok(receivedThroughServer(bob, srv, 'BYE'), `bob got the BYE through the server (Record-Route)\n${ctx()}`);
      const ended = alice.events().find((e) => e.event === 'ended');
      assert.equal(ended?.['code'], 0);

      // Ctrl-C: the listener unregisters and exits 0
      bob.kill('SIGINT');
      assert.equal(await bob.exited(5000), 0, ctx());
      assert.ok(trace(bob).some((m) => m.direction === 'sent' && /^REGISTER /.test(m.text) && /^Expires: *0\s*$/im.test(m.text)), 'bob unregistered');
    } finally {
      alice.kill('SIGKILL');
      bob.kill('SIGKILL');
      await srv.stop();
    }
  });

  test('bob calls alice: answered, alice (the callee) hangs up, BYE back through the server, quality, exit 0', { timeout: 45_000 }, async () => {
    const srv = await server();
    const alice = await caller(srv, ALICE.user, ALICE.password, ['--auto-respond-after', '0']);
    await alice.waitForEvent('registered', 10_000);
    const bob = await caller(srv, BOB.user, BOB.password, ['--to', `"Alice" <sip:alice@${srv.domain}>`]);
    const ctx = (): string => context(srv, ['alice', alice], ['bob', bob]);
    try {
      await bob.waitForEvent('registered', 10_000);
      await bob.waitForEvent('answered', 10_000);
      await alice.waitForEvent('answered', 5000);
      await new Promise((r) => setTimeout(r, 2000));
      alice.type('/hangup');
      await bob.waitForOutput(/call closed by remote party/, 5000);
      assert.equal(await bob.exited(10_000), 0, ctx());
      const bobQuality = bob.events().find((e) => e.event === 'quality');
      assert.ok(bobQuality !== undefined, `bob: a quality report\n${ctx()}`);
      assertQuality(bobQuality, 'bob', 50);
      assertQuality(await alice.waitForEvent('quality', 5000), 'alice', 50);
      assertInviteAuthenticated(bob, 'bob');
      assert.ok(receivedThroughServer(bob, srv, 'BYE'), `bob got alice's BYE through the server\n${ctx()}`);
      alice.type('/quit');
      assert.equal(await alice.exited(5000), 0, ctx());
    } finally {
      alice.kill('SIGKILL');
      bob.kill('SIGKILL');
      await srv.stop();
    }
  });

  test('a wrong password (and an unknown user) exits 3 with the 401, and registers nothing', { timeout: 45_000 }, async () => {
    const srv = await server();
    try {
      const wrong = await caller(srv, ALICE.user, 'not-the-password', []);
      assert.equal(await wrong.exited(15_000), 3, context(srv, ['alice (wrong password)', wrong]));
      assert.match(wrong.stderr(), /registration failed: 401/);
      assert.equal(wrong.events().find((e) => e.event === 'registrationFailed')?.['status'], 401);

      const unknown = await caller(srv, 'mallory', 'whatever', []);
      assert.equal(await unknown.exited(15_000), 3, context(srv, ['mallory', unknown]));
      assert.match(unknown.stderr(), /registration failed: 401/);

      // G20: nothing was bound for alice: bob's call to her finds nobody (480 Temporarily
      // Unavailable, which the caller reports as "no answer", exit 5)
      const bob = await caller(srv, BOB.user, BOB.password, ['--to', `sip:alice@${srv.domain}`]);
      assert.equal(await bob.exited(15_000), 5, context(srv, ['bob', bob]));
      assert.match(bob.stderr(), /no answer: 480 /);
    } finally {
      await srv.stop();
    }
  });
});
