/**
 * The location service (RFC 3261 §10, §16.5): bindings from an address-of-record (AOR) to the
 * contact addresses a registrar accepted for it. One interface, {@link LocationStore}, with three
 * adapters: memory (embedded default), sqlite (a file that survives a restart) and redis (shared
 * by a server farm). Every adapter runs the same contract tests.
 *
 * The binding rules of RFC 3261 §10.3 steps 6–7 (refresh, Call-ID/CSeq ordering, removal) and
 * RFC 5626 §6 (`+sip.instance` + `reg-id` identify a binding) live here once, as the pure
 * {@link applyBindingChanges}; each adapter only makes "read the AOR, apply, write it back" atomic.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { VoxliteError } from '../../core/errors.js';
import { isSipUri, parseUri, uriEquals, formatUri, type Uri } from '../../sip/uri.js';
import type { TransportAddress, TransportProtocol } from '../../transport/transport.js';

/** One contact bound to an AOR. Bindings are immutable values; stores return frozen copies. */
export interface Binding {
  /** The AOR in canonical form ({@link canonicalAor}). */
  readonly aor: string;
  /**
   * The Contact URI exactly as written in the REGISTER, without the Contact header parameters
   * (RFC 4475 §3.3.12 cparam01) and with any escaped `?headers` kept inside it (G19, regescrt).
   */
  readonly contact: string;
  /** When the binding lapses, in milliseconds on the store's {@link LocationStore.clock}. */
  readonly expiresAt: number;
  /** Preference, 0..1 (Contact `q`, RFC 3261 §20.10); 1 when the Contact had none. */
  readonly q: number;
  /** Call-ID of the REGISTER that last wrote the binding (RFC 3261 §10.3 step 7). */
  readonly callId: string;
  /** CSeq number of that REGISTER. */
  readonly cseq: number;
  /** `+sip.instance` value, unquoted (`<urn:uuid:…>`), RFC 5626 §4.1. */
  readonly instanceId?: string;
  /** `reg-id` (RFC 5626 §4.2); only set together with {@link instanceId}. */
  readonly regId?: number;
  /** Path header values of the REGISTER, in order (RFC 3327 §5.3). */
  readonly path?: readonly string[];
  /** Where the REGISTER really came from (after Via received/rport), for NAT traversal. */
  readonly received?: TransportAddress;
  /** The transport flow (RFC 5626 §3) the REGISTER arrived on, for TCP/TLS/WS clients. */
  readonly flowId?: string;
  /** User-Agent header of the REGISTER. */
  readonly userAgent?: string;
  /** When the binding was last written, on the store's clock. */
  readonly updatedAt: number;
}

/**
 * One change in an atomic {@link LocationStore.update}. A `callId`/`cseq` pair on a removal is
 * the RFC 3261 §10.3 ordering guard: a binding last written by the same Call-ID with a CSeq not
 * lower than this one makes the whole update fail with {@link StaleRegistrationError}.
 */
export type BindingChange =
  /** Add the binding, or replace the existing one with the same identity. */
  | { readonly type: 'save'; readonly binding: Binding }
  /**
   * Remove the binding with this contact URI (URI equality, RFC 3261 §19.1.4), or, when
   * `instanceId` and `regId` are both given, the one with that RFC 5626 identity.
   */
  | {
      readonly type: 'remove';
      readonly contact: string;
      readonly instanceId?: string;
      readonly regId?: number;
      readonly callId?: string;
      readonly cseq?: number;
    }
  /** Remove every binding of the AOR (`Contact: *`, RFC 3261 §10.3 step 6). */
  | { readonly type: 'removeAll'; readonly callId?: string; readonly cseq?: number };

/** Options of {@link LocationStore.update}. */
export interface UpdateOptions {
  /**
   * Most unexpired bindings the AOR may hold after the update. An update that adds a binding
   * beyond it fails with {@link TooManyBindingsError} (G23); refreshes and removals never do.
   */
  readonly maxBindings?: number;
}

/** What an update did. */
export interface UpdateResult {
  /** Every unexpired binding of the AOR after the update, in registration order. */
  readonly bindings: readonly Binding[];
  readonly added: number;
  readonly refreshed: number;
  readonly removed: number;
}

