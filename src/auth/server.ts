/**
 * The UAS / proxy side of SIP digest authentication (RFC 3261 §22.1–22.4, RFC 7616, RFC 8760):
 * stateless, MAC-protected nonces (G25), nonce-count replay protection (G26), strict parameter
 * checks (G27), several algorithms in preference order with MD5 optional (G28), and no way to
 * tell an unknown user from a wrong password (G24). Works from stored HA1 values only (G30).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import { authParam } from '../sip/auth-header.js';
import type { AuthHeaderValue, AuthParam } from '../sip/auth-header.js';
import {
  DIGEST_ALGORITHMS,
  baseAlgorithm,
  computeResponse,
  digestEquals,
  isDigestHex,
  isSessionAlgorithm,
  parseDigestAlgorithm,
  parseNonceCount,
} from './digest.js';
import type { DigestAlgorithm, DigestQop } from './digest.js';

/** Looks up the stored `H(username:realm:password)` (lower-case hex) for a base algorithm. */
export type Ha1Lookup = (
  username: string,
  realm: string,
  algorithm: DigestAlgorithm,
) => Promise<string | undefined> | string | undefined;

/** Options of {@link DigestServer}. */
export interface DigestServerOptions {
  /** Our realm (RFC 3261 §22.1); credentials for another realm are refused with reason `realm`. */
  readonly realm: string;
  /** Key of the nonce MAC, at least 16 octets. Share it between instances that share users. */
  readonly secret: Uint8Array;
  /** Source of nonce timestamps. Use one scale across instances and restarts for nonces to survive them. */
  readonly clock: Clock;
  /** Source of the random part of nonces. */
  readonly random: Random;
  /** How long a nonce is accepted; older ones get `stale` (G25; Kamailio's default). Default 300 000. */
  readonly nonceLifetimeMs?: number | undefined;
  /**
   * Algorithms offered, in preference order: one challenge each (RFC 8760 §2.4, G28). Credentials
   * with any other algorithm get reason `algorithm`. Default `['SHA-256', 'MD5']`.
   */
  readonly algorithms?: readonly DigestAlgorithm[] | undefined;
  /**
   * `qop` values offered. Credentials must use one of them (no RFC 2069 downgrade, G27). An empty
   * list offers none and accepts only the RFC 2069 form, each nonce then being single-use.
   * Default `['auth']`.
   */
  readonly qop?: readonly DigestQop[] | undefined;
  /**
   * Stored HA1 for `username` (as on the wire, a binary string) in `realm`, for the base
   * algorithm (`SHA-256` also for `SHA-256-sess`). `undefined` for an unknown user.
   */
  readonly lookupHa1: Ha1Lookup;
  /** Binds nonces to the source IP given to `challenge()` and `verify()` (G25). Default false. */
  readonly bindSourceIp?: boolean | undefined;
  /** Nonces whose last `nc` is remembered (LRU). Default 10 000. */
  readonly maxTrackedNonces?: number | undefined;
}

/** Why {@link DigestServer.verify} refused credentials. */
export type DigestFailureReason =
  | 'missing'
  | 'unknown-user'
  | 'bad-password'
  | 'stale'
  | 'forged-nonce'
  | 'replay'
  | 'bad-params'
  | 'realm'
  | 'algorithm'
  | 'qop'
  | 'uri-mismatch';

/**
 * Outcome of {@link DigestServer.verify}. On failure, answer `uri-mismatch` and `bad-params`
 * with 400 (G27) and everything else with the same 401/407 challenge (G24), passing `stale`
 * to {@link DigestServer.challenge}. Never reveal `reason` to the peer.
 */
export type DigestVerifyResult =
  | { readonly ok: true; readonly username: string; readonly algorithm: DigestAlgorithm }
  | { readonly ok: false; readonly reason: DigestFailureReason; readonly stale?: boolean };

/** What {@link DigestServer.verify} checks. */
export interface DigestVerifyInput {
  readonly method: string;
  /** The Request-URI as received; the digest `uri` must equal it (RFC 2617 §3.2.2.5, G27). */
  readonly requestUri: string;
  /** The request's Authorization (or Proxy-Authorization) values; ours is picked by realm. */
  readonly credentials?: AuthHeaderValue | readonly AuthHeaderValue[] | undefined;
  /** The body, for `auth-int`; absent means empty. */
  readonly body?: Uint8Array | string | undefined;
  /** The peer's address, for `bindSourceIp`. */
  readonly sourceIp?: string | undefined;
}

