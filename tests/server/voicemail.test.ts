/**
 * `--script examples/voicemail-route.ts` end to end on 127.0.0.1: proxy to the user, then
 * voicemail on busy / no answer / not registered; and a script reloaded when its file changes.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UserAgent } from '../../src/ua/user-agent.js';
import { startRig, DOMAIN, type Rig } from './lib.js';

const SCRIPT = fileURLToPath(new URL('../../examples/voicemail-route.ts', import.meta.url));
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

interface Setup {
  rig: Rig;
  alice: UserAgent;
  bob: UserAgent;
  boxes: string[];
}

/** A voicemail UA, then the server with the example script pointing at it, then alice and bob. */
async function setup(registerBob = true): Promise<Setup> {
  // The voicemail server is a UA on its own port that answers everything.
  const probe = await startRig({ noUsers: true });
  const voicemail = await probe.ua('voicemail', { password: null });
  const boxes: string[] = [];
  voicemail.onRequest((incoming) => {
    if (incoming.request.method === 'INVITE') {
      boxes.push(incoming.request.uri);
      incoming.respond(200, { body: SDP, contentType: 'application/sdp' });
    }
  });
  const vm = voicemail.localAddress('udp')!;
  process.env.VOICEMAIL = `127.0.0.1:${vm.port}`;
  process.env.NO_ANSWER_MS = '300';
  // Keep the voicemail UA, drop the probe's server.
  probe.agents.length = 0;
  await probe.close();
  const r = await startRig({ script: SCRIPT });
  r.agents.push(voicemail);
  rig = r;
  const alice = await r.ua('alice');
  const bob = await r.ua('bob');
  if (registerBob) assert.equal((await r.register(bob, 'bob')).status, 200);
  return { rig: r, alice, bob, boxes };
}

test('busy: the call goes to voicemail (486 from bob → 200 from the box)', { timeout: 10_000 }, async () => {
  const { rig: r, alice, bob, boxes } = await setup();
  bob.onRequest((incoming) => {
    incoming.respond(486);
  });
  const response = await r.send(alice, alice.createRequest({ method: 'INVITE', uri: `sip:bob@${DOMAIN}`, body: SDP }));
  assert.equal(response.status, 200);
  assert.deepEqual(boxes.map((u) => u.split('@')[0]), ['sip:bob']);
  const dialog = alice.dialogOf(response)!;
  assert.equal((await alice.requestInDialog(dialog, 'BYE')).status, 200);
});

test('no answer: after NO_ANSWER_MS the phone gets CANCEL and voicemail answers', { timeout: 10_000 }, async () => {
  const { rig: r, alice, bob, boxes } = await setup();
  let cancelled = false;
  bob.onRequest((incoming) => {
    incoming.respond(180);
    incoming.signal.addEventListener('abort', () => (cancelled = true));
  });
  const response = await r.send(alice, alice.createRequest({ method: 'INVITE', uri: `sip:bob@${DOMAIN}`, body: SDP }));
  assert.equal(response.status, 200);
  assert.ok(cancelled);
  assert.equal(boxes.length, 1);
});

test('answered: voicemail is not involved; not registered: straight to voicemail', { timeout: 10_000 }, async () => {
  const { rig: r, alice, bob, boxes } = await setup();
  bob.onRequest((incoming) => {
    incoming.respond(200, { body: SDP, contentType: 'application/sdp' });
  });
  const answered = await r.send(alice, alice.createRequest({ method: 'INVITE', uri: `sip:bob@${DOMAIN}`, body: SDP }));
  assert.equal(answered.status, 200);
  assert.equal(boxes.length, 0);
  const carol = await r.send(alice, alice.createRequest({ method: 'INVITE', uri: `sip:carol@${DOMAIN}`, body: SDP }));
  assert.equal(carol.status, 200);
  assert.deepEqual(boxes.map((u) => u.split('@')[0]), ['sip:carol']);
  // The script refuses relaying (G31).
  const relay = await r.send(alice, alice.createRequest({ method: 'MESSAGE', uri: 'sip:x@other.example', body: 'x', contentType: 'text/plain' }));
  assert.equal(relay.status, 403);
});

test('--script is reloaded when its file changes', { timeout: 10_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxlite-script-'));
  try {
    const file = join(dir, 'route.ts');
    writeFileSync(file, `export default (ctx: { reject(code: number, reason?: string): void }) => ctx.reject(486, 'First');\n`);
    rig = await startRig({ script: file, noUsers: true });
    const alice = await rig.ua('alice', { password: null });
    const first = await rig.send(alice, alice.createRequest({ method: 'MESSAGE', uri: `sip:bob@${DOMAIN}`, body: 'x', contentType: 'text/plain' }));
    assert.equal(first.reason, 'First');
    writeFileSync(file, `export default [(ctx: { reject(code: number, reason?: string): void }) => ctx.reject(486, 'Second')];\n`);
    let reason = '';
    const deadline = Date.now() + 5000;
    while (reason !== 'Second' && Date.now() < deadline) {
      const res = await rig.send(alice, alice.createRequest({ method: 'MESSAGE', uri: `sip:bob@${DOMAIN}`, body: 'x', contentType: 'text/plain' }));
      reason = res.reason;
      if (reason !== 'Second') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(reason, 'Second');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
