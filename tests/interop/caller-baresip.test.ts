/**
 * `voxlite caller` (a real process) against baresip 1.0.0 (Debian package `baresip`), both on
 * 127.0.0.1, baresip headless (tests/interop/lib/baresip.ts): audio both ways checked against the
 * espeak-ng speech each side plays (normalised correlation after alignment), RFC 4733 DTMF both
 * ways, SIP MESSAGE both ways, calls placed by either side and hung up by either side; and the
 * same audio and DTMF checks with Opus (RFC 7587) at 48 kHz, baresip's `opus` module against
 * voxlite's libopus in WebAssembly.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { bestLag, normalizedCorrelation, readWav, resample, rmsDbfs, snrDb, toMono, writeWav } from '../../src/media/index.js';
import { voxlite, type CliProcess } from '../e2e/lib.js';
import { startBaresip, type Baresip } from './lib/baresip.js';
import { requirePeer } from './lib/peers.js';
import { sparePort } from './lib/ports.js';

const RATE = 8000;
const dir = mkdtempSync(join(tmpdir(), 'voxlite-caller-baresip-'));
const processes: CliProcess[] = [];
const peers: Baresip[] = [];
after(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await Promise.all(peers.map((b) => b.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function run(args: readonly string[]): CliProcess {
  // -v: the SIP trace goes to stderr (with --json), shown when an assertion fails
  const p = voxlite(['caller', '--int-ip', '127.0.0.1', '--no-audio', '--json', '-v', ...args], { maxMs: 40_000 });
  processes.push(p);
  return p;
}

async function baresip(options: Parameters<typeof startBaresip>[0]): Promise<Baresip> {
  const b = await startBaresip({ maxMs: 40_000, ...options });
  peers.push(b);
  return b;
}

/** espeak-ng speech at 8 kHz mono, written to `dir/file` too. */
function speech(text: string, file: string): Int16Array {
  const raw = join(dir, `${file}.raw.wav`);
  const r = spawnSync('espeak-ng', ['-w', raw, text], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, `espeak-ng failed: ${r.stderr}`);
  const wav = toMono(readWav(readFileSync(raw)));
  const samples = resample(wav.samples, wav.sampleRate, RATE);
  writeFileSync(join(dir, file), writeWav({ sampleRate: RATE, channels: 1, samples }));
  return samples;
}

/** Reads a recording as mono at `rate` (8 kHz unless said). */
function recording(path: string | undefined, what: string, rate = RATE): Int16Array {
  assert.ok(path !== undefined, `no recording of ${what}`);
  const wav = toMono(readWav(readFileSync(path)));
  return wav.sampleRate === rate ? wav.samples : resample(wav.samples, wav.sampleRate, rate);
}

interface AudioCheck {
  /** Where the reference starts in the recording, in samples (global alignment). */
  readonly lag: number;
  /** Normalised correlation over the whole reference at that lag. */
  readonly correlation: number;
  /** Median over the 0.5 s voiced segments, each re-aligned within ±100 ms. */
  readonly segmentMedian: number;
  /** Largest minus smallest segment shift, in ms (frames the jitter buffer cut or inserted). */
  readonly slipMs: number;
  readonly summary: string;
}

/**
 * The lag in `[around - radius, around + radius]` at which `signal` best matches `reference`.
 */
function refineLag(reference: Int16Array, signal: Int16Array, around: number, radius: number): { lag: number; correlation: number } {
  let best = { lag: around, correlation: -2 };
  for (let lag = around - radius; lag <= around + radius; lag++) {
    const correlation = normalizedCorrelation(reference, signal, lag);
    if (correlation > best.correlation) best = { lag, correlation };
  }
  return best;
}

