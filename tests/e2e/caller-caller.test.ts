/**
 * `voxlite caller` against `voxlite caller`, as real processes on 127.0.0.1: audio through
 * --play/--record (G.711, and Opus at 48 kHz), DTMF typed on stdin, instant messages both ways,
 * rejection exit codes, speech in (--textspeech) and out (--recognize), and Ctrl-C on both sides.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { bestLag, normalizedCorrelation, readWav, resample, rms, toMono, writeWav } from '../../src/media/index.js';
import { sparePort } from '../interop/lib/ports.js';
import { requirePeer } from '../interop/lib/peers.js';
import { voxlite, type CliProcess } from './lib.js';

const dir = mkdtempSync(join(tmpdir(), 'voxlite-e2e-'));
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

/** 8 kHz mono speech from espeak-ng, as a WAV file; undefined when espeak-ng is missing. */
function speech(text: string, file: string): Int16Array | undefined {
  const raw = join(dir, `${file}.raw.wav`);
  const r = spawnSync('espeak-ng', ['-w', raw, text]);
  if (r.status !== 0) return undefined;
  const wav = toMono(readWav(readFileSync(raw)));
  const samples = resample(wav.samples, wav.sampleRate, 8000);
  writeFileSync(join(dir, file), writeWav({ sampleRate: 8000, channels: 1, samples }));
  return samples;
}

/**
 * Where `reference48k` (made from `sent8k`) sits in `recorded48k`, to the sample: a coarse search
 * at 8 kHz over ±1 s, then ±6 samples at 48 kHz around it. Aligning only at 8 kHz would leave up
 * to half an 8 kHz sample of error, which costs the band above 2 kHz much of its correlation.
 */
function alignAt48k(sent8k: Int16Array, reference48k: Int16Array, recorded48k: Int16Array): { lag: number; correlation: number } {
  const coarse = bestLag(sent8k, resample(recorded48k, 48_000, 8000), 8000).lag * 6;
  let best = { lag: coarse, correlation: -2 };
  for (let lag = coarse - 6; lag <= coarse + 6; lag++) {
    const correlation = normalizedCorrelation(reference48k, recorded48k, lag);
    if (correlation > best.correlation) best = { lag, correlation };
  }
  return best;
}

