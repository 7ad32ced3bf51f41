import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { rms } from '../signal.js';
import { activeMediaProcesses, checkMediaTool, findExecutable, MEDIA_TOOLS, MediaToolMissingError } from '../tools.js';
import { SpeechSource, synthesizeSpeech } from './speech.js';
import { ToneSource } from './tone.js';

/** Skip message when espeak-ng is missing here; with CI=true the test runs, and its checkMediaTool() fails by package name. */
const needsEspeak: string | false =
  process.env['CI'] === 'true' || findExecutable(MEDIA_TOOLS['espeak-ng'].command) !== undefined
    ? false
    : 'espeak-ng not found: apt-get install espeak-ng';

after(() => assert.deepEqual(activeMediaProcesses(), [], 'no media process left behind'));

/**
 * Plays the pacer: reads frames until `done` settles, yielding to the event loop between reads
 * so the synthesiser's output can arrive (no timers: bounded by a frame count).
 */
async function pace(source: SpeechSource, done: Promise<unknown>, maxFrames = 20_000): Promise<Int16Array[]> {
  let finished = false;
  void done.then(
    () => (finished = true),
    () => (finished = true),
  );
  const frames: Int16Array[] = [];
  for (let i = 0; i < maxFrames && !finished; i++) {
    const frame = source.read();
    assert.ok(frame !== null);
    frames.push(frame);
    await tick();
  }
  assert.ok(finished, 'speech did not finish');
  return frames;
}

const isSilent = (frame: Int16Array): boolean => frame.every((s) => s === 0);

describe('synthesizeSpeech', { timeout: 20_000 }, () => {
  test('espeak-ng speaks a phrase: about a second of audio at a speech-like level', { skip: needsEspeak }, async () => {
    checkMediaTool('espeak-ng');
    const audio = await synthesizeSpeech('hello world');
    assert.equal(audio.channels, 1);
    assert.equal(audio.sampleRate, 22050);
    const seconds = audio.samples.length / audio.sampleRate;
    assert.ok(seconds > 0.5 && seconds < 3, `${seconds} s`);
    const level = rms(audio.samples);
    assert.ok(level > 1000 && level < 20000, `RMS ${level}`);
  });

  test('text is given on stdin, so a line starting with "-" is spoken, not parsed as an option', { skip: needsEspeak }, async () => {
    checkMediaTool('espeak-ng');
    const audio = await synthesizeSpeech('-v is not an option here');
    assert.ok(audio.samples.length / audio.sampleRate > 0.8);
  });

  test('neither espeak-ng nor flite: MediaToolMissingError naming espeak-ng', async () => {
    await assert.rejects(
      synthesizeSpeech('hi', { espeakPath: '/nonexistent/espeak-ng', flitePath: '/nonexistent/flite' }),
      (e: unknown) => e instanceof MediaToolMissingError && e.debianPackage === 'espeak-ng' && /apt-get install espeak-ng/.test(e.message),
    );
    await assert.rejects(synthesizeSpeech('hi', { engine: 'flite', flitePath: '/nonexistent/flite' }), {
      code: 'MEDIA_ERR_TOOL_MISSING',
      debianPackage: 'flite',
    });
    assert.throws(() => synthesizeSpeech('x'.repeat(5000)), RangeError);
  });

  test('an abort signal kills the synthesiser', { skip: needsEspeak }, async () => {
    checkMediaTool('espeak-ng');
    const abort = new AbortController();
    const pending = synthesizeSpeech('a rather long sentence. '.repeat(100), { signal: abort.signal });
    abort.abort(new Error('hung up'));
    await assert.rejects(pending, /hung up/);
  });
});

describe('SpeechSource', { timeout: 30_000 }, () => {
  test('typed lines are spoken one after another at 8 kHz, then silence', { skip: needsEspeak }, async () => {
    checkMediaTool('espeak-ng');
    const tts = new SpeechSource({ sampleRate: 8000, frameSize: 160 });
    const first = tts.say('hello world');
    const second = tts.say('goodbye');
    assert.equal(tts.queuedLines, 2);
    const frames = await pace(tts, Promise.all([first, second]));
    assert.deepEqual(await Promise.all([first, second]), [true, true]);
    assert.equal(tts.speaking, false);

    // The test reads far faster than real time, so frames read while the second line was still
    // being synthesised are idle silence; count the frames that carry speech instead.
    const speech = frames.filter((f) => !isSilent(f));
    const seconds = (speech.length * 160) / 8000;
    assert.ok(seconds > 1 && seconds < 4, `${seconds} s of speech`);
    const all = new Int16Array(speech.length * 160);
    speech.forEach((f, i) => all.set(f, i * 160));
    const level = rms(all);
    assert.ok(level > 800 && level < 20000, `RMS ${level}`);
    assert.ok(frames.every((f) => f.length === 160));
    assert.ok(isSilent(tts.read() ?? Int16Array.of(1)), 'silence once the queue is empty');
    await tts.close();
    assert.equal(tts.read(), null);
  });

  test('the fallback (the microphone) plays when nothing is being said', { skip: needsEspeak }, async () => {
    checkMediaTool('espeak-ng');
    const tone = new ToneSource({ frequencies: [1000] });
    const tts = new SpeechSource({ fallback: tone });
    assert.ok(!isSilent(tts.read() ?? new Int16Array(0)), 'tone before speech');
    const spoken = tts.say('yes');
    const frames = await pace(tts, spoken);
    assert.equal(await spoken, true);
    assert.ok(frames.length > 5);
    await tts.close();
    assert.equal(tone.read(), null, 'the fallback is closed with the source');
  });

  test('clear() drops queued speech and kills the synthesiser; close() leaves no child', { skip: needsEspeak }, async () => {
    checkMediaTool('espeak-ng');
    const tts = new SpeechSource();
    const long = tts.say('a rather long sentence. '.repeat(50));
    const next = tts.say('and another one');
    tts.clear();
    assert.deepEqual(await Promise.all([long, next]), [false, false]);
    assert.equal(tts.speaking, false);
    await tts.close();
    assert.deepEqual(activeMediaProcesses(), []);
    assert.throws(() => tts.say('too late'), RangeError);
  });

  test('a bounded queue, and synthesis failures reject say() (pre-handled)', async () => {
    const tts = new SpeechSource({ maxQueuedLines: 2, espeakPath: '/nonexistent/espeak-ng', flitePath: '/nonexistent/flite' });
    const failing = tts.say('one');
    void tts.say('two'); // ignored on purpose: must not become an unhandled rejection
    assert.throws(() => tts.say('three'), /queue is full/);
    await assert.rejects(failing, MediaToolMissingError);
    assert.equal(await tts.say('   '), true, 'nothing to say');
    await tts.close();
  });
});
