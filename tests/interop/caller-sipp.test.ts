/**
 * `voxlite caller` (a real process) against SIPp (Debian package `sip-tester`), both on
 * 127.0.0.1, every process bounded in time:
 *
 * - we call a SIPp UAS (tests/interop/sipp/uas_echo.xml) run with `-rtp_echo`, which reflects
 *   our RTP unchanged — same SSRC, sequence numbers and timestamps — and check that our
 *   recording holds the audio we played (an echo test; it needs our RTP session to accept its
 *   own packets coming back rather than treat them as an SSRC collision);
 * - SIPp's built-in `uac_pcap` scenario calls us: it replays the G.711 A-law capture
 *   `pcap/g711a.pcap` (30 ms packets) and then `pcap/dtmf_2833_1.pcap` (RFC 4733 digit 1); we
 *   check our recording against the PCMA payloads decoded straight from the capture file, and
 *   that exactly one DTMF 1 arrived.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bestLag, decodePcma, readWav, snrDb, toMono, writeWav } from '../../src/media/index.js';
import { voxlite, type CliProcess } from '../e2e/lib.js';
import { readPcapRtp } from './lib/pcap.js';
import { requirePeer } from './lib/peers.js';
import { sparePort } from './lib/ports.js';
import { startPeer, type PeerProcess } from './lib/process.js';

const RATE = 8000;
const SIPP_PCAPS = '/usr/share/sip-tester';
const scenarios = fileURLToPath(new URL('./sipp/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'voxlite-caller-sipp-'));
const callers: CliProcess[] = [];
const peers: PeerProcess[] = [];
after(async () => {
  for (const c of callers) c.kill('SIGKILL');
  await Promise.all(peers.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function caller(args: readonly string[]): CliProcess {
  // -v: the SIP trace goes to stderr (with --json), shown when an assertion fails
  const p = voxlite(['caller', '--int-ip', '127.0.0.1', '--port', '0', '--no-audio', '--json', '-v', ...args], { maxMs: 60_000 });
  callers.push(p);
  return p;
}

function sipp(args: readonly string[], cwd: string): PeerProcess {
  const p = startPeer('sipp', ['-i', '127.0.0.1', '-mi', '127.0.0.1', '-nostdin', '-m', '1', '-timeout', '40s', '-timeout_error', ...args], { cwd, maxMs: 50_000 });
  peers.push(p);
  return p;
}

const tail = (text: string, n = 3000): string => text.slice(-n);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Speech-like test audio, deterministic: syllables of a glottal-pulse-like harmonic series with a
 * gliding pitch (95–230 Hz) shaped by two moving formants, with pauses between them. Not
 * periodic over more than a few ms, so the alignment below has a single clear peak.
 */
function syntheticSpeech(seconds: number): Int16Array {
  let seed = 12345;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 0x1_0000_0000;
  };
  const out = new Int16Array(Math.round(seconds * RATE));
  let at = Math.round(0.1 * RATE);
  while (at < out.length) {
    const length = Math.round((0.12 + 0.2 * random()) * RATE);
    const f0a = 95 + 135 * random();
    const f0b = 95 + 135 * random();
    const f1 = 300 + 500 * random();
    const f2 = 900 + 1600 * random();
    let phase = 0;
    for (let i = 0; i < length && at + i < out.length; i++) {
      const x = i / length;
      const f0 = f0a + (f0b - f0a) * x;
      phase += (2 * Math.PI * f0) / RATE;
      let v = 0;
      for (let h = 1; h * f0 < 3600; h++) {
        const f = h * f0;
        const weight = Math.exp(-(((f - f1) / 180) ** 2)) + 0.6 * Math.exp(-(((f - f2) / 250) ** 2)) + 0.05;
        v += (weight / Math.sqrt(h)) * Math.sin(h * phase);
      }
      const envelope = Math.sin(Math.PI * x) ** 0.7;
      out[at + i] = Math.max(-32768, Math.min(32767, Math.round(4000 * envelope * v)));
    }
    at += length + Math.round((0.04 + 0.12 * random()) * RATE);
  }
  return out;
}

/** Reads a recording as 8 kHz mono samples. */
function recording(path: string): Int16Array {
  assert.ok(existsSync(path), `no recording at ${path}`);
  const wav = toMono(readWav(readFileSync(path)));
  assert.equal(wav.sampleRate, RATE, 'G.711 calls record at 8 kHz');
  return wav.samples;
}

/**
 * Finds `reference` in `recorded` (within ±0.5 s) and checks the normalised correlation there;
 * the whole reference must be in the recording, not just a part of it.
 */
function assertCarries(reference: Int16Array, recorded: Int16Array, what: string): string {
  const { lag, correlation } = bestLag(reference, recorded, RATE / 2);
  const covered = Math.min(reference.length, recorded.length - lag) - Math.max(0, -lag);
  const snr = snrDb(reference, recorded, { lag });
  const summary =
    `${what}: lag ${((lag * 1000) / RATE).toFixed(1)} ms, correlation ${correlation.toFixed(4)}, SNR ${snr.toFixed(1)} dB, ` +
    `${((covered / reference.length) * 100).toFixed(0)} % of the ${(reference.length / RATE).toFixed(2)} s reference in a ${(recorded.length / RATE).toFixed(2)} s recording`;
  assert.ok(covered >= reference.length * 0.98, `the recording must contain the whole reference — ${summary}`);
  assert.ok(correlation >= 0.9, summary);
  return summary;
}

