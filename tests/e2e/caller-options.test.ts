/**
 * rtclite options of `voxlite caller` checked on the wire: -v traces, --user-agent, --subject,
 * --use-lf, --transport tcp, --uri, --no-touchtone, --no-sdp, --audio-loopback,
 * --auto-terminate-after, -q, --codecs g722, --dtmf-method info, /hold and /resume.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDtmf, readWav, rms, toMono, writeWav } from '../../src/media/index.js';
import { sparePort } from '../interop/lib/ports.js';
import { voxlite, type CliProcess } from './lib.js';

const dir = mkdtempSync(join(tmpdir(), 'voxlite-options-'));
const processes: CliProcess[] = [];
after(() => {
  for (const p of processes) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): CliProcess {
  const p = voxlite(['caller', '--int-ip', '127.0.0.1', '--no-audio', ...args]);
  processes.push(p);
  return p;
}

/** The SIP messages in a -v trace (stdout, or stderr with --json), each as its text. */
function traced(p: CliProcess, direction: 'sending to' | 'received from'): string[] {
  const parts = (p.stdout() + '\n' + p.stderr()).split(/\n(?=\d\d:\d\d:\d\d\.\d{3} caller )/);
  return parts.filter((part) => part.includes(`DEBUG - ${direction}`)).map((part) => part.slice(part.indexOf('\n') + 1));
}

