/**
 * The registrar (RFC 3261 §10.3): turns an authorised REGISTER into binding changes in a
 * {@link LocationStore} and answers it. Pure protocol logic: no sockets, time from the store's
 * clock, randomness injected; the caller sends the response it returns.
 *
 * The registrar does NOT authenticate and does NOT authorise. Its caller must, before calling
 * {@link Registrar.register}: check that the Request-URI names a domain this server is
 * responsible for (§10.3 step 1), process Require (step 2), authenticate the sender (step 3,
 * G20 — including a `Contact: *` removal) and decide which AOR the authenticated user may
 * change (step 4, G21: 403 otherwise). It passes that AOR in; the registrar trusts it.
 */
import type { Clock } from '../core/clock.js';
import { VoxliteError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { CryptoRandom, type Random } from '../core/random.js';
import { createResponse, newTag } from '../sip/build.js';
import { SipParseError } from '../sip/errors.js';
import { quote } from '../sip/grammar.js';
import { paramValue, parseDecimal, WILDCARD_CONTACT, type Contact } from '../sip/header-values.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { isSipUri } from '../sip/uri.js';
import type { TransportAddress } from '../transport/transport.js';
import {
  canonicalAor,
  StaleRegistrationError,
  TooManyBindingsError,
  type Binding,
  type BindingChange,
  type LocationStore,
} from './location/store.js';

/** Options of {@link Registrar}. Durations are in seconds, as in the Expires header. */
export interface RegistrarOptions {
  /** Where bindings live. */
  readonly store: LocationStore;
  /**
   * The clock for `expiresAt`. Default and only accepted value: `store.clock` (bindings are
   * judged by the store against its own clock, so the two must be one).
   */
  readonly clock?: Clock;
  /** Shortest registration accepted; a shorter non-zero expiry gets 423 with Min-Expires (§10.3 step 7). Default 60. */
  readonly minExpires?: number;
  /** Longest registration granted; a longer one is shortened and the 200 shows the granted value (G22). Default 3600. */
  readonly maxExpires?: number;
  /** Expiry when the REGISTER gives none (§10.2.1.1 lets the registrar choose). Default 3600. */
  readonly defaultExpires?: number;
  /** Bindings one AOR may hold; a REGISTER adding more gets 503 (G23). Default 10. */
  readonly maxBindingsPerAor?: number;
  /** For To tags. Default: a {@link CryptoRandom}. */
  readonly random?: Random;
  /** Wall-clock time for the Date header of the 200 (§10.3 step 8). Default `() => new Date()`. */
  readonly date?: () => Date;
  /** Where store failures are reported (they become 500). Default: silent. */
  readonly logger?: Logger;
}

/** What the caller knows about a REGISTER beyond its text. */
export interface RegisterContext {
  /**
   * The address-of-record to change, already authenticated and authorised by the caller
   * (G20, G21). Usually `canonicalAor(request.to().uri)` after checking the user may register it.
   */
  readonly aor: string;
  /** Where the request really came from (stored as {@link Binding.received}). */
  readonly source?: TransportAddress;
  /** The flow it arrived on (stored as {@link Binding.flowId}; RFC 5626 outbound). */
  readonly flowId?: string;
}

/** The default limits, in one place. */
export const REGISTRAR_DEFAULTS = {
  minExpires: 60,
  maxExpires: 3600,
  defaultExpires: 3600,
  maxBindingsPerAor: 10,
} as const;

/** A REGISTER the registrar refuses before touching the store. */
class Refusal {
  constructor(
    readonly status: number,
    readonly reason?: string,
    readonly headers: ReadonlyArray<readonly [string, string]> = [],
  ) {}
}

function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}

/** `reg-id` = 1*DIGIT, 1 .. 2^31-1 (RFC 5626 §4.2, §13). */
function parseRegId(text: string | null | undefined): number | undefined | Refusal {
  if (text === undefined) return undefined;
  if (text === null || !/^[0-9]{1,10}$/.test(text)) return new Refusal(400, 'Bad Request (contact: reg-id)');
  const n = Number(text);
  if (n < 1 || n > 2 ** 31 - 1) return new Refusal(400, 'Bad Request (contact: reg-id)');
  return n;
}

/**
 * Processes REGISTER requests (RFC 3261 §10.3 steps 5–8, RFC 5626 §6, RFC 3327 §5.3).
 *
 * @example
 * ```ts
 * const registrar = new Registrar({ store: new MemoryLocationStore() });
 * // in the handler, after digest authentication and the AOR check:
 * const response = await registrar.register(req, { aor, source, flowId });
 * ```
 */
export class Registrar {
  private readonly store: LocationStore;
  private readonly clock: Clock;
  private readonly minExpires: number;
  private readonly maxExpires: number;
  private readonly defaultExpires: number;
  private readonly maxBindings: number;
  private readonly random: Random;
  private readonly date: () => Date;
  private readonly logger: Logger;

