import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/clock.js';
import { SeededRandom } from '../core/random.js';
import { FakeDns } from '../testing/fake-dns.js';
import { Resolver } from './resolver.js';
import type { Target } from './resolver.js';
import { TargetList, shouldFailOver } from './target-list.js';
import type { FailoverOutcome } from './target-list.js';

const A: Target = Object.freeze({ protocol: 'tcp', host: '192.0.2.1', port: 5060 });
const B: Target = Object.freeze({ protocol: 'tcp', host: '192.0.2.2', port: 5060 });
const C: Target = Object.freeze({ protocol: 'udp', host: '192.0.2.3', port: 5060 });

test('shouldFailOver: timeout, transport error and 503 move on; other answers do not (RFC 3263 §4.3)', () => {
  assert.equal(shouldFailOver('timeout'), true);
  assert.equal(shouldFailOver('transport-error'), true);
  assert.equal(shouldFailOver(503), true);
  for (const status of [200, 302, 404, 486, 500, 502, 504, 600]) assert.equal(shouldFailOver(status), false, String(status));
});

describe('TargetList', () => {
  let list: TargetList;
  beforeEach(() => {
    list = new TargetList([A, B, C]);
  });

  test('nextTarget walks the list once, then stays exhausted', () => {
    assert.equal(list.current, undefined);
    assert.equal(list.remaining, 3);
    assert.equal(list.nextTarget(), A);
    assert.equal(list.current, A);
    assert.equal(list.nextTarget(), B);
    assert.equal(list.nextTarget(), C);
    assert.equal(list.remaining, 0);
    assert.equal(list.exhausted, false);
    assert.equal(list.nextTarget(), undefined);
    assert.equal(list.exhausted, true);
    assert.equal(list.current, undefined);
    assert.equal(list.nextTarget(), undefined);
    assert.deepEqual(list.tried, [A, B, C]);
  });

  test('failover advances only on a fail-over outcome', () => {
    list.nextTarget();
    assert.equal(list.failover(486), undefined);
    assert.equal(list.current, A, 'a real answer keeps the cursor');
    assert.equal(list.failover('timeout'), B);
    assert.equal(list.failover(503), C);
    assert.equal(list.failover('transport-error'), undefined);
    assert.equal(list.exhausted, true);
  });

  test('iterating yields the targets not handed out yet', () => {
    list.nextTarget();
    assert.deepEqual([...list], [B, C]);
    assert.deepEqual([...list], []);
  });

  test('the list is a frozen copy', () => {
    const source = [A, B];
    const copy = new TargetList(source);
    source.push(C);
    assert.equal(copy.targets.length, 2);
    assert.ok(Object.isFrozen(copy.targets));
    assert.deepEqual(new TargetList([]).nextTarget(), undefined);
  });
});

test('fail-over order: a caller walks NAPTR → SRV targets until one answers', async () => {
  const dns = new FakeDns()
    .naptr('example.com', [
      { order: 10, preference: 10, service: 'SIP+D2T', replacement: '_sip._tcp.example.com' },
      { order: 20, preference: 10, service: 'SIP+D2U', replacement: '_sip._udp.example.com' },
    ])
    .srv('_sip._tcp.example.com', [
      { priority: 20, port: 5060, target: 'backup.example.com' },
      { priority: 10, port: 5060, target: 'primary.example.com' },
    ])
    .srv('_sip._udp.example.com', [{ priority: 10, port: 5060, target: 'udp.example.com' }])
    .a('primary.example.com', ['192.0.2.1', '192.0.2.11'])
    .a('backup.example.com', ['192.0.2.2'])
    .a('udp.example.com', ['192.0.2.3']);
  const resolver = new Resolver({ dns, clock: new FakeClock(), random: new SeededRandom(1) });
  const list = new TargetList(await resolver.resolve('sip:bob@example.com'));

  // The network: the primary's first address times out, its second refuses connections,
  // the backup is overloaded (503), the UDP server answers 486.
  const outcomes = new Map<string, FailoverOutcome>([
    ['192.0.2.1', 'timeout'],
    ['192.0.2.11', 'transport-error'],
    ['192.0.2.2', 503],
    ['192.0.2.3', 486],
  ]);
  const tried: string[] = [];
  let target = list.nextTarget();
  let final: FailoverOutcome | undefined;
  while (target !== undefined) {
    tried.push(`${target.protocol} ${target.host}`);
    final = outcomes.get(target.host) ?? 200;
    target = list.failover(final);
  }
  assert.deepEqual(tried, ['tcp 192.0.2.1', 'tcp 192.0.2.11', 'tcp 192.0.2.2', 'udp 192.0.2.3']);
  assert.equal(final, 486);
  assert.equal(list.current?.host, '192.0.2.3');
});
