import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCancel, createNon2xxAck } from '../sip/build.js';
import {
  cancelTargetKey,
  clientTransactionKey,
  isRfc3261Branch,
  responseTransactionKey,
  rfc2543AckKey,
  rfc2543AckMatches,
  sentBy,
  serverTransactionKey,
} from './keys.js';
import { makeRequest, makeResponse } from './test-support.js';

test('isRfc3261Branch needs the magic cookie and something after it', () => {
  assert.equal(isRfc3261Branch('z9hG4bKabc'), true);
  assert.equal(isRfc3261Branch('z9hG4bK'), false);
  assert.equal(isRfc3261Branch('Z9HG4BKabc'), false);
  assert.equal(isRfc3261Branch('abc'), false);
  assert.equal(isRfc3261Branch(undefined), false);
});

test('responses match client transactions by branch and CSeq method (§17.1.3)', () => {
  const invite = makeRequest('INVITE', { branch: 'z9hG4bK-1' });
  const cancel = createCancel(invite);
  assert.equal(responseTransactionKey(makeResponse(invite, 180)), clientTransactionKey('z9hG4bK-1', 'INVITE'));
  // The CANCEL shares the branch, but its responses belong to the CANCEL transaction.
  assert.equal(responseTransactionKey(makeResponse(cancel, 200)), clientTransactionKey('z9hG4bK-1', 'CANCEL'));
  assert.notEqual(responseTransactionKey(makeResponse(cancel, 200)), responseTransactionKey(makeResponse(invite, 200)));
});

test('requests match server transactions by branch, sent-by and method; ACK matches the INVITE (§17.2.3)', () => {
  const invite = makeRequest('INVITE', { branch: 'z9hG4bK-2' });
  const key = serverTransactionKey(invite);
  assert.equal(serverTransactionKey(makeRequest('INVITE', { branch: 'z9hG4bK-2' })), key);
  assert.equal(serverTransactionKey(createNon2xxAck(invite, makeResponse(invite, 404))), key);
  assert.notEqual(serverTransactionKey(makeRequest('INVITE', { branch: 'z9hG4bK-2', sentBy: '10.9.9.9:5060' })), key);
  assert.notEqual(serverTransactionKey(makeRequest('INVITE', { branch: 'z9hG4bK-3' })), key);
  assert.notEqual(serverTransactionKey(makeRequest('OPTIONS', { branch: 'z9hG4bK-2' })), key);
  // sent-by compares host case-insensitively and the port as written.
  assert.equal(sentBy(makeRequest('OPTIONS', { sentBy: 'Host.Example.COM:5060' }).topVia()!), 'host.example.com:5060');
  assert.equal(serverTransactionKey(makeRequest('OPTIONS', { via: null })), undefined);
});

test('RFC 2543 fallback: Request-URI, To tag, From tag, Call-ID, CSeq and top Via (§17.2.3)', () => {
  const invite = makeRequest('INVITE', { branch: '2543-branch' });
  const key = serverTransactionKey(invite);
  assert.equal(serverTransactionKey(makeRequest('INVITE', { branch: '2543-branch' })), key);
  assert.notEqual(serverTransactionKey(makeRequest('INVITE', { branch: '2543-branch', toTag: 'x' })), key);
  assert.notEqual(serverTransactionKey(makeRequest('INVITE', { branch: '2543-branch', fromTag: 'x' })), key);
  assert.notEqual(serverTransactionKey(makeRequest('INVITE', { branch: '2543-branch', callId: 'other' })), key);
  assert.notEqual(serverTransactionKey(makeRequest('INVITE', { branch: '2543-branch', seq: 2 })), key);
  assert.notEqual(serverTransactionKey(makeRequest('INVITE', { branch: '2543-branch', uri: 'sip:carol@127.0.1.2' })), key);
  assert.notEqual(serverTransactionKey(makeRequest('INVITE', { branch: 'other-branch' })), key);
  // No branch at all is RFC 2543 too.
  assert.equal(serverTransactionKey(makeRequest('INVITE', { branch: null })), serverTransactionKey(makeRequest('INVITE', { branch: null })));

  // The ACK matches on everything but the To tag, which must be the one of the response sent.
  const response = makeResponse(invite, 486, { toTag: 'srv' });
  const ack = createNon2xxAck(invite, response);
  assert.equal(serverTransactionKey(ack), rfc2543AckKey(invite));
  assert.equal(rfc2543AckMatches(ack, response), true);
  assert.equal(rfc2543AckMatches(ack, makeResponse(invite, 486, { toTag: 'other' })), false);
  assert.equal(rfc2543AckMatches(ack, undefined), false);
  assert.equal(rfc2543AckKey(makeRequest('INVITE')), undefined); // RFC 3261 INVITEs need no extra key
});

test('a CANCEL finds the INVITE it cancels, with or without the magic cookie (§9.2)', () => {
  for (const branch of ['z9hG4bK-4', '2543-cancel', null]) {
    const invite = makeRequest('INVITE', { branch });
    const cancel = createCancel(invite);
    assert.equal(cancelTargetKey(cancel), serverTransactionKey(invite), String(branch));
    assert.notEqual(serverTransactionKey(cancel), serverTransactionKey(invite), String(branch));
  }
  const other = makeRequest('INVITE', { branch: 'z9hG4bK-5' });
  assert.notEqual(cancelTargetKey(createCancel(makeRequest('INVITE', { branch: 'z9hG4bK-6' }))), serverTransactionKey(other));
});