/**
 * Saves and looks up bindings. Every method takes the AOR in any SIP/SIPS URI form and works on
 * its canonical form ({@link canonicalAor}); expired bindings are never returned, whether or not
 * they were swept yet.
 *
 * @remarks A store does not authenticate or authorise: callers (the registrar's caller) must
 * have done so before any change (G20, G21).
 */
export interface LocationStore {
  /** The time base of {@link Binding.expiresAt}; a registrar writing here must use the same clock. */
  readonly clock: Clock;
  /**
   * Applies `changes` in order, atomically: either all of them are committed or none
   * (RFC 3261 §10.3 step 7).
   * @throws {@link StaleRegistrationError} when a change is out of order for its Call-ID.
   * @throws {@link TooManyBindingsError} when `options.maxBindings` would be exceeded.
   * @throws {@link LocationStoreError} when the backend fails or the store is closed.
   */
  update(aor: string, changes: readonly BindingChange[], options?: UpdateOptions): Promise<UpdateResult>;
  /**
   * Adds or refreshes one binding (an {@link update} with one `save`).
   * @throws as {@link update}.
   */
  save(aor: string, binding: Binding, options?: UpdateOptions): Promise<UpdateResult>;
  /** Removes the binding(s) with this contact URI, whatever their Call-ID; true if one was there. */
  remove(aor: string, contactUri: string): Promise<boolean>;
  /** Removes every binding of the AOR; returns how many unexpired ones there were. */
  removeAll(aor: string): Promise<number>;
  /** Unexpired bindings for forwarding: highest `q` first, then the most recently updated. */
  lookup(aor: string): Promise<Binding[]>;
  /** Unexpired bindings in registration order (what a registrar's 200 lists). */
  bindings(aor: string): Promise<Binding[]>;
  /** Deletes bindings expired at `now` (default: the clock's now); returns how many. */
  expire(now?: number): Promise<number>;
  /** Stops the sweep timer and releases the backend; idempotent. Later calls throw. */
  close(): Promise<void>;
}

/**
 * The one-change helpers of {@link LocationStore} written once on top of `update` and
 * `bindings`, so a store implements only what differs between backends.
 */
export abstract class UpdateBasedLocationStore implements LocationStore {
  abstract readonly clock: Clock;
  abstract update(aor: string, changes: readonly BindingChange[], options?: UpdateOptions): Promise<UpdateResult>;
  abstract bindings(aor: string): Promise<Binding[]>;
  abstract expire(now?: number): Promise<number>;
  abstract close(): Promise<void>;

  save(aor: string, binding: Binding, options?: UpdateOptions): Promise<UpdateResult> {
    return this.update(aor, [{ type: 'save', binding }], options);
  }

  async remove(aor: string, contactUri: string): Promise<boolean> {
    return (await this.update(aor, [{ type: 'remove', contact: contactUri }])).removed > 0;
  }

  async removeAll(aor: string): Promise<number> {
    return (await this.update(aor, [{ type: 'removeAll' }])).removed;
  }

