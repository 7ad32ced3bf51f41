/**
 * The subscriber file of `voxlite server --users`: one stored HA1 per user, realm and digest
 * algorithm (RFC 7616 §3.4.2), never a password (G30).
 *
 * Two formats are read:
 * - lines `user:realm:ha1md5:ha1sha256` (either hash may be empty; `#` starts a comment);
 * - JSON, `[{"user": "alice", "realm": "example.com", "ha1": {"MD5": "…", "SHA-256": "…"}}]`
 *   (or `{"users": [...]}`), which may also carry `SHA-512-256`.
 */
import { baseAlgorithm, computeHa1, isDigestHex, type DigestAlgorithm } from '../auth/digest.js';
import type { Ha1Lookup } from '../auth/server.js';

/** The base algorithms an HA1 is stored for. */
export type StoredAlgorithm = 'MD5' | 'SHA-256' | 'SHA-512-256';

/** One subscriber. */
export interface UserRecord {
  readonly user: string;
  readonly realm: string;
  readonly ha1: Readonly<Partial<Record<StoredAlgorithm, string>>>;
}

/** A bad users file (the message names the line or entry). */
export class UsersFileError extends Error {
  readonly code = 'PROXY_ERR_USERS_FILE';
}

const STORED: readonly StoredAlgorithm[] = ['MD5', 'SHA-256', 'SHA-512-256'];

function checkName(value: unknown, what: string, where: string): string {
  if (typeof value !== 'string' || value.length === 0 || /[:\u0000-\u001f\u007f]/.test(value)) {
    throw new UsersFileError(`${where}: ${what} must be a non-empty string without ':' or control characters`);
  }
  return value;
}

function checkHa1(value: unknown, algorithm: StoredAlgorithm, where: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (!isDigestHex(algorithm, lower)) throw new UsersFileError(`${where}: ${algorithm} HA1 is not ${algorithm === 'MD5' ? 32 : 64} hex digits`);
  return lower;
}

/** The subscribers, with the {@link Ha1Lookup} the digest server needs. */
export class UserDirectory {
  private readonly records = new Map<string, UserRecord>();

  constructor(records: readonly UserRecord[] = []) {
    for (const r of records) this.records.set(`${r.realm}\n${r.user}`, r);
  }

  /**
   * Reads either format (JSON when the text starts with `[` or `{`).
   * @throws {@link UsersFileError} naming the bad line or entry.
   */
  static parse(text: string): UserDirectory {
    const trimmed = text.trim();
    if (trimmed.startsWith('[') || trimmed.startsWith('{')) return UserDirectory.parseJson(trimmed);
    const records: UserRecord[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const where = `line ${i + 1}`;
      const parts = line.split(':');
      if (parts.length < 3 || parts.length > 4) throw new UsersFileError(`${where}: expected user:realm:ha1md5:ha1sha256`);
      const ha1: Partial<Record<StoredAlgorithm, string>> = {};
      const md5 = checkHa1(parts[2], 'MD5', where);
      const sha = checkHa1(parts[3], 'SHA-256', where);
      if (md5 !== undefined) ha1.MD5 = md5;
      if (sha !== undefined) ha1['SHA-256'] = sha;
      records.push({ user: checkName(parts[0], 'user', where), realm: checkName(parts[1], 'realm', where), ha1 });
    });
    return new UserDirectory(records);
  }

  private static parseJson(text: string): UserDirectory {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new UsersFileError(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    const list = Array.isArray(value) ? value : typeof value === 'object' && value !== null && Array.isArray((value as { users?: unknown }).users) ? (value as { users: unknown[] }).users : undefined;
    if (list === undefined) throw new UsersFileError('JSON users file must be an array or {"users": [...]}');
    const records = list.map((entry: unknown, i: number): UserRecord => {
      const where = `entry ${i}`;
      if (typeof entry !== 'object' || entry === null) throw new UsersFileError(`${where}: not an object`);
      const e = entry as Record<string, unknown>;
      const source = typeof e.ha1 === 'object' && e.ha1 !== null ? (e.ha1 as Record<string, unknown>) : {};
      const ha1: Partial<Record<StoredAlgorithm, string>> = {};
      for (const alg of STORED) {
        const v = checkHa1(source[alg], alg, where);
        if (v !== undefined) ha1[alg] = v;
      }
      return { user: checkName(e.user, 'user', where), realm: checkName(e.realm, 'realm', where), ha1 };
    });
    return new UserDirectory(records);
  }

  /** A record with every stored HA1 computed from a password (the password itself is not kept). */
  static record(user: string, realm: string, password: string, algorithms: readonly StoredAlgorithm[] = ['MD5', 'SHA-256']): UserRecord {
    checkName(user, 'user', 'record');
    checkName(realm, 'realm', 'record');
    const ha1: Partial<Record<StoredAlgorithm, string>> = {};
    for (const alg of algorithms) ha1[alg] = computeHa1(alg, user, realm, password);
    return { user, realm, ha1 };
  }

  /** Number of subscribers. */
  get size(): number {
    return this.records.size;
  }

  /** Every record, in insertion order. */
  list(): UserRecord[] {
    return [...this.records.values()];
  }

  /** Adds or replaces a subscriber. */
  set(record: UserRecord): void {
    this.records.set(`${record.realm}\n${record.user}`, record);
  }

  /** Whether a user exists in a realm. Do not answer a peer with it (G24). */
  has(user: string, realm: string): boolean {
    return this.records.has(`${realm}\n${user}`);
  }

  /** The digest server's lookup: the HA1 for the base algorithm, or undefined. */
  readonly lookupHa1: Ha1Lookup = (username: string, realm: string, algorithm: DigestAlgorithm) => {
    const base = baseAlgorithm(algorithm) as StoredAlgorithm;
    return this.records.get(`${realm}\n${username}`)?.ha1[base];
  };

  /** The line format (`user:realm:ha1md5:ha1sha256`), one subscriber per line. */
  format(): string {
    const lines = ['# voxlite users: user:realm:HA1(MD5):HA1(SHA-256) — stored hashes, never passwords'];
    for (const r of this.records.values()) lines.push(`${r.user}:${r.realm}:${r.ha1.MD5 ?? ''}:${r.ha1['SHA-256'] ?? ''}`);
    return lines.join('\n') + '\n';
  }
}
