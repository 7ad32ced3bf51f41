/**
 * Real SIP peers through `voxlite server` (a child process on a spare 127.0.0.1 port, users file
 * made by `voxlite users add`): baresip 1.0.0 (Debian `baresip`) and linphonec 5.1.65 (Debian
 * `linphone-cli`), both headless, register with digest and call a `voxlite caller`
 * (`--listen --register`) through the server: the INVITE is challenged (407) and retried with
 * Proxy-Authorization, forwarded to the caller's binding with Record-Route, answered, then hung
 * up by each side in turn, BYE through the server both ways.
 *
 * baresip 1.0.0's libre gives up on the first challenge it cannot answer (any non-MD5 one, with
 * ENOSYS "Register: Function not implemented") instead of picking the MD5 challenge offered after
 * SHA-256, so baresip runs against `voxlite server --digest-algorithms MD5`. linphonec answers
 * the SHA-256 challenge and runs against the default (SHA-256, MD5).
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CliProcess } from '../e2e/lib.js';
import { startBaresip, type Baresip } from '../interop/lib/baresip.js';
import { requirePeer } from '../interop/lib/peers.js';
import { receivedThroughServer, registeredWithDigest, startCaller } from './caller.js';
import { startLinphone, type Linphone } from './linphone.js';
import { startServerProcess, type ServerProcess } from './process.js';

const VOX = { user: 'vox', password: 'vox-pa55word' };
const BARESIP = { user: 'carol', password: 'carol-pa55' };
const LINPHONE = { user: 'dave', password: 'dave-pa55' };

const servers: ServerProcess[] = [];
const processes: CliProcess[] = [];
const peers: { stop(): Promise<void> }[] = [];
after(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await Promise.all(peers.map((p) => p.stop()));
  await Promise.all(servers.map((s) => s.stop()));
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function server(digestAlgorithms?: readonly string[]): Promise<ServerProcess> {
  const s = await startServerProcess({ users: [VOX, BARESIP, LINPHONE], maxMs: 60_000, ...(digestAlgorithms === undefined ? {} : { digestAlgorithms }) });
  servers.push(s);
  return s;
}

/** The voxlite caller the peers call: registered, listening, answering at once. */
async function listener(srv: ServerProcess): Promise<CliProcess> {
  const p = await startCaller(srv, VOX.user, VOX.password, ['--listen', '--auto-respond-after', '0']);
  processes.push(p);
  await p.waitForEvent('registered', 10_000);
  assert.ok(registeredWithDigest(p), `vox: REGISTER 401 → Authorization → 200\n${p.stderr().slice(-3000)}`);
  return p;
}

async function baresip(): Promise<Baresip> {
  const b = await startBaresip({ maxMs: 50_000 });
  peers.push(b);
  return b;
}

/**
 * Adds a registering account to a running baresip (ctrl_tcp `uanew`; the harness's own account
 * does not register), makes it the current UA for `dial`, and resolves with the REGISTER_OK or
 * REGISTER_FAIL event that follows.
 */
async function registerBaresip(bs: Baresip, srv: ServerProcess): Promise<{ type: string; param: string; aor: string }> {
  const aor = `sip:${BARESIP.user}@${srv.hostPort}`;
  const from = bs.events.length;
  await bs.command('uanew', `<${aor}>;auth_user=${BARESIP.user};auth_pass=${BARESIP.password};regint=120;outbound="sip:${srv.hostPort}";answermode=manual`);
  const done = await Promise.race([
    bs.waitEvent('REGISTER_OK', { from, timeoutMs: 8000 }),
    bs.waitEvent('REGISTER_FAIL', { from, timeoutMs: 8000 }),
  ]);
  await bs.command('uafind', aor);
  return { type: done.type, param: done.param, aor };
}

function context(srv: ServerProcess, vox: CliProcess, peerLog: string): string {
  return `--- vox stdout:\n${vox.stdout().slice(-1500)}\n--- vox stderr:\n${vox.stderr().slice(-5000)}\n--- peer:\n${peerLog.slice(-5000)}\n--- server:\n${srv.log().slice(-2000)}`;
}

/** Resolves with the `count`-th event `name` of `vox`. */
async function waitEvents(vox: CliProcess, name: string, count: number, timeoutMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = vox.events().filter((e) => e.event === name);
    if (found.length >= count) return found[count - 1]!;
    if (Date.now() > deadline || vox.child.exitCode !== null) assert.fail(`no event ${name} #${count} from vox:\n${vox.stdout().slice(-2000)}\n${vox.stderr().slice(-3000)}`);
    await sleep(50);
  }
}

