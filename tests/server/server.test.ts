/**
 * `voxlite server` end to end over 127.0.0.1 sockets: digest registration, calls through
 * Record-Route, G15, G24, G31, CANCEL, forking, WS ↔ UDP with double Record-Route.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAuthHeader } from '../../src/sip/auth-header.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import type { IncomingRequest } from '../../src/ua/user-agent.js';
import { startRig, until, DOMAIN, type Rig } from './lib.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

test('two UserAgents register with digest and call each other: INVITE/200/ACK/BYE through Record-Route', { timeout: 10_000 }, async () => {
  rig = await startRig();
  const alice = await rig.ua('alice');
  const bob = await rig.ua('bob');
  assert.equal((await rig.register(alice, 'alice')).status, 200);
  assert.equal((await rig.register(bob, 'bob')).status, 200);

  let bobInvite: SipRequest | undefined;
  let bobGotAck = false;
  let bobGotBye = false;
  bob.on('ack', () => (bobGotAck = true));
  bob.onRequest((incoming) => {
    if (incoming.request.method === 'INVITE') {
      bobInvite = incoming.request;
      incoming.respond(180);
      incoming.respond(200, { body: SDP, contentType: 'application/sdp' });
    } else if (incoming.request.method === 'BYE') {
      bobGotBye = true;
    }
  });
  const response = await rig.send(alice, alice.createRequest({ method: 'INVITE', uri: `sip:bob@${DOMAIN}`, body: SDP }));
  assert.equal(response.status, 200);
  assert.ok(bobInvite);
  const rr = bobInvite.recordRoutes();
  assert.equal(rr.length, 1);
  assert.match(rr[0]!.uriText, new RegExp(`^sip:127\\.0\\.0\\.1:${rig.proxy.port};transport=udp;lr;vxd=`));
  // Our credentials were consumed by the proxy (RFC 3261 §22.3).
  assert.equal(bobInvite.headers.has('proxy-authorization'), false);
  await until(() => bobGotAck, 3000, 'ACK at bob');

  const dialog = alice.dialogOf(response);
  assert.ok(dialog);
  const bye = await alice.requestInDialog(dialog, 'BYE');
  assert.equal(bye.status, 200);
  assert.ok(bobGotBye);

  // bob → alice in the other direction, also through the proxy.
  alice.onRequest((incoming) => {
    if (incoming.request.method === 'INVITE') incoming.respond(200, { body: SDP, contentType: 'application/sdp' });
  });
  const back = await rig.send(bob, bob.createRequest({ method: 'INVITE', uri: `sip:alice@${DOMAIN}`, body: SDP }));
  assert.equal(back.status, 200);
  const backDialog = bob.dialogOf(back);
  assert.ok(backDialog);
  assert.equal((await bob.requestInDialog(backDialog, 'BYE')).status, 200);
});

test('G15: Max-Forwards 0 → 483; OPTIONS to the server itself → 200 (health)', { timeout: 10_000 }, async () => {
  rig = await startRig();
  const alice = await rig.ua('alice');
  const bob = await rig.ua('bob');
  assert.equal((await rig.register(bob, 'bob')).status, 200);
  const invite = alice.createRequest({ method: 'MESSAGE', uri: `sip:bob@${DOMAIN}`, body: 'hi', contentType: 'text/plain' });
  invite.headers.set('Max-Forwards', '0');
  assert.equal((await rig.send(alice, invite)).status, 483);
  const health = alice.createRequest({ method: 'OPTIONS', uri: `sip:127.0.0.1:${rig.proxy.port}`, from: 'sip:sipsak@127.0.0.1' });
  assert.equal((await rig.send(alice, health, { credentials: null })).status, 200);
});

test('G31/G32/G33: no open relay — foreign-to-foreign, a preloaded Route and a spoofed local From are never forwarded', { timeout: 10_000 }, async () => {
  // With subscribers: the request must authenticate first (407) and is not forwarded.
  rig = await startRig();
  let mallory = await rig.ua('mallory', { aor: 'sip:mallory@evil.example', password: null });
  let outgoing: string[] = [];
  rig.server.agent.on('outgoing', ({ request }) => outgoing.push(request.method));
  const relay = (): SipRequest => mallory.createRequest({ method: 'INVITE', uri: 'sip:victim@other.example', body: SDP });
  const preloaded = (): SipRequest =>
    mallory.createRequest({ method: 'MESSAGE', uri: `sip:bob@${DOMAIN}`, body: 'x', contentType: 'text/plain', headers: [['Route', '<sip:127.0.0.1:9;lr>']] });
  assert.equal((await rig.send(mallory, relay())).status, 407);
  assert.equal((await rig.send(mallory, preloaded())).status, 407);
  // G32: a From claiming our domain must be proven.
  const spoof = mallory.createRequest({ method: 'MESSAGE', uri: `sip:bob@${DOMAIN}`, from: `sip:alice@${DOMAIN}`, body: 'x', contentType: 'text/plain' });
  assert.equal((await rig.send(mallory, spoof)).status, 407);
  assert.deepEqual(outgoing, []);
  await rig.close();

  // Without subscribers nothing can be proven: 403.
  rig = await startRig({ noUsers: true });
  mallory = await rig.ua('mallory', { aor: 'sip:mallory@evil.example', password: null });
  outgoing = [];
  rig.server.agent.on('outgoing', ({ request }) => outgoing.push(request.method));
  assert.equal((await rig.send(mallory, relay())).status, 403);
  assert.equal((await rig.send(mallory, preloaded())).status, 403);
  assert.deepEqual(outgoing, []);
});

/** What G24 compares: status, reason, header names, challenge params without nonce. */
function shape(response: SipResponse): unknown {
  const names = response.headers.all().map((f) => f.key).filter((k) => k !== 'content-length');
  const challenges = response.headers.getAll('www-authenticate').map((v) =>
    parseAuthHeader(v, 'www-authenticate').params.filter((p) => p.name !== 'nonce' && p.name !== 'opaque').map((p) => `${p.name}=${p.value}`),
  );
  return { status: response.status, reason: response.reason, names, challenges };
}