/** Options of {@link DigestServer.challenge}. */
export interface DigestChallengeOptions {
  /** Sets `stale=true` (RFC 7616 §3.3): the credentials were right but the nonce was not. */
  readonly stale?: boolean | undefined;
  /** The peer's address, for `bindSourceIp`. */
  readonly sourceIp?: string | undefined;
}

const TIMESTAMP_BYTES = 8;
const RANDOM_BYTES = 12;
const MAC_BYTES = 32;
const NONCE_BYTES = TIMESTAMP_BYTES + RANDOM_BYTES + MAC_BYTES;
const NONCE_PATTERN = /^[A-Za-z0-9_-]+$/;

interface NonceUse {
  /** Last nc accepted; 0 in the RFC 2069 form (the nonce is then spent). */
  readonly nc: number;
  readonly issuedAt: number;
}

/**
 * Issues digest challenges and verifies credentials, for one realm.
 *
 * Nonce = base64url(timestamp ‖ random ‖ HMAC-SHA256(secret, timestamp ‖ random [‖ source IP])):
 * verifiable without state (G25). Replay protection keeps the last `nc` of recently used nonces
 * in a bounded LRU (G26); a nonce that may have been evicted is answered `stale`, so eviction
 * never reopens a replay window.
 */
export class DigestServer {
  /** Our realm, as sent in challenges. */
  readonly realm: string;
  /** The offered algorithms, in preference order. */
  readonly algorithms: readonly DigestAlgorithm[];
  /** The offered qop values. */
  readonly qop: readonly DigestQop[];
  private readonly secret: Buffer;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly lifetimeMs: number;
  private readonly lookupHa1: Ha1Lookup;
  private readonly bindSourceIp: boolean;
  private readonly maxTracked: number;
  private readonly dummyHa1: Readonly<Record<DigestAlgorithm, string>>;
  private readonly uses = new Map<string, NonceUse>();
  /** Issue time of the newest nonce ever evicted from `uses`; older untracked nonces are suspect. */
  private evictedUpTo = Number.NEGATIVE_INFINITY;

  /** @throws RangeError / TypeError on invalid options. */
  constructor(options: DigestServerOptions) {
    if (options.secret.length < 16) throw new RangeError('DigestServer secret must be at least 16 octets');
    const algorithms = options.algorithms ?? ['SHA-256', 'MD5'];
    if (algorithms.length === 0) throw new RangeError('DigestServer needs at least one algorithm');
    if (new Set(algorithms).size !== algorithms.length) throw new RangeError('DigestServer algorithms repeat');
    for (const alg of algorithms) {
      if (!(DIGEST_ALGORITHMS as readonly string[]).includes(alg)) throw new TypeError(`unknown digest algorithm ${alg}`);
    }
    const qop = options.qop ?? ['auth'];
    for (const q of qop) if (q !== 'auth' && q !== 'auth-int') throw new TypeError(`unknown qop ${String(q)}`);
    if (new Set(qop).size !== qop.length) throw new RangeError('DigestServer qop values repeat');
    const lifetimeMs = options.nonceLifetimeMs ?? 300_000;
    if (!(lifetimeMs > 0)) throw new RangeError('nonceLifetimeMs must be positive');
    const maxTracked = options.maxTrackedNonces ?? 10_000;
    if (!Number.isInteger(maxTracked) || maxTracked < 1) throw new RangeError('maxTrackedNonces must be a positive integer');

    this.realm = options.realm;
    this.algorithms = Object.freeze([...algorithms]);
    this.qop = Object.freeze([...qop]);
    this.secret = Buffer.from(options.secret);
    this.clock = options.clock;
    this.random = options.random;
    this.lifetimeMs = lifetimeMs;
    this.lookupHa1 = options.lookupHa1;
    this.bindSourceIp = options.bindSourceIp ?? false;
    this.maxTracked = maxTracked;

    // G24: an unknown user is checked against a dummy HA1 of the right shape, so the work done
    // (and its timing) is the same as for a known user with a wrong password.
    const dummy: Partial<Record<DigestAlgorithm, string>> = {};
    for (const alg of DIGEST_ALGORITHMS) {
      const mac = createHmac('sha256', this.secret).update(`voxlite dummy HA1 ${alg}`).digest('hex');
      dummy[alg] = alg.startsWith('MD5') ? mac.slice(0, 32) : mac;
    }
    this.dummyHa1 = dummy as Record<DigestAlgorithm, string>;
  }