/**
 * Finds `reference` in `recorded` (global alignment within ±1 s), then checks it there:
 * - the whole reference is in the recording (a lost start, e.g. the first packets dropped, fails);
 * - `exact` (baresip's sndfile recording: the decoded packets, no jitter buffer): the global
 *   normalised correlation is ≥ 0.9;
 * - otherwise (our --record, after voxlite's adaptive jitter buffer): every 0.5 s voiced segment,
 *   re-aligned within ±100 ms, correlates ≥ 0.9 — the median, and at least 80 % of them (a segment
 *   that straddles a frame the buffer cut may not) — and the segments slip by ≤ 100 ms in all.
 *   The global correlation is 0.9999 for an intact stream; it drops (to 0.3–0.87 seen) when the
 *   buffer shrinks after a burst of arrivals by dropping a frame of speech.
 *
 * `rate` is the rate of both signals. Above 8 kHz (Opus: 48 kHz) every search runs first at
 * 8 kHz and is then refined to the sample at `rate`: an alignment only good to an 8 kHz sample
 * would leave up to half of one, which costs the upper band much of its correlation.
 */
function checkAudio(reference: Int16Array, recorded: Int16Array, what: string, exact: boolean, rate = RATE): AudioCheck {
  const factor = rate / RATE;
  const narrowReference = factor === 1 ? reference : resample(reference, rate, RATE);
  const narrowRecorded = factor === 1 ? recorded : resample(recorded, rate, RATE);
  const coarse = bestLag(narrowReference, narrowRecorded, RATE);
  const { lag, correlation } = factor === 1 ? coarse : refineLag(reference, recorded, coarse.lag * factor, factor);
  const covered = Math.min(reference.length, recorded.length - lag) - Math.max(0, -lag);
  const segment = RATE / 2;
  const search = RATE / 10;
  const segments: Array<{ at: number; shift: number; correlation: number }> = [];
  for (let a = 0; a + segment <= narrowReference.length; a += segment) {
    const part = narrowReference.subarray(a, a + segment);
    if (rmsDbfs(part) < -40) continue; // silence between words
    let best = { shift: 0, correlation: -2 };
    const narrowLag = Math.round(lag / factor);
    for (let d = -search; d <= search; d++) {
      const offset = a + narrowLag + d;
      if (offset < 0 || offset + segment > narrowRecorded.length) continue;
      const c = normalizedCorrelation(part, narrowRecorded.subarray(offset, offset + segment), 0);
      if (c > best.correlation) best = { shift: d, correlation: c };
    }
    if (factor !== 1 && best.correlation > -2) {
      // The same segment at the full rate, ±1 narrow sample around the shift found.
      const wide = reference.subarray(a * factor, (a + segment) * factor);
      const start = (a + narrowLag + best.shift) * factor - factor;
      const fine = refineLag(wide, recorded.subarray(Math.max(0, start)), Math.min(factor, start + factor), factor);
      best = { shift: (Math.max(0, start) + fine.lag - a * factor - lag) / factor, correlation: fine.correlation };
    }
    segments.push({ at: a, ...best });
  }
  const sorted = segments.map((x) => x.correlation).sort((x, y) => x - y);
  const segmentMedian = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const shifts = segments.map((x) => x.shift);
  const slipMs = segments.length === 0 ? 0 : ((Math.max(...shifts) - Math.min(...shifts)) * 1000) / RATE;
  const summary =
    `${what}: lag ${((lag * 1000) / rate).toFixed(2)} ms, correlation ${correlation.toFixed(4)}, SNR ${snrDb(reference, recorded, { lag }).toFixed(1)} dB, ` +
    `${((covered / reference.length) * 100).toFixed(0)} % of the ${(reference.length / rate).toFixed(2)} s reference in a ${(recorded.length / rate).toFixed(2)} s recording; ` +
    `segments (s: shift ms/corr) ${segments.map((x) => `${(x.at / RATE).toFixed(1)}: ${((x.shift * 1000) / RATE).toFixed(1)}/${x.correlation.toFixed(3)}`).join(', ')}`;
  assert.ok(covered >= reference.length * 0.98, `the recording must contain the whole reference — ${summary}`);
  assert.ok(segments.length >= 4, `too little speech to compare — ${summary}`);
  if (exact) assert.ok(correlation >= 0.9, `correlation ${correlation.toFixed(4)} < 0.9 — ${summary}`);
  assert.ok(segmentMedian >= 0.9, `segment median correlation ${segmentMedian.toFixed(4)} < 0.9 — ${summary}`);
  assert.ok(sorted.filter((c) => c >= 0.9).length >= 0.8 * sorted.length, `fewer than 80 % of the segments correlate ≥ 0.9 — ${summary}`);
  assert.ok(slipMs <= 100, `the recording slips by ${slipMs} ms — ${summary}`);
  return { lag, correlation, segmentMedian, slipMs, summary };
}

