/**
 * The arithmetic of HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 2617 §3.2.2, RFC 7616 §3.4,
 * RFC 8760 §2): HA1, the session HA1 and the `response` value. Pure functions over node:crypto.
 *
 * Every string here is a "binary string" (one char per octet), as in the SIP layer: header
 * values go in exactly as they were on the wire. Use {@link utf8ToBinary} for text typed by a
 * person (a password, a username from config) before hashing it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Digest algorithms understood by voxlite (RFC 7616 §6.1, RFC 8760 §2). */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

/** The `qop` values understood by voxlite (RFC 7616 §3.3). */
export type DigestQop = 'auth' | 'auth-int';

/** All algorithms, strongest first (RFC 8760 §2.3 preference). */
export const DIGEST_ALGORITHMS = [
  'SHA-512-256',
  'SHA-512-256-sess',
  'SHA-256',
  'SHA-256-sess',
  'MD5',
  'MD5-sess',
] as const satisfies readonly DigestAlgorithm[];

const NODE_HASH = {
  MD5: 'md5',
  'MD5-sess': 'md5',
  'SHA-256': 'sha256',
  'SHA-256-sess': 'sha256',
  'SHA-512-256': 'sha512-256',
  'SHA-512-256-sess': 'sha512-256',
} as const satisfies Record<DigestAlgorithm, string>;

const BASE_ALGORITHM = {
  MD5: 'MD5',
  'MD5-sess': 'MD5',
  'SHA-256': 'SHA-256',
  'SHA-256-sess': 'SHA-256',
  'SHA-512-256': 'SHA-512-256',
  'SHA-512-256-sess': 'SHA-512-256',
} as const satisfies Record<DigestAlgorithm, DigestAlgorithm>;

/** Hex digits in a hash output for each algorithm. */
const HEX_LENGTH = { md5: 32, sha256: 64, 'sha512-256': 64 } as const;

/** Relative strength: higher is stronger. The `-sess` variants rank with their hash. */
export function algorithmStrength(algorithm: DigestAlgorithm): number {
  switch (NODE_HASH[algorithm]) {
    case 'sha512-256':
      return 3;
    case 'sha256':
      return 2;
    case 'md5':
      return 1;
  }
}

/**
 * Reads an `algorithm` parameter. Absent means MD5 (RFC 7616 §3.3, RFC 3261 §22.4 via RFC 2617).
 * Matching is case-insensitive; unknown values give `undefined`.
 */
export function parseDigestAlgorithm(text: string | undefined): DigestAlgorithm | undefined {
  if (text === undefined) return 'MD5';
  const lower = text.toLowerCase();
  for (const alg of DIGEST_ALGORITHMS) if (alg.toLowerCase() === lower) return alg;
  return undefined;
}

/** Whether the algorithm is a `-sess` variant (HA1 bound to nonce and cnonce, RFC 7616 §3.4.2). */
export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith('-sess');
}

/** The non-session algorithm with the same hash (`SHA-256-sess` → `SHA-256`); stored HA1s are per base algorithm. */
export function baseAlgorithm(algorithm: DigestAlgorithm): DigestAlgorithm {
  return BASE_ALGORITHM[algorithm];
}

/** Whether `text` looks like an output of the algorithm's hash: lower-case hex of the right length. */
export function isDigestHex(algorithm: DigestAlgorithm, text: string): boolean {
  return text.length === HEX_LENGTH[NODE_HASH[algorithm]] && /^[0-9a-f]+$/.test(text);
}