  /**
   * Challenges for a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate): one per offered
   * algorithm, in preference order, identical except for the algorithm (RFC 8760 §2.4, G24, G28).
   * They share one fresh nonce.
   */
  challenge(options: DigestChallengeOptions = {}): AuthHeaderValue[] {
    const nonce = this.issueNonce(options.sourceIp);
    return this.algorithms.map((algorithm) => {
      // RFC 7616 §3.3: realm, nonce and qop are quoted; algorithm and stale are tokens.
      const params: AuthParam[] = [
        { name: 'realm', value: this.realm, quoted: true },
        { name: 'nonce', value: nonce, quoted: true },
        { name: 'algorithm', value: algorithm, quoted: false },
      ];
      if (this.qop.length > 0) params.push({ name: 'qop', value: this.qop.join(','), quoted: true });
      if (options.stale === true) params.push({ name: 'stale', value: 'true', quoted: false });
      return { scheme: 'Digest', params };
    });
  }

  /**
   * Checks credentials against the request (RFC 3261 §22.4, RFC 7616 §3.4–3.5).
   *
   * Order matters: everything that does not depend on the user (realm, algorithm, qop, uri) is
   * checked before the lookup, so failures there say nothing about accounts (G24). The lookup and
   * digest run for every well-formed request, whatever the user and nonce, so timing does not
   * tell unknown users, wrong passwords and forged nonces apart. Staleness and replay are judged only once the digest is
   * correct (RFC 7616 §3.3 `stale`), and only a correct digest advances the nonce count, so
   * garbage cannot lock a real client out of its nonce.
   *
   * @throws TypeError when `lookupHa1` returns something that is not a hex HA1 of the algorithm.
   */
  async verify(input: DigestVerifyInput): Promise<DigestVerifyResult> {
    const credentials = this.pickCredentials(input.credentials);
    if (credentials === 'missing') return fail('missing');
    if (credentials === 'realm') return fail('realm');

    const username = authParam(credentials, 'username');
    const nonce = authParam(credentials, 'nonce');
    const uri = authParam(credentials, 'uri');
    const response = authParam(credentials, 'response');
    const cnonce = authParam(credentials, 'cnonce');
    const ncText = authParam(credentials, 'nc');
    const qopText = authParam(credentials, 'qop');
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return fail('bad-params');
    }
    // RFC 7616 §3.4.4: userhash would need a reverse lookup; it is not offered, so not accepted.
    if (authParam(credentials, 'userhash')?.toLowerCase() === 'true') return fail('bad-params');

    const algorithm = parseDigestAlgorithm(authParam(credentials, 'algorithm'));
    // G27/G28: only an algorithm we offered; with MD5 off an MD5 (or algorithm-less) answer fails.
    if (algorithm === undefined || !this.algorithms.includes(algorithm)) return fail('algorithm');

    let qop: DigestQop | undefined;
    if (qopText === undefined) {
      // G27: qop was offered, so the RFC 2069 form would be a downgrade.
      if (this.qop.length > 0) return fail('qop');
    } else {
      const lower = qopText.toLowerCase();
      if ((lower !== 'auth' && lower !== 'auth-int') || !this.qop.includes(lower)) return fail('qop');
      qop = lower;
    }
    let nc: number | undefined;
    if (qop !== undefined) {
      // RFC 7616 §3.4: with qop, cnonce and nc are required.
      nc = ncText === undefined ? undefined : parseNonceCount(ncText);
      if (nc === undefined || nc === 0 || cnonce === undefined || cnonce.length === 0) return fail('bad-params');
    } else if (ncText !== undefined) {
      return fail('bad-params');
    }
    if (isSessionAlgorithm(algorithm) && (cnonce === undefined || cnonce.length === 0)) return fail('bad-params');
    if (!isDigestHex(algorithm, response.toLowerCase())) return fail('bad-params');

    // RFC 2617 §3.2.2.5 / G27: the digest covers `uri`, so it must be this request's URI.
    if (uri !== input.requestUri) return fail('uri-mismatch');

    const issuedAt = this.checkNonce(nonce, input.sourceIp);

    const stored = await this.lookupHa1(username, this.realm, baseAlgorithm(algorithm));
    if (stored !== undefined && !isDigestHex(algorithm, stored)) {
      throw new TypeError(`lookupHa1 returned a value that is not a lower-case hex ${baseAlgorithm(algorithm)} HA1`);
    }
    const expected = computeResponse({
      algorithm,
      ha1: stored ?? this.dummyHa1[algorithm],
      nonce,
      cnonce,
      nc: ncText,
      qop,
      method: input.method,
      uri,
      body: qop === 'auth-int' ? (input.body ?? '') : undefined,
    });
    const match = digestEquals(expected, response) && stored !== undefined;
    // G25: a nonce without our MAC is refused. If the digest over it is nevertheless right, the
    // client knows the password and the nonce comes from an earlier secret or another source IP
    // (bindSourceIp): stale=true lets it retry instead of concluding its password is wrong.
    if (issuedAt === undefined) return fail('forged-nonce', match);
    if (stored === undefined) return fail('unknown-user');
    if (!match) return fail('bad-password');

