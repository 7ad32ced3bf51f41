import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLineLogger, createRateLimitedLog, escapeForLog } from './log.js';

test('line logger writes the rtclite-like shape and honours the level', () => {
  const lines: string[] = [];
  const log = createLineLogger({ name: 'caller', level: 'info', write: (l) => lines.push(l), now: () => new Date('2026-01-01T12:34:56.789Z') });
  log.debug('hidden');
  log.info("received response in state 'inviting': 180 Ringing");
  assert.deepEqual(lines, ["12:34:56.789 caller INFO - received response in state 'inviting': 180 Ringing"]);
});

test('rate-limited log: one line per key per interval, memory bounded', () => {
  let now = 0;
  const lines: string[] = [];
  const log = createRateLimitedLog((m) => lines.push(m), () => now, 1000, 2);
  log('10.0.0.1', 'a');
  log('10.0.0.1', 'b');
  now = 1000;
  log('10.0.0.1', 'c');
  log('10.0.0.2', 'd');
  log('10.0.0.3', 'e');
  assert.deepEqual(lines, ['a', 'c', 'd', 'e']);
});

test('escapeForLog escapes controls and caps length', () => {
  assert.equal(escapeForLog('a\r\nb\x00\xff\\'), 'a\\x0d\\x0ab\\x00\\xff\\\\');
  assert.ok(escapeForLog('x'.repeat(500), 10).length <= 11);
});
