import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNodeDnsClient } from './dns.js';

// The adapter's answers are checked against a real server in tests/resolver/dns-server.test.ts.

test('createNodeDnsClient rejects unusable options', () => {
  assert.throws(() => createNodeDnsClient({ timeoutMs: 0 }), RangeError);
  assert.throws(() => createNodeDnsClient({ tries: 1.5 }), RangeError);
  assert.throws(() => createNodeDnsClient({ defaultTtlSeconds: -1 }), RangeError);
  assert.throws(() => createNodeDnsClient({ servers: ['not-an-ip'] }), TypeError);
});

test('createNodeDnsClient accepts ip:port servers and can cancel', () => {
  const client = createNodeDnsClient({ servers: ['127.0.0.1:5353', '[::1]:5353'], timeoutMs: 500, tries: 1 });
  client.cancel();
});