function receivedDigits(p: CliProcess): string {
  return p
    .events()
    .filter((e) => e.event === 'dtmf' && e['direction'] === 'received')
    .map((e) => String(e['digit']))
    .join('');
}

async function waitFor(check: () => boolean, what: string, timeoutMs: number, context: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timeout waiting for ${what}\n${context()}`);
    await sleep(50);
  }
}

function peerPresent(t: Parameters<typeof requirePeer>[0]): boolean {
  return requirePeer(t, 'baresip', 'baresip') && requirePeer(t, 'espeak-ng', 'espeak-ng');
}

describe('voxlite caller ↔ baresip', { timeout: 120_000 }, () => {
  test('we call baresip (auto-answer): audio both ways, DTMF both ways, MESSAGE both ways, we hang up', { timeout: 30_000 }, async (t) => {
    if (!peerPresent(t)) return;
    const ours = speech('Hello baresip, this is voxlite calling you over the loop back interface.', 'ours-1.wav');
    const theirs = speech('Baresip here. The quick brown fox jumps over the lazy dog.', 'theirs-1.wav');
    const ourPort = await sparePort();
    const bs = await baresip({ autoAnswer: true, source: theirs, record: true, messageTo: `sip:vox@127.0.0.1:${ourPort}` });
    const recordPath = join(dir, 'rec-1.wav');
    // --listen: rtclite answers an out-of-dialog MESSAGE with 501 unless listening
    const vox = run(['--to', bs.aor, '--listen', '--port', String(ourPort), '--user', 'vox', '--domain', `127.0.0.1:${ourPort}`, '--play', join(dir, 'ours-1.wav'), '--record', recordPath]);
    const context = (): string => `voxlite stderr:\n${vox.stderr().slice(-4000)}\nbaresip:\n${bs.log().slice(-3000)}`;

    await vox.waitForEvent('answered', 10_000);
    const established = await bs.waitEvent('CALL_ESTABLISHED', { timeoutMs: 5000 });
    assert.equal(established.direction, 'incoming');
    // both speech files play out at once
    await sleep((Math.max(ours.length, theirs.length) / RATE) * 1000 + 700);

    // DTMF typed on our stdin → RFC 4733 → baresip's CALL_DTMF_START events
    vox.type('1234#');
    await bs.waitEvents('CALL_DTMF_START', 5, 8000);
    assert.equal(bs.dtmfReceived(), '1234#');

    // DTMF from baresip (sndcode) → our dtmf events / `<<< DTMF` lines
    await bs.command('sndcode', '5*9');
    await waitFor(() => receivedDigits(vox).length >= 3, 'DTMF 5*9 from baresip', 8000, context);
    assert.equal(receivedDigits(vox), '5*9');

    // MESSAGE baresip → us (its one contact); it makes baresip our message target
    await bs.command('message', 'hello from baresip');
    const message = await vox.waitForEvent('message', 5000, (e) => e['text'] === 'hello from baresip');
    assert.match(String(message['from']), /sip:bs@127\.0\.0\.1/);
    // MESSAGE us → baresip: a typed line that is not digits
    vox.type('hello from voxlite');
    await bs.waitLog(/"hello from voxlite"/, 5000);
    await vox.waitForOutput(/MESSAGE sip:bs@127\.0\.0\.1:\d+ SIP\/2\.0[\s\S]*?SIP\/2\.0 200 OK[^\n]*\n(?:[^\n]+\n)*?CSeq: \d+ MESSAGE/, 5000);

    // we hang up; baresip sees the BYE; our quality report; /quit ends the listener with 0
    vox.type('/hangup');
    await bs.waitEvent('CALL_CLOSED', { timeoutMs: 5000 });
    const quality = await vox.waitForEvent('quality', 5000);
    assert.equal(quality['codec'], 'PCMU');
    assert.ok(Number(quality['packetsReceived']) > 150, `packets received: ${String(quality['packetsReceived'])}`);
    assert.ok(Number(quality['packetsSent']) > 150, `packets sent: ${String(quality['packetsSent'])}`);
    vox.type('/quit');
    assert.equal(await vox.exited(8000), 0, context());

    await sleep(200); // sndfile closes its files with the call
    t.diagnostic(checkAudio(ours, recording(bs.recording('dec'), 'what baresip received'), 'voxlite → baresip', true).summary);
    t.diagnostic(checkAudio(theirs, recording(recordPath, 'what voxlite received'), 'baresip → voxlite', false).summary);
    await bs.stop();
  });

  test('baresip calls us (--listen --auto-respond-after 0): answered, audio both ways, baresip hangs up', { timeout: 30_000 }, async (t) => {
    if (!peerPresent(t)) return;
    const ours = speech('Voxlite answering. Please leave a message after the tone.', 'ours-2.wav');
    const theirs = speech('This is baresip calling voxlite, one two three four five.', 'theirs-2.wav');
    const ourPort = await sparePort();
    const recordPath = join(dir, 'rec-2.wav');
    const vox = run(['--listen', '--auto-respond-after', '0', '--port', String(ourPort), '--user', 'vox', '--domain', `127.0.0.1:${ourPort}`, '--play', join(dir, 'ours-2.wav'), '--record', recordPath]);
    await vox.waitForOutput(/listening on udp/, 10_000);
    const bs = await baresip({ source: theirs, record: true });
    const context = (): string => `voxlite stderr:\n${vox.stderr().slice(-4000)}\nbaresip:\n${bs.log().slice(-3000)}`;

    await bs.command('dial', `sip:vox@127.0.0.1:${ourPort}`);
    await vox.waitForEvent('incoming', 5000);
    await vox.waitForEvent('answered', 5000);
    const established = await bs.waitEvent('CALL_ESTABLISHED', { timeoutMs: 5000 });
    assert.equal(established.direction, 'outgoing');
    await sleep((Math.max(ours.length, theirs.length) / RATE) * 1000 + 700);

    await bs.command('hangup');
    await bs.waitEvent('CALL_CLOSED', { timeoutMs: 5000 });
    const quality = await vox.waitForEvent('quality', 5000);
    assert.ok(Number(quality['packetsReceived']) > 150, `packets received: ${String(quality['packetsReceived'])}`);
    assert.match(vox.stderr(), /call closed by remote party/);

    await sleep(200);
    t.diagnostic(checkAudio(ours, recording(bs.recording('dec'), 'what baresip received'), 'voxlite → baresip', true).summary);
    t.diagnostic(checkAudio(theirs, recording(recordPath, 'what voxlite received'), 'baresip → voxlite', false).summary);

    // a listener outlives its calls: still running until Ctrl-C, which ends it with 0
    assert.equal(vox.child.exitCode, null, 'the listener keeps running after the call');
    vox.kill('SIGINT');
    assert.equal(await vox.exited(5000), 0, context());
    await bs.stop();
  });

  test('baresip calls us, we hang up (/hangup): baresip sees the BYE, we report quality and exit on /quit', { timeout: 30_000 }, async (t) => {
    if (!peerPresent(t)) return;
    const theirs = speech('Hang up on me please.', 'theirs-3.wav');
    const ourPort = await sparePort();
    const vox = run(['--listen', '--auto-respond-after', '0', '--port', String(ourPort), '--user', 'vox', '--domain', `127.0.0.1:${ourPort}`]);
    await vox.waitForOutput(/listening on udp/, 10_000);
    const bs = await baresip({ source: theirs });
    const context = (): string => `voxlite stderr:\n${vox.stderr().slice(-4000)}\nbaresip:\n${bs.log().slice(-3000)}`;

    await bs.command('dial', `sip:vox@127.0.0.1:${ourPort}`);
    await vox.waitForEvent('answered', 5000);
    await bs.waitEvent('CALL_ESTABLISHED', { timeoutMs: 5000 });
    await sleep(1500);
    vox.type('/hangup');
    const closed = await bs.waitEvent('CALL_CLOSED', { timeoutMs: 5000 });
    // baresip's reason for a session ended by the peer's BYE
    assert.equal(closed.param, 'Connection reset by peer', 'baresip: session closed by a BYE');
    assert.match(bs.log(), /BYE sip:bs-0x[0-9a-f]+@127\.0\.0\.1:\d+ SIP\/2\.0/, 'the BYE reached baresip at its Contact');
    const quality = await vox.waitForEvent('quality', 5000);
    assert.ok(Number(quality['packetsReceived']) > 40, `packets received: ${String(quality['packetsReceived'])}`);
    assert.ok(Number(quality['durationMs']) >= 1000, `duration: ${String(quality['durationMs'])}`);
    vox.type('/quit');
    assert.equal(await vox.exited(8000), 0, context());
    await bs.stop();
  });
});

describe('voxlite caller ↔ baresip with Opus (RFC 7587)', { timeout: 120_000 }, () => {
  const OPUS_RATE = 48_000;

  test('we call baresip with --codecs opus: opus/48000 both ways, DTMF both ways through telephone-event/8000', { timeout: 30_000 }, async (t) => {
    if (!peerPresent(t)) return;
    const ours = speech('Hello baresip, this is voxlite speaking opus at forty eight kilohertz.', 'ours-opus-1.wav');
    const theirs = speech('Baresip here, answering in opus. The quick brown fox jumps over the lazy dog.', 'theirs-opus-1.wav');
    const bs = await baresip({ autoAnswer: true, source: theirs, record: true, opus: true, codecs: 'opus/48000/1' });
    const recordPath = join(dir, 'rec-opus-1.wav');
    const vox = run(['--to', bs.aor, '--port', '0', '--user', 'vox', '--codecs', 'opus', '--play', join(dir, 'ours-opus-1.wav'), '--record', recordPath]);
    const context = (): string => `voxlite stderr:\n${vox.stderr().slice(-4000)}\nbaresip:\n${bs.log().slice(-3000)}`;

    await vox.waitForEvent('answered', 10_000);
    await bs.waitEvent('CALL_ESTABLISHED', { timeoutMs: 5000 });
    // Our offer had telephone-event at 48000 and at 8000; baresip knows only the 8000 one.
    assert.match(vox.stderr(), /SIP\/2\.0 200 [^\n]*\n[\s\S]*?a=rtpmap:96 opus\/48000\/2[\s\S]*?a=rtpmap:\d+ telephone-event\/8000/, context());
    await sleep((Math.max(ours.length, theirs.length) / RATE) * 1000 + 700);

    vox.type('1234#');
    await bs.waitEvents('CALL_DTMF_START', 5, 8000);
    assert.equal(bs.dtmfReceived(), '1234#');
    await bs.command('sndcode', '5*9');
    await waitFor(() => receivedDigits(vox).length >= 3, 'DTMF 5*9 from baresip', 8000, context);
    assert.equal(receivedDigits(vox), '5*9');

    vox.type('/hangup');
    await bs.waitEvent('CALL_CLOSED', { timeoutMs: 5000 });
    const quality = await vox.waitForEvent('quality', 5000);
    assert.equal(quality['codec'], 'opus');
    assert.ok(Number(quality['packetsReceived']) > 150, `packets received: ${String(quality['packetsReceived'])}`);
    assert.equal(await vox.exited(8000), 0, context());

    await sleep(200);
    const reference = (samples: Int16Array): Int16Array => resample(samples, RATE, OPUS_RATE);
    t.diagnostic(checkAudio(reference(ours), recording(bs.recording('dec'), 'what baresip received', OPUS_RATE), 'voxlite → baresip (opus)', true, OPUS_RATE).summary);
    t.diagnostic(checkAudio(reference(theirs), recording(recordPath, 'what voxlite received', OPUS_RATE), 'baresip → voxlite (opus)', false, OPUS_RATE).summary);
    await bs.stop();
  });

  test('baresip offers opus first (then PCMU, telephone-event/8000): we answer opus, audio and DTMF both ways', { timeout: 30_000 }, async (t) => {
    if (!peerPresent(t)) return;
    const ours = speech('Voxlite answering in opus. Please leave a message after the tone.', 'ours-opus-2.wav');
    const theirs = speech('This is baresip calling voxlite in opus, one two three four five.', 'theirs-opus-2.wav');
    const ourPort = await sparePort();
    const recordPath = join(dir, 'rec-opus-2.wav');
    const vox = run(['--listen', '--auto-respond-after', '0', '--port', String(ourPort), '--user', 'vox', '--domain', `127.0.0.1:${ourPort}`, '--codecs', 'opus,pcmu', '--play', join(dir, 'ours-opus-2.wav'), '--record', recordPath]);
    await vox.waitForOutput(/listening on udp/, 10_000);
    const bs = await baresip({ source: theirs, record: true, opus: true, codecs: 'opus/48000/1,pcmu' });
    const context = (): string => `voxlite stderr:\n${vox.stderr().slice(-4000)}\nbaresip:\n${bs.log().slice(-3000)}`;

    await bs.command('dial', `sip:vox@127.0.0.1:${ourPort}`);
    await vox.waitForEvent('answered', 5000);
    await bs.waitEvent('CALL_ESTABLISHED', { timeoutMs: 5000 });
    await sleep((Math.max(ours.length, theirs.length) / RATE) * 1000 + 700);

    // telephone-event/8000 next to opus/48000: event durations count at 8 kHz both ways.
    vox.type('42');
    await bs.waitEvents('CALL_DTMF_START', 2, 8000);
    assert.equal(bs.dtmfReceived(), '42');
    await bs.command('sndcode', '7#');
    await waitFor(() => receivedDigits(vox).length >= 2, 'DTMF 7# from baresip', 8000, context);
    assert.equal(receivedDigits(vox), '7#');

    await bs.command('hangup');
    await bs.waitEvent('CALL_CLOSED', { timeoutMs: 5000 });
    const quality = await vox.waitForEvent('quality', 5000);
    assert.equal(quality['codec'], 'opus');

    await sleep(200);
    const reference = (samples: Int16Array): Int16Array => resample(samples, RATE, OPUS_RATE);
    t.diagnostic(checkAudio(reference(ours), recording(bs.recording('dec'), 'what baresip received', OPUS_RATE), 'voxlite → baresip (opus)', true, OPUS_RATE).summary);
    t.diagnostic(checkAudio(reference(theirs), recording(recordPath, 'what voxlite received', OPUS_RATE), 'baresip → voxlite (opus)', false, OPUS_RATE).summary);
    vox.kill('SIGINT');
    assert.equal(await vox.exited(5000), 0, context());
    await bs.stop();
  });
});
