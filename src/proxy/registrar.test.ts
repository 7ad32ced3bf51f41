import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { SeededRandom } from '../core/random.js';
import {
  formatMessage,
  isRequest,
  isSipUri,
  parseMessage,
  SipRequest,
  type SipResponse,
} from '../sip/index.js';
import { MemoryLocationStore } from './location/memory.js';
import { canonicalAor, LocationStoreError, type LocationStore } from './location/store.js';
import { Registrar, type RegistrarOptions } from './registrar.js';

const AOR = 'sip:alice@example.com';
const DATE = new Date('2024-05-06T07:08:09Z');
const here = dirname(fileURLToPath(import.meta.url));
const corpus = join(here, '..', '..', '..', 'shared', 'conformance', 'rfc4475');

interface RegisterSpec {
  contacts?: string[];
  expires?: string;
  callId?: string;
  cseq?: number;
  to?: string;
  headers?: string[];
}

/**
 * A REGISTER. Contact and Expires are added after parsing, as a script building requests would:
 * the parser already refuses a malformed Contact with 400, and the registrar must not depend on
 * that having happened.
 */
function request(spec: RegisterSpec = {}): SipRequest {
  const lines = [
    'REGISTER sip:example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-test',
    'Max-Forwards: 70',
    `To: ${spec.to ?? `<${AOR}>`}`,
    `From: <${AOR}>;tag=from1`,
    `Call-ID: ${spec.callId ?? 'reg-1@192.0.2.10'}`,
    `CSeq: ${spec.cseq ?? 1} REGISTER`,
    ...(spec.headers ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  const message = parseMessage(Buffer.from(lines.join('\r\n'), 'latin1'));
  assert.ok(isRequest(message));
  for (const c of spec.contacts ?? []) message.headers.append('Contact', c);
  if (spec.expires !== undefined) message.headers.append('Expires', spec.expires);
  return message;
}

function contactsOf(response: SipResponse): string[] {
  return response.headers.getAll('contact');
}

interface Ctx {
  clock: FakeClock;
  store: MemoryLocationStore;
  registrar: Registrar;
  /** REGISTER for AOR with a source address and flow. */
  register(spec?: RegisterSpec): Promise<SipResponse>;
  contacts(): Promise<string[]>;
}

function setup(options: Partial<RegistrarOptions> = {}, store?: LocationStore): Ctx {
  const clock = new FakeClock(10_000);
  const memory = new MemoryLocationStore({ clock });
  const registrar = new Registrar({ store: store ?? memory, random: new SeededRandom(7), date: () => DATE, ...options });
  return {
    clock,
    store: memory,
    registrar,
    register: (spec) => registrar.register(request(spec), { aor: AOR, source: { protocol: 'udp', host: '198.51.100.9', port: 5070 }, flowId: 'udp-flow-1' }),
    contacts: async () => (await memory.bindings(AOR)).map((b) => b.contact),
  };
}

describe('Registrar', () => {
  let ctx: Ctx;
  beforeEach(() => {
    ctx = setup();
  });

  describe('adding bindings (RFC 3261 §10.3 steps 7–8)', () => {
    test('200 lists the binding with its granted expires and a Date header; the binding keeps where the request came from', async () => {
      const response = await ctx.register({ contacts: ['<sip:alice@192.0.2.10:5060>'], headers: ['User-Agent: phone/1.0'] });
      assert.equal(response.status, 200);
      assert.deepEqual(contactsOf(response), ['<sip:alice@192.0.2.10:5060>;expires=3600']);
      assert.equal(response.headers.get('date'), 'Mon, 06 May 2024 07:08:09 GMT');
      assert.match(response.headers.get('to') ?? '', /;tag=\S+$/, 'a To tag (RFC 3261 §8.2.6.2)');
      assert.equal(response.headers.get('call-id'), 'reg-1@192.0.2.10');
      const [binding] = await ctx.store.lookup(AOR);
      assert.deepEqual(binding, {
        aor: AOR,
        contact: 'sip:alice@192.0.2.10:5060',
        expiresAt: 10_000 + 3_600_000,
        q: 1,
        callId: 'reg-1@192.0.2.10',
        cseq: 1,
        updatedAt: 10_000,
        received: { protocol: 'udp', host: '198.51.100.9', port: 5070 },
        flowId: 'udp-flow-1',
        userAgent: 'phone/1.0',
      });
    });

    test('a REGISTER without Contact is a query: 200 with the current bindings, nothing changes', async () => {
      await ctx.register({ contacts: ['<sip:alice@192.0.2.10>'] });
      ctx.clock.advance(600_000);
      const response = await ctx.register({ cseq: 2 });
      assert.equal(response.status, 200);
      assert.deepEqual(contactsOf(response), ['<sip:alice@192.0.2.10>;expires=3000'], 'the remaining time, not the original');
      assert.equal((await ctx.store.lookup(AOR))[0]!.cseq, 1);
    });

    test('the 200 lists every binding of the AOR, including other devices\' (with q when not 1)', async () => {
      await ctx.register({ contacts: ['<sip:alice@192.0.2.10>;q=0.5'] });
      const response = await ctx.register({ contacts: ['<sip:alice@192.0.2.20>'], callId: 'other-device', expires: '600' });
      assert.deepEqual(contactsOf(response), ['<sip:alice@192.0.2.10>;expires=3600;q=0.5', '<sip:alice@192.0.2.20>;expires=600']);
      assert.deepEqual((await ctx.store.lookup(AOR)).map((b) => b.contact), ['sip:alice@192.0.2.20', 'sip:alice@192.0.2.10']);
    });

    test('several Contacts in one REGISTER are all bound', async () => {
      const response = await ctx.register({ contacts: ['<sip:alice@192.0.2.10>, <sip:alice@192.0.2.11>', 'sip:alice@192.0.2.12'] });
      assert.equal(response.status, 200);
      assert.deepEqual(await ctx.contacts(), ['sip:alice@192.0.2.10', 'sip:alice@192.0.2.11', 'sip:alice@192.0.2.12']);
    });

    test('the AOR is canonical, whatever form the caller passes', async () => {
      const response = await ctx.registrar.register(request({ contacts: ['<sip:alice@192.0.2.10>'] }), { aor: 'sips:alice@EXAMPLE.COM;transport=tls' });
      assert.equal(response.status, 200);
      assert.equal((await ctx.store.lookup('sip:alice@example.com')).length, 1);
    });
  });

  describe('expiry values (G22)', () => {
    test('the contact expires parameter wins over the Expires header, which wins over the default', async () => {
      const c = setup({ defaultExpires: 1800 });
      await c.register({ contacts: ['<sip:a@192.0.2.1>;expires=120', '<sip:b@192.0.2.2>'], expires: '300' });
      await c.register({ contacts: ['<sip:c@192.0.2.3>'], cseq: 2 });
      const left = (await c.store.bindings(AOR)).map((b) => [b.contact, (b.expiresAt - c.clock.now()) / 1000]);
      assert.deepEqual(left, [
        ['sip:a@192.0.2.1', 120],
        ['sip:b@192.0.2.2', 300],
        ['sip:c@192.0.2.3', 1800],
      ]);
    });

    test('a non-zero expiry below the minimum gets 423 with Min-Expires, and nothing of the REGISTER is bound', async () => {
      for (const spec of [
        { contacts: ['<sip:a@192.0.2.1>;expires=59'] },
        { contacts: ['<sip:a@192.0.2.1>'], expires: '1' },
        { contacts: ['<sip:ok@192.0.2.9>', '<sip:a@192.0.2.1>;expires=30'] },
      ]) {
        const response = await ctx.register(spec);
        assert.equal(response.status, 423);
        assert.equal(response.reason, 'Interval Too Brief');
        assert.equal(response.headers.get('min-expires'), '60');
      }
      assert.deepEqual(await ctx.contacts(), []);
      assert.equal((await ctx.register({ contacts: ['<sip:a@192.0.2.1>;expires=60'] })).status, 200, 'the minimum itself is fine');
    });

    test('an expiry above the maximum is clamped and the 200 shows the granted value', async () => {
      const response = await ctx.register({ contacts: ['<sip:a@192.0.2.1>;expires=86400', '<sip:b@192.0.2.2>'], expires: '99999999999999' });
      assert.equal(response.status, 200);
      assert.deepEqual(contactsOf(response), ['<sip:a@192.0.2.1>;expires=3600', '<sip:b@192.0.2.2>;expires=3600']);
    });

    test('a negative or non-numeric expiry is 400, in the header or in the contact parameter', async () => {
      for (const spec of [
        { contacts: ['<sip:a@192.0.2.1>'], expires: '-1' },
        { contacts: ['<sip:a@192.0.2.1>'], expires: 'soon' },
        { contacts: ['<sip:a@192.0.2.1>'], expires: '3600.5' },
        { contacts: ['<sip:a@192.0.2.1>;expires=-60'] },
        { contacts: ['<sip:a@192.0.2.1>;expires=abc'] },
        { contacts: ['<sip:a@192.0.2.1>;expires'] },
      ]) {
        const response = await ctx.register(spec);
        assert.equal(response.status, 400, JSON.stringify(spec));
      }
      assert.deepEqual(await ctx.contacts(), []);
    });
  });

  describe('removing bindings', () => {
    test('expires=0 removes that contact; the 200 lists what is left', async () => {
      await ctx.register({ contacts: ['<sip:a@192.0.2.1>', '<sip:b@192.0.2.2>'] });
      const response = await ctx.register({ contacts: ['<sip:a@192.0.2.1>;expires=0'], cseq: 2 });
      assert.equal(response.status, 200);
      assert.deepEqual(contactsOf(response), ['<sip:b@192.0.2.2>;expires=3600']);
      const header = await ctx.register({ contacts: ['<sip:b@192.0.2.2>'], expires: '0', cseq: 3 });
      assert.deepEqual(contactsOf(header), []);
      assert.deepEqual(await ctx.contacts(), []);
    });

    test('Contact: * with Expires: 0 removes every binding (§10.3 step 6)', async () => {
      await ctx.register({ contacts: ['<sip:a@192.0.2.1>'] });
      await ctx.register({ contacts: ['<sip:b@192.0.2.2>'], callId: 'another-device' });
      const response = await ctx.register({ contacts: ['*'], expires: '0', cseq: 2 });
      assert.equal(response.status, 200);
      assert.deepEqual(contactsOf(response), []);
      assert.deepEqual(await ctx.contacts(), []);
    });

    test('Contact: * must stand alone, without parameters, with Expires: 0; otherwise 400 and nothing changes (G22)', async () => {
      await ctx.register({ contacts: ['<sip:a@192.0.2.1>'] });
      for (const spec of [
        { contacts: ['*'] },
        { contacts: ['*'], expires: '3600' },
        { contacts: ['*;expires=0'], expires: '0' },
        { contacts: ['*', '<sip:b@192.0.2.2>'], expires: '0' },
        { contacts: ['*, <sip:b@192.0.2.2>'], expires: '0' },
        { contacts: ['<sip:b@192.0.2.2>', '*'], expires: '0' },
      ]) {
        const response = await ctx.register({ ...spec, cseq: 5 });
        assert.equal(response.status, 400, JSON.stringify(spec));
      }
      assert.deepEqual(await ctx.contacts(), ['sip:a@192.0.2.1']);
    });
  });

  describe('ordering by Call-ID and CSeq (§10.3 step 7)', () => {
    test('the same Call-ID with a lower or equal CSeq gets 500 and changes nothing', async () => {
      await ctx.register({ contacts: ['<sip:a@192.0.2.1>'], cseq: 10 });
      for (const spec of [
        { contacts: ['<sip:a@192.0.2.1>'], cseq: 10, expires: '600' },
        { contacts: ['<sip:a@192.0.2.1>'], cseq: 9, expires: '600' },
        { contacts: ['<sip:a@192.0.2.1>;expires=0'], cseq: 9 },
        { contacts: ['*'], expires: '0', cseq: 10 },
      ]) {
        const response = await ctx.register(spec);
        assert.equal(response.status, 500, JSON.stringify(spec));
      }
      const [binding] = await ctx.store.lookup(AOR);
      assert.equal(binding!.cseq, 10);
      assert.equal(binding!.expiresAt, 10_000 + 3_600_000);
    });

    test('a higher CSeq refreshes; a different Call-ID replaces whatever its CSeq', async () => {
      await ctx.register({ contacts: ['<sip:a@192.0.2.1>'], cseq: 10 });
      ctx.clock.advance(1000);
      assert.equal((await ctx.register({ contacts: ['<sip:a@192.0.2.1>'], cseq: 11, expires: '600' })).status, 200);
      assert.equal((await ctx.register({ contacts: ['<sip:a@192.0.2.1>'], cseq: 1, callId: 'rebooted' })).status, 200);
      const bindings = await ctx.store.lookup(AOR);
      assert.deepEqual(bindings.map((b) => [b.callId, b.cseq]), [['rebooted', 1]]);
    });
  });

  describe('limits', () => {
    test('more bindings than allowed gets 503 "Too many registered contacts" (G23); refreshes still work', async () => {
      const c = setup({ maxBindingsPerAor: 2 });
      assert.equal((await c.register({ contacts: ['<sip:a@192.0.2.1>', '<sip:b@192.0.2.2>'] })).status, 200);
      const refused = await c.register({ contacts: ['<sip:c@192.0.2.3>'], callId: 'third-device' });
      assert.equal(refused.status, 503);
      assert.equal(refused.reason, 'Too many registered contacts');
      assert.equal((await c.register({ contacts: ['<sip:a@192.0.2.1>'], cseq: 2 })).status, 200);
      assert.deepEqual(await c.contacts(), ['sip:a@192.0.2.1', 'sip:b@192.0.2.2']);
    });

    test('a store failure is a 500, logged, never a throw', async () => {
      const logged: string[] = [];
      const logger: Logger = { debug() {}, info() {}, warn() {}, error: (m) => logged.push(m) };
      const clock = new FakeClock();
      const broken: LocationStore = {
        clock,
        update: async () => {
          throw new LocationStoreError('LOCATION_ERR_BACKEND', 'disk on fire');
        },
        save: async () => {
          throw new Error('unused');
        },
        remove: async () => false,
        removeAll: async () => 0,
        lookup: async () => [],
        bindings: async () => [],
        expire: async () => 0,
        close: async () => {},
      };
      const registrar = new Registrar({ store: broken, logger });
      const response = await registrar.register(request({ contacts: ['<sip:a@192.0.2.1>'] }), { aor: AOR });
      assert.equal(response.status, 500);
      assert.equal(logged.length, 1);
    });
  });

  describe('To and Contact syntax', () => {
    test('a To that is not a SIP or SIPS URI gets 400 (RFC 3261 §10.2)', async () => {
      const response = await ctx.register({ to: 'tel:+15551234567', contacts: ['<sip:a@192.0.2.1>'] });
      assert.equal(response.status, 400);
      assert.deepEqual(await ctx.contacts(), []);
    });

    test('contact-params and URI-params are kept apart (cparam01/cparam02)', async () => {
      await ctx.register({ contacts: ['sip:a@192.0.2.1;unknownparam', '<sip:b@192.0.2.2;unknownparam>;other'] });
      assert.deepEqual(await ctx.contacts(), ['sip:a@192.0.2.1', 'sip:b@192.0.2.2;unknownparam']);
    });

    test('an addr-spec Contact with an escaped header is 400 (regbadct); in <> it stays inside the URI (regescrt, G19)', async () => {
      const bad = new SipRequest({ method: 'REGISTER', uri: 'sip:example.com', headers: request().headers.clone() });
      bad.headers.append('Contact', 'sip:user@example.com?Route=%3Csip:sip.example.com%3E');
      assert.equal((await ctx.registrar.register(bad, { aor: AOR })).status, 400);
      const response = await ctx.register({ contacts: ['<sip:user@example.com?Route=%3Csip:sip.example.com%3E>'] });
      assert.equal(response.status, 200);
      assert.deepEqual(await ctx.contacts(), ['sip:user@example.com?Route=%3Csip:sip.example.com%3E']);
      assert.equal(response.headers.has('route'), false);
    });

    test('a bad q is 400', async () => {
      assert.equal((await ctx.register({ contacts: ['<sip:a@192.0.2.1>;q=2'] })).status, 400);
    });
  });

  describe('RFC 5626 outbound and RFC 3327 Path', () => {
    const instance = '"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"';

    test('the same +sip.instance and reg-id replace the old binding, and the 200 says Require: outbound', async () => {
      await ctx.register({ contacts: [`<sip:alice@192.0.2.10;ob>;+sip.instance=${instance};reg-id=1`] });
      const response = await ctx.register({ contacts: [`<sip:alice@203.0.113.5:40000;ob>;+sip.instance=${instance};reg-id=1`], callId: 'after-reboot' });
      assert.equal(response.status, 200);
      assert.deepEqual(contactsOf(response), [`<sip:alice@203.0.113.5:40000;ob>;expires=3600;+sip.instance=${instance};reg-id=1`]);
      assert.equal(response.headers.get('require'), 'outbound');
      const [binding] = await ctx.store.lookup(AOR);
      assert.equal(binding!.instanceId, '<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>');
      assert.equal(binding!.regId, 1);
      assert.equal(binding!.flowId, 'udp-flow-1');
    });

    test('a reg-id without +sip.instance is ignored (no outbound identity, no Require)', async () => {
      const response = await ctx.register({ contacts: ['<sip:alice@192.0.2.10>;reg-id=1'] });
      assert.equal(response.headers.has('require'), false);
      assert.equal((await ctx.store.lookup(AOR))[0]!.regId, undefined);
    });

    test('a malformed reg-id is 400', async () => {
      for (const regId of ['0', 'x', '2147483648']) {
        const response = await ctx.register({ contacts: [`<sip:alice@192.0.2.10>;+sip.instance=${instance};reg-id=${regId}`] });
        assert.equal(response.status, 400, regId);
      }
    });

    test('Path is stored, and echoed when the UA supports path', async () => {
      const response = await ctx.register({
        contacts: ['<sip:alice@192.0.2.10>'],
        headers: ['Path: <sip:edge1.example.com;lr>', 'Path: <sip:edge2.example.com;lr>', 'Supported: outbound, path'],
      });
      assert.deepEqual(response.headers.getAll('path'), ['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr>']);
      assert.deepEqual((await ctx.store.lookup(AOR))[0]!.path, ['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr>']);
      const quiet = await ctx.register({ contacts: ['<sip:alice@192.0.2.10>'], cseq: 2, headers: ['Path: <sip:edge1.example.com;lr>'] });
      assert.equal(quiet.headers.has('path'), false);
    });
  });

  describe('configuration', () => {
    test('a clock other than the store\'s is refused: expiry has one time base', () => {
      assert.throws(() => new Registrar({ store: ctx.store, clock: new FakeClock() }), TypeError);
      assert.doesNotThrow(() => new Registrar({ store: ctx.store, clock: ctx.clock }));
    });

    test('bad limits are RangeErrors', () => {
      assert.throws(() => new Registrar({ store: ctx.store, minExpires: 100, maxExpires: 50 }), RangeError);
      assert.throws(() => new Registrar({ store: ctx.store, maxBindingsPerAor: 0 }), RangeError);
      assert.throws(() => new Registrar({ store: ctx.store, defaultExpires: -1 }), RangeError);
      assert.throws(() => new Registrar({ store: ctx.store, minExpires: 1.5 }), RangeError);
    });

    test('only REGISTER is accepted, and the AOR must be a SIP URI: both are caller mistakes (TypeError)', async () => {
      const options = new SipRequest({ method: 'OPTIONS', uri: 'sip:example.com', headers: request().headers.clone() });
      await assert.rejects(ctx.registrar.register(options, { aor: AOR }), TypeError);
      await assert.rejects(ctx.registrar.register(request(), { aor: 'tel:+15551234567' }), TypeError);
    });
  });
});

describe('Registrar with the RFC 4475 messages', { skip: existsSync(corpus) ? false : `corpus not found at ${corpus}` }, () => {
  const load = (name: string): SipRequest => {
    const message = parseMessage(readFileSync(join(corpus, `${name}.dat`)));
    assert.ok(isRequest(message));
    return message;
  };
  const aorOf = (req: SipRequest): string => {
    const to = req.to().uri;
    return isSipUri(to) ? canonicalAor(to) : 'sip:unused@example.com';
  };
  let ctx: Ctx;
  beforeEach(() => {
    ctx = setup();
  });

  test('cparam01 (§3.3.12): unknownparam is a contact-param, not part of the bound URI', async () => {
    const req = load('cparam01');
    const response = await ctx.registrar.register(req, { aor: aorOf(req) });
    assert.equal(response.status, 200);
    const [binding] = await ctx.store.lookup('sip:watson@example.com');
    assert.equal(binding!.contact, 'sip:+19725552222@gw1.example.net');
    assert.deepEqual(contactsOf(response), ['<sip:+19725552222@gw1.example.net>;expires=3600']);
  });

  test('cparam02 (§3.3.13): unknownparam is a URI parameter and a later fetch shows it in the URI', async () => {
    const req = load('cparam02');
    assert.equal((await ctx.registrar.register(req, { aor: aorOf(req) })).status, 200);
    const fetch = new SipRequest({ method: 'REGISTER', uri: req.uri, headers: req.headers.clone() });
    fetch.headers.delete('contact');
    fetch.headers.set('CSeq', '4 REGISTER');
    const response = await ctx.registrar.register(fetch, { aor: aorOf(req) });
    assert.deepEqual(contactsOf(response), ['<sip:+19725552222@gw1.example.net;unknownparam>;expires=3600']);
  });

  test('regescrt (§3.3.14): the escaped Route stays inside the contact URI and never becomes a header (G19)', async () => {
    const req = load('regescrt');
    const response = await ctx.registrar.register(req, { aor: aorOf(req) });
    assert.equal(response.status, 200);
    const [binding] = await ctx.store.lookup('sip:user@example.com');
    assert.equal(binding!.contact, 'sip:user@example.com?Route=%3Csip:sip.example.com%3E');
    const wire = parseMessage(formatMessage(response));
    assert.equal(wire.headers.has('route'), false);
    const [contact] = wire.contacts() as Exclude<ReturnType<typeof wire.contacts>, '*'>;
    assert.ok(contact !== undefined && isSipUri(contact.uri));
    assert.deepEqual(contact.uri.headers, [{ name: 'Route', value: '%3Csip:sip.example.com%3E' }]);
  });

  test('unksm2 (§3.3.4): a To with an unknown scheme gets 400 and binds nothing', async () => {
    const req = load('unksm2');
    const response = await ctx.registrar.register(req, { aor: aorOf(req) });
    assert.equal(response.status, 400);
    assert.deepEqual(await ctx.store.lookup('sip:unused@example.com'), []);
  });
});