test('G24: unknown user, wrong password and no credentials get the same 401', { timeout: 10_000 }, async () => {
  rig = await startRig();
  const unknown = await rig.ua('nobody');
  const wrong = await rig.ua('alice', { password: 'not-the-password' });
  const none = await rig.ua('alice', { password: null });
  const a = await rig.register(unknown, 'nobody');
  const b = await rig.register(wrong, 'alice');
  const c = await rig.register(none, 'alice');
  assert.equal(a.status, 401);
  assert.deepEqual(shape(a), shape(b));
  assert.deepEqual(shape(b), shape(c));
  assert.equal((await rig.server.agent.location.lookup(`sip:alice@${DOMAIN}`)).length, 0); // G20
});

test('CANCEL from the caller is forwarded to the ringing callee; the caller gets 487', { timeout: 10_000 }, async () => {
  rig = await startRig();
  const alice = await rig.ua('alice');
  const bob = await rig.ua('bob');
  assert.equal((await rig.register(bob, 'bob')).status, 200);
  let cancelled = false;
  let ringing = false;
  bob.onRequest((incoming) => {
    incoming.respond(180);
    ringing = true;
    incoming.signal.addEventListener('abort', () => (cancelled = true));
  });
  const controller = new AbortController();
  const pending = rig.send(alice, alice.createRequest({ method: 'INVITE', uri: `sip:bob@${DOMAIN}`, body: SDP }), { signal: controller.signal });
  await until(() => ringing, 3000, 'ringing');
  await new Promise((r) => setTimeout(r, 50));
  controller.abort();
  const response = await pending;
  assert.equal(response.status, 487);
  assert.ok(cancelled);
});