  async lookup(aor: string): Promise<Binding[]> {
    return sortForLookup(await this.bindings(aor));
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Same Call-ID with a CSeq not higher than the stored one (RFC 3261 §10.3 step 7: the registrar answers 500). */
export class StaleRegistrationError extends VoxliteError {
  readonly code = 'LOCATION_ERR_STALE_CSEQ';
  constructor(
    readonly contact: string,
    readonly storedCseq: number,
    readonly requestCseq: number,
  ) {
    super(`binding ${contact} was written by CSeq ${storedCseq} of the same Call-ID; CSeq ${requestCseq} is out of order`);
  }
}

/** The update would leave more bindings than allowed (G23: 503 "Too many registered contacts"). */
export class TooManyBindingsError extends VoxliteError {
  readonly code = 'LOCATION_ERR_TOO_MANY_BINDINGS';
  constructor(
    readonly aor: string,
    readonly limit: number,
  ) {
    super(`${aor} would have more than ${limit} bindings`);
  }
}

/** Why a backend operation failed. */
export type LocationStoreErrorCode =
  | 'LOCATION_ERR_CLOSED'
  | 'LOCATION_ERR_BACKEND'
  | 'LOCATION_ERR_CONFLICT'
  | 'LOCATION_ERR_CORRUPT';

/** The backend failed, kept changing under us, held an unreadable row, or the store is closed. */
export class LocationStoreError extends VoxliteError {
  readonly code: LocationStoreErrorCode;
  constructor(code: LocationStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// AORs

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** alphanum / mark (RFC 3261 §25.1 unreserved): an escape of these equals the octet itself. */
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d || c === 0x5f || c === 0x2e || c === 0x21 || c === 0x7e || c === 0x2a || c === 0x27 || c === 0x28 || c === 0x29
  );
}

/** One spelling per user part: unreserved escapes decoded, other escapes in upper-case hex (RFC 3261 §19.1.4). */
function canonicalUser(user: string): string {
  if (user.indexOf('%') < 0) return user;
  let out = '';
  for (let i = 0; i < user.length; i++) {
    const c = user.charCodeAt(i);
    if (c === 0x25 && i + 2 < user.length) {
      const hi = hexValue(user.charCodeAt(i + 1));
      const lo = hi < 0 ? -1 : hexValue(user.charCodeAt(i + 2));
      if (lo >= 0) {
        const octet = hi * 16 + lo;
        out += isUnreserved(octet) ? String.fromCharCode(octet) : '%' + user.slice(i + 1, i + 3).toUpperCase();
        i += 2;
        continue;
      }
    }
    out += user[i];
  }
  return out;
}

/**
 * The canonical form of an address-of-record: `sip:user@host`, with the host in lower case, the
 * user part case-sensitive (RFC 3261 §19.1.4) with escapes normalised, and no password, port,
 * parameters or headers. `sips:` AORs map to `sip:` so that one user has one set of bindings
 * whichever scheme registered them (RFC 3261 §10.2 lets a UA register either).
 *
 * @throws `TypeError` when `uri` is not a SIP or SIPS URI (RFC 3261 §10.2: an AOR is one).
 * @throws {@link SipParseError} when `uri` is text that does not parse.
 */
export function canonicalAor(uri: string | Uri): string {
  const parsed = typeof uri === 'string' ? parseUri(uri) : uri;
  if (!isSipUri(parsed)) throw new TypeError(`an address-of-record must be a sip: or sips: URI, not ${parsed.scheme}:`);
  const host = parsed.host.toLowerCase();
  return parsed.user === null ? `sip:${host}` : `sip:${canonicalUser(parsed.user)}@${host}`;
}

// ---------------------------------------------------------------------------------------------
// Clocks

/**
 * Wall-clock time (`Date.now()`), with timers that do not keep the process alive. Persistent and
 * shared stores (sqlite, redis) default to it: their `expiresAt` must mean the same after a
 * restart and on every server of a farm, which a monotonic clock does not.
 */
export class WallClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  }
}

/**
 * Runs `sweep` every `intervalMs` on `clock` until `cancel()`. A tick that comes while the
 * previous sweep is still running is skipped, so a slow backend never has two sweeps in flight.
 */
