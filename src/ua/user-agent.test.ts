/** UserAgent on the testing kit: fake network, fake clock, fake DNS — no sockets, no waiting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserAgent } from './user-agent.js';
import { FakeClock, FakeDns, FakeNetwork, SeededRandom } from '../testing/index.js';
import { Resolver } from '../resolver/index.js';

function setup(): { clock: FakeClock; network: FakeNetwork; dns: FakeDns; resolver: Resolver } {
  const clock = new FakeClock();
  const network = new FakeNetwork({ clock, random: new SeededRandom(3) });
  const dns = new FakeDns()
    .srv('_sip._udp.example.test', [
      { priority: 10, weight: 0, port: 5060, target: 'first.example.test' },
      { priority: 20, weight: 0, port: 5060, target: 'second.example.test' },
    ])
    .a('first.example.test', ['127.0.0.2'])
    .a('second.example.test', ['127.0.0.3']);
  const resolver = new Resolver({ dns, clock, protocols: ['udp'] });
  return { clock, network, dns, resolver };
}

/** Lets promise callbacks and zero-delay deliveries run. */
async function settle(clock: FakeClock, ms = 0): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(ms / 20);
  }
}

test('RFC 3263 fail-over: an unreachable first SRV target moves the request to the second', async () => {
  const { clock, network, resolver } = setup();
  const alice = new UserAgent({ transport: network.endpoint('127.0.0.1:5060'), clock, resolver, random: new SeededRandom(1) });
  const second = new UserAgent({ transport: network.endpoint('127.0.0.3:5060'), clock, resolver, random: new SeededRandom(2) });
  await Promise.all([alice.start(), second.start()]);
  network.setUnreachable('127.0.0.2:5060');
  const pending = alice.request(alice.createRequest({ method: 'OPTIONS', uri: 'sip:bob@example.test' }));
  await settle(clock, 100);
  const response = await pending;
  assert.equal(response.status, 200);
  assert.deepEqual(
    network.sent.filter((w) => w.label.startsWith('OPTIONS')).map((w) => w.to.host),
    ['127.0.0.2', '127.0.0.3'],
  );
});

test('a 503 from the first target is retried at the second; a timeout becomes a local 408', async () => {
  const { clock, network, resolver } = setup();
  const alice = new UserAgent({ transport: network.endpoint('127.0.0.1:5060'), clock, resolver });
  const first = new UserAgent({ transport: network.endpoint('127.0.0.2:5060'), clock, resolver });
  const second = new UserAgent({ transport: network.endpoint('127.0.0.3:5060'), clock, resolver });
  await Promise.all([alice.start(), first.start(), second.start()]);
  first.onRequest((incoming) => {
    incoming.respond(503);
  });
  const pending = alice.request(alice.createRequest({ method: 'OPTIONS', uri: 'sip:bob@example.test' }));
  await settle(clock, 100);
  assert.equal((await pending).status, 200);

  // Nobody answers at all: Timer F (64·T1) fires on both targets, and the result is a 408.
  // A handler keeps a request pending by returning a promise (here one that never settles).
  second.onRequest(() => new Promise<void>(() => {}));
  first.onRequest(() => new Promise<void>(() => {}));
  const silent = alice.request(alice.createRequest({ method: 'MESSAGE', uri: 'sip:bob@example.test', body: 'x', contentType: 'text/plain' }));
  for (let i = 0; i < 10; i++) await settle(clock, 10_000);
  const timedOut = await silent;
  assert.equal(timedOut.status, 408);
  assert.equal(timedOut.reason, 'Request Timeout');
});