/** Turns Unicode text into a binary string of its UTF-8 octets (RFC 7616 §4 charset=UTF-8). */
export function utf8ToBinary(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function octets(data: string, what: string): Buffer {
  for (let i = 0; i < data.length; i++) {
    if (data.charCodeAt(i) > 0xff) {
      throw new RangeError(`${what} is not a binary string (char above 0xFF); convert it with utf8ToBinary()`);
    }
  }
  return Buffer.from(data, 'latin1');
}

/**
 * `H(data)` for the algorithm, as lower-case hex (RFC 7616 §3.4.1 "H"; RFC 8760 §2: SHA-512-256
 * is SHA-512/256 of FIPS 180-4, `sha512-256` in node:crypto).
 *
 * @throws RangeError when a string holds a char above 0xFF.
 */
export function digestHash(algorithm: DigestAlgorithm, data: string | Uint8Array): string {
  const hash = createHash(NODE_HASH[algorithm]);
  hash.update(typeof data === 'string' ? octets(data, 'hashed data') : data);
  return hash.digest('hex');
}

/**
 * `HA1 = H(username ":" realm ":" password)` (RFC 7616 §3.4.2). For a `-sess` algorithm this is
 * the stored part; {@link computeResponse} adds nonce and cnonce. This is the value to store
 * instead of the password (G30).
 *
 * @throws RangeError when an argument holds a char above 0xFF.
 */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

/**
 * The session HA1 of a `-sess` algorithm: `H(HA1 ":" nonce ":" cnonce)` (RFC 7616 §3.4.2,
 * RFC 2617 §3.2.2.2), from the stored HA1.
 */
export function computeSessionHa1(algorithm: DigestAlgorithm, ha1: string, nonce: string, cnonce: string): string {
  return digestHash(algorithm, `${ha1}:${nonce}:${cnonce}`);
}

/** Inputs of {@link computeResponse}. */
export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithm;
  /** The stored HA1 (`H(user:realm:password)`), also for `-sess` algorithms. */
  readonly ha1: string;
  readonly nonce: string;
  /** Required with `qop` and with a `-sess` algorithm. */
  readonly cnonce?: string | undefined;
  /** Nonce count, 8 hex digits as sent (`00000001`); required with `qop`. */
  readonly nc?: string | undefined;
  /** `undefined` gives the RFC 2069 form (RFC 3261 §22.4 keeps it for compatibility). */
  readonly qop?: DigestQop | undefined;
  /** The request method (RFC 3261 §22.4: the SIP method, ACK/CANCEL use the INVITE's credentials). */
  readonly method: string;
  /** The digest `uri` parameter, as sent. */
  readonly uri: string;
  /** Message body for `auth-int`; absent means empty (RFC 3261 §22.4: H("") when no body). */
  readonly body?: Uint8Array | string | undefined;
}

/**
 * The `response` value (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1):
 *
 * ```
 * qop present:  H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)
 * qop absent:   H(HA1 ":" nonce ":" HA2)                       (RFC 2069)
 * HA2 = H(method ":" uri)  or, for auth-int,  H(method ":" uri ":" H(body))
 * ```
 * with HA1 replaced by the session HA1 for `-sess` algorithms.
 *
 * @throws RangeError when `qop` is set without `nc`/`cnonce`, a `-sess` algorithm lacks
 *   `cnonce`, or a string holds a char above 0xFF.
 */
export function computeResponse(input: DigestResponseInput): string {
  const { algorithm, nonce, cnonce, nc, qop, method, uri } = input;
  let ha1 = input.ha1;
  if (isSessionAlgorithm(algorithm)) {
    if (cnonce === undefined) throw new RangeError(`${algorithm} needs a cnonce`);
    ha1 = computeSessionHa1(algorithm, ha1, nonce, cnonce);
  }
  const ha2 =
    qop === 'auth-int'
      ? digestHash(algorithm, `${method}:${uri}:${digestHash(algorithm, input.body ?? '')}`)
      : digestHash(algorithm, `${method}:${uri}`);
  if (qop === undefined) return digestHash(algorithm, `${ha1}:${nonce}:${ha2}`);
  if (nc === undefined || cnonce === undefined) throw new RangeError(`qop=${qop} needs nc and cnonce`);
  return digestHash(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
}

/** `nc` as sent on the wire: 8 lower-case hex digits (RFC 7616 §3.4). */
export function formatNonceCount(count: number): string {
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) {
    throw new RangeError(`nonce count must be an integer in 1..2^32-1, got ${count}`);
  }
  return count.toString(16).padStart(8, '0');
}

/** Reads an `nc` value: exactly 8 hex digits (RFC 7616 §3.4 `nc-value = 8LHEX`), else `undefined`. */
export function parseNonceCount(text: string): number | undefined {
  if (!/^[0-9a-fA-F]{8}$/.test(text)) return undefined;
  return Number.parseInt(text, 16);
}

/**
 * Compares two hex digests in time independent of where they differ (crypto.timingSafeEqual).
 * A length mismatch still costs one comparison, so it is not measurably faster.
 */
export function digestEquals(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(received.toLowerCase(), 'latin1');
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}
