/**
 * Smoke test for the parser benchmark's corpus: every message must parse with voxlite and be
 * written back octet for octet, or the benchmark would time an error path. No timing here
 * (STYLE §10: performance lives in benchmarks only).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CORPUS, corpusBytes } from '../bench/corpus.js';
import { formatMessage, parseMessage } from '../src/sip/index.js';

test('the benchmark corpus covers the message kinds the benchmark promises', () => {
  assert.deepEqual(
    CORPUS.map((m) => m.name),
    ['REGISTER', '401', 'REGISTER+auth', 'INVITE+SDP', '180', '200+SDP', 'ACK', 'BYE', 'MESSAGE', 'OPTIONS'],
  );
});

test('every corpus message parses with voxlite and round-trips byte-exact', async (t) => {
  const bytes = corpusBytes();
  for (const [i, message] of CORPUS.entries()) {
    await t.test(message.name, () => {
      const input = bytes[i]!;
      const parsed = parseMessage(input);
      const output = formatMessage(parsed);
      assert.equal(output.toString('latin1'), message.text);
      assert.ok(output.equals(input));
    });
  }
});

test('corpus bodies match their Content-Length', () => {
  for (const [i, input] of corpusBytes().entries()) {
    const parsed = parseMessage(input, { mode: 'stream' });
    assert.equal(parsed.contentLength(), parsed.body.length, CORPUS[i]!.name);
  }
});
