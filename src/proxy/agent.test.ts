/** The Agent and its proxy core on the testing kit: fake network, fake clock — no sockets, no waiting. */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from './agent.js';
import { ContextActionError, type Handler, type RequestContext } from './context.js';
import { FakeClock, FakeDns, FakeNetwork, SeededRandom, type FakeTransport } from '../testing/index.js';
import { Resolver } from '../resolver/index.js';
import { UserAgent, type IncomingRequest } from '../ua/user-agent.js';
import type { SipRequest } from '../sip/message.js';

const PROXY = '127.0.1.1:5060';
const PROXY_TARGET = { protocol: 'udp', host: '127.0.1.1', port: 5060 } as const;

interface Ctx {
  clock: FakeClock;
  network: FakeNetwork;
  resolver: Resolver;
  agent: Agent;
  proxyTransport: FakeTransport;
  alice: UserAgent;
  bob: UserAgent;
  carol: UserAgent;
  closers: Array<() => Promise<void>>;
}

let t: Ctx;

function makeUa(address: string, aor: string, seed: number): UserAgent {
  const ua = new UserAgent({
    transport: t.network.endpoint(address),
    clock: t.clock,
    resolver: t.resolver,
    random: new SeededRandom(seed),
    aor,
    credentials: { username: aor.slice(4, aor.indexOf('@')), password: 'secret' },
  });
  t.closers.push(() => ua.close());
  return ua;
}

beforeEach(async () => {
  const clock = new FakeClock();
  const network = new FakeNetwork({ clock, random: new SeededRandom(7) });
  const resolver = new Resolver({ dns: new FakeDns(), clock, protocols: ['udp', 'tcp', 'tls', 'ws', 'wss'] });
  const proxyTransport = network.endpoint(PROXY, ['udp', 'tcp']);
  const agent = new Agent({
    transport: proxyTransport,
    clock,
    resolver,
    random: new SeededRandom(1),
    domains: ['example.com'],
    secret: Buffer.alloc(32, 1),
  });
  t = { clock, network, resolver, agent, proxyTransport, closers: [] } as unknown as Ctx;
  t.alice = makeUa('127.0.1.2:5060', 'sip:alice@example.com', 2);
  t.bob = makeUa('127.0.1.3:5060', 'sip:bob@example.com', 3);
  t.carol = makeUa('127.0.1.4:5060', 'sip:carol@example.com', 4);
  await Promise.all([agent.start(), t.alice.start(), t.bob.start(), t.carol.start()]);
});

afterEach(async () => {
  for (const close of t.closers) await close();
  await t.agent.close();
});

/** Lets promise callbacks and deliveries run, advancing the fake clock by `ms` in steps. */
async function settle(ms = 0, steps = 20): Promise<void> {
  for (let i = 0; i < steps; i++) {
    await new Promise((r) => setImmediate(r));
    t.clock.advance(ms / steps);
  }
}

async function send(ua: UserAgent, request: SipRequest, ms = 100): Promise<import('../sip/message.js').SipResponse> {
  const pending = ua.request(request, { target: PROXY_TARGET });
  await settle(ms);
  return pending;
}

async function register(ua: UserAgent, user: string): Promise<void> {
  const req = ua.createRequest({ method: 'REGISTER', uri: 'sip:example.com', to: `sip:${user}@example.com`, from: `sip:${user}@example.com` });
  const response = await send(ua, req);
  assert.equal(response.status, 200);
}

const simpleRoute: Handler = async (ctx) => {
  if (ctx.method === 'REGISTER') return ctx.accept();
  return ctx.proxy(undefined, { recordRoute: true });
};

test('no route → 501; a throwing route → 500 and an error event, never a crash', async () => {
  let res = await send(t.alice, t.alice.createRequest({ method: 'OPTIONS', uri: 'sip:example.com' }));
  assert.equal(res.status, 501);
  const errors: Error[] = [];
  t.agent.on('error', (e) => errors.push(e));
  t.agent.route(() => {
    throw new Error('boom');
  });
  res = await send(t.alice, t.alice.createRequest({ method: 'OPTIONS', uri: 'sip:example.com' }));
  assert.equal(res.status, 500);
  assert.equal(errors.length, 1);
});

