/**
 * A location store in Redis (through `ioredis`), shared by every server of a farm: a REGISTER
 * handled by one server is visible to the lookups of all the others.
 *
 * ```
 *   key  <prefix><canonical AOR>          a hash, PEXPIRE'd past its last binding's expiry
 *   ├─ v        version token             random per write: the compare-and-set guard
 *   ├─ b:0000   Binding JSON              registration order by field number
 *   └─ b:0001   Binding JSON
 * ```
 *
 * Each update reads the hash, applies the binding rules in this process
 * ({@link applyBindingChanges}), and writes the whole hash back with a Lua script that succeeds
 * only if `v` is still what was read (optimistic concurrency; retried on conflict). That keeps
 * every update atomic across servers (RFC 3261 §10.3 step 7) without WATCH, which is per
 * connection and would mix concurrent updates sharing one client.
 *
 * Expiry is two-layered: Redis drops an AOR's hash by TTL once its last binding has lapsed (no
 * sweep needed for memory), and every read checks each binding's `expiresAt` against the clock,
 * so a binding is invisible the moment it expires even while its hash lives on.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { VoxliteError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import {
  applyBindingChanges,
  bindingFromJson,
  bindingToJson,
  canonicalAor,
  LocationStoreError,
  WallClock,
  type Binding,
  type BindingChange,
  type LocationStore,
  type UpdateOptions,
  type UpdateResult,
  UpdateBasedLocationStore,
} from './store.js';

/** The commands this store needs; an `ioredis` `Redis` instance has them. */
export interface RedisClientLike {
  hgetall(key: string): Promise<Record<string, string>>;
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  scan(cursor: string, matchToken: 'MATCH', pattern: string, countToken: 'COUNT', count: number): Promise<[cursor: string, keys: string[]]>;
  quit(): Promise<unknown>;
}

/** Options of {@link RedisLocationStore}. */
export interface RedisLocationStoreOptions {
  /** A connected client (e.g. `new Redis(url)` from ioredis). */
  readonly client: RedisClientLike;
  /** Whether {@link RedisLocationStore.close} quits the client. Default false (the caller owns it). */
  readonly closeClient?: boolean;
  /**
   * Time base of `expiresAt`. Default: a {@link WallClock}. Every server sharing the keys must use
   * wall-clock time (kept in sync, e.g. by NTP), since each one judges the others' bindings.
   */
  readonly clock?: Clock;
  /** Prefix of every key. Default `voxlite:location:`. */
  readonly keyPrefix?: string;
  /** Compare-and-set attempts per update before giving up with `LOCATION_ERR_CONFLICT`. Default 32. */
  readonly maxAttempts?: number;
  /** How long a hash outlives its last binding, in ms (slack for clock skew between servers). Default 1000. */
  readonly ttlGraceMs?: number;
}

/** Options of {@link RedisLocationStore.connect}. */
export interface RedisConnectOptions extends Omit<RedisLocationStoreOptions, 'client' | 'closeClient'> {
  /** Where connection errors go. Default: silent. */
  readonly logger?: Logger;
}

/**
 * KEYS[1] = the AOR hash; ARGV = expected version ('' = no hash), new version, TTL in ms, then
 * field/value pairs. Replaces the hash (or deletes it when no pairs follow) if the version matches.
 */
