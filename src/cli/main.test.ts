import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/voxlite.js', import.meta.url));

function run(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const OPTIONS = [
  'OPTIONS sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcli',
  'To: <sip:bob@example.com>',
  'From: <sip:alice@example.com>;tag=1',
  'Call-ID: cli-test',
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

test('voxlite parse prints a JSON dump of a message from stdin', () => {
  const r = run(['parse'], OPTIONS);
  assert.equal(r.status, 0, r.stderr);
  const dump = JSON.parse(r.stdout) as { method: string; callId: string };
  assert.equal(dump.method, 'OPTIONS');
  assert.equal(dump.callId, 'cli-test');
});

test('voxlite parse reports the answer for a bad message and exits 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxlite-cli-'));
  const file = join(dir, 'bad.sip');
  writeFileSync(file, OPTIONS.replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'));
  const r = run(['parse', file]);
  assert.equal(r.status, 1);
  const dump = JSON.parse(r.stdout) as { error: { kind: string }; answer: string };
  assert.equal(dump.error.kind, 'cseq-method');
  assert.equal(dump.answer, '400 Bad Request (cseq)');
});

test('voxlite parse --stream frames pipelined messages', () => {
  const r = run(['parse', '--stream'], OPTIONS + OPTIONS.replace('cli-test', 'second'));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 2);
});

test('usage errors print one line and exit 2', () => {
  const unknown = run(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.equal(unknown.stderr.trim().split('\n').length, 1);
  const badOption = run(['parse', '--nope']);
  assert.equal(badOption.status, 2);
  assert.match(badOption.stderr, /^voxlite: /);
  assert.equal(badOption.stderr.trim().split('\n').length, 1);
  const missing = run(['parse', '/nonexistent/file.sip']);
  assert.equal(missing.status, 2);
});
