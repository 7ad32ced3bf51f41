import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resample } from '../resample.js';
import { synthesizeSpeech } from '../sources/speech.js';
import { activeMediaProcesses, checkMediaTool, findExecutable, MEDIA_TOOLS, MediaProcessError, MediaToolMissingError } from '../tools.js';
import { toMono } from '../wav.js';
import {
  buildPhraseGrammar,
  buildRecognizerArgs,
  normalizePhrase,
  POCKETSPHINX_DEFAULT_MODEL,
  SpeechRecognizer,
  type RecognizedPhrase,
} from './recognizer.js';

/** Skip message when a tool is missing here; with CI=true the test runs, and its checkMediaTool() fails by package name. */
function skipWithout(...needs: ('espeak-ng' | 'pocketsphinx')[]): string | false {
  if (process.env['CI'] === 'true') return false;
  for (const tool of needs) {
    if (findExecutable(MEDIA_TOOLS[tool].command) === undefined) {
      return `${MEDIA_TOOLS[tool].command} not found: apt-get install ${MEDIA_TOOLS[tool].debianPackage}`;
    }
  }
  if (needs.includes('pocketsphinx') && !existsSync(`${POCKETSPHINX_DEFAULT_MODEL}/mdef`)) {
    return 'pocketsphinx model not found: apt-get install pocketsphinx-en-us';
  }
  return false;
}

/** In CI (no skip), a missing tool or model fails the test here, by package name. */
function requireTools(...needs: ('espeak-ng' | 'pocketsphinx')[]): void {
  for (const tool of needs) checkMediaTool(tool);
  if (needs.includes('pocketsphinx') && !existsSync(`${POCKETSPHINX_DEFAULT_MODEL}/mdef`)) {
    throw new MediaToolMissingError('pocketsphinx', POCKETSPHINX_DEFAULT_MODEL, 'pocketsphinx-en-us', 'acoustic model not found');
  }
}

/** Processes of a process group that are still running (zombies awaiting a non-reaping init are not). */
function liveInGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

after(() => assert.deepEqual(activeMediaProcesses(), [], 'no media process left behind'));

const PHRASES = ['hello world', 'call me back', 'goodbye'];

/** Speaks `text` with espeak-ng and returns it as 8 kHz call audio. */
async function speak8k(text: string): Promise<Int16Array> {
  const audio = toMono(await synthesizeSpeech(text));
  return resample(audio.samples, audio.sampleRate, 8000);
}

/** Low-level background noise (about -60 dBFS), reproducible. */
function roomNoise(samples: number): Int16Array {
  let seed = 1;
  return Int16Array.from({ length: samples }, () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return Math.round(((seed >>> 16) / 65536 - 0.5) * 100);
  });
}

function writeFrames(sink: SpeechRecognizer, pcm: Int16Array): void {
  for (let i = 0; i < pcm.length; i += 160) sink.write(pcm.subarray(i, i + 160));
}

describe('phrase grammar', () => {
  test('phrases are normalised to dictionary words', () => {
    assert.equal(normalizePhrase('  Call me BACK! '), 'call me back');
    assert.equal(normalizePhrase("follow-up, don't"), "follow up don't");
    assert.throws(() => normalizePhrase('call 911'), /spell numbers out/);
    assert.throws(() => normalizePhrase('?!'), RangeError);
  });

  test('the JSGF grammar is "exactly one of the phrases", mapped back to the phrases as given', () => {
    const { grammar, phrases } = buildPhraseGrammar(['Hello, world', 'goodbye', 'GOODBYE']);
    assert.equal(grammar, '#JSGF V1.0;\ngrammar voxlite;\npublic <phrase> = hello world | goodbye;\n');
    assert.deepEqual([...phrases], [
      ['hello world', 'Hello, world'],
      ['goodbye', 'goodbye'],
    ]);
    assert.throws(() => buildPhraseGrammar([]), RangeError);
  });

  test('pocketsphinx reads stdin as a file, with the grammar, at 16 kHz', () => {
    assert.deepEqual(buildRecognizerArgs('/tmp/g.jsgf', { endSilenceMs: 800, hmm: '/m', extraArgs: ['-vad_threshold', '3'] }), [
      '-infile', '/dev/stdin', '-jsgf', '/tmp/g.jsgf', '-samprate', '16000', '-vad_postspeech', '80',
      '-dither', 'yes', '-seed', '1', '-hmm', '/m', '-vad_threshold', '3',
    ]);
    assert.throws(() => buildRecognizerArgs('g', { endSilenceMs: 5 }), RangeError);
    assert.throws(() => new SpeechRecognizer({ phrases: ['hi'], cmnInit: [1, 2] }), RangeError);
  });
});

