/** UserAgent against UserAgent over real loopback sockets (127.0.0.1 only, bounded in time). */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { UserAgent, type IncomingRequest } from '../../src/ua/index.js';
import { DigestServer, computeHa1 } from '../../src/auth/index.js';
import { SystemClock } from '../../src/core/clock.js';
import { CryptoRandom } from '../../src/core/random.js';
import { formatAuthHeader, parseAuthHeader, tagOf } from '../../src/sip/index.js';
import { TransportLayer } from '../../src/transport/index.js';
import { ImpairedTransport } from '../../src/testing/impaired-transport.js';

const agents: UserAgent[] = [];
after(async () => {
  await Promise.all(agents.map((a) => a.close()));
});

async function agent(options: ConstructorParameters<typeof UserAgent>[0] = {}): Promise<UserAgent> {
  const ua = new UserAgent({ timers: { t1: 100, t2: 400 }, ...options });
  agents.push(ua);
  await ua.start();
  return ua;
}

function uriOf(ua: UserAgent, user = 'bob'): string {
  const a = ua.localAddress('udp')!;
  return `sip:${user}@${a.host}:${a.port}`;
}

describe('UserAgent over UDP loopback', () => {
  test('OPTIONS gets 200 with Allow by default', async () => {
    const [a, b] = [await agent(), await agent()];
    const response = await a.request(a.createRequest({ method: 'OPTIONS', uri: uriOf(b) }));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('allow') ?? '', /INVITE/);
  });

  test('INVITE → 180 → 200 → ACK, then BYE ends both dialogs', async () => {
    const [a, b] = [await agent(), await agent()];
    const acked = new Promise<void>((resolve) => b.once('ack', () => resolve()));
    b.onRequest((incoming) => {
      if (incoming.request.method === 'INVITE') {
        incoming.respond(180);
        setTimeout(() => incoming.respond(200, { body: 'v=0\r\n', contentType: 'application/sdp' }), 20);
      }
    });
    const provisional: number[] = [];
    const response = await a.request(a.createRequest({ method: 'INVITE', uri: uriOf(b), body: 'v=0\r\n' }), {
      onProvisional: (r) => provisional.push(r.status),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(provisional, [180]);
    assert.equal(response.body.toString(), 'v=0\r\n');
    await acked;
    const dialog = a.dialogOf(response);
    assert.ok(dialog);
    assert.equal(dialog.state, 'confirmed');
    const ended = new Promise<string>((resolve) => b.once('dialogTerminated', (e) => resolve(e.reason)));
    const bye = await a.requestInDialog(dialog, 'BYE');
    assert.equal(bye.status, 200);
    assert.equal(await ended, 'bye received');
    assert.equal(a.dialogCount, 0);
    assert.equal(b.dialogCount, 0);
  });

  test('a BYE for an unknown dialog gets 481 (G18)', async () => {
    const [a, b] = [await agent(), await agent()];
    const bye = a.createRequest({ method: 'BYE', uri: uriOf(b) });
    bye.headers.set('To', `<${uriOf(b)}>;tag=nosuchdialog`);
    const response = await a.request(bye);
    assert.equal(response.status, 481);
  });

  test('aborting an INVITE sends CANCEL: the UAS sees the signal and the UAC gets 487', async () => {
    const [a, b] = [await agent(), await agent()];
    const cancelled = new Promise<void>((resolve) => {
      b.onRequest((incoming: IncomingRequest) => {
        incoming.respond(180);
        incoming.signal.addEventListener('abort', () => resolve());
      });
    });
    const controller = new AbortController();
    const pending = a.request(a.createRequest({ method: 'INVITE', uri: uriOf(b) }), {
      signal: controller.signal,
      onProvisional: () => controller.abort(),
    });
    const response = await pending;
    await cancelled;
    assert.equal(response.status, 487);
  });

  test('401 and 407 challenges are answered with digest; a wrong password does not loop', async () => {
    const clock = new SystemClock();
    const server = new DigestServer({
      realm: 'voxlite.test',
      secret: new CryptoRandom().bytes(32),
      clock,
      random: new CryptoRandom(),
      algorithms: ['SHA-256', 'MD5'],
      lookupHa1: (user, realm, algorithm) => (user === 'alice' ? computeHa1(algorithm, 'alice', realm, 's3cret') : undefined),
    });
    const b = await agent();
    let challenges = 0;
    b.onRequest(async (incoming) => {
      const proxy = incoming.request.method === 'MESSAGE';
      const header = proxy ? 'proxy-authorization' : 'authorization';
      const raw = incoming.request.headers.get(header);
      if (raw !== undefined) {
        const verdict = await server.verify({ method: incoming.request.method, requestUri: incoming.request.uri, credentials: parseAuthHeader(raw, header) });
        if (verdict.ok) {
          incoming.respond(200);
          return;
        }
      }
      challenges++;
      incoming.respond(proxy ? 407 : 401, {
        headers: server.challenge().map((c) => [proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate', formatAuthHeader(c)] as const),
      });
    });
    const good = await agent({ credentials: { username: 'alice', password: 's3cret' } });
    const register = await good.request(good.createRequest({ method: 'REGISTER', uri: uriOf(b, '') .replace('sip:@', 'sip:') }));
    assert.equal(register.status, 200);
    const message = await good.request(good.createRequest({ method: 'MESSAGE', uri: uriOf(b), body: 'hi', contentType: 'text/plain' }));
    assert.equal(message.status, 200);
    assert.equal(challenges, 2);
    const bad = await agent({ credentials: { username: 'alice', password: 'wrong' } });
    const refused = await bad.request(bad.createRequest({ method: 'REGISTER', uri: uriOf(b, '').replace('sip:@', 'sip:') }));
    assert.equal(refused.status, 401);
    assert.equal(challenges, 4, 'one challenge for the first try, one for the answered retry, then give up');
  });

  test('with 10% loss each way, calls still complete through retransmissions', async () => {
    const clock = new SystemClock();
    const layerA = new TransportLayer({ listeners: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], clock });
    const layerB = new TransportLayer({ listeners: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], clock });
    await Promise.all([layerA.listen(), layerB.listen()]);
    const a = await agent({ transport: new ImpairedTransport(layerA, { lossPercent: 10, seed: 11 }) });
    const b = await agent({ transport: new ImpairedTransport(layerB, { lossPercent: 10, seed: 29 }) });
    b.onRequest((incoming) => {
      if (incoming.request.method === 'INVITE') incoming.respond(200);
    });
    try {
      for (let call = 0; call < 5; call++) {
        const response = await a.request(a.createRequest({ method: 'INVITE', uri: uriOf(b) }));
        assert.equal(response.status, 200, `call ${call}`);
        const dialog = a.dialogOf(response);
        assert.ok(dialog);
        const bye = await a.requestInDialog(dialog, 'BYE');
        assert.equal(bye.status, 200, `bye ${call}`);
      }
    } finally {
      await a.close();
      await b.close();
      await Promise.all([layerA.close(), layerB.close()]);
    }
  });

  test('a re-INVITE gets its own ACK: the callee stops retransmitting its 2xx and keeps the call', async () => {
    const [a, b] = [await agent({ timers: { t1: 20, t2: 80 } }), await agent({ timers: { t1: 20, t2: 80 } })];
    const acks: number[] = [];
    b.on('ack', ({ ack }) => acks.push(ack.cseq().seq));
    const ended: string[] = [];
    b.on('dialogTerminated', ({ reason }) => ended.push(reason));
    b.onRequest((incoming) => {
      if (incoming.request.method === 'INVITE') incoming.respond(200, { body: 'v=0\r\n' });
    });
    const answer = await a.request(a.createRequest({ method: 'INVITE', uri: uriOf(b), body: 'v=0\r\n' }));
    const dialog = a.dialogOf(answer);
    assert.ok(dialog);
    const reinvite = await a.requestInDialog(dialog, 'INVITE', { body: 'v=0\r\n', contentType: 'application/sdp' });
    assert.equal(reinvite.status, 200);
    // Past 64·T1 (1.28 s here): without the right ACK the callee would give up and send BYE.
    await new Promise((r) => setTimeout(r, 1600));
    assert.deepEqual(ended, []);
    assert.equal(new Set(acks).size, 2, `ACKs with the CSeq of each INVITE: ${acks.join(',')}`);
    assert.equal((await a.requestInDialog(dialog, 'BYE')).status, 200);
  });

  test('close() is idempotent and requests after it fail', async () => {
    const ua = await agent();
    await Promise.all([ua.close(), ua.close()]);
    await assert.rejects(ua.request(ua.createRequest({ method: 'OPTIONS', uri: 'sip:x@127.0.0.1:9' })));
    assert.equal(tagOf(ua.createRequest({ method: 'OPTIONS', uri: 'sip:x@127.0.0.1' }).from())?.length, 10);
  });
});
