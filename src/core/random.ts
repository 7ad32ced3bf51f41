import { randomBytes } from 'node:crypto';

/**
 * Randomness, injected: branches, tags, Call-IDs, SSRCs and nonces come from a {@link Random}
 * so tests can make them repeatable.
 */
export interface Random {
  /** `length` random octets. */
  bytes(length: number): Uint8Array;
  /** A uniformly distributed integer in `[0, maxExclusive)`. */
  int(maxExclusive: number): number;
}

/** Cryptographically strong randomness (node:crypto), buffered so small draws stay cheap. */
export class CryptoRandom implements Random {
  private pool = Buffer.alloc(0);
  private offset = 0;

  bytes(length: number): Uint8Array {
    if (length > 256) return randomBytes(length);
    if (this.offset + length > this.pool.length) {
      this.pool = randomBytes(4096);
      this.offset = 0;
    }
    const out = this.pool.subarray(this.offset, this.offset + length);
    this.offset += length;
    return Uint8Array.from(out);
  }

  int(maxExclusive: number): number {
    return uniformInt(this, maxExclusive);
  }
}

/**
 * A repeatable generator (xorshift128+-like on 32-bit halves) for tests and simulations.
 * Never use it for nonces or anything an attacker could predict.
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;

  constructor(seed = 1) {
    this.a = seed >>> 0 || 0x9e3779b9;
    this.b = (seed * 2654435761) >>> 0 || 0x85ebca6b;
  }

  private nextUint32(): number {
    let s1 = this.a;
    const s0 = this.b;
    this.a = s0;
    s1 ^= s1 << 11;
    s1 ^= s1 >>> 8;
    this.b = (s1 ^ s0 ^ (s0 >>> 19)) >>> 0;
    return (this.b + s0) >>> 0;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.nextUint32() & 0xff;
    return out;
  }

  int(maxExclusive: number): number {
    return uniformInt(this, maxExclusive);
  }
}

function uniformInt(random: Random, maxExclusive: number): number {
  if (!Number.isInteger(maxExclusive) || maxExclusive <= 0 || maxExclusive > 2 ** 32) {
    throw new RangeError(`maxExclusive must be an integer in 1..2^32, got ${maxExclusive}`);
  }
  // Rejection sampling keeps the distribution uniform (no modulo bias).
  const limit = 2 ** 32 - (2 ** 32 % maxExclusive);
  for (;;) {
    const b = random.bytes(4);
    const value = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    if (value < limit) return value % maxExclusive;
  }
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A random string of SIP token characters (letters and digits), `length` long. */
export function randomToken(random: Random, length: number): string {
  const raw = random.bytes(length);
  let out = '';
  // 62 symbols: the tiny bias of `% 62` over 256 values is irrelevant for identifiers.
  for (let i = 0; i < length; i++) out += TOKEN_ALPHABET[raw[i]! % TOKEN_ALPHABET.length];
  return out;
}