test('an action runs once: a second one throws ContextActionError; err.status is honoured', async () => {
  let caught: unknown;
  t.agent.route((ctx) => {
    ctx.reject(486);
    try {
      ctx.reject(500);
    } catch (error) {
      caught = error;
    }
  });
  const res = await send(t.alice, t.alice.createRequest({ method: 'MESSAGE', uri: 'sip:bob@example.com', body: 'x', contentType: 'text/plain' }));
  assert.equal(res.status, 486);
  assert.ok(caught instanceof ContextActionError);
  t.agent.setRoute([
    () => {
      throw Object.assign(new Error('nope'), { status: 403 });
    },
  ]);
  const res2 = await send(t.alice, t.alice.createRequest({ method: 'MESSAGE', uri: 'sip:bob@example.com', body: 'x', contentType: 'text/plain' }));
  assert.equal(res2.status, 403);
});

test('middleware composes in order; a handler that does not act passes on', async () => {
  const seen: string[] = [];
  t.agent.use(async (ctx: RequestContext, next: () => Promise<void>) => {
    seen.push('mw1');
    await next();
    seen.push('mw1-after');
  });
  t.agent.use((ctx: RequestContext) => {
    seen.push(`h:${ctx.method}:${ctx.transport}`);
  });
  t.agent.route((ctx) => ctx.accept());
  const res = await send(t.alice, t.alice.createRequest({ method: 'OPTIONS', uri: 'sip:example.com' }));
  assert.equal(res.status, 200);
  assert.deepEqual(seen, ['mw1', 'h:OPTIONS:udp', 'mw1-after']);
});

test('register, call through record-route, ACK and BYE loose-routed via the proxy', async () => {
  t.agent.route(simpleRoute);
  const outgoing: string[] = [];
  t.agent.attach('outgoing', ({ request }) => outgoing.push(request.method));
  await register(t.bob, 'bob');
  const bindings = await t.agent.location.lookup('sip:bob@example.com');
  assert.equal(bindings.length, 1);

  let bobInvite: SipRequest | undefined;
  t.bob.onRequest((incoming) => {
    if (incoming.request.method === 'INVITE') {
      bobInvite = incoming.request;
      incoming.respond(180);
      incoming.respond(200, { body: 'v=0\r\n', contentType: 'application/sdp' });
    }
  });
  const invite = t.alice.createRequest({ method: 'INVITE', uri: 'sip:bob@example.com', body: 'v=0\r\n' });
  const res = await send(t.alice, invite, 200);
  assert.equal(res.status, 200);
  assert.ok(bobInvite);
  assert.equal(bobInvite.maxForwards(), 69);
  const rr = bobInvite.recordRoutes();
  assert.equal(rr.length, 1);
  assert.match(rr[0]!.uriText, /^sip:127\.0\.1\.1:5060;transport=udp;lr;vxd=/);
  assert.equal(res.recordRoutes().length, 1);

  const dialog = t.alice.dialogOf(res);
  assert.ok(dialog);
  await settle(100);
  // The ACK went alice → proxy → bob (stateless, by Route).
  const acks = t.network.sent.filter((w) => w.label === 'ACK');
  assert.deepEqual(acks.map((w) => w.to.host), ['127.0.1.1', '127.0.1.3']);

  const byePending = t.alice.requestInDialog(dialog, 'BYE');
  await settle(100);
  assert.equal((await byePending).status, 200);
  const byes = t.network.sent.filter((w) => w.label === 'BYE');
  assert.deepEqual(byes.map((w) => w.to.host), ['127.0.1.1', '127.0.1.3']);
  assert.deepEqual(outgoing, ['INVITE', 'ACK', 'BYE']);
});

