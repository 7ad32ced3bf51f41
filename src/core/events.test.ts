import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypedEmitter } from './events.js';

interface Events extends Record<string, unknown> {
  answered: { status: number };
  closed: undefined;
}

test('typed emitter delivers payloads, once and off', () => {
  const e = new TypedEmitter<Events>();
  const seen: number[] = [];
  const off = e.on('answered', (p) => seen.push(p.status));
  e.once('answered', (p) => seen.push(-p.status));
  assert.equal(e.emit('answered', { status: 200 }), true);
  e.emit('answered', { status: 180 });
  off();
  e.emit('answered', { status: 500 });
  assert.deepEqual(seen, [200, -200, 180]);
  assert.equal(e.emit('closed', undefined), false);
});

test('a throwing listener does not stop the others and is reported', () => {
  const errors: string[] = [];
  const e = new TypedEmitter<Events>((error, event) => errors.push(`${event}:${(error as Error).message}`));
  let reached = false;
  e.on('closed', () => {
    throw new Error('boom');
  });
  e.on('closed', () => (reached = true));
  e.emit('closed', undefined);
  assert.equal(reached, true);
  assert.deepEqual(errors, ['closed:boom']);
});

test('next() resolves with the next payload or rejects on abort', async () => {
  const e = new TypedEmitter<Events>();
  const pending = e.next('answered');
  e.emit('answered', { status: 200 });
  assert.deepEqual(await pending, { status: 200 });
  const controller = new AbortController();
  const aborted = e.next('answered', controller.signal);
  controller.abort(new Error('stop'));
  await assert.rejects(aborted, /stop/);
  assert.equal(e.listenerCount('answered'), 0);
});
