import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError } from '../../sip/errors.js';
import {
  applyBindingChanges,
  bindingFromJson,
  bindingId,
  bindingToJson,
  canonicalAor,
  LocationStoreError,
  sortForLookup,
  type Binding,
} from './store.js';

const base: Binding = Object.freeze({
  aor: 'sip:alice@example.com',
  contact: 'sip:alice@192.0.2.1',
  expiresAt: 100_000,
  q: 1,
  callId: 'c1',
  cseq: 1,
  updatedAt: 0,
});

describe('canonicalAor', () => {
  test('lower-cases the host, maps sips to sip, drops password, port, parameters and headers', () => {
    assert.equal(canonicalAor('SIPS:alice:secret@Example.COM:5061;transport=tls?subject=x'), 'sip:alice@example.com');
    assert.equal(canonicalAor('sip:example.com'), 'sip:example.com');
    assert.equal(canonicalAor('sip:alice@[2001:DB8::1]'), 'sip:alice@[2001:db8::1]');
  });

  test('keeps the user part case-sensitive and normalises its escapes (RFC 3261 §19.1.4)', () => {
    assert.equal(canonicalAor('sip:Alice@example.com'), 'sip:Alice@example.com');
    assert.equal(canonicalAor('sip:%61lice@example.com'), 'sip:alice@example.com');
    assert.equal(canonicalAor('sip:a%3bb@example.com'), 'sip:a%3Bb@example.com', 'a reserved octet stays escaped');
    assert.equal(canonicalAor('sip:%00@example.com'), 'sip:%00@example.com', 'escnull: %00 does not truncate');
  });

  test('refuses non-SIP AORs (TypeError) and malformed text (SipParseError)', () => {
    assert.throws(() => canonicalAor('tel:+15551234567'), TypeError);
    assert.throws(() => canonicalAor('isbn:2983792873'), TypeError);
    assert.throws(() => canonicalAor('not a uri'), SipParseError);
  });
});

describe('applyBindingChanges', () => {
  test('counts adds, refreshes and removals; a binding saved then removed in one batch counts as nothing', () => {
    const r = applyBindingChanges('sip:alice@example.com', [base], [
      { type: 'save', binding: { ...base, cseq: 2 } },
      { type: 'save', binding: { ...base, contact: 'sip:alice@192.0.2.2' } },
      { type: 'remove', contact: 'sip:alice@192.0.2.2' },
    ], 0);
    assert.deepEqual([r.added, r.refreshed, r.removed], [0, 1, 0]);
    assert.deepEqual(r.bindings.map((b) => b.cseq), [2]);
    const gone = applyBindingChanges('sip:alice@example.com', [base], [
      { type: 'save', binding: { ...base, cseq: 2 } },
      { type: 'remove', contact: base.contact },
    ], 0);
    assert.deepEqual([gone.added, gone.refreshed, gone.removed, gone.bindings.length], [0, 0, 1, 0]);
  });

  test('does not touch its input', () => {
    const current = Object.freeze([base]);
    applyBindingChanges('sip:alice@example.com', current, [{ type: 'removeAll' }], 0);
    assert.equal(current.length, 1);
  });

  test('ids are unique per identity', () => {
    assert.equal(bindingId(base), 'c:sip:alice@192.0.2.1');
    assert.equal(bindingId({ ...base, instanceId: '<urn:uuid:1>', regId: 2 }), 'o:<urn:uuid:1> 2');
    assert.equal(bindingId({ ...base, instanceId: '<urn:uuid:1>' }), 'c:sip:alice@192.0.2.1', 'an instance without reg-id is keyed by contact');
  });

  test('sortForLookup is stable for equal q and time', () => {
    const a = { ...base, contact: 'sip:a@x' };
    const b = { ...base, contact: 'sip:b@x' };
    assert.deepEqual(sortForLookup([a, b]).map((x) => x.contact), ['sip:a@x', 'sip:b@x']);
  });
});

describe('bindingFromJson (rows are a trust boundary)', () => {
  test('round-trips every field', () => {
    const full: Binding = {
      ...base,
      instanceId: '<urn:uuid:1>',
      regId: 1,
      path: ['<sip:p;lr>'],
      received: { protocol: 'ws', host: '::1', port: 8080 },
      flowId: 'f',
      userAgent: 'ua',
    };
    assert.deepEqual(bindingFromJson(bindingToJson(full)), full);
  });

  test('refuses malformed rows with LOCATION_ERR_CORRUPT', () => {
    const cases: unknown[] = [
      42,
      'not json',
      '[]',
      JSON.stringify({ ...base, q: 2 }),
      JSON.stringify({ ...base, cseq: -1 }),
      JSON.stringify({ ...base, expiresAt: 'soon' }),
      JSON.stringify({ ...base, contact: 'sip:a@b\r\nRoute: <sip:evil>' }),
      JSON.stringify({ ...base, contact: 'sip:a@b>' }),
      JSON.stringify({ ...base, contact: 'no scheme' }),
      JSON.stringify({ ...base, received: { protocol: 'sctp', host: 'h', port: 1 } }),
      JSON.stringify({ ...base, path: ['<sip:p>', 7] }),
      JSON.stringify({ ...base, userAgent: 'x\ny' }),
    ];
    for (const row of cases) {
      assert.throws(() => bindingFromJson(row), (e: unknown) => e instanceof LocationStoreError && e.code === 'LOCATION_ERR_CORRUPT', String(row));
    }
  });
});