describe('voxlite caller ↔ voxlite caller', { timeout: 120_000 }, () => {
  test('audio from --play arrives in --record (correlation ≥ 0.99), DTMF typed on stdin arrives, Ctrl-C ends the listener', async (t) => {
    if (!requirePeer(t, 'espeak-ng', 'espeak-ng')) return;
    const sent = speech('The quick brown fox jumps over the lazy dog.', 'fox.wav');
    assert.ok(sent);
    const port = await sparePort();
    const bob = run(['--listen', '--port', String(port), '--user', 'bob', '--record', join(dir, 'bob.wav'), '--auto-respond-after', '0', '--json']);
    await bob.waitForOutput(/listening on udp/);
    const alice = run(['--to', `sip:bob@127.0.0.1:${port}`, '--port', '0', '--user', 'alice', '--play', join(dir, 'fox.wav'), '--hangup-after', '5', '--json']);
    await alice.waitForEvent('answered');
    await new Promise((r) => setTimeout(r, (sent.length / 8000) * 1000 + 500));
    alice.type('159#');
    for (const digit of ['1', '5', '9', '#']) {
      await bob.waitForEvent('dtmf', 10_000, (e) => e['digit'] === digit && e['direction'] === 'received');
    }
    assert.equal(await alice.exited(15_000), 0, alice.stderr());
    const quality = alice.events().find((e) => e.event === 'quality');
    assert.ok(quality, 'a call-quality report at the end of the call');
    assert.ok(Number(quality['packetsReceived']) > 100);
    await bob.waitForEvent('quality');
    const signalled = Date.now();
    bob.kill('SIGINT');
    assert.equal(await bob.exited(5000), 0);
    assert.ok(Date.now() - signalled < 2000, `listener exited ${Date.now() - signalled} ms after SIGINT`);
    const got = toMono(readWav(readFileSync(join(dir, 'bob.wav')))).samples;
    const lag = bestLag(sent, got, 8000);
    const correlation = normalizedCorrelation(sent, got, lag.lag);
    assert.ok(correlation >= 0.99, `correlation ${correlation}`);
  });

  test('--codecs opus: 8 kHz speech played at 48 kHz arrives in the 48 kHz --record (correlation ≥ 0.95), DTMF arrives', async (t) => {
    if (!requirePeer(t, 'espeak-ng', 'espeak-ng')) return;
    const sent = speech('The quick brown fox jumps over the lazy dog.', 'fox-opus.wav');
    assert.ok(sent);
    const port = await sparePort();
    const bob = run(['--listen', '--port', String(port), '--user', 'bob', '--codecs', 'opus', '--record', join(dir, 'bob-opus.wav'), '--auto-respond-after', '0', '--json']);
    await bob.waitForOutput(/listening on udp/);
    // alice offers opus first and PCMU as a fallback; bob takes opus.
    const alice = run(['--to', `sip:bob@127.0.0.1:${port}`, '--port', '0', '--user', 'alice', '--codecs', 'opus,pcmu', '--play', join(dir, 'fox-opus.wav'), '--hangup-after', '5', '--json']);
    await alice.waitForEvent('answered');
    await new Promise((r) => setTimeout(r, (sent.length / 8000) * 1000 + 500));
    // telephone-event/48000 (RFC 4733 at the Opus clock rate, offered next to opus)
    alice.type('159#');
    for (const digit of ['1', '5', '9', '#']) {
      await bob.waitForEvent('dtmf', 10_000, (e) => e['digit'] === digit && e['direction'] === 'received');
    }
    assert.equal(await alice.exited(15_000), 0, alice.stderr());
    const quality = alice.events().find((e) => e.event === 'quality');
    assert.equal(quality?.['codec'], 'opus');
    assert.ok(Number(quality['packetsReceived']) > 100);
    await bob.waitForEvent('quality');
    bob.kill('SIGINT');
    assert.equal(await bob.exited(5000), 0);

    const recording = toMono(readWav(readFileSync(join(dir, 'bob-opus.wav'))));
    assert.equal(recording.sampleRate, 48_000, 'recorded at the codec rate');
    // alice's WAV source resampled the file to 48 kHz exactly like this.
    const reference = resample(sent, 8000, 48_000);
    const { lag, correlation } = alignAt48k(sent, reference, recording.samples);
    t.diagnostic(`opus caller → caller: lag ${lag} samples at 48 kHz (${((lag * 1000) / 48_000).toFixed(2)} ms), correlation ${correlation.toFixed(4)}`);
    // Measured 0.975 at a lag of 309 samples, the Opus look-ahead: a lossy codec, aligned to the sample.
    assert.ok(correlation >= 0.95, `correlation ${correlation}`);
  });

  test('--send chats both ways: typed lines follow, the listener answers the sender', async () => {
    const [bobPort, alicePort] = [await sparePort(), await sparePort()];
    const bob = run(['--listen', '--port', String(bobPort), '--user', 'bob', '--domain', `127.0.0.1:${bobPort}`]);
    await bob.waitForOutput(/listening on udp/);
    const alice = run(['--to', `sip:bob@127.0.0.1:${bobPort}`, '--listen', '--port', String(alicePort), '--user', 'alice', '--domain', `127.0.0.1:${alicePort}`, '--send', 'hello bob']);
    await bob.waitForOutput(/<<< hello bob/);
    alice.type('second line from alice');
    await bob.waitForOutput(/<<< second line from alice/);
    bob.type('hi alice, bob here');
    await alice.waitForOutput(/<<< hi alice, bob here/);
    alice.kill('SIGINT');
    bob.kill('SIGINT');
    assert.equal(await alice.exited(5000), 0);
    assert.equal(await bob.exited(5000), 0);
  });

  test('--send without --listen exits 0 after the answer when stdin ends; a rejected message exits 4', async () => {
    const port = await sparePort();
    const bob = run(['--listen', '--port', String(port), '--user', 'bob']);
    await bob.waitForOutput(/listening on udp/);
    const alice = run(['--to', `sip:bob@127.0.0.1:${port}`, '--port', '0', '--send', 'one-shot']);
    alice.endInput();
    assert.equal(await alice.exited(10_000), 0, alice.stderr());
    await bob.waitForOutput(/<<< one-shot/);
    bob.kill('SIGINT');
    await bob.exited(5000);
    const busy = run(['--listen', '--port', String(port), '--auto-respond', '603']);
    await busy.waitForOutput(/listening on udp/);
    const rejected = run(['--to', `sip:bob@127.0.0.1:${port}`, '--port', '0', '--send', 'nobody wants this']);
    rejected.endInput();
    assert.equal(await rejected.exited(10_000), 4);
    assert.match(rejected.stderr(), /603/);
    busy.kill('SIGINT');
    await busy.exited(5000);
  });

  test('--auto-respond 486: the caller exits 4 and names 486', async () => {
    const port = await sparePort();
    const bob = run(['--listen', '--port', String(port), '--auto-respond', '486']);
    await bob.waitForOutput(/listening on udp/);
    const alice = run(['--to', `sip:bob@127.0.0.1:${port}`, '--port', '0']);
    assert.equal(await alice.exited(10_000), 4);
    assert.match(alice.stderr(), /call rejected: 486 Busy Here/);
    bob.kill('SIGINT');
    await bob.exited(5000);
  });

  test('no answer: --timeout cancels the call and exits 5', async () => {
    const port = await sparePort();
    const bob = run(['--listen', '--port', String(port), '--auto-respond-after', '30']);
    await bob.waitForOutput(/listening on udp/);
    const alice = run(['--to', `sip:bob@127.0.0.1:${port}`, '--port', '0', '--timeout', '1']);
    assert.equal(await alice.exited(10_000), 5);
    assert.match(alice.stderr(), /no answer: 487/);
    bob.kill('SIGINT');
    await bob.exited(5000);
  });

  test('--textspeech speaks typed text that --recognize on the other side recognises from its phrase list', async (t) => {
    if (!requirePeer(t, 'espeak-ng', 'espeak-ng') || !requirePeer(t, 'pocketsphinx_continuous', 'pocketsphinx')) return;
    const port = await sparePort();
    const bob = run(['--listen', '--port', String(port), '--auto-respond-after', '0', '--recognize', '--phrases', 'hello world,call me back,goodbye', '--record', join(dir, 'tts.wav'), '--json']);
    await bob.waitForOutput(/listening on udp/);
    const alice = run(['--to', `sip:bob@127.0.0.1:${port}`, '--port', '0', '--textspeech', '--hangup-after', '8', '--json']);
    await alice.waitForEvent('answered');
    await new Promise((r) => setTimeout(r, 500));
    alice.type('call me back');
    const heard = await bob.waitForEvent('speech', 15_000);
    assert.equal(heard['text'], 'call me back');
    assert.equal(await alice.exited(15_000), 0);
    bob.kill('SIGINT');
    await bob.exited(5000);
    const recorded = toMono(readWav(readFileSync(join(dir, 'tts.wav')))).samples;
    assert.ok(rms(recorded) > 300, 'the spoken text is in the recording');
  });
});

describe('voxlite caller usage errors', () => {
  test('a bad option is one line on stderr and exit code 2', () => {
    const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
    for (const args of [['caller', '--port', 'abc', '--listen'], ['caller', '--nope'], ['caller'], ['caller', '--codecs', 'speex', '--listen'], ['caller', '--to', 'not a uri']]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