describe('caller options on the wire', { timeout: 120_000 }, () => {
  test('-v, --user-agent, --subject, --uri, --transport tcp, --no-touchtone, --auto-terminate-after', async () => {
    const port = await sparePort();
    const bob = run(['--listen', '--transport', 'tcp', '--port', String(port), '--auto-respond-after', '0', '--auto-terminate-after', '1', '-v']);
    await bob.waitForOutput(/listening on tcp/);
    const alice = run([
      '-v',
      '--transport', 'tcp',
      '--port', '0',
      '--to', `"Bob" <sip:bob@127.0.0.1:${port};transport=tcp>`,
      '--uri', `sip:robert@127.0.0.1:${port};transport=tcp`,
      '--user-agent', 'options-test/1.0',
      '--subject', 'testing options',
      '--no-touchtone',
    ]);
    // Bob hangs up after 1 s (--auto-terminate-after); alice's run then ends with 0.
    assert.equal(await alice.exited(15_000), 0, alice.stderr());
    await bob.waitForOutput(/sending to tcp 127\.0\.0\.1:\d+\nBYE /);
    const invite = traced(alice, 'sending to').find((m) => m.startsWith('INVITE '));
    assert.ok(invite, alice.stdout().slice(0, 3000));
    assert.match(invite, new RegExp(`^INVITE sip:robert@127\\.0\\.0\\.1:${port};transport=tcp SIP/2\\.0`));
    assert.match(invite, /^Via: SIP\/2\.0\/TCP /m);
    assert.match(invite, /^To: "Bob" <sip:bob@/m);
    assert.match(invite, /^User-Agent: options-test\/1\.0\r?$/m);
    assert.match(invite, /^Subject: testing options\r?$/m);
    assert.doesNotMatch(invite, /telephone-event/);
    assert.match(alice.stdout(), /call closed by remote party/);
    bob.kill('SIGINT');
    await bob.exited(5000);
  });

  test('--use-lf sends bare LF line ends; --no-sdp sends an INVITE without a body; -q prints nothing', async () => {
    const port = await sparePort();
    const bob = run(['--listen', '--port', String(port), '--auto-respond-after', '0', '-v']);
    await bob.waitForOutput(/listening on udp/);
    const lf = run(['--to', `sip:bob@127.0.0.1:${port}`, '--port', '0', '--use-lf', '--hangup-after', '1', '-v']);
    assert.equal(await lf.exited(15_000), 0, lf.stderr());
    // Bob's -v trace prints what arrived exactly as it arrived: no CR anywhere in that INVITE.
    const received = bob.stdout();
    assert.match(received, /received from udp 127\.0\.0\.1:\d+\nINVITE /);
    const invite = traced(bob, 'received from').find((m) => m.startsWith('INVITE '));
    assert.ok(invite);
    assert.ok(!invite.includes('\r'), 'no CR in the INVITE sent with --use-lf');
    const normal = traced(bob, 'sending to').find((m) => m.startsWith('SIP/2.0 200'));
    assert.ok(normal?.includes('\r\n'), 'without --use-lf, CRLF as usual');
    const quiet = run(['--to', `sip:bob@127.0.0.1:${port}`, '--port', '0', '--no-sdp', '--hangup-after', '1', '-q']);
    assert.equal(await quiet.exited(15_000), 0, quiet.stderr());
    assert.equal(quiet.stdout().trim(), '');
    const bare = traced(bob, 'received from').filter((m) => m.startsWith('INVITE ')).at(-1);
    assert.ok(bare);
    assert.match(bare, /^Content-Length: 0\r?$/m);
    bob.kill('SIGINT');
    await bob.exited(5000);
  });

  test('--audio-loopback sends back what it receives; --codecs g722 is negotiated', async () => {
    const tones = generateDtmf('159D', { sampleRate: 8000, onMs: 250, offMs: 100 });
    writeFileSync(join(dir, 'tones.wav'), writeWav({ sampleRate: 8000, channels: 1, samples: tones }));
    const port = await sparePort();
    const echo = run(['--listen', '--port', String(port), '--auto-respond-after', '0', '--audio-loopback', '--codecs', 'g722,pcmu']);
    await echo.waitForOutput(/listening on udp/);
    const alice = run(['--to', `sip:echo@127.0.0.1:${port}`, '--port', '0', '--codecs', 'g722', '--play', join(dir, 'tones.wav'), '--record', join(dir, 'echoed.wav'), '--hangup-after', '3', '--json']);
    assert.equal(await alice.exited(15_000), 0, alice.stderr());
    const quality = alice.events().find((e) => e.event === 'quality');
    assert.equal(quality?.['codec'], 'G722');
    const echoed = toMono(readWav(readFileSync(join(dir, 'echoed.wav'))));
    assert.equal(echoed.sampleRate, 16000);
    assert.ok(rms(echoed.samples) > 500, `echo level ${rms(echoed.samples)}`);
    echo.kill('SIGINT');
    await echo.exited(5000);
  });

  test('--dtmf-method info sends digits as SIP INFO; /hold and /resume re-INVITE with sendonly/sendrecv', async () => {
    const port = await sparePort();
    const bob = run(['--listen', '--port', String(port), '--auto-respond-after', '0', '--json', '-v']);
    await bob.waitForOutput(/listening on udp/);
    const alice = run(['--to', `sip:bob@127.0.0.1:${port}`, '--port', '0', '--dtmf-method', 'info', '--json']);
    await alice.waitForEvent('answered');
    alice.type('42');
    await bob.waitForEvent('dtmf', 10_000, (e) => e['digit'] === '4');
    await bob.waitForEvent('dtmf', 10_000, (e) => e['digit'] === '2');
    alice.type('/hold');
    await alice.waitForEvent('held', 10_000, (e) => e['held'] === true);
    await bob.waitForEvent('held', 10_000, (e) => e['held'] === true);
    alice.type('/resume');
    await alice.waitForEvent('held', 10_000, (e) => e['held'] === false);
    const reinvites = traced(bob, 'received from').filter((m) => m.startsWith('INVITE '));
    assert.ok(reinvites.some((m) => /a=sendonly/.test(m)));
    assert.ok(reinvites.at(-1)?.includes('a=sendrecv') ?? false);
    alice.type('/hangup');
    assert.equal(await alice.exited(10_000), 0);
    bob.kill('SIGINT');
    await bob.exited(5000);
  });
});
