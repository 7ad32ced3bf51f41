/**
 * The one contract every LocationStore adapter must pass (STYLE 13: one interface, one shared
 * suite, as undici runs its memory and sqlite cache stores through the same tests). Each
 * adapter's test file calls {@link runLocationStoreContract} with a factory for fresh, empty
 * stores; time is a FakeClock for all of them (the redis store judges expiry by its clock too).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import {
  LocationStoreError,
  StaleRegistrationError,
  TooManyBindingsError,
  type Binding,
  type LocationStore,
} from '../../src/proxy/index.js';

/** How an adapter's test file provides stores. */
export interface LocationStoreHarness {
  /** A fresh, empty store on `clock` (its own keys, file or namespace). */
  open(clock: FakeClock): Promise<LocationStore>;
}

/** Options of {@link runLocationStoreContract}. */
export interface ContractOptions {
  /** Skip the whole suite with this message (a missing backend). */
  readonly skip?: string | false;
}

const AOR = 'sip:alice@example.com';
const START = 1_000_000;

interface Ctx {
  clock: FakeClock;
  store: LocationStore;
  /** A binding for AOR, valid for `seconds`, written now. */
  binding(contact: string, fields?: Partial<Binding> & { seconds?: number }): Binding;
}

/**
 * Registers the contract tests under `describe(name)`.
 */
