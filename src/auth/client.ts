/**
 * The UAC side of SIP digest authentication (RFC 3261 §22.2–22.3, RFC 7616 §3.4, RFC 8760 §2.4):
 * pick a challenge, build credentials, count nonces, and refuse to loop on a wrong password.
 */
import type { Random } from '../core/random.js';
import { authParam, formatAuthHeader } from '../sip/auth-header.js';
import type { AuthHeaderValue, AuthParam } from '../sip/auth-header.js';
import {
  DIGEST_ALGORITHMS,
  algorithmStrength,
  baseAlgorithm,
  computeHa1,
  computeResponse,
  formatNonceCount,
  isDigestHex,
  isSessionAlgorithm,
  parseDigestAlgorithm,
  utf8ToBinary,
} from './digest.js';
import type { DigestAlgorithm, DigestQop } from './digest.js';

/** What a {@link DigestClient} authenticates with. */
export interface DigestCredentials {
  /** The user name (Unicode; sent as UTF-8, RFC 7616 §4). */
  readonly username: string;
  /** The password (Unicode; hashed as UTF-8). Not needed for algorithms covered by `ha1`. */
  readonly password?: string | undefined;
  /**
   * Precomputed `H(username:realm:password)` per algorithm, lower-case hex, so the password need
   * not be kept (G30). The entry of `SHA-256` also serves `SHA-256-sess`, and so on.
   */
  readonly ha1?: Partial<Record<DigestAlgorithm, string>> | undefined;
  /** When set, only challenges for this realm are answered (credentials are not offered to others). */
  readonly realm?: string | undefined;
}

/** Options of {@link DigestClient}. */
export interface DigestClientOptions {
  readonly credentials: DigestCredentials;
  /** Source of cnonces. */
  readonly random: Random;
  /** Algorithms this client is willing to use. Default: all of {@link DIGEST_ALGORITHMS}. */
  readonly algorithms?: readonly DigestAlgorithm[] | undefined;
  /**
   * How many times in a row a realm may answer our credentials with `stale=true` before we give
   * up (a broken or hostile server could otherwise keep us retrying forever). Default 3.
   */
  readonly maxStaleRetries?: number | undefined;
}

/** The request being authorised: what the digest covers. */
export interface DigestRequestInfo {
  readonly method: string;
  /** The Request-URI, exactly as it will be sent (it becomes the digest `uri`, RFC 3261 §22.4). */
  readonly uri: string;
  /** The body as octets (binary string or bytes); `undefined` means unknown, which rules out `auth-int`. */
  readonly body?: Uint8Array | string | undefined;
}

/** Credentials built by {@link DigestClient}. */
export interface DigestAnswer {
  /** The Authorization / Proxy-Authorization value (same header family as the challenge's). */
  readonly credentials: AuthHeaderValue;
  /** `credentials`, formatted. */
  readonly text: string;
  readonly realm: string;
  readonly algorithm: DigestAlgorithm;
  readonly nonce: string;
  readonly qop: DigestQop | undefined;
  /** The nonce count sent, `undefined` in the RFC 2069 form. */
  readonly nc: string | undefined;
}

interface Challenge {
  readonly realm: string;
  readonly nonce: string;
  readonly algorithm: DigestAlgorithm;
  /** Whether `algorithm=` was present (echoed only then, for RFC 2069 peers). */
  readonly algorithmGiven: boolean;
  readonly qops: readonly DigestQop[] | undefined;
  readonly opaque: string | undefined;
  readonly stale: boolean;
}

/** Remembered nonces (for `nc`) and failures are bounded so a hostile server cannot grow them. */
const MAX_TRACKED_NONCES = 256;

/**
 * Answers digest challenges for one set of credentials.
 *
 * @remarks
 * Loop protection: after our credentials for a realm are answered with a new challenge that is
 * not `stale=true`, the password is wrong; the realm is marked failed and every later challenge
 * for it gets `null` until {@link DigestClient.reset}. Pass the credentials the challenged request
 * carried as `sent` to {@link DigestClient.respond} so the client can tell a retry from a first
 * attempt; a non-stale challenge that repeats a nonce we already answered also counts as failure.
 */
export class DigestClient {
  private readonly username: string;
  private readonly password: string | undefined;
  private readonly ha1s: Partial<Record<DigestAlgorithm, string>>;
  private readonly realmFilter: string | undefined;
  private readonly random: Random;
  private readonly algorithms: ReadonlySet<DigestAlgorithm>;
  private readonly maxStaleRetries: number;
  /** nonce → last nc used (insertion order = age, for eviction). */
  private readonly nonceCounts = new Map<string, number>();
  private readonly failedRealms = new Set<string>();
  private readonly staleStreak = new Map<string, number>();
  /** realm → challenge last answered, for preemptive {@link DigestClient.authorize}. */
  private readonly current = new Map<string, Challenge>();

