import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalHeaderName, headerKey, Headers, unfold } from './headers.js';
import { splitList } from './grammar.js';

test('header keys: case-insensitive, compact forms expanded (RFC 3261 §7.3.3)', () => {
  assert.equal(headerKey('V'), 'via');
  assert.equal(headerKey('i'), 'call-id');
  assert.equal(headerKey('MaX-fOrWaRdS'), 'max-forwards');
  assert.equal(headerKey('k'), 'supported');
  assert.equal(canonicalHeaderName('call-id'), 'Call-ID');
  assert.equal(canonicalHeaderName('www-authenticate'), 'WWW-Authenticate');
  assert.equal(canonicalHeaderName('max-forwards'), 'Max-Forwards');
  assert.equal(canonicalHeaderName('m'), 'Contact');
});

test('splitList ignores commas in quotes and angle brackets', () => {
  assert.deepEqual(splitList('"a, b" <sip:x@y;p=1,2>;q=1 , <sip:z@w>'), ['"a, b" <sip:x@y;p=1,2>;q=1', '<sip:z@w>']);
  assert.deepEqual(splitList('a,,b'), ['a', '', 'b']);
  assert.equal(splitList('"open, x'), null);
  assert.equal(splitList('<sip:open, x'), null);
  // Without a comma nothing is split; an unclosed quote is left for the element parser to reject.
  assert.deepEqual(splitList(' "open '), ['"open']);
});

test('unfold turns folding into one space and trims', () => {
  assert.equal(unfold('a\r\n  b\r\n\tc  '), 'a b c');
  assert.equal(unfold('\r\n sip:x'), 'sip:x');
});

test('Headers keeps order and edits in place', () => {
  const h = new Headers();
  h.append('Via', 'SIP/2.0/UDP a');
  h.append('To', '<sip:x@y>');
  h.append('Via', 'SIP/2.0/UDP b, SIP/2.0/UDP c');
  h.prepend('via', 'SIP/2.0/UDP top');
  assert.deepEqual(h.getAll('v'), ['SIP/2.0/UDP top', 'SIP/2.0/UDP a', 'SIP/2.0/UDP b', 'SIP/2.0/UDP c']);
  assert.equal(h.shift('via'), 'SIP/2.0/UDP top');
  assert.equal(h.shift('via'), 'SIP/2.0/UDP a');
  assert.equal(h.shift('via'), 'SIP/2.0/UDP b');
  assert.deepEqual(h.getAll('via'), ['SIP/2.0/UDP c']);
  h.set('to', '<sip:new@y>');
  assert.deepEqual(
    h.all().map((f) => f.key),
    ['to', 'via'],
  );
  assert.equal(h.get('TO'), '<sip:new@y>');
  assert.equal(h.delete('via'), 1);
  assert.equal(h.has('via'), false);
  // Non-list headers are never split on commas.
  h.append('Subject', 'a, b');
  assert.deepEqual(h.getAll('subject'), ['a, b']);
});