describe('baresip through voxlite server', { timeout: 120_000 }, () => {
  test('baresip registers (401 → MD5 digest → 200) and calls voxlite through the server twice: baresip hangs up, then voxlite hangs up', { timeout: 50_000 }, async (t) => {
    if (!requirePeer(t, 'baresip', 'baresip')) return;
    const srv = await server(['MD5']);
    const vox = await listener(srv);
    const bs = await baresip();
    const ctx = (): string => context(srv, vox, bs.log());
    try {
      const registered = await registerBaresip(bs, srv);
      assert.equal(registered.type, 'REGISTER_OK', `baresip: ${registered.type} ${registered.param}\n${ctx()}`);
      assert.match(bs.log(), /SIP\/2\.0 401 Unauthorized[\s\S]*?\nREGISTER sip:[^\n]*\n(?:[^\n]+\n)*?Authorization: Digest username="carol"/, 'baresip answered the 401');

      // call 1: baresip → vox, baresip hangs up
      await bs.command('dial', `sip:${VOX.user}@${srv.domain}`);
      await vox.waitForEvent('incoming', 8000);
      await vox.waitForEvent('answered', 5000);
      const established = await bs.waitEvent('CALL_ESTABLISHED', { timeoutMs: 5000 });
      assert.equal(established.direction, 'outgoing');
      assert.match(bs.log(), /SIP\/2\.0 407 Proxy Authentication Required[\s\S]*?\nINVITE sip:vox@127\.0\.0\.1 SIP\/2\.0\r?\n(?:[^\n]+\n)*?Proxy-Authorization: Digest username="carol"/, 'baresip answered the 407');
      assert.ok(receivedThroughServer(vox, srv, 'INVITE'), `the INVITE came through the server\n${ctx()}`);
      await sleep(1500);
      await bs.command('hangup');
      await bs.waitEvent('CALL_CLOSED', { timeoutMs: 5000 });
      await vox.waitForOutput(/call closed by remote party/, 5000);
      assert.ok(receivedThroughServer(vox, srv, 'BYE'), `baresip's BYE came through the server\n${ctx()}`);
      const quality1 = await waitEvents(vox, 'quality', 1, 5000);
      assert.equal(quality1['codec'], 'PCMU');
      assert.ok(Number(quality1['packetsReceived']) > 40, `packets received: ${String(quality1['packetsReceived'])}`);

      // call 2: baresip → vox, vox hangs up; its BYE goes back along the Record-Route
      const from = bs.events.length;
      await bs.command('dial', `sip:${VOX.user}@${srv.domain}`);
      await waitEvents(vox, 'answered', 2, 8000);
      await bs.waitEvent('CALL_ESTABLISHED', { from, timeoutMs: 5000 });
      await sleep(1000);
      vox.type('/hangup');
      const closed = await bs.waitEvent('CALL_CLOSED', { from, timeoutMs: 5000 });
      assert.equal(closed.param, 'Connection reset by peer', 'baresip: closed by a BYE');
      assert.match(bs.log(), new RegExp(`UDP 127\\.0\\.0\\.1:${srv.port} -> [^\\n]*\\nBYE sip:carol-0x[0-9a-f]+@127\\.0\\.0\\.1:\\d+ SIP/2\\.0`), 'the BYE reached baresip from the server');
      await waitEvents(vox, 'quality', 2, 5000);
      vox.kill('SIGINT');
      assert.equal(await vox.exited(5000), 0, ctx());
    } finally {
      vox.kill('SIGKILL');
      await bs.stop();
      await srv.stop();
    }
  });
});

describe('linphonec through voxlite server', { timeout: 120_000 }, () => {
  test('linphonec registers (401 → SHA-256 digest → 200) and calls voxlite through the server twice: linphonec hangs up, then voxlite hangs up', { timeout: 60_000 }, async (t) => {
    if (!requirePeer(t, 'linphonec', 'linphone-cli')) return;
    const srv = await server();
    const vox = await listener(srv);
    const lp: Linphone = await startLinphone({ ...LINPHONE, server: srv.hostPort, maxMs: 55_000 });
    peers.push(lp);
    const ctx = (): string => context(srv, vox, lp.log());
    try {
      await lp.waitRegistered(10_000);
      assert.match(lp.log(), /\nAuthorization: +Digest [^\n]*algorithm=SHA-256/, `linphonec answered the 401 with SHA-256\n${ctx()}`);

      // call 1: linphonec → vox, linphonec hangs up
      lp.command(`call sip:${VOX.user}@${srv.domain}`);
      await vox.waitForEvent('incoming', 8000).catch((e: unknown) => assert.fail(`${String(e)}\n${ctx()}`));
      await vox.waitForEvent('answered', 5000);
      await lp.waitFor(/Call \d+ with [^\n]* connected\./, 5000);
      assert.match(lp.log(), /\nProxy-Authorization: +Digest [^\n]*username="dave"/, 'linphonec answered the 407');
      assert.ok(receivedThroughServer(vox, srv, 'INVITE'), `the INVITE came through the server\n${ctx()}`);
      await sleep(1500);
      lp.command('terminate');
      await lp.waitFor(/Call \d+ with [^\n]* ended/, 5000);
      await vox.waitForOutput(/call closed by remote party/, 5000);
      assert.ok(receivedThroughServer(vox, srv, 'BYE'), `linphonec's BYE came through the server\n${ctx()}`);
      const quality1 = await waitEvents(vox, 'quality', 1, 5000);
      assert.equal(quality1['codec'], 'PCMU');
      assert.ok(Number(quality1['packetsReceived']) > 40, `packets received: ${String(quality1['packetsReceived'])}`);

      // call 2: linphonec → vox, vox hangs up
      const before = (lp.log().match(/Call \d+ with [^\n]* ended/g) ?? []).length;
      lp.command(`call sip:${VOX.user}@${srv.domain}`);
      await waitEvents(vox, 'answered', 2, 8000);
      await sleep(1000);
      vox.type('/hangup');
      const deadline = Date.now() + 5000;
      while ((lp.log().match(/Call \d+ with [^\n]* ended/g) ?? []).length <= before) {
        if (Date.now() > deadline) assert.fail(`linphonec did not see the call end\n${ctx()}`);
        await sleep(50);
      }
      await waitEvents(vox, 'quality', 2, 5000);
      vox.kill('SIGINT');
      assert.equal(await vox.exited(5000), 0, ctx());
    } finally {
      vox.kill('SIGKILL');
      await lp.stop();
      await srv.stop();
    }
  });
});