  constructor(options: DigestClientOptions) {
    const { credentials } = options;
    this.username = utf8ToBinary(credentials.username);
    this.password = credentials.password === undefined ? undefined : utf8ToBinary(credentials.password);
    const ha1s: Partial<Record<DigestAlgorithm, string>> = {};
    for (const alg of DIGEST_ALGORITHMS) {
      const value = credentials.ha1?.[alg];
      if (value === undefined) continue;
      if (!isDigestHex(alg, value)) throw new TypeError(`credentials.ha1[${alg}] is not a lower-case hex ${alg} digest`);
      ha1s[alg] = value;
    }
    this.ha1s = ha1s;
    this.realmFilter = credentials.realm;
    this.random = options.random;
    this.algorithms = new Set(options.algorithms ?? DIGEST_ALGORITHMS);
    this.maxStaleRetries = options.maxStaleRetries ?? 3;
    if (this.password === undefined && Object.keys(ha1s).length === 0) {
      throw new TypeError('credentials need a password or at least one ha1');
    }
  }

  /**
   * Answers a 401/407: picks the strongest challenge we can answer (SHA-512-256 > SHA-256 > MD5,
   * first offered on a tie, RFC 8760 §2.4) and builds credentials for `request`.
   *
   * @param challenges - The WWW-Authenticate or Proxy-Authenticate values of the response.
   * @param request - The request to resend.
   * @param sent - The Authorization / Proxy-Authorization values the challenged request carried.
   * @returns The credentials, or `null` when no challenge is usable or answering would loop.
   */
  respond(
    challenges: AuthHeaderValue | readonly AuthHeaderValue[],
    request: DigestRequestInfo,
    sent?: AuthHeaderValue | readonly AuthHeaderValue[],
  ): DigestAnswer | null {
    const sentRealms = new Set<string>();
    for (const value of toList(sent)) {
      if (!isDigest(value)) continue;
      const realm = authParam(value, 'realm');
      if (realm !== undefined && authParam(value, 'username') === this.username) sentRealms.add(realm);
    }

    let best: Challenge | undefined;
    for (const value of toList(challenges)) {
      const challenge = this.readChallenge(value);
      if (challenge === undefined || !this.canAnswer(challenge, request)) continue;
      if (!this.acceptRetry(challenge, sentRealms.has(challenge.realm))) continue;
      // Strictly stronger only: on a tie the first offered wins (RFC 8760 §2.4 "topmost").
      if (best === undefined || algorithmStrength(challenge.algorithm) > algorithmStrength(best.algorithm)) {
        best = challenge;
      }
    }
    if (best === undefined) return null;
    if (sentRealms.has(best.realm) && best.stale) {
      this.staleStreak.set(best.realm, (this.staleStreak.get(best.realm) ?? 0) + 1);
    } else {
      this.staleStreak.delete(best.realm);
    }
    this.current.set(best.realm, best);
    return this.answer(best, request);
  }

  /**
   * Preemptive credentials for a new request, reusing the nonce last answered for `realm` (or the
   * only realm) with the next `nc` (RFC 7616 §3.4, RFC 3261 §22.3 "cache").
   *
   * @returns `null` when no challenge has been answered yet, the realm has failed, or the cached
   *   challenge cannot cover this request.
   */
  authorize(request: DigestRequestInfo, realm?: string): DigestAnswer | null {
    let challenge: Challenge | undefined;
    if (realm !== undefined) challenge = this.current.get(realm);
    else if (this.current.size === 1) challenge = this.current.values().next().value;
    if (challenge === undefined || this.failedRealms.has(challenge.realm)) return null;
    if (!this.canAnswer(challenge, request)) return null;
    return this.answer(challenge, request);
  }

  /** Forgets failures and cached nonces, e.g. after the password was changed. */
  reset(): void {
    this.failedRealms.clear();
    this.staleStreak.clear();
    this.nonceCounts.clear();
    this.current.clear();
  }

  /** Whether the realm has been marked failed (wrong credentials). */
  hasFailed(realm: string): boolean {
    return this.failedRealms.has(realm);
  }

  /** Decides whether answering `challenge` is progress or a loop; records failures. */
  private acceptRetry(challenge: Challenge, weSentCredentials: boolean): boolean {
    if (this.failedRealms.has(challenge.realm)) return false;
    const nonceUsed = this.nonceCounts.has(challenge.nonce);
    if (challenge.stale) {
      // RFC 7616 §3.3 stale=true: "the client may wish to simply retry the request with a new
      // encrypted response". A stale challenge repeating a nonce we used is contradictory.
      if (nonceUsed) return false;
      if (weSentCredentials && (this.staleStreak.get(challenge.realm) ?? 0) >= this.maxStaleRetries) return false;
      return true;
    }
    // RFC 7616 §3.3 stale=false after our credentials: "the username, password [...] are
    // invalid"; retrying the same password is pointless and would loop.
    if (weSentCredentials || nonceUsed) {
      this.markFailed(challenge.realm);
      return false;
    }
    return true;
  }

  private markFailed(realm: string): void {
    this.failedRealms.add(realm);
    this.current.delete(realm);
    if (this.failedRealms.size > MAX_TRACKED_NONCES) {
      const oldest = this.failedRealms.values().next().value;
      if (oldest !== undefined) this.failedRealms.delete(oldest);
    }
  }