describe('SpeechRecognizer', { timeout: 60_000 }, () => {
  test('recognises "call me back", spoken by espeak-ng at 8 kHz, from a phrase list', { skip: skipWithout('espeak-ng', 'pocketsphinx') }, async () => {
    requireTools('espeak-ng', 'pocketsphinx');
    const speech = await speak8k('call me back');
    const asr = new SpeechRecognizer({ phrases: PHRASES, sampleRate: 8000 });
    const heard: RecognizedPhrase[] = [];
    asr.on('phrase', (p) => heard.push(p));
    await asr.start();
    const pgid = asr.pid;
    assert.ok(pgid !== undefined);
    writeFrames(asr, new Int16Array(4000)); // decoded G.711 silence is exact zeros
    writeFrames(asr, speech);
    writeFrames(asr, new Int16Array(8000));
    await asr.close(); // ends the audio and waits for the last result
    assert.deepEqual(heard, [{ phrase: 'call me back', text: 'call me back' }]);
    assert.equal(asr.error, undefined);
    assert.deepEqual(liveInGroup(pgid), [], 'sh, cat and pocketsphinx are all gone');
    await asr.close();
  });

  test('several phrases in one call, one after another, over room noise', { skip: skipWithout('espeak-ng', 'pocketsphinx') }, async () => {
    requireTools('espeak-ng', 'pocketsphinx');
    const asr = new SpeechRecognizer({ phrases: ['Hello world', 'Call me back', 'Goodbye'] });
    const heard: string[] = [];
    asr.on('phrase', (p) => heard.push(p.phrase));
    writeFrames(asr, roomNoise(8000)); // lazily starts pocketsphinx; the pipe holds the audio meanwhile
    for (const text of ['goodbye', 'hello world', 'call me back']) {
      writeFrames(asr, await speak8k(text));
      writeFrames(asr, roomNoise(12000));
    }
    await asr.close();
    assert.deepEqual(heard, ['Goodbye', 'Hello world', 'Call me back']);
  });

  test('a phrase word missing from the dictionary fails start() with pocketsphinx\'s own message', { skip: skipWithout('pocketsphinx') }, async () => {
    requireTools('pocketsphinx');
    const asr = new SpeechRecognizer({ phrases: ['hello', 'xyzzyplugh'] });
    const errors: Error[] = [];
    asr.on('error', (e) => errors.push(e));
    await assert.rejects(asr.start(), (e: unknown) => {
      assert.ok(e instanceof MediaProcessError);
      assert.match(e.message, /^pocketsphinx .*'xyzzyplugh' is missing in the dictionary/);
      return true;
    });
    await asr.close();
    assert.equal(errors.length, 1);
    asr.write(new Int16Array(160));
    assert.equal(asr.dropped, 0, 'writes after close are ignored, not counted');
  });

  test('pocketsphinx not installed: MediaToolMissingError naming the pocketsphinx package', async () => {
    const asr = new SpeechRecognizer({ phrases: PHRASES, pocketsphinxPath: '/nonexistent/pocketsphinx_continuous' });
    asr.write(new Int16Array(160));
    assert.ok(asr.error instanceof MediaToolMissingError);
    assert.equal(asr.error.debianPackage, 'pocketsphinx');
    assert.match(asr.error.message, /apt-get install pocketsphinx\)$/);
    await assert.rejects(asr.start(), MediaToolMissingError);
    await asr.close();
  });
});
