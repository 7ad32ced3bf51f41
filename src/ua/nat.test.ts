import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixNatContact, isPrivateIpv4 } from './nat.js';
import { SipRequest, Headers } from '../sip/index.js';

function invite(contact: string): SipRequest {
  const headers = new Headers();
  headers.append('Contact', contact);
  return new SipRequest({ method: 'INVITE', uri: 'sip:bob@example.com', headers });
}

test('private IPv4 ranges (RFC 1918)', () => {
  for (const host of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.10']) assert.ok(isPrivateIpv4(host), host);
  for (const host of ['172.32.0.1', '11.0.0.1', '127.0.0.1', 'example.com']) assert.ok(!isPrivateIpv4(host), host);
});

test('a private Contact from a public source is replaced by the source address', () => {
  const request = invite('"Al" <sip:alice@192.168.1.20:5062;transport=udp>;expires=60');
  fixNatContact(request, { protocol: 'udp', host: '203.0.113.9', port: 40_001 });
  assert.equal(request.headers.get('contact'), '"Al" <sip:alice@203.0.113.9:40001;transport=udp>;expires=60');
});

test('left alone: a public Contact, or a private/loopback source', () => {
  const publicContact = invite('<sip:alice@198.51.100.1:5060>');
  fixNatContact(publicContact, { protocol: 'udp', host: '203.0.113.9', port: 5060 });
  assert.equal(publicContact.headers.get('contact'), '<sip:alice@198.51.100.1:5060>');
  const sameLan = invite('<sip:alice@192.168.1.20:5062>');
  fixNatContact(sameLan, { protocol: 'udp', host: '192.168.1.20', port: 5062 });
  fixNatContact(sameLan, { protocol: 'udp', host: '127.0.0.1', port: 5062 });
  assert.equal(sameLan.headers.get('contact'), '<sip:alice@192.168.1.20:5062>');
});