  private readChallenge(value: AuthHeaderValue): Challenge | undefined {
    if (!isDigest(value)) return undefined;
    const realm = authParam(value, 'realm');
    const nonce = authParam(value, 'nonce');
    if (realm === undefined || nonce === undefined) return undefined;
    const algorithmText = authParam(value, 'algorithm');
    const algorithm = parseDigestAlgorithm(algorithmText);
    if (algorithm === undefined) return undefined;
    const qopText = authParam(value, 'qop');
    let qops: DigestQop[] | undefined;
    if (qopText !== undefined) {
      // RFC 7616 §3.3: qop is a quoted, comma-separated list; unknown tokens are ignored.
      qops = [];
      for (const token of qopText.split(',')) {
        const q = token.trim().toLowerCase();
        if ((q === 'auth' || q === 'auth-int') && !qops.includes(q)) qops.push(q);
      }
    }
    return {
      realm,
      nonce,
      algorithm,
      algorithmGiven: algorithmText !== undefined,
      qops,
      opaque: authParam(value, 'opaque'),
      stale: authParam(value, 'stale')?.toLowerCase() === 'true',
    };
  }

  private canAnswer(challenge: Challenge, request: DigestRequestInfo): boolean {
    if (!this.algorithms.has(challenge.algorithm)) return false;
    if (this.realmFilter !== undefined && this.realmFilter !== challenge.realm) return false;
    if (this.password === undefined && this.storedHa1(challenge.algorithm) === undefined) return false;
    // RFC 7616 §3.3: qop offered but none we know → must not answer in the RFC 2069 form.
    return challenge.qops === undefined || chooseQop(challenge.qops, request) !== undefined;
  }

  private storedHa1(algorithm: DigestAlgorithm): string | undefined {
    return this.ha1s[algorithm] ?? this.ha1s[baseAlgorithm(algorithm)];
  }

  private answer(challenge: Challenge, request: DigestRequestInfo): DigestAnswer {
    const { algorithm, realm, nonce } = challenge;
    const ha1 =
      this.storedHa1(algorithm) ?? computeHa1(algorithm, this.username, realm, this.password ?? '');
    const qop = challenge.qops === undefined ? undefined : chooseQop(challenge.qops, request);
    // RFC 2617 §3.2.2: cnonce accompanies qop; -sess needs it for the session HA1 even without.
    const cnonce = qop !== undefined || isSessionAlgorithm(algorithm) ? this.newCnonce() : undefined;
    // The nonce is remembered even in the RFC 2069 form, so a non-stale re-challenge with it is
    // recognised as a failure.
    const count = this.nextCount(nonce);
    const nc = qop === undefined ? undefined : formatNonceCount(count);
    const response = computeResponse({
      algorithm,
      ha1,
      nonce,
      cnonce,
      nc,
      qop,
      method: request.method,
      uri: request.uri,
      body: qop === 'auth-int' ? request.body : undefined,
    });

    // RFC 7616 §3.4: quoted are username, realm, nonce, uri, response, cnonce, opaque;
    // algorithm, qop and nc are tokens.
    const params: AuthParam[] = [
      { name: 'username', value: this.username, quoted: true },
      { name: 'realm', value: realm, quoted: true },
      { name: 'nonce', value: nonce, quoted: true },
      { name: 'uri', value: request.uri, quoted: true },
      { name: 'response', value: response, quoted: true },
    ];
    if (challenge.algorithmGiven) params.push({ name: 'algorithm', value: algorithm, quoted: false });
    if (cnonce !== undefined) params.push({ name: 'cnonce', value: cnonce, quoted: true });
    if (challenge.opaque !== undefined) params.push({ name: 'opaque', value: challenge.opaque, quoted: true });
    if (qop !== undefined && nc !== undefined) {
      params.push({ name: 'qop', value: qop, quoted: false }, { name: 'nc', value: nc, quoted: false });
    }
    const credentials: AuthHeaderValue = { scheme: 'Digest', params };
    return { credentials, text: formatAuthHeader(credentials), realm, algorithm, nonce, qop, nc };
  }

  private newCnonce(): string {
    return Buffer.from(this.random.bytes(16)).toString('hex');
  }

  /** RFC 7616 §3.4: nc counts the requests sent with this nonce, starting at 1. */
  private nextCount(nonce: string): number {
    const next = (this.nonceCounts.get(nonce) ?? 0) + 1;
    this.nonceCounts.delete(nonce);
    this.nonceCounts.set(nonce, next);
    if (this.nonceCounts.size > MAX_TRACKED_NONCES) {
      const oldest = this.nonceCounts.keys().next().value;
      if (oldest !== undefined) this.nonceCounts.delete(oldest);
    }
    return next;
  }
}

/** auth-int when offered and the body is known, else auth (RFC 3261 §22.4, RFC 7616 §3.4.3). */
function chooseQop(offered: readonly DigestQop[], request: DigestRequestInfo): DigestQop | undefined {
  if (offered.includes('auth-int') && request.body !== undefined) return 'auth-int';
  if (offered.includes('auth')) return 'auth';
  return undefined;
}

function isDigest(value: AuthHeaderValue): boolean {
  return value.scheme.toLowerCase() === 'digest';
}

function toList<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}