test('G15: Max-Forwards 0 → 483; absent → 70 added', async () => {
  t.agent.route(simpleRoute);
  await register(t.bob, 'bob');
  const zero = t.alice.createRequest({ method: 'MESSAGE', uri: 'sip:bob@example.com', body: 'x', contentType: 'text/plain' });
  zero.headers.set('Max-Forwards', '0');
  assert.equal((await send(t.alice, zero)).status, 483);

  let seen: SipRequest | undefined;
  t.bob.onRequest((incoming) => {
    seen = incoming.request;
    incoming.respond(200);
  });
  const none = t.alice.createRequest({ method: 'MESSAGE', uri: 'sip:bob@example.com', body: 'x', contentType: 'text/plain' });
  none.headers.delete('Max-Forwards');
  assert.equal((await send(t.alice, none)).status, 200);
  assert.equal(seen?.maxForwards(), 70);
});

test('§16.3 step 4: a request forwarded back to ourselves unchanged is a loop (482)', async () => {
  t.agent.route((ctx) => ctx.proxy('sip:loop@127.0.1.1:5060'));
  const res = await send(t.alice, t.alice.createRequest({ method: 'MESSAGE', uri: 'sip:loop@127.0.1.1:5060', body: 'x', contentType: 'text/plain' }), 200);
  assert.equal(res.status, 482);
});

test('forking: two bindings ring in parallel; the 2xx wins and the other branch is CANCELled', async () => {
  t.agent.route(simpleRoute);
  await register(t.bob, 'bob');
  // carol registers a second contact for bob's AOR
  const reg = t.carol.createRequest({ method: 'REGISTER', uri: 'sip:example.com', to: 'sip:bob@example.com', from: 'sip:bob@example.com' });
  assert.equal((await send(t.carol, reg)).status, 200);
  assert.equal((await t.agent.location.lookup('sip:bob@example.com')).length, 2);
  let bobIncoming: IncomingRequest | undefined;
  t.bob.onRequest((incoming) => {
    bobIncoming = incoming;
    incoming.respond(180);
  });
  let carolCancelled = false;
  t.carol.onRequest((incoming) => {
    incoming.respond(180);
    incoming.signal.addEventListener('abort', () => (carolCancelled = true));
  });
  const pending = t.alice.request(t.alice.createRequest({ method: 'INVITE', uri: 'sip:bob@example.com', body: 'v=0\r\n' }), {
    target: PROXY_TARGET,
  });
  await settle(100);
  assert.ok(t.network.sent.some((w) => w.label === 'INVITE' && w.to.host === '127.0.1.3'));
  assert.ok(t.network.sent.some((w) => w.label === 'INVITE' && w.to.host === '127.0.1.4'));
  assert.ok(bobIncoming);
  bobIncoming.respond(200, { body: 'v=0\r\n', contentType: 'application/sdp' });
  await settle(100);
  assert.equal((await pending).status, 200);
  assert.ok(carolCancelled);
  assert.ok(t.network.sent.some((w) => w.label === 'CANCEL' && w.to.host === '127.0.1.4'));
  // carol's 487 is absorbed by the proxy: alice saw exactly one final response.
  assert.ok(t.network.sent.some((w) => w.label === '487/INVITE' && w.to.host === '127.0.1.1'));
  assert.ok(!t.network.sent.some((w) => w.label === '487/INVITE' && w.to.host === '127.0.1.2'));
});

test('§16.7 step 6: best response — 6xx first, else lowest class; 503 becomes 500; challenges aggregated', async () => {
  const { chooseBestResponse } = await import('./forward.js');
  const { createResponse } = await import('../sip/build.js');
  const req = t.alice.createRequest({ method: 'INVITE', uri: 'sip:bob@example.com' });
  const r = (status: number, headers: Array<[string, string]> = []) => createResponse(req, status, { headers });
  assert.equal(chooseBestResponse([r(486), r(603), r(302)]).status, 603);
  assert.equal(chooseBestResponse([r(486), r(302)]).status, 302);
  assert.equal(chooseBestResponse([r(503)]).status, 500);
  assert.equal(chooseBestResponse([r(487), r(404)]).status, 404);
  const best = chooseBestResponse([r(407, [['Proxy-Authenticate', 'Digest realm="a"']]), r(401, [['WWW-Authenticate', 'Digest realm="b"']])]);
  assert.equal(best.status, 407);
  assert.equal(best.headers.getAll('proxy-authenticate').length, 1);
  assert.equal(best.headers.getAll('www-authenticate').length, 1);
});