const WRITE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'v')
if (current or '') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if #ARGV > 3 then
  redis.call('HSET', KEYS[1], 'v', ARGV[2], unpack(ARGV, 4))
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`;

/** Escapes the glob characters of a key prefix for SCAN MATCH. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => '\\' + c);
}

interface Snapshot {
  readonly version: string;
  readonly bindings: Binding[];
}

/** A {@link LocationStore} in Redis, for a farm of servers. */
export class RedisLocationStore extends UpdateBasedLocationStore {
  readonly clock: Clock;
  private readonly client: RedisClientLike;
  private readonly closeClient: boolean;
  private readonly prefix: string;
  private readonly maxAttempts: number;
  private readonly graceMs: number;
  private closed = false;

  constructor(options: RedisLocationStoreOptions) {
    super();
    this.client = options.client;
    this.closeClient = options.closeClient ?? false;
    this.clock = options.clock ?? new WallClock();
    this.prefix = options.keyPrefix ?? 'voxlite:location:';
    this.maxAttempts = options.maxAttempts ?? 32;
    this.graceMs = options.ttlGraceMs ?? 1000;
    if (!(this.maxAttempts >= 1)) throw new RangeError(`maxAttempts must be at least 1, got ${this.maxAttempts}`);
    if (!(this.graceMs >= 0)) throw new RangeError(`ttlGraceMs must be non-negative, got ${this.graceMs}`);
  }

  /**
   * Connects to Redis with ioredis (loaded only now, so the other stores never need it) and
   * returns a store that quits the connection on close.
   * @param url - A `redis://host:port/db` URL. Default `redis://127.0.0.1:6379`.
   * @throws {@link LocationStoreError} when ioredis is missing or the server cannot be reached.
   */
  static async connect(url = 'redis://127.0.0.1:6379', options: RedisConnectOptions = {}): Promise<RedisLocationStore> {
    let Redis: typeof import('ioredis').Redis;
    try {
      ({ Redis } = await import('ioredis'));
    } catch (cause) {
      throw new LocationStoreError('LOCATION_ERR_BACKEND', 'the redis location store needs the ioredis package', { cause });
    }
    // A command fails after two reconnection attempts instead of waiting forever: a REGISTER
    // then gets a 500 within its transaction's lifetime, and a lookup fails over.
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    // Without a listener ioredis prints connection errors to the console; they go to the logger.
    const logger = options.logger ?? silentLogger;
    client.on('error', (error: unknown) => {
      logger.warn('redis location store: connection error', { url, error: error instanceof Error ? error.message : String(error) });
    });
    try {
      await client.connect();
    } catch (cause) {
      client.disconnect();
      throw new LocationStoreError('LOCATION_ERR_BACKEND', `cannot connect to ${url}`, { cause });
    }
    const { logger: _unused, ...storeOptions } = options;
    return new RedisLocationStore({ ...storeOptions, client, closeClient: true });
  }

  async update(aor: string, changes: readonly BindingChange[], options?: UpdateOptions): Promise<UpdateResult> {
    this.check();
    const key = canonicalAor(aor);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const snapshot = await this.read(key);
      const now = this.clock.now();
      const result = applyBindingChanges(key, snapshot.bindings, changes, now, options);
      const unchanged = result.added + result.refreshed + result.removed === 0 && result.bindings.length === snapshot.bindings.length;
      // Nothing to write: the read was a consistent snapshot, so the answer stands as of then.
      if (unchanged || (await this.write(key, snapshot.version, result.bindings, now))) {
        return { ...result, bindings: [...result.bindings] };
      }
    }
    throw new LocationStoreError('LOCATION_ERR_CONFLICT', `${key} kept changing; gave up after ${this.maxAttempts} attempts`);
  }

  async bindings(aor: string): Promise<Binding[]> {
    this.check();
    const snapshot = await this.read(canonicalAor(aor));
    const now = this.clock.now();
    return snapshot.bindings.filter((b) => b.expiresAt > now);
  }

  /**
   * Prunes expired bindings from every AOR under the prefix (SCAN, then a compare-and-set per
   * AOR). Not needed for memory, since TTLs drop lapsed hashes, but it keeps partly expired
   * hashes small and tells how many bindings lapsed.
   */
  async expire(now: number = this.clock.now()): Promise<number> {
    this.check();
    let count = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.call(() => this.client.scan(cursor, 'MATCH', globEscape(this.prefix) + '*', 'COUNT', 100));
      cursor = next;
      for (const redisKey of keys) count += await this.prune(redisKey, now);
    } while (cursor !== '0');
    return count;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.closeClient) await this.client.quit().catch(() => undefined);
  }

  private async prune(redisKey: string, now: number): Promise<number> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const snapshot = await this.readKey(redisKey);
      const kept = snapshot.bindings.filter((b) => b.expiresAt > now);
      const lapsed = snapshot.bindings.length - kept.length;
      if (lapsed === 0 || (await this.writeKey(redisKey, snapshot.version, kept, now))) return lapsed;
    }
    return 0;
  }

  private read(aorKey: string): Promise<Snapshot> {
    return this.readKey(this.prefix + aorKey);
  }

  private async readKey(redisKey: string): Promise<Snapshot> {
    const hash: unknown = await this.call(() => this.client.hgetall(redisKey));
    if (typeof hash !== 'object' || hash === null) throw new LocationStoreError('LOCATION_ERR_CORRUPT', `${redisKey}: not a hash`);
    const fields: Array<[number, Binding]> = [];
    let version = '';
    for (const [field, value] of Object.entries(hash)) {
      if (field === 'v') {
        if (typeof value === 'string') version = value;
      } else if (field.startsWith('b:')) {
        fields.push([Number(field.slice(2)), bindingFromJson(value)]);
      }
    }
    fields.sort((x, y) => x[0] - y[0]);
    return { version, bindings: fields.map((f) => f[1]) };
  }

  private write(aorKey: string, version: string, bindings: readonly Binding[], now: number): Promise<boolean> {
    return this.writeKey(this.prefix + aorKey, version, bindings, now);
  }

  private async writeKey(redisKey: string, version: string, bindings: readonly Binding[], now: number): Promise<boolean> {
    const pairs: string[] = [];
    let last = now;
    bindings.forEach((b, i) => {
      pairs.push(`b:${String(i).padStart(4, '0')}`, bindingToJson(b));
      if (b.expiresAt > last) last = b.expiresAt;
    });
    const ttl = Math.max(1, Math.ceil(last - now) + this.graceMs);
    const reply = await this.call(() => this.client.eval(WRITE_SCRIPT, 1, redisKey, version, randomUUID(), ttl, ...pairs));
    return reply === 1;
  }

  /** Runs a Redis call, wrapping client errors (ours pass through). */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof VoxliteError) throw error;
      throw new LocationStoreError('LOCATION_ERR_BACKEND', 'redis location store failed', { cause: error });
    }
  }

  private check(): void {
    if (this.closed) throw new LocationStoreError('LOCATION_ERR_CLOSED', 'the location store is closed');
  }
}
