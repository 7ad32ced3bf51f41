import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SampleQueue } from './sample-queue.js';

const ramp = (from: number, count: number): Int16Array => Int16Array.from({ length: count }, (_, i) => from + i);

describe('SampleQueue', () => {
  test('re-cuts arbitrary chunks into fixed frames, in order, across the ring boundary', () => {
    const q = new SampleQueue(10);
    q.push(ramp(0, 7));
    assert.deepEqual([...(q.take(4) ?? [])], [0, 1, 2, 3]);
    q.push(ramp(7, 6)); // wraps
    assert.equal(q.length, 9);
    assert.equal(q.take(10), null, 'not enough samples: nothing taken');
    assert.deepEqual([...(q.take(9) ?? [])], [4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(q.dropped, 0);
  });

  test('drops the oldest samples beyond capacity and counts them', () => {
    const q = new SampleQueue(5);
    q.push(ramp(0, 4));
    q.push(ramp(4, 3));
    assert.equal(q.dropped, 2);
    assert.deepEqual([...(q.take(5) ?? [])], [2, 3, 4, 5, 6]);
    q.push(ramp(100, 12)); // larger than the whole queue: only the newest 5 survive
    assert.equal(q.dropped, 9);
    assert.deepEqual([...(q.take(5) ?? [])], [107, 108, 109, 110, 111]);
  });

  test('takeInto fills part of a frame; clear empties', () => {
    const q = new SampleQueue(8);
    q.push(ramp(1, 3));
    const frame = new Int16Array(5);
    assert.equal(q.takeInto(frame, 1), 3);
    assert.deepEqual([...frame], [0, 1, 2, 3, 0]);
    q.push(ramp(1, 3));
    q.clear();
    assert.equal(q.length, 0);
    assert.throws(() => new SampleQueue(0), RangeError);
  });
});
