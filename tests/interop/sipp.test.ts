/**
 * SIPp (Debian package `sip-tester`) against a voxlite UserAgent, 127.0.0.1 only, bounded in
 * count and time: SIPp as UAC sends OPTIONS and INVITE/ACK/BYE to us, SIPp as UAS answers our
 * INVITEs, and with 10% UDP loss on our side every call still completes by retransmission.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { UserAgent } from '../../src/ua/index.js';
import { SystemClock } from '../../src/core/clock.js';
import { TransportLayer } from '../../src/transport/index.js';
import { ImpairedTransport } from '../../src/testing/impaired-transport.js';
import { requirePeer } from './lib/peers.js';
import { sparePort } from './lib/ports.js';
import { startPeer } from './lib/process.js';

const scenarios = fileURLToPath(new URL('./sipp/', import.meta.url));
const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function voxliteUas(lossPercent = 0): Promise<{ ua: UserAgent; port: number; acks: () => number; byes: () => number }> {
  const layer = new TransportLayer({ listeners: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], clock: new SystemClock() });
  await layer.listen();
  const transport = lossPercent > 0 ? new ImpairedTransport(layer, { lossPercent, seed: 7 }) : layer;
  const ua = new UserAgent({ transport, timers: { t1: 200 } });
  cleanup.push(async () => {
    await ua.close();
    await layer.close();
  });
  await ua.start();
  let acks = 0;
  let byes = 0;
  ua.on('ack', () => acks++);
  ua.onRequest((incoming) => {
    if (incoming.request.method === 'INVITE') {
      incoming.respond(180);
      incoming.respond(200, { body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n' });
    } else if (incoming.request.method === 'BYE') {
      byes++;
    }
  });
  return { ua, port: ua.localAddress('udp')!.port, acks: () => acks, byes: () => byes };
}

async function runSipp(args: string[]): Promise<{ code: number | null; output: string }> {
  const port = await sparePort();
  const peer = startPeer('sipp', ['-i', '127.0.0.1', '-p', String(port), '-nostdin', '-timeout', '60s', '-timeout_error', '-max_recv_loops', '1000', ...args], {
    cwd: scenarios,
    maxMs: 70_000,
  });
  const code = await peer.exited(70_000);
  return { code, output: peer.output() };
}

describe('SIPp interop', { timeout: 180_000 }, () => {
  test('SIPp UAC: OPTIONS answered 200 with Allow', async (t) => {
    if (!requirePeer(t, 'sipp', 'sip-tester')) return;
    const { port } = await voxliteUas();
    const result = await runSipp(['-sf', 'options.xml', '-s', 'voxlite', `127.0.0.1:${port}`, '-m', '1']);
    assert.equal(result.code, 0, result.output.slice(-1500));
  });

  test('SIPp UAC: 3 calls INVITE / 180 / 200 / ACK / BYE', async (t) => {
    if (!requirePeer(t, 'sipp', 'sip-tester')) return;
    const uas = await voxliteUas();
    const result = await runSipp(['-sn', 'uac', '-s', 'voxlite', `127.0.0.1:${uas.port}`, '-m', '3', '-r', '5', '-d', '200']);
    assert.equal(result.code, 0, result.output.slice(-1500));
    assert.equal(uas.acks(), 3);
    assert.equal(uas.byes(), 3);
    assert.equal(uas.ua.dialogCount, 0);
  });

  test('SIPp UAS answers our INVITEs; we ACK and hang up', async (t) => {
    if (!requirePeer(t, 'sipp', 'sip-tester')) return;
    const port = await sparePort();
    const sipp = startPeer('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-nostdin', '-m', '2', '-timeout', '60s'], { maxMs: 70_000 });
    cleanup.push(() => sipp.stop());
    await new Promise((r) => setTimeout(r, 300));
    const ua = new UserAgent({ timers: { t1: 200 } });
    cleanup.push(() => ua.close());
    await ua.start();
    for (let call = 0; call < 2; call++) {
      const response = await ua.request(ua.createRequest({ method: 'INVITE', uri: `sip:service@127.0.0.1:${port}`, body: 'v=0\r\n' }));
      assert.equal(response.status, 200);
      assert.match(response.body.toString(), /m=audio/);
      const dialog = ua.dialogOf(response);
      assert.ok(dialog);
      const bye = await ua.requestInDialog(dialog, 'BYE');
      assert.equal(bye.status, 200);
    }
    assert.equal(await sipp.exited(20_000), 0, sipp.output().slice(-1500));
  });

  test('with 10% UDP loss on our side, SIPp calls in both directions still complete', async (t) => {
    if (!requirePeer(t, 'sipp', 'sip-tester')) return;
    const uas = await voxliteUas(10);
    const inbound = await runSipp(['-sn', 'uac', '-s', 'voxlite', `127.0.0.1:${uas.port}`, '-m', '5', '-r', '5', '-d', '200']);
    assert.equal(inbound.code, 0, inbound.output.slice(-1500));
    assert.equal(uas.byes(), 5);

    const port = await sparePort();
    const sipp = startPeer('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-nostdin', '-m', '5', '-timeout', '60s'], { maxMs: 70_000 });
    cleanup.push(() => sipp.stop());
    await new Promise((r) => setTimeout(r, 300));
    for (let call = 0; call < 5; call++) {
      const response = await uas.ua.request(uas.ua.createRequest({ method: 'INVITE', uri: `sip:service@127.0.0.1:${port}`, body: 'v=0\r\n' }));
      assert.equal(response.status, 200, `call ${call}`);
      const bye = await uas.ua.requestInDialog(uas.ua.dialogOf(response)!, 'BYE');
      assert.equal(bye.status, 200, `bye ${call}`);
    }
    assert.equal(await sipp.exited(30_000), 0, sipp.output().slice(-1500));
  });
});