describe('voxlite caller with SIPp', { timeout: 120_000 }, () => {
  test('we call a SIPp UAS with -rtp_echo: the audio we play comes back into our recording', async (t) => {
    if (!requirePeer(t, 'sipp', 'sip-tester')) return;
    const work = mkdtempSync(join(dir, 'echo-'));
    const speech = syntheticSpeech(3);
    const played = join(work, 'speech.wav');
    const recorded = join(work, 'echo.wav');
    writeFileSync(played, writeWav({ sampleRate: RATE, channels: 1, samples: speech }));

    const sipPort = await sparePort();
    const mediaPort = await sparePort('127.0.0.1', 4); // SIPp uses -mp .. -mp+3 (audio, video)
    const uas = sipp(['-sf', join(scenarios, 'uas_echo.xml'), '-p', String(sipPort), '-mp', String(mediaPort), '-rtp_echo'], work);
    await sleep(300); // (our INVITE is retransmitted anyway should SIPp still be starting)

    const c = caller(['--to', `sip:service@127.0.0.1:${sipPort}`, '--play', played, '--record', recorded, '--hangup-after', '4']);
    const code = await c.exited(30_000);
    assert.equal(code, 0, `caller exit ${code}\n${tail(c.stderr())}`);
    assert.equal(await uas.exited(10_000), 0, `SIPp UAS:\n${tail(uas.output())}`);

    const answered = c.events().find((e) => e.event === 'answered');
    assert.ok(answered !== undefined, `not answered:\n${c.stdout()}`);
    const quality = c.events().find((e) => e.event === 'quality');
    assert.ok(quality !== undefined, `no quality report:\n${c.stdout()}`);
    const sent = Number(quality['packetsSent']);
    const received = Number(quality['packetsReceived']);
    assert.ok(sent >= 150, `we sent ${sent} RTP packets in a 4 s call`);
    // The echo carries our own SSRC: an RTP session that takes it for an SSRC collision
    // (RFC 3550 §8.2) drops every packet and receives nothing here.
    assert.ok(received >= sent * 0.95, `echo: sent ${sent}, received ${received} RTP packets (own-SSRC echo dropped?)`);

    const summary = assertCarries(speech, recording(recorded), 'echoed speech');
    t.diagnostic(summary);
  });

  test('SIPp uac_pcap calls us: our recording holds the G.711 A-law of g711a.pcap, and DTMF 1 arrives', async (t) => {
    if (!requirePeer(t, 'sipp', 'sip-tester')) return;
    const audioPcap = join(SIPP_PCAPS, 'g711a.pcap');
    assert.ok(existsSync(audioPcap), `${audioPcap} missing (Debian package sip-tester ships it)`);
    const work = mkdtempSync(join(dir, 'pcap-'));
    // uac_pcap plays pcap/g711a.pcap and pcap/dtmf_2833_1.pcap, relative to its working directory.
    symlinkSync(SIPP_PCAPS, join(work, 'pcap'));
    const recorded = join(work, 'rec.wav');

    // The reference: the PCMA payloads of the capture, placed by RTP timestamp.
    const packets = readPcapRtp(readFileSync(audioPcap)).filter((p) => p.payloadType === 8);
    assert.ok(packets.length > 200, `only ${packets.length} PCMA packets in ${audioPcap}`);
    const first = packets[0]!.timestamp;
    const last = packets.at(-1)!;
    const reference = new Int16Array(((last.timestamp - first) >>> 0) + last.payload.length);
    for (const p of packets) reference.set(decodePcma(p.payload), (p.timestamp - first) >>> 0);

    const c = caller(['--listen', '--auto-respond-after', '0', '--record', recorded]);
    await c.waitForOutput(/listening on udp 127\.0\.0\.1:\d+/, 15_000);
    const port = Number(/listening on udp 127\.0\.0\.1:(\d+)/.exec(c.stderr())?.[1]);
    assert.ok(port > 0, `no SIP port in:\n${c.stderr()}`);

    const sipPort = await sparePort();
    const mediaPort = await sparePort('127.0.0.1', 4);
    const uac = sipp(['-sn', 'uac_pcap', `127.0.0.1:${port}`, '-s', 'voxlite', '-p', String(sipPort), '-mp', String(mediaPort)], work);
    const sippCode = await uac.exited(45_000);
    assert.equal(sippCode, 0, `SIPp uac_pcap exit ${sippCode}:\n${tail(uac.output())}\ncaller:\n${tail(c.stderr())}`);

    // The call ended by SIPp's BYE; the quality report comes when the media is closed.
    const quality = await c.waitForEvent('quality', 10_000);
    c.kill('SIGTERM');
    assert.equal(await c.exited(10_000), 0, tail(c.stderr()));
    assert.equal(quality['codec'], 'PCMA');
    assert.ok(Number(quality['packetsReceived']) >= packets.length, `received ${String(quality['packetsReceived'])} of ${packets.length} audio packets`);

    const summary = assertCarries(reference, recording(recorded), 'g711a.pcap');
    t.diagnostic(summary);

    // dtmf_2833_1.pcap: 7 updates and 3 end packets of one event, so exactly one digit.
    const digits = c
      .events()
      .filter((e) => e.event === 'dtmf' && e['direction'] === 'received')
      .map((e) => String(e['digit']))
      .join('');
    assert.equal(digits, '1', `DTMF received: "${digits}"\n${c.stdout()}`);
  });
});