export function runLocationStoreContract(name: string, harness: LocationStoreHarness, options: ContractOptions = {}): void {
  describe(`LocationStore contract: ${name}`, { skip: options.skip ?? false }, () => {
    let ctx: Ctx;

    beforeEach(async () => {
      const clock = new FakeClock(START);
      const store = await harness.open(clock);
      ctx = {
        clock,
        store,
        binding: (contact, fields = {}) => {
          const { seconds = 3600, ...rest } = fields;
          return {
            aor: AOR,
            contact,
            expiresAt: clock.now() + seconds * 1000,
            q: 1,
            callId: 'call-1@client',
            cseq: 1,
            updatedAt: clock.now(),
            ...rest,
          };
        },
      };
    });

    afterEach(async () => {
      await ctx.store.close();
    });

    test('save then lookup returns the binding with every field', async () => {
      const full = ctx.binding('sip:alice@192.0.2.10:5060;transport=tcp', {
        q: 0.7,
        instanceId: '<urn:uuid:00000000-0000-1000-8000-000a95a0e128>',
        regId: 1,
        path: ['<sip:edge.example.com;lr;ob>'],
        received: { protocol: 'tcp', host: '198.51.100.7', port: 40123 },
        flowId: 'tcp:198.51.100.7:40123',
        userAgent: 'voxlite-test/1',
      });
      const result = await ctx.store.save(AOR, full);
      assert.equal(result.added, 1);
      assert.deepEqual(await ctx.store.lookup(AOR), [full]);
      assert.deepEqual(await ctx.store.bindings(AOR), [full]);
    });

    test('an unknown AOR has no bindings', async () => {
      assert.deepEqual(await ctx.store.lookup('sip:nobody@example.com'), []);
      assert.deepEqual(await ctx.store.bindings('sip:nobody@example.com'), []);
    });

    test('AORs are canonical: sips, host case, port and parameters do not matter; the user part does', async () => {
      await ctx.store.save('sips:alice@EXAMPLE.com:5061;transport=tls', ctx.binding('sip:alice@192.0.2.10'));
      const found = await ctx.store.lookup('sip:alice@example.com');
      assert.equal(found.length, 1);
      assert.equal(found[0]!.aor, 'sip:alice@example.com');
      assert.equal((await ctx.store.lookup('sip:%61lice@example.com')).length, 1, 'an escaped unreserved octet equals the octet');
      assert.deepEqual(await ctx.store.lookup('sip:Alice@example.com'), [], 'the user part is case-sensitive');
    });

    test('the same Call-ID with a higher CSeq refreshes the binding in place', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.10', { seconds: 60 }));
      await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.20'));
      ctx.clock.advance(10_000);
      const result = await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.10', { cseq: 2, seconds: 600 }));
      assert.equal(result.refreshed, 1);
      assert.equal(result.added, 0);
      const list = await ctx.store.bindings(AOR);
      assert.deepEqual(
        list.map((b) => [b.contact, b.cseq, b.expiresAt]),
        [
          ['sip:alice@192.0.2.10', 2, START + 10_000 + 600_000],
          ['sip:alice@192.0.2.20', 1, START + 3_600_000],
        ],
      );
    });

    test('contacts are matched with URI equality (RFC 3261 §19.1.4), and the new text is kept', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:alice@HOST.example.com:5060;transport=UDP'));
      await ctx.store.save(AOR, ctx.binding('sip:alice@host.example.com:5060;transport=udp', { cseq: 2 }));
      const list = await ctx.store.bindings(AOR);
      assert.deepEqual(list.map((b) => b.contact), ['sip:alice@host.example.com:5060;transport=udp']);
    });

    test('the same Call-ID with an equal or lower CSeq is refused and changes nothing (RFC 3261 §10.3 step 7)', async () => {
      const original = ctx.binding('sip:alice@192.0.2.10', { cseq: 5 });
      await ctx.store.save(AOR, original);
      for (const cseq of [5, 4]) {
        await assert.rejects(ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.10', { cseq, seconds: 10 })), (error: unknown) => {
          assert.ok(error instanceof StaleRegistrationError);
          assert.equal(error.code, 'LOCATION_ERR_STALE_CSEQ');
          return true;
        });
      }
      assert.deepEqual(await ctx.store.bindings(AOR), [original]);
    });

    test('a different Call-ID replaces the binding whatever its CSeq', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.10', { cseq: 50 }));
      await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.10', { cseq: 1, callId: 'rebooted@client' }));
      const list = await ctx.store.bindings(AOR);
      assert.deepEqual(list.map((b) => [b.callId, b.cseq]), [['rebooted@client', 1]]);
    });

    test('an update is atomic: one stale change rejects the whole batch', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.10', { cseq: 5 }));
      await assert.rejects(
        ctx.store.update(AOR, [
          { type: 'save', binding: ctx.binding('sip:alice@192.0.2.99', { cseq: 5 }) },
          { type: 'save', binding: ctx.binding('sip:alice@192.0.2.10', { cseq: 5 }) },
        ]),
        StaleRegistrationError,
      );
      assert.deepEqual((await ctx.store.bindings(AOR)).map((b) => b.contact), ['sip:alice@192.0.2.10']);
    });

    test('one contact listed twice in one batch is not its own stale duplicate', async () => {
      const result = await ctx.store.update(AOR, [
        { type: 'save', binding: ctx.binding('sip:alice@192.0.2.10', { seconds: 60 }) },
        { type: 'save', binding: ctx.binding('sip:alice@192.0.2.10', { seconds: 120 }) },
      ]);
      assert.equal(result.added, 1);
      assert.deepEqual((await ctx.store.bindings(AOR)).map((b) => b.expiresAt), [START + 120_000]);
    });

    test('bindings expire on the clock: visible until expiresAt, gone at it', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.10', { seconds: 60 }));
      await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.20', { seconds: 120 }));
      ctx.clock.advance(59_999);
      assert.equal((await ctx.store.lookup(AOR)).length, 2);
      ctx.clock.advance(1);
      assert.deepEqual((await ctx.store.lookup(AOR)).map((b) => b.contact), ['sip:alice@192.0.2.20']);
      ctx.clock.advance(60_000);
      assert.deepEqual(await ctx.store.lookup(AOR), []);
      assert.deepEqual(await ctx.store.bindings(AOR), []);
    });

    test('expire() deletes lapsed bindings across AORs and counts them', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.10', { seconds: 60 }));
      await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.20', { seconds: 600 }));
      await ctx.store.save('sip:bob@example.com', ctx.binding('sip:bob@192.0.2.30', { seconds: 60, aor: 'sip:bob@example.com' }));
      ctx.clock.advance(60_000);
      assert.equal(await ctx.store.expire(), 2);
      assert.equal(await ctx.store.expire(), 0);
      assert.equal((await ctx.store.bindings(AOR)).length, 1);
      assert.equal(await ctx.store.expire(ctx.clock.now() + 600_000), 1, 'an explicit time');
      assert.deepEqual(await ctx.store.bindings(AOR), []);
    });

    test('an expired binding does not exist: it neither blocks by CSeq nor counts as a refresh', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.10', { cseq: 9, seconds: 60 }));
      ctx.clock.advance(60_000);
      const result = await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.10', { cseq: 3 }));
      assert.equal(result.added, 1);
      assert.equal(result.refreshed, 0);
    });

    test('lookup orders by q, highest first, then the most recently updated; bindings() keeps registration order', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:a@192.0.2.1', { q: 0.5 }));
      ctx.clock.advance(1000);
      await ctx.store.save(AOR, ctx.binding('sip:b@192.0.2.2', { q: 1 }));
      ctx.clock.advance(1000);
      await ctx.store.save(AOR, ctx.binding('sip:c@192.0.2.3', { q: 0.1 }));
      ctx.clock.advance(1000);
      await ctx.store.save(AOR, ctx.binding('sip:d@192.0.2.4', { q: 0.5 }));
      assert.deepEqual((await ctx.store.lookup(AOR)).map((b) => b.contact), ['sip:b@192.0.2.2', 'sip:d@192.0.2.4', 'sip:a@192.0.2.1', 'sip:c@192.0.2.3']);
      assert.deepEqual((await ctx.store.bindings(AOR)).map((b) => b.contact), ['sip:a@192.0.2.1', 'sip:b@192.0.2.2', 'sip:c@192.0.2.3', 'sip:d@192.0.2.4']);
    });

    test('remove() drops one contact by URI equality; removeAll() drops the rest', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:a@192.0.2.1'));
      await ctx.store.save(AOR, ctx.binding('sip:b@192.0.2.2'));
      await ctx.store.save(AOR, ctx.binding('sip:c@192.0.2.3'));
      assert.equal(await ctx.store.remove(AOR, 'sip:a@192.0.2.1'), true);
      assert.equal(await ctx.store.remove(AOR, 'sip:a@192.0.2.1'), false);
      assert.equal(await ctx.store.remove('SIP:alice@Example.COM', 'sip:b@192.0.2.2;Transport=udp'), false, 'transport must match when present');
      assert.deepEqual((await ctx.store.bindings(AOR)).map((b) => b.contact), ['sip:b@192.0.2.2', 'sip:c@192.0.2.3']);
      assert.equal(await ctx.store.removeAll(AOR), 2);
      assert.deepEqual(await ctx.store.lookup(AOR), []);
      assert.equal(await ctx.store.removeAll(AOR), 0);
    });

    test('a guarded removal (Contact: * or expires=0) is refused when out of order and removes nothing', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:a@192.0.2.1', { cseq: 7 }));
      await ctx.store.save(AOR, ctx.binding('sip:b@192.0.2.2', { cseq: 1, callId: 'other@client' }));
      await assert.rejects(ctx.store.update(AOR, [{ type: 'removeAll', callId: 'call-1@client', cseq: 7 }]), StaleRegistrationError);
      await assert.rejects(ctx.store.update(AOR, [{ type: 'remove', contact: 'sip:a@192.0.2.1', callId: 'call-1@client', cseq: 6 }]), StaleRegistrationError);
      assert.equal((await ctx.store.bindings(AOR)).length, 2);
      // RFC 3261 §10.3 step 6: a different Call-ID removes, the same one needs a higher CSeq.
      const result = await ctx.store.update(AOR, [{ type: 'removeAll', callId: 'call-1@client', cseq: 8 }]);
      assert.equal(result.removed, 2);
      assert.deepEqual(await ctx.store.bindings(AOR), []);
    });

    test('+sip.instance with reg-id identifies the binding: a new contact replaces the old one (RFC 5626 §6)', async () => {
      const instanceId = '<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>';
      await ctx.store.save(AOR, ctx.binding('sip:alice@192.0.2.10:5060', { instanceId, regId: 1 }));
      await ctx.store.save(AOR, ctx.binding('sip:alice@203.0.113.5:41000', { instanceId, regId: 1, callId: 'after-reboot@client' }));
      assert.deepEqual((await ctx.store.bindings(AOR)).map((b) => b.contact), ['sip:alice@203.0.113.5:41000']);
      // A second flow of the same instance is a second binding.
      await ctx.store.save(AOR, ctx.binding('sip:alice@203.0.113.5:41001', { instanceId, regId: 2, callId: 'after-reboot@client', cseq: 2 }));
      assert.equal((await ctx.store.bindings(AOR)).length, 2);
      // Same instance, reg-id, Call-ID and an old CSeq: stale, even with another contact URI.
      await assert.rejects(
        ctx.store.save(AOR, ctx.binding('sip:alice@203.0.113.9', { instanceId, regId: 1, callId: 'after-reboot@client', cseq: 1 })),
        StaleRegistrationError,
      );
      const result = await ctx.store.update(AOR, [{ type: 'remove', contact: 'sip:ignored@192.0.2.1', instanceId, regId: 2 }]);
      assert.equal(result.removed, 1);
      assert.deepEqual((await ctx.store.bindings(AOR)).map((b) => b.regId), [1]);
    });

    test('maxBindings caps additions (G23) but never refreshes or removals', async () => {
      const cap = { maxBindings: 2 };
      await ctx.store.save(AOR, ctx.binding('sip:a@192.0.2.1'), cap);
      await ctx.store.save(AOR, ctx.binding('sip:b@192.0.2.2'), cap);
      await assert.rejects(ctx.store.save(AOR, ctx.binding('sip:c@192.0.2.3'), cap), (error: unknown) => {
        assert.ok(error instanceof TooManyBindingsError);
        assert.equal(error.code, 'LOCATION_ERR_TOO_MANY_BINDINGS');
        assert.equal(error.limit, 2);
        return true;
      });
      assert.equal((await ctx.store.bindings(AOR)).length, 2);
      await ctx.store.save(AOR, ctx.binding('sip:a@192.0.2.1', { cseq: 2 }), cap);
      // Swapping one contact for another in one batch stays within the cap.
      await ctx.store.update(
        AOR,
        [
          { type: 'remove', contact: 'sip:b@192.0.2.2', callId: 'call-1@client', cseq: 3 },
          { type: 'save', binding: ctx.binding('sip:c@192.0.2.3', { cseq: 3 }) },
        ],
        cap,
      );
      assert.deepEqual((await ctx.store.bindings(AOR)).map((b) => b.contact), ['sip:a@192.0.2.1', 'sip:c@192.0.2.3']);
      // Expired bindings free their place.
      ctx.clock.advance(3_600_000);
      await ctx.store.save(AOR, ctx.binding('sip:d@192.0.2.4'), cap);
      await ctx.store.save(AOR, ctx.binding('sip:e@192.0.2.5'), cap);
    });

    test('saving with expiresAt already past removes the binding', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:a@192.0.2.1'));
      const result = await ctx.store.save(AOR, ctx.binding('sip:a@192.0.2.1', { cseq: 2, seconds: 0 }));
      assert.equal(result.removed, 1);
      assert.deepEqual(await ctx.store.bindings(AOR), []);
    });

    test('returned bindings are frozen copies', async () => {
      await ctx.store.save(AOR, ctx.binding('sip:a@192.0.2.1', { path: ['<sip:p1;lr>'] }));
      const [b] = await ctx.store.lookup(AOR);
      assert.ok(b !== undefined && Object.isFrozen(b));
      assert.throws(() => (b.path as string[]).push('<sip:evil>'));
      assert.deepEqual((await ctx.store.lookup(AOR))[0]!.path, ['<sip:p1;lr>']);
    });

    test('close() is idempotent and later calls fail with LOCATION_ERR_CLOSED', async () => {
      await ctx.store.close();
      await ctx.store.close();
      await assert.rejects(ctx.store.lookup(AOR), (error: unknown) => error instanceof LocationStoreError && error.code === 'LOCATION_ERR_CLOSED');
      await assert.rejects(ctx.store.save(AOR, ctx.binding('sip:a@192.0.2.1')), LocationStoreError);
    });

    test('a non-SIP AOR is refused with TypeError', async () => {
      await assert.rejects(ctx.store.lookup('tel:+15551234567'), TypeError);
    });
  });
}
