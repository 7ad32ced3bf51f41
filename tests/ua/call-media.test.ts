/**
 * CallMedia (SDP offer/answer + RTP session + sources and sinks) with Opus, two of them talking
 * over real loopback sockets: 48 kHz frames, audio through libopus both ways, RFC 4733 DTMF at
 * 48 kHz, a ptime Opus cannot do, and the codecs' WASM memory given back when the call ends.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallMedia, type CallAudioFormat, type CallMediaOptions } from '../../src/ua/index.js';
import { bestLag, openOpusCodecs, PcmSource, type MediaSink } from '../../src/media/index.js';
import type { CallerCodec } from '../../src/ua/index.js';

const media: CallMedia[] = [];
after(async () => {
  await Promise.all(media.map((m) => m.close()));
});

/** Collects what a call receives. */
class CollectingSink implements MediaSink {
  readonly frames: Int16Array[] = [];
  constructor(readonly sampleRate: number) {}
  write(frame: Int16Array): void {
    this.frames.push(frame.slice());
  }
  async close(): Promise<void> {}
  samples(): Int16Array {
    const out = new Int16Array(this.frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of this.frames) {
      out.set(f, at);
      at += f.length;
    }
    return out;
  }
}

/** A chirp (not periodic, so the alignment is unambiguous) at 48 kHz, 1.5 s. */
const chirp = Int16Array.from({ length: 72_000 }, (_, i) => {
  const t = i / 48_000;
  return Math.round(9000 * Math.sin(2 * Math.PI * (200 * t + 600 * t * t)) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 2 * t)));
});

interface Side {
  readonly media: CallMedia;
  readonly formats: CallAudioFormat[];
  readonly sink: { current: CollectingSink | undefined };
  readonly digits: string[];
}

async function side(codecs: CallerCodec[], play?: Int16Array): Promise<Side> {
  const formats: CallAudioFormat[] = [];
  const sink: { current: CollectingSink | undefined } = { current: undefined };
  const digits: string[] = [];
  const options: CallMediaOptions = {
    bindAddress: '127.0.0.1',
    advertisedAddress: '127.0.0.1',
    codecs,
    telephoneEvent: true,
    lineEnding: 'crlf',
    createSource: async (format) => {
      formats.push(format);
      return play === undefined ? undefined : new PcmSource({ sampleRate: 48_000, channels: 1, samples: play }, format);
    },
    createSinks: async (format) => {
      sink.current = new CollectingSink(format.sampleRate);
      return [sink.current];
    },
    onDtmf: (digit) => digits.push(digit),
  };
  const m = await CallMedia.open(options);
  media.push(m);
  return { media: m, formats, sink, digits };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('CallMedia with Opus over loopback', { timeout: 30_000 }, () => {
  test('opus,pcmu ↔ opus: Opus at 48 kHz in 960-sample frames, audio arrives, DTMF at 48 kHz, codecs closed at the end', async (t) => {
    const before = openOpusCodecs();
    const alice = await side(['opus', 'pcmu'], chirp);
    const bob = await side(['opus']);
    const answer = await bob.media.answer(alice.media.createOffer());
    const result = await alice.media.setRemoteAnswer(answer);
    assert.equal(result.codec.name, 'opus');
    assert.equal(result.codec.payloadType, 96);
    assert.equal(result.telephoneEventClockRate, 48_000);
    assert.deepEqual(alice.formats, [{ sampleRate: 48_000, frameSize: 960 }]);
    assert.deepEqual(bob.formats, [{ sampleRate: 48_000, frameSize: 960 }]);
    // One encoder and one decoder per side.
    assert.equal(openOpusCodecs(), before + 4);

    await sleep(1800);
    assert.equal(await alice.media.sendDtmf('5#'), true);
    const deadline = Date.now() + 3000;
    while (bob.digits.length < 2 && Date.now() < deadline) await sleep(20);
    assert.deepEqual(bob.digits, ['5', '#']);

    const [aliceStats, bobStats] = [await alice.media.close(), await bob.media.close()];
    assert.equal(openOpusCodecs(), before, 'the encoders and decoders of both sides are closed');
    assert.equal(aliceStats?.codec, 'opus');
    assert.ok((bobStats?.receive.packets ?? 0) > 60, `bob received ${bobStats?.receive.packets} packets`);
    const received = bob.sink.current!.samples();
    assert.ok(bob.sink.current!.frames.every((f) => f.length === 960));
    // Search up to 200 ms: jitter buffer (40 ms) and Opus look-ahead (6.5 ms) in between.
    const { lag, correlation } = bestLag(chirp, received, 9600);
    t.diagnostic(`chirp through opus: lag ${lag} samples, correlation ${correlation.toFixed(4)}`);
    assert.ok(correlation >= 0.9, `correlation ${correlation}`);
  });

  test('a peer asking for a ptime Opus has no frame for (30 ms) gets 20 ms frames', async () => {
    const bob = await side(['opus']);
    const offer = [
      'v=0',
      'o=peer 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 9 RTP/AVP 111',
      'a=rtpmap:111 opus/48000/2',
      'a=ptime:30',
      'a=sendrecv',
      '',
    ].join('\r\n');
    await bob.media.answer(offer);
    assert.equal(bob.media.result?.ptime, 30);
    assert.deepEqual(bob.formats, [{ sampleRate: 48_000, frameSize: 960 }]);
    await bob.media.close();
  });
});
