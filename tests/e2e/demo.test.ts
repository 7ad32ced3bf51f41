/** The README's main command: `voxlite demo` runs end to end on a fresh clone, nothing outside needed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { voxlite } from './lib.js';

test('voxlite demo registers through the embedded server, calls, sends DTMF and a message, and reports quality', { timeout: 60_000 }, async () => {
  const demo = voxlite(['demo'], { maxMs: 50_000 });
  const code = await demo.exited(50_000);
  const out = demo.stdout();
  assert.equal(code, 0, out + demo.stderr());
  assert.match(out, /registered with the embedded server: (bob, alice|alice, bob)/);
  assert.match(out, /DTMF received by bob: "1234#"/);
  assert.match(out, /messages received by bob: 1/);
  assert.match(out, /alice: PCMU, .* MOS \d/);
  assert.match(out, /demo OK/);
});