test('forking: two bindings of one AOR ring; the answer wins and the other gets CANCEL', { timeout: 10_000 }, async () => {
  rig = await startRig();
  const alice = await rig.ua('alice');
  const bob1 = await rig.ua('bob');
  const bob2 = await rig.ua('bob');
  assert.equal((await rig.register(bob1, 'bob')).status, 200);
  assert.equal((await rig.register(bob2, 'bob')).status, 200);
  assert.equal((await rig.server.agent.location.lookup(`sip:bob@${DOMAIN}`)).length, 2);
  let bob1Cancelled = false;
  let second: IncomingRequest | undefined;
  bob1.onRequest((incoming) => {
    incoming.respond(180);
    incoming.signal.addEventListener('abort', () => (bob1Cancelled = true));
  });
  bob2.onRequest((incoming) => {
    incoming.respond(180);
    second = incoming;
  });
  const pending = rig.send(alice, alice.createRequest({ method: 'INVITE', uri: `sip:bob@${DOMAIN}`, body: SDP }));
  await until(() => second !== undefined, 3000, 'bob2 ringing');
  second!.respond(200, { body: SDP, contentType: 'application/sdp' });
  const response = await pending;
  assert.equal(response.status, 200);
  await until(() => bob1Cancelled, 3000, 'CANCEL at bob1');
  const dialog = alice.dialogOf(response);
  assert.ok(dialog);
  assert.equal((await alice.requestInDialog(dialog, 'BYE')).status, 200);
});

test('a WebSocket client is reached from a UDP caller over its own connection, with a double Record-Route (RFC 5658)', { timeout: 10_000 }, async () => {
  rig = await startRig({}, [{ protocol: 'ws', host: '127.0.0.1', port: 0 }]);
  const wsAddress = rig.server.agent.localAddress('ws')!;
  const alice = await rig.ua('alice');
  const bob = await rig.ua('bob', {
    listen: [
      { protocol: 'udp', host: '127.0.0.1', port: 0 },
      { protocol: 'ws', host: '127.0.0.1', port: 0 },
    ],
  });
  const reg = await rig.register(bob, 'bob', { contact: bob.contact('ws'), target: wsAddress });
  assert.equal(reg.status, 200);
  const [binding] = await rig.server.agent.location.lookup(`sip:bob@${DOMAIN}`);
  assert.equal(binding?.received?.protocol, 'ws');

  let invite: SipRequest | undefined;
  let inviteSourcePort = 0;
  let byeOverWs = false;
  let ack = false;
  bob.on('ack', () => (ack = true));
  bob.onRequest((incoming) => {
    if (incoming.request.method === 'INVITE') {
      invite = incoming.request;
      inviteSourcePort = incoming.source.port;
      incoming.respond(200, { body: SDP, contentType: 'application/sdp' });
    } else if (incoming.request.method === 'BYE') {
      // Over the connection bob opened (its remote end is the server's WS listener), not a new one.
      byeOverWs = incoming.source.protocol === 'ws' && incoming.source.port === wsAddress.port;
    }
  });
  const response = await rig.send(alice, alice.createRequest({ method: 'INVITE', uri: `sip:bob@${DOMAIN}`, body: SDP }));
  assert.equal(response.status, 200);
  assert.ok(invite);
  assert.equal(inviteSourcePort, wsAddress.port);
  const rr = invite.recordRoutes().map((r) => r.uriText);
  assert.equal(rr.length, 2);
  assert.match(rr[0]!, /transport=ws/);
  assert.match(rr[1]!, /transport=udp/);
  // Alice sees both too, and routes through the UDP one first.
  assert.equal(response.recordRoutes().length, 2);
  await until(() => ack, 3000, 'ACK over WS');
  const dialog = alice.dialogOf(response)!;
  assert.equal((await alice.requestInDialog(dialog, 'BYE')).status, 200);
  assert.ok(byeOverWs);
});
