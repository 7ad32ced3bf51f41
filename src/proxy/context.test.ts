import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LazyCancellation } from './context.js';

test('LazyCancellation: a signal asked for after the abort is already aborted, with the reason', () => {
  const cancellation = new LazyCancellation();
  assert.equal(cancellation.aborted, false);
  const reason = new Error('cancelled');
  cancellation.abort(reason);
  assert.equal(cancellation.aborted, true);
  assert.equal(cancellation.signal.aborted, true);
  assert.equal(cancellation.signal.reason, reason);
});

test('LazyCancellation: a signal asked for before the abort fires its abort event once', () => {
  const cancellation = new LazyCancellation();
  const signal = cancellation.signal;
  assert.equal(cancellation.signal, signal, 'one signal per request');
  let fired = 0;
  signal.addEventListener('abort', () => fired++);
  cancellation.abort(new Error('first'));
  cancellation.abort(new Error('second'));
  assert.equal(fired, 1);
  assert.equal((signal.reason as Error).message, 'first');
});