    // G25 / RFC 7616 §3.3: right digest, old nonce → stale=true so the client retries silently.
    // A timestamp from the future (another clock scale, e.g. before a restart) counts as old.
    const age = this.clock.now() - issuedAt;
    if (!(age >= 0 && age <= this.lifetimeMs)) return fail('stale', true);

    const previous = this.uses.get(nonce);
    if (previous === undefined && issuedAt <= this.evictedUpTo) {
      // This nonce's count may have been evicted; accepting it could accept a replay.
      return fail('stale', true);
    }
    // G26 / RFC 7616 §3.4: nc strictly increases per nonce; in the RFC 2069 form the nonce is
    // single-use. A replay with a correct digest is answered stale, so an honest client that
    // lost count recovers with a new nonce while the replayed request is still refused.
    if (previous !== undefined && (nc === undefined || nc <= previous.nc)) return fail('replay', true);
    this.remember(nonce, { nc: nc ?? 0, issuedAt });
    return { ok: true, username, algorithm };
  }

  private pickCredentials(
    value: AuthHeaderValue | readonly AuthHeaderValue[] | undefined,
  ): AuthHeaderValue | 'missing' | 'realm' {
    const list: readonly AuthHeaderValue[] =
      value === undefined ? [] : Array.isArray(value) ? (value as readonly AuthHeaderValue[]) : [value as AuthHeaderValue];
    let sawDigest = false;
    for (const v of list) {
      if (v.scheme.toLowerCase() !== 'digest') continue;
      sawDigest = true;
      // RFC 3261 §22.3: several credentials may be present, one per realm; ours is matched by realm.
      if (authParam(v, 'realm') === this.realm) return v;
    }
    return sawDigest ? 'realm' : 'missing';
  }

  private issueNonce(sourceIp: string | undefined): string {
    const nonce = Buffer.alloc(NONCE_BYTES);
    nonce.writeDoubleBE(Math.floor(this.clock.now()), 0);
    const random = this.random.bytes(RANDOM_BYTES);
    if (random.length !== RANDOM_BYTES) throw new RangeError('Random.bytes returned the wrong length');
    nonce.set(random, TIMESTAMP_BYTES);
    this.mac(nonce.subarray(0, TIMESTAMP_BYTES + RANDOM_BYTES), sourceIp).copy(nonce, TIMESTAMP_BYTES + RANDOM_BYTES);
    return nonce.toString('base64url');
  }

  /** The nonce's issue time if its MAC is ours, else `undefined`. */
  private checkNonce(nonce: string, sourceIp: string | undefined): number | undefined {
    if (!NONCE_PATTERN.test(nonce)) return undefined;
    const bytes = Buffer.from(nonce, 'base64url');
    // Only the canonical encoding: otherwise one nonce has several spellings, each with its own nc.
    if (bytes.length !== NONCE_BYTES || bytes.toString('base64url') !== nonce) return undefined;
    const expected = this.mac(bytes.subarray(0, TIMESTAMP_BYTES + RANDOM_BYTES), sourceIp);
    if (!timingSafeEqual(expected, bytes.subarray(TIMESTAMP_BYTES + RANDOM_BYTES))) return undefined;
    return bytes.readDoubleBE(0);
  }

  private mac(data: Uint8Array, sourceIp: string | undefined): Buffer {
    const hmac = createHmac('sha256', this.secret).update(data);
    if (this.bindSourceIp) hmac.update(sourceIp ?? '', 'utf8');
    return hmac.digest();
  }

  private remember(nonce: string, use: NonceUse): void {
    this.uses.delete(nonce);
    this.uses.set(nonce, use);
    while (this.uses.size > this.maxTracked) {
      const oldest = this.uses.entries().next().value;
      if (oldest === undefined) break;
      this.uses.delete(oldest[0]);
      if (oldest[1].issuedAt > this.evictedUpTo) this.evictedUpTo = oldest[1].issuedAt;
    }
  }
}

function fail(reason: DigestFailureReason, stale?: boolean): DigestVerifyResult {
  return stale === true ? { ok: false, reason, stale } : { ok: false, reason };
}