test('G34: an in-dialog request with a forged Route (ours without the MAC, or foreign) gets 403', async () => {
  let routed = false;
  t.agent.route((ctx) => {
    routed = true;
    return ctx.proxy();
  });
  const forged = t.alice.createRequest({
    method: 'BYE',
    uri: 'sip:gateway@127.0.1.9',
    to: 'sip:x@example.com',
    headers: [['Route', '<sip:127.0.1.1:5060;transport=udp;lr;vxd=AAAAAAAAAAAAAAAAAAAAAA>']],
  });
  forged.headers.set('To', '<sip:x@example.com>;tag=fake');
  assert.equal((await send(t.alice, forged)).status, 403);
  const foreign = t.alice.createRequest({ method: 'BYE', uri: 'sip:gateway@127.0.1.9', headers: [['Route', '<sip:127.0.1.9;lr>']] });
  foreign.headers.set('To', '<sip:x@example.com>;tag=fake');
  assert.equal((await send(t.alice, foreign)).status, 403);
  assert.equal(routed, false);
});

test('challenge(): 407 for INVITE, 401 for REGISTER; authenticate() verifies stored HA1 only', async () => {
  const { computeHa1 } = await import('../auth/digest.js');
  const agent = new Agent({
    transport: t.network.endpoint('127.0.1.9:5060'),
    clock: t.clock,
    resolver: t.resolver,
    realm: 'example.com',
    secret: Buffer.alloc(32, 2),
    users: (user, realm, alg) => (user === 'alice' ? computeHa1(alg, user, realm, 'secret') : undefined),
  });
  t.closers.push(() => agent.close());
  await agent.start();
  const users: Array<string | undefined> = [];
  agent.route(async (ctx) => {
    const user = await ctx.authenticate();
    users.push(user);
    if (user === undefined) return ctx.challenge();
    return ctx.accept();
  });
  const target = { protocol: 'udp', host: '127.0.1.9', port: 5060 } as const;
  const noCreds = t.alice.request(t.alice.createRequest({ method: 'OPTIONS', uri: 'sip:example.com' }), { target, credentials: null });
  await settle(100);
  const r1 = await noCreds;
  assert.equal(r1.status, 407);
  assert.match(r1.headers.get('proxy-authenticate') ?? '', /realm="example.com"/);
  const withCreds = t.alice.request(t.alice.createRequest({ method: 'OPTIONS', uri: 'sip:example.com' }), { target });
  await settle(100);
  assert.equal((await withCreds).status, 200);
  const reg = t.alice.request(t.alice.createRequest({ method: 'REGISTER', uri: 'sip:example.com', to: 'sip:alice@example.com' }), { target, credentials: null });
  await settle(100);
  assert.equal((await reg).status, 401);
  assert.ok(users.includes('alice'));
});

test('onFailure: busy goes on to a second target in the same transaction (serial forking)', async () => {
  t.bob.onRequest((incoming) => {
    incoming.respond(486);
  });
  t.carol.onRequest((incoming) => {
    incoming.respond(200, { body: 'v=0\r\n', contentType: 'application/sdp' });
  });
  let seen = 0;
  t.agent.route((ctx) =>
    ctx.proxy('sip:bob@127.0.1.3:5060', {
      recordRoute: true,
      onFailure: (response) => {
        seen = response.status;
        return 'sip:carol@127.0.1.4:5060';
      },
    }),
  );
  const res = await send(t.alice, t.alice.createRequest({ method: 'INVITE', uri: 'sip:bob@example.com', body: 'v=0\r\n' }), 200);
  assert.equal(res.status, 200);
  assert.equal(seen, 486);
});