  /**
   * @throws `TypeError` when `clock` is not the store's clock.
   * @throws `RangeError` for a negative or non-integer limit, or `minExpires > maxExpires`.
   */
  constructor(options: RegistrarOptions) {
    this.store = options.store;
    if (options.clock !== undefined && options.clock !== options.store.clock) {
      throw new TypeError('Registrar: clock must be the store\'s clock (bindings expire on the store\'s time base)');
    }
    this.clock = options.store.clock;
    this.minExpires = options.minExpires ?? REGISTRAR_DEFAULTS.minExpires;
    this.maxExpires = options.maxExpires ?? REGISTRAR_DEFAULTS.maxExpires;
    this.defaultExpires = options.defaultExpires ?? REGISTRAR_DEFAULTS.defaultExpires;
    this.maxBindings = options.maxBindingsPerAor ?? REGISTRAR_DEFAULTS.maxBindingsPerAor;
    for (const [name, value] of Object.entries({
      minExpires: this.minExpires,
      maxExpires: this.maxExpires,
      defaultExpires: this.defaultExpires,
      maxBindingsPerAor: this.maxBindings,
    })) {
      if (!isCount(value)) throw new RangeError(`Registrar: ${name} must be a non-negative integer, got ${value}`);
    }
    if (this.minExpires > this.maxExpires) throw new RangeError('Registrar: minExpires is above maxExpires');
    if (this.maxBindings < 1) throw new RangeError('Registrar: maxBindingsPerAor must be at least 1');
    this.random = options.random ?? new CryptoRandom();
    this.date = options.date ?? (() => new Date());
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Applies one REGISTER and returns the response to send. Never throws for anything the
   * request contains: every refusal is a response.
   *
   * - To not a SIP/SIPS URI: 400 (RFC 3261 §10.2, RFC 4475 §3.3.4 unksm2).
   * - Malformed Contact, Expires or `expires`, negative or non-numeric: 400 (G22).
   * - `Contact: *` with another Contact, parameters, or an expiry other than an explicit
   *   `Expires: 0`: 400 (§10.3 step 6, G22).
   * - A non-zero expiry below `minExpires`: 423 with Min-Expires; above `maxExpires`: granted
   *   as `maxExpires` (§10.3 step 7, G22).
   * - Same Call-ID with a CSeq not above the stored one: 500, nothing changed (§10.3 step 7).
   * - More than `maxBindingsPerAor` bindings: 503 "Too many registered contacts" (G23).
   * - Otherwise 200 listing every current binding with its remaining `expires`, and a Date
   *   header (§10.3 step 8). A REGISTER without Contact is a query: nothing changes.
   *
   * @throws `TypeError` when `request` is not a REGISTER or `context.aor` is not a SIP URI,
   *   {@link SipParseError} when `context.aor` does not parse (the caller's mistakes, not the sender's).
   * @remarks It changes bindings for whoever sent the request: authenticate and authorise first
   *   (G20, G21). A REGISTER that fails authentication must never reach this method, not even a
   *   `Contact: *` removal.
   */
  async register(request: SipRequest, context: RegisterContext): Promise<SipResponse> {
    if (request.method !== 'REGISTER') throw new TypeError(`Registrar.register needs a REGISTER, got ${request.method}`);
    const aor = canonicalAor(context.aor);
    const planned = this.plan(request, aor, context);
    if (planned instanceof Refusal) return this.respond(request, planned.status, planned.reason, planned.headers);

    let bindings: readonly Binding[];
    try {
      bindings =
        planned.changes.length === 0
          ? await this.store.bindings(aor)
          : (await this.store.update(aor, planned.changes, { maxBindings: this.maxBindings })).bindings;
    } catch (error) {
      if (error instanceof StaleRegistrationError) {
        // §10.3 step 7: "the update MUST be aborted and the request fails" — with 500, and the
        // store guarantees that nothing of this REGISTER was committed.
        return this.respond(request, 500, 'Out of Order CSeq');
      }
      if (error instanceof TooManyBindingsError) return this.respond(request, 503, 'Too many registered contacts');
      this.logger.error('registrar: location store failed', {
        aor,
        error: error instanceof Error ? error.message : String(error),
        code: error instanceof VoxliteError ? error.code : undefined,
      });
      return this.respond(request, 500);
    }
    return this.ok(request, bindings, planned.outbound);
  }

  /** Validates the request and turns its Contacts into store changes (§10.3 steps 5–7). */
  private plan(request: SipRequest, aor: string, context: RegisterContext): { changes: BindingChange[]; outbound: boolean } | Refusal {
    let toIsSip: boolean;
    let callId: string;
    let cseq: number;
    try {
      toIsSip = isSipUri(request.to().uri);
      callId = request.callId();
      cseq = request.cseq().seq;
    } catch (error) {
      if (error instanceof SipParseError) return new Refusal(400, error.reason);
      throw error;
    }
    // RFC 3261 §10.2: the AOR in To "MUST be a SIP URI or SIPS URI" (RFC 4475 §3.3.4: 400).
    if (!toIsSip) return new Refusal(400, 'Bad Request (to: not a SIP or SIPS URI)');

    let headerExpires: number | undefined;
    const expiresText = request.headers.get('expires');
    if (expiresText !== undefined) {
      try {
        // Non-numeric or negative: 400 (G22). Above 2^32-1: clamped, never wrapped (RFC 4475 §3.1.2.4).
        headerExpires = parseDecimal(expiresText, 'expires');
      } catch (error) {
        if (error instanceof SipParseError) return new Refusal(400, 'Bad Request (expires)');
        throw error;
      }
    }

    let contacts: Contact[] | typeof WILDCARD_CONTACT;
    try {
      contacts = request.contacts();
    } catch (error) {
      // A bad `expires` or `q` parameter, `*` mixed with others or with parameters, an addr-spec
      // Contact with an escaped header (RFC 4475 §3.1.2.13 regbadct): all 400.
      if (error instanceof SipParseError) return new Refusal(400, 'Bad Request (contact)');
      throw error;
    }

    if (contacts === WILDCARD_CONTACT) {
      // §10.3 step 6: `*` only with an expiration of zero, given by the Expires header.
      if (headerExpires !== 0) return new Refusal(400, 'Bad Request (contact: * needs Expires: 0)');
      return { changes: [{ type: 'removeAll', callId, cseq }], outbound: false };
    }

    const now = this.clock.now();
    const userAgent = request.headers.get('user-agent');
    let path: string[];
    try {
      path = request.headers.getAll('path');
    } catch {
      return new Refusal(400, 'Bad Request (path)');
    }
    const changes: BindingChange[] = [];
    let outbound = false;
    for (const contact of contacts) {
      // §10.3 step 7: the contact's `expires` parameter, else the Expires header, else ours.
      const requested = contact.expires ?? headerExpires ?? this.defaultExpires;
      if (requested !== 0 && requested < this.minExpires) {
        return new Refusal(423, undefined, [['Min-Expires', String(this.minExpires)]]);
      }
      const granted = Math.min(requested, this.maxExpires);

      // RFC 5626 §6: (+sip.instance, reg-id) identifies the binding; a reg-id without an
      // instance is ignored.
      const instance = paramValue(contact.params, '+sip.instance');
      const instanceId = typeof instance === 'string' && instance.length > 0 ? instance : undefined;
      const regId = instanceId === undefined ? undefined : parseRegId(paramValue(contact.params, 'reg-id'));
      if (regId instanceof Refusal) return regId;
      if (regId !== undefined) outbound = true;
      const identity = {
        ...(instanceId === undefined ? {} : { instanceId }),
        ...(regId === undefined ? {} : { regId }),
      };

      // The URI exactly as written: header parameters of an addr-spec Contact (cparam01) are not
      // part of it, URI parameters (cparam02) and escaped headers (regescrt, G19) stay in it.
      const uri = contact.uriText;
      if (granted === 0) {
        changes.push({ type: 'remove', contact: uri, callId, cseq, ...identity });
        continue;
      }
      changes.push({
        type: 'save',
        binding: {
          aor,
          contact: uri,
          expiresAt: now + granted * 1000,
          q: contact.q ?? 1,
          callId,
          cseq,
          updatedAt: now,
          ...identity,
          ...(path.length > 0 ? { path } : {}),
          ...(context.source === undefined ? {} : { received: context.source }),
          ...(context.flowId === undefined ? {} : { flowId: context.flowId }),
          ...(userAgent === undefined ? {} : { userAgent }),
        },
      });
    }
    return { changes, outbound };
  }

  /** The 200 of §10.3 step 8: every current binding with its remaining time, and Date. */
  private ok(request: SipRequest, bindings: readonly Binding[], outbound: boolean): SipResponse {
    const now = this.clock.now();
    const headers: Array<readonly [string, string]> = [];
    for (const b of bindings) {
      const remaining = Math.max(1, Math.ceil((b.expiresAt - now) / 1000));
      let value = `<${b.contact}>;expires=${remaining}`;
      if (b.q !== 1) value += `;q=${b.q}`;
      if (b.instanceId !== undefined) value += `;+sip.instance=${quote(b.instanceId)}`;
      if (b.regId !== undefined) value += `;reg-id=${b.regId}`;
      headers.push(['Contact', value]);
    }
    // RFC 5626 §6: a registrar that honoured reg-id says so with Require: outbound.
    if (outbound) headers.push(['Require', 'outbound']);
    // RFC 3327 §5.3: Path is echoed to a UA that supports it.
    if (supports(request, 'path')) for (const p of request.headers.getAll('path')) headers.push(['Path', p]);
    headers.push(['Date', this.date().toUTCString()]);
    return this.respond(request, 200, undefined, headers);
  }

  private respond(request: SipRequest, status: number, reason?: string, headers: ReadonlyArray<readonly [string, string]> = []): SipResponse {
    // RFC 3261 §8.2.6.2: a UAS adds a To tag to its final responses.
    return createResponse(request, status, { toTag: newTag(this.random), headers, ...(reason === undefined ? {} : { reason }) });
  }
}

/** Whether the request lists `tag` in Supported (option tags compare case-insensitively). */
function supports(request: SipRequest, tag: string): boolean {
  try {
    return request.headers.getAll('supported').some((t) => t.toLowerCase() === tag);
  } catch {
    return false;
  }
}
