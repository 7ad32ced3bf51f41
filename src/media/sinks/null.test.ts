import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NullSink } from './null.js';

describe('NullSink', () => {
  test('drops frames, counts them until close()', async () => {
    const sink = new NullSink();
    assert.equal(sink.sampleRate, 8000);
    sink.write(new Int16Array(160));
    sink.write(new Int16Array(80));
    await sink.close();
    await sink.close();
    sink.write(new Int16Array(160));
    assert.equal(sink.frames, 2);
    assert.equal(sink.samples, 240);
    assert.throws(() => new NullSink({ sampleRate: -1 }), RangeError);
  });
});
