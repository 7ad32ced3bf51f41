import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipMessage, SipRequest, SipResponse } from '../sip/message.js';
import { parseMessage } from '../sip/parser.js';
import { Dialog } from './dialog.js';
import { DialogLimitError } from './errors.js';
import { DialogStore, unmatchedRequestOutcome } from './store.js';

function wire(lines: readonly string[]): SipMessage {
  return parseMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
}
function request(lines: readonly string[]): SipRequest {
  const m = wire(lines);
  assert.equal(m.kind, 'request');
  return m;
}
function response(lines: readonly string[]): SipResponse {
  const m = wire(lines);
  assert.equal(m.kind, 'response');
  return m;
}

/** Alice (tag `alice1`) calls Bob; Call-ID `call-1@atlanta`. */
function invite(callId = 'call-1@atlanta'): SipRequest {
  return request([
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKinv',
    'From: <sip:alice@atlanta.example.com>;tag=alice1',
    'To: <sip:bob@biloxi.example.com>',
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@192.0.2.1>',
    'Content-Length: 0',
  ]);
}

function answer(status: number, toTag: string, callId = 'call-1@atlanta'): SipResponse {
  return response([
    `SIP/2.0 ${status} X`,
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKinv',
    'From: <sip:alice@atlanta.example.com>;tag=alice1',
    `To: <sip:bob@biloxi.example.com>;tag=${toTag}`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    'Contact: <sip:bob@192.0.2.2>',
    'Content-Length: 0',
  ]);
}

/** A request from Bob to Alice within the dialog, or with made-up tags. */
function fromBob(method: string, toTag: string | undefined, fromTag = 'bob1', callId = 'call-1@atlanta'): SipRequest {
  return request([
    `${method} sip:alice@192.0.2.1 SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKbye',
    `From: <sip:bob@biloxi.example.com>;tag=${fromTag}`,
    `To: <sip:alice@atlanta.example.com>${toTag === undefined ? '' : `;tag=${toTag}`}`,
    `Call-ID: ${callId}`,
    `CSeq: 5 ${method}`,
    'Content-Length: 0',
  ]);
}

interface Context {
  store: DialogStore;
  dialog: Dialog;
}

describe('DialogStore', () => {
  let ctx: Context;
  beforeEach(() => {
    const store = new DialogStore();
    const dialog = Dialog.fromUacResponse(invite(), answer(200, 'bob1'));
    store.add(dialog);
    ctx = { store, dialog };
  });

  test('matches a request by (Call-ID, To tag = local, From tag = remote)', () => {
    assert.equal(ctx.store.match(fromBob('BYE', 'alice1')), ctx.dialog);
    assert.equal(ctx.store.match(fromBob('BYE', 'alice1', 'bob2')), undefined);
    assert.equal(ctx.store.match(fromBob('BYE', 'alice1', 'bob1', 'call-2@atlanta')), undefined);
    assert.equal(ctx.store.match(fromBob('INVITE', undefined)), undefined);
  });

  test('matches a response by (Call-ID, From tag = local, To tag = remote)', () => {
    assert.equal(ctx.store.match(answer(200, 'bob1')), ctx.dialog);
    assert.equal(ctx.store.match(answer(200, 'bob2')), undefined);
  });

  test('forks: every dialog of one request, so a final non-2xx can end them all', () => {
    const second = Dialog.fromUacResponse(invite(), answer(180, 'bob2'));
    ctx.store.add(second);
    ctx.store.add(Dialog.fromUacResponse(invite('call-2@atlanta'), answer(180, 'bob1', 'call-2@atlanta')));
    assert.deepEqual(ctx.store.forks('call-1@atlanta', 'alice1'), [ctx.dialog, second]);
    assert.equal(ctx.store.match(answer(183, 'bob2')), second);
    assert.equal(ctx.store.size, 3);
  });

  test('classify: in dialog, new, 481 for an unknown To tag, ACK dropped (G18)', () => {
    assert.deepEqual(ctx.store.classify(fromBob('BYE', 'alice1')), { kind: 'dialog', dialog: ctx.dialog });
    assert.deepEqual(ctx.store.classify(fromBob('INVITE', undefined)), { kind: 'new' });
    assert.deepEqual(ctx.store.classify(fromBob('BYE', 'nobody')), {
      kind: 'unmatched',
      action: 'reject',
      status: 481,
      reason: 'Call/Transaction Does Not Exist',
    });
    assert.deepEqual(ctx.store.classify(fromBob('CANCEL', 'nobody')), {
      kind: 'unmatched',
      action: 'reject',
      status: 481,
      reason: 'Call/Transaction Does Not Exist',
    });
    assert.deepEqual(ctx.store.classify(fromBob('ACK', 'nobody')), { kind: 'unmatched', action: 'drop' });
    assert.deepEqual(ctx.store.classify(fromBob('ACK', undefined)), { kind: 'unmatched', action: 'drop' });
  });

  test('unmatchedRequestOutcome: 481 except for ACK', () => {
    assert.deepEqual(unmatchedRequestOutcome(fromBob('BYE', 'x')), { action: 'reject', status: 481, reason: 'Call/Transaction Does Not Exist' });
    assert.deepEqual(unmatchedRequestOutcome(fromBob('ACK', 'x')), { action: 'drop' });
  });

  test('delete, prune and duplicates', () => {
    assert.throws(() => ctx.store.add(ctx.dialog), RangeError);
    const early = Dialog.fromUacResponse(invite(), answer(180, 'bob2'));
    ctx.store.add(early);
    early.terminate();
    assert.equal(ctx.store.prune(), 1);
    assert.deepEqual([...ctx.store], [ctx.dialog]);
    assert.equal(ctx.store.delete(ctx.dialog.id), true);
    assert.equal(ctx.store.delete(ctx.dialog), false);
    assert.equal(ctx.store.size, 0);
    assert.equal(ctx.store.match(fromBob('BYE', 'alice1')), undefined);
  });

  test('a full store refuses new dialogs (G12)', () => {
    const small = new DialogStore({ maxDialogs: 1 });
    small.add(ctx.dialog);
    assert.throws(
      () => small.add(Dialog.fromUacResponse(invite(), answer(180, 'bob2'))),
      (e: unknown) => e instanceof DialogLimitError && e.code === 'DIALOG_ERR_LIMIT',
    );
    assert.throws(() => new DialogStore({ maxDialogs: 0 }), RangeError);
  });
});
