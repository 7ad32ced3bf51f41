/**
 * `voxlite demo`: the main job end to end on loopback, with nothing outside the process — an
 * embedded `voxlite server` (registrar and proxy with digest auth), two `Caller`s that register
 * with it (alice calls bob through it), speech played into the call (espeak-ng when installed,
 * else generated tones), DTMF, an instant message, hang-up, the call-quality reports, and a
 * check that bob's recording matches what alice played.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Caller, type QualityReport } from '../../ua/caller.js';
import { bestLag, generateDtmf, normalizedCorrelation, readWav, resample, toMono, writeWav } from '../../media/index.js';
import { synthesizeSpeech } from '../../media/sources/speech.js';
import { randomBytes } from 'node:crypto';
import { startServer } from '../../proxy/server.js';
import { UserDirectory } from '../../proxy/users.js';
import { UsageError } from '../usage.js';

const SPEECH = 'Hello from voxlite. This call runs entirely on your own machine.';

async function makeAudio(): Promise<{ samples: Int16Array; what: string }> {
  try {
    const speech = await synthesizeSpeech(SPEECH);
    const mono = toMono(speech);
    return { samples: resample(mono.samples, mono.sampleRate, 8000), what: `speech from ${'espeak-ng or flite'} ("${SPEECH}")` };
  } catch {
    // No TTS installed: a tune of DTMF-pair tones still exercises the whole path.
    return { samples: generateDtmf('1397#', { sampleRate: 8000, onMs: 300, offMs: 100 }), what: 'generated tones (install espeak-ng for speech)' };
  }
}

function report(name: string, q: QualityReport, out: (line: string) => void): void {
  out(
    `  ${name}: ${q.codec}, ${(q.durationMs / 1000).toFixed(1)} s, sent ${q.packetsSent} / received ${q.packetsReceived} packets, ` +
      `lost ${q.packetsLost} (${q.lossPercent}%), jitter ${q.jitterMs} ms, RTT ${q.rttMs ?? 'n/a'} ms, MOS ${q.mos ?? 'n/a'}, RTCP ${q.rtcpSent} sent / ${q.rtcpReceived} received`,
  );
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function runDemo(argv: readonly string[], out: (line: string) => void): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: { json: { type: 'boolean' }, keep: { type: 'boolean' } }, strict: true }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split('\n')[0]! : String(error));
  }
  const dir = mkdtempSync(join(tmpdir(), 'voxlite-demo-'));
  const played = join(dir, 'alice-plays.wav');
  const recorded = join(dir, 'bob-recorded.wav');
  const audio = await makeAudio();
  writeFileSync(played, writeWav({ sampleRate: 8000, channels: 1, samples: audio.samples }));
  // The embedded server: registrar and proxy for domain 127.0.0.1, digest auth with fresh passwords.
  const passwords = { alice: randomBytes(9).toString('base64url'), bob: randomBytes(9).toString('base64url') };
  const realm = 'voxlite.demo';
  const server = await startServer({
    listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    domains: ['127.0.0.1'],
    realm,
    users: new UserDirectory(Object.entries(passwords).map(([user, password]) => UserDirectory.record(user, realm, password))),
  });
  const serverAt = server.agent.localAddress('udp')!;
  const proxy = `${serverAt.host}:${serverAt.port}`;
  out(`voxlite demo: an embedded voxlite server on udp ${proxy} (realm ${realm}, digest auth)`);
  out(`  alice and bob register with it; alice calls bob through it and plays ${audio.what}`);

  const common = { intIp: '127.0.0.1', port: 0, audio: false, domain: '127.0.0.1', proxy, register: true, registerInterval: 300 } as const;
  const bob = new Caller({ ...common, user: 'bob', authuser: 'bob', authpass: passwords.bob, listen: true, autoRespondAfter: 0.2, record: recorded });
  const quality = new Map<string, QualityReport>();
  const digits: string[] = [];
  const messages: string[] = [];
  bob.on('incoming', ({ from }) => out(`  bob: incoming call from ${from}`));
  bob.on('answered', () => out('  bob: answered'));
  bob.on('dtmf', ({ digit, direction }) => {
    if (direction === 'received') digits.push(digit);
  });
  bob.on('message', ({ text }) => {
    messages.push(text);
    out(`  bob: message received: "${text}"`);
  });
  bob.on('quality', (q) => quality.set('bob', q));
  const registrations: string[] = [];
  for (const [name, caller] of [['bob', bob]] as const) {
    caller.on('registered', ({ aor }) => {
      registrations.push(name);
      out(`  ${name}: registered as <${aor}>`);
    });
  }
  const bobRegistered = new Promise<void>((resolve, reject) => {
    bob.once('registered', () => resolve());
    bob.once('registrationFailed', ({ status, reason }) => reject(new Error(`bob could not register: ${status} ${reason}`)));
    setTimeout(() => reject(new Error('bob did not register within 10 s')), 10_000).unref();
  });
  try {
    await bob.start();
    await bobRegistered;
  } catch (error) {
    await Promise.allSettled([bob.close(), server.close()]);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const alice = new Caller({ ...common, user: 'alice', authuser: 'alice', authpass: passwords.alice, to: 'sip:bob@127.0.0.1', play: played });
  alice.on('registered', ({ aor }) => {
    registrations.push('alice');
    out(`  alice: registered as <${aor}>`);
  });
  alice.on('ringing', ({ status, reason }) => out(`  alice: ${status} ${reason}`));
  alice.on('quality', (q) => quality.set('alice', q));
  const answered = new Promise<void>((resolve) => alice.once('answered', () => resolve()));
  const finished = alice.wait();
  let ok = false;
  try {
    await Promise.race([answered, finished]);
    if (alice.listenerCount('answered') > 0) {
      const early = await finished;
      throw new Error(`the call did not connect: ${early.reason}`);
    }
    out('  alice: call answered, playing audio');
    // DTMF pauses the audio (RFC 4733 §2.5.1.1), so it goes after the speech has played.
    await wait((audio.samples.length / 8000) * 1000 + 600);
    out('  alice: sends DTMF 1234#');
    await alice.sendText('1234#');
    const response = await alice.message('Hi Bob, this is an instant message sent during the call.');
    out(`  alice: message answered ${response?.status ?? 'never'} ${response?.reason ?? ''}`);
    await wait(500);
    out('  alice: hangs up');
    await alice.sendText('/hangup');
    const result = await finished;
    await wait(300);
    await bob.close();
    await server.close();

    out('');
    out('what happened:');
    out(`  registered with the embedded server: ${registrations.join(', ')}`);
    out(`  call: ${result.reason} (exit code ${result.code})`);
    out(`  DTMF received by bob: "${digits.join('')}"`);
    out(`  messages received by bob: ${messages.length}`);
    const got = toMono(readWav(readFileSync(recorded)));
    const lag = bestLag(audio.samples, got.samples, 8000);
    const correlation = normalizedCorrelation(audio.samples, got.samples, lag.lag);
    out(`  bob recorded ${(got.samples.length / 8000).toFixed(1)} s; match with what alice played: correlation ${correlation.toFixed(3)}`);
    out('call quality (RTP/RTCP):');
    for (const [name, q] of quality) report(name, q, out);
    ok = result.code === 0 && registrations.length === 2 && digits.join('') === '1234#' && messages.length === 1 && correlation > 0.9;
    out(ok ? 'demo OK' : 'demo FAILED: see above');
    if (values.json === true) out(JSON.stringify({ ok, digits: digits.join(''), messages, correlation, quality: Object.fromEntries(quality) }));
  } finally {
    await Promise.allSettled([alice.close(), bob.close()]);
    await server.close();
    if (values.keep === true) out(`files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return ok ? 0 : 1;
}