export function startSweep(clock: Clock, intervalMs: number, sweep: () => Promise<unknown>): TimerHandle {
  if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) throw new RangeError(`sweep interval must be a positive number, got ${intervalMs}`);
  let handle: TimerHandle | undefined;
  let cancelled = false;
  let running = false;
  const tick = (): void => {
    if (cancelled) return;
    // Re-arm first, so the period does not drift with the sweep's duration.
    handle = clock.setTimer(intervalMs, tick);
    if (running) return;
    running = true;
    // A failed sweep is retried at the next tick; lookups filter expired bindings anyway.
    sweep()
      .catch(() => undefined)
      .finally(() => {
        running = false;
      });
  };
  handle = clock.setTimer(intervalMs, tick);
  return {
    cancel: () => {
      cancelled = true;
      handle?.cancel();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The binding rules, shared by every adapter

/** The RFC 5626 §6 identity of an outbound binding: (instance, reg-id), or undefined. */
function outboundKey(b: { readonly instanceId?: string | undefined; readonly regId?: number | undefined }): string | undefined {
  return b.instanceId !== undefined && b.regId !== undefined ? `${b.instanceId} ${b.regId}` : undefined;
}

/**
 * A name for the binding, unique within its AOR once {@link applyBindingChanges} has run: the
 * RFC 5626 identity when there is one, the contact URI otherwise. Adapters use it as a key.
 */
export function bindingId(b: Binding): string {
  const key = outboundKey(b);
  return key === undefined ? `c:${b.contact}` : `o:${key}`;
}

/** Contact URI equality (RFC 3261 §10.3 step 7 says "using the URI comparison rules"). */
export function sameContact(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return uriEquals(parseUri(a), parseUri(b));
  } catch {
    return false;
  }
}

function guard(existing: Binding, callId: string | undefined, cseq: number | undefined): void {
  // RFC 3261 §10.3 step 7: a different Call-ID always wins; the same Call-ID needs a higher CSeq.
  if (callId === undefined || cseq === undefined || existing.callId !== callId) return;
  if (cseq <= existing.cseq) throw new StaleRegistrationError(existing.contact, existing.cseq, cseq);
}

/**
 * Applies `changes` to the bindings of one AOR at time `now` and returns the new list, or throws
 * without side effects. Pure: adapters call it between their atomic read and write.
 *
 * - Expired bindings are gone before anything else: they do not exist (§10.3), so they never
 *   block an update by CSeq nor count against `maxBindings`.
 * - A `save` replaces the binding with the same RFC 5626 (instance, reg-id) when it has both,
 *   else the binding with an equal contact URI (§10.3 step 7); otherwise it is appended.
 * - A binding already written earlier in the same batch is not checked again, so a REGISTER
 *   that lists one contact twice is not its own stale duplicate.
 * - `maxBindings` is checked only when the update added a binding (G23).
 *
 * @throws {@link StaleRegistrationError}, {@link TooManyBindingsError}
 */
export function applyBindingChanges(
  aor: string,
  current: readonly Binding[],
  changes: readonly BindingChange[],
  now: number,
  options: UpdateOptions = {},
): UpdateResult {
  const list: Binding[] = current.filter((b) => b.expiresAt > now);
  // Bindings written by this batch, and whether they were new or replaced a stored one.
  const touched = new Map<Binding, 'added' | 'refreshed'>();
  let added = 0;
  let refreshed = 0;
  let removed = 0;

  const drop = (index: number): void => {
    const [gone] = list.splice(index, 1);
    if (gone === undefined) return;
    const how = touched.get(gone);
    touched.delete(gone);
    // Saved and then removed in the same batch: a new one was never visible, a refreshed one is gone.
    if (how === 'added') {
      added--;
      return;
    }
    if (how === 'refreshed') refreshed--;
    removed++;
  };

  for (const change of changes) {
    switch (change.type) {
      case 'save': {
        const b = freezeBinding({ ...change.binding, aor });
        const key = outboundKey(b);
        const index = list.findIndex((e) =>
          key !== undefined ? outboundKey(e) === key : outboundKey(e) === undefined && sameContact(e.contact, b.contact),
        );
        const existing = index >= 0 ? list[index] : undefined;
        if (existing !== undefined && !touched.has(existing)) guard(existing, b.callId, b.cseq);
        if (b.expiresAt <= now) {
          if (index >= 0) drop(index);
          break;
        }
        if (existing === undefined) {
          list.push(b);
          added++;
          touched.set(b, 'added');
        } else {
          list[index] = b;
          const how = touched.get(existing);
          touched.delete(existing);
          if (how === undefined) refreshed++;
          touched.set(b, how ?? 'refreshed');
        }
        break;
      }
      case 'remove': {
        const key = outboundKey(change);
        const matches = (e: Binding): boolean => (key !== undefined ? outboundKey(e) === key : sameContact(e.contact, change.contact));
        for (const e of list) if (matches(e) && !touched.has(e)) guard(e, change.callId, change.cseq);
        for (let i = list.length - 1; i >= 0; i--) if (matches(list[i]!)) drop(i);
        break;
      }
      case 'removeAll': {
        // RFC 3261 §10.3 step 6: each binding is checked; one out-of-order binding aborts all.
        for (const e of list) if (!touched.has(e)) guard(e, change.callId, change.cseq);
        for (let i = list.length - 1; i >= 0; i--) drop(i);
        break;
      }
    }
  }

  // The list is in registration order (refreshes keep their place), one binding per identity.
  if (options.maxBindings !== undefined && added > 0 && list.length > options.maxBindings) {
    throw new TooManyBindingsError(aor, options.maxBindings);
  }
  return { bindings: list, added, refreshed, removed };
}

/** Highest q first, then most recently updated first (RFC 3261 §16.6: q orders targets). */
export function sortForLookup(bindings: readonly Binding[]): Binding[] {
  return bindings
    .map((b, i) => ({ b, i }))
    .sort((x, y) => y.b.q - x.b.q || y.b.updatedAt - x.b.updatedAt || x.i - y.i)
    .map((x) => x.b);
}

/** A frozen copy (bindings are shared values; nobody may edit one in place). */
export function freezeBinding(b: Binding): Binding {
  const copy: Binding = b.path === undefined ? { ...b } : { ...b, path: Object.freeze([...b.path]) };
  if (copy.received !== undefined) Object.freeze(copy.received);
  return Object.freeze(copy);
}

// ---------------------------------------------------------------------------------------------
// Serialisation for the persistent adapters (rows are a trust boundary: narrow `unknown`)

/** A binding as a JSON-ready plain object (optional fields omitted when absent). */
export function bindingToJson(b: Binding): string {
  return JSON.stringify(b);
}

const PROTOCOLS: ReadonlySet<string> = new Set<TransportProtocol>(['udp', 'tcp', 'tls', 'ws', 'wss']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** No control characters: a stored value must never be able to add a header line (G19). */
function isSafeText(v: unknown): v is string {
  return typeof v === 'string' && !/[\u0000-\u001f\u007f]/.test(v);
}

function corrupt(what: string): never {
  throw new LocationStoreError('LOCATION_ERR_CORRUPT', `stored binding: ${what}`);
}

function isTransportAddress(v: unknown): v is TransportAddress {
  return (
    isRecord(v) &&
    typeof v.protocol === 'string' &&
    PROTOCOLS.has(v.protocol) &&
    isSafeText(v.host) &&
    typeof v.port === 'number' &&
    Number.isInteger(v.port) &&
    v.port >= 0 &&
    v.port <= 65535
  );
}

/**
 * Reads a binding back from its JSON text, checking every field, and that the contact is a URI
 * that formats without unsafe octets (a row edited in a shared database cannot inject headers).
 * @throws {@link LocationStoreError} with code `LOCATION_ERR_CORRUPT`.
 */
export function bindingFromJson(text: unknown): Binding {
  if (typeof text !== 'string') corrupt('not text');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    corrupt('not JSON');
  }
  if (!isRecord(v)) corrupt('not an object');
  const { aor, contact, expiresAt, q, callId, cseq, instanceId, regId, path, received, flowId, userAgent, updatedAt } = v;
  if (!isSafeText(aor) || !isSafeText(contact) || !isSafeText(callId)) corrupt('aor, contact or callId');
  if (typeof expiresAt !== 'number' || typeof updatedAt !== 'number' || !Number.isFinite(expiresAt) || !Number.isFinite(updatedAt)) {
    corrupt('times');
  }
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) corrupt('q');
  if (typeof cseq !== 'number' || !Number.isInteger(cseq) || cseq < 0) corrupt('cseq');
  try {
    formatUri(parseUri(contact));
  } catch {
    corrupt('contact URI');
  }
  let binding: Binding = { aor, contact, expiresAt, q, callId, cseq, updatedAt };
  if (instanceId !== undefined) {
    if (!isSafeText(instanceId)) corrupt('instanceId');
    binding = { ...binding, instanceId };
  }
  if (regId !== undefined) {
    if (typeof regId !== 'number' || !Number.isInteger(regId)) corrupt('regId');
    binding = { ...binding, regId };
  }
  if (path !== undefined) {
    if (!Array.isArray(path) || !path.every(isSafeText)) corrupt('path');
    binding = { ...binding, path };
  }
  if (received !== undefined) {
    if (!isTransportAddress(received)) corrupt('received');
    binding = { ...binding, received: { protocol: received.protocol, host: received.host, port: received.port } };
  }
  if (flowId !== undefined) {
    if (!isSafeText(flowId)) corrupt('flowId');
    binding = { ...binding, flowId };
  }
  if (userAgent !== undefined) {
    if (!isSafeText(userAgent)) corrupt('userAgent');
    binding = { ...binding, userAgent };
  }
  return freezeBinding(binding);
}
