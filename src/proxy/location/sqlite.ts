/**
 * A location store in an SQLite file (through the `better-sqlite3` package): bindings survive a
 * restart of the server, and several processes on one host may share the file (WAL mode, each
 * update in a `BEGIN IMMEDIATE` transaction).
 *
 * ```
 *   table voxlite_location
 *   ┌───────┬──────────────┬──────────┬────────────┬──────────────────────┐
 *   │ aor   │ id           │ position │ expires_at │ binding (JSON)       │
 *   │ (canonical AOR)      │ (order)  │ (indexed)  │ every Binding field  │
 *   └───────┴──────────────┴──────────┴────────────┴──────────────────────┘
 *   primary key (aor, id); id = bindingId(): "c:<contact>" or "o:<instance> <reg-id>"
 * ```
 */
import { createRequire } from 'node:module';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { VoxliteError } from '../../core/errors.js';
import {
  applyBindingChanges,
  bindingFromJson,
  bindingId,
  bindingToJson,
  canonicalAor,
  LocationStoreError,
  startSweep,
  WallClock,
  type Binding,
  type BindingChange,
  type LocationStore,
  type UpdateOptions,
  type UpdateResult,
  UpdateBasedLocationStore,
} from './store.js';

/** The part of a better-sqlite3 statement this store uses. */
interface SqliteStatement {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** The part of a better-sqlite3 database this store uses. */
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  pragma(sql: string): unknown;
  transaction(fn: () => void): { immediate(): void };
  close(): unknown;
}

type SqliteDatabaseConstructor = new (path: string, options?: { timeout?: number }) => SqliteDatabase;

function isConstructor(v: unknown): v is SqliteDatabaseConstructor {
  return typeof v === 'function';
}

/**
 * Loads better-sqlite3 on first use, so that importing voxlite/proxy never needs the native
 * module unless an sqlite store is opened.
 */
function loadDriver(): SqliteDatabaseConstructor {
  let driver: unknown;
  try {
    driver = createRequire(import.meta.url)('better-sqlite3');
  } catch (cause) {
    throw new LocationStoreError('LOCATION_ERR_BACKEND', 'the sqlite location store needs the better-sqlite3 package', { cause });
  }
  if (!isConstructor(driver)) throw new LocationStoreError('LOCATION_ERR_BACKEND', 'better-sqlite3 did not export a Database class');
  return driver;
}

/** Options of {@link SqliteLocationStore}. */
export interface SqliteLocationStoreOptions {
  /** The database file (created when missing), or `':memory:'`. */
  readonly path: string;
  /**
   * Time base of `expiresAt`. Default: a {@link WallClock}, since stored times must keep their
   * meaning across a restart (a monotonic clock restarts from zero).
   */
  readonly clock?: Clock;
  /** Table name (letters, digits, `_`). Default `voxlite_location`. */
  readonly table?: string;
  /** Run {@link SqliteLocationStore.expire} every this many milliseconds. Default: off (lazy expiry only). */
  readonly sweepIntervalMs?: number;
  /** How long to wait for another process's write lock, in ms (SQLite busy timeout). Default 5000. */
  readonly busyTimeoutMs?: number;
}

interface Row {
  readonly binding: unknown;
}

function isRow(v: unknown): v is Row {
  return typeof v === 'object' && v !== null && 'binding' in v;
}

/** A {@link LocationStore} in an SQLite file. Expired rows are skipped on read and deleted on write or sweep. */
export class SqliteLocationStore extends UpdateBasedLocationStore {
  readonly clock: Clock;
  private readonly db: SqliteDatabase;
  private readonly selectAor: SqliteStatement;
  private readonly deleteAor: SqliteStatement;
  private readonly insert: SqliteStatement;
  private readonly deleteExpired: SqliteStatement;
  private readonly sweep: TimerHandle | undefined;
  private closed = false;

  /**
   * Opens (and if needed creates) the database.
   * @throws {@link LocationStoreError} when better-sqlite3 is missing or the file cannot be opened.
   * @throws `TypeError` for a table name that is not an identifier.
   */
  constructor(options: SqliteLocationStoreOptions) {
    super();
    const table = options.table ?? 'voxlite_location';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new TypeError(`not a table name: ${JSON.stringify(table)}`);
    this.clock = options.clock ?? new WallClock();
    const Database = loadDriver();
    try {
      this.db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    } catch (cause) {
      throw new LocationStoreError('LOCATION_ERR_BACKEND', `cannot open ${options.path}`, { cause });
    }
    try {
      if (options.path !== ':memory:') this.db.pragma('journal_mode = WAL');
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${table} (
           aor TEXT NOT NULL,
           id TEXT NOT NULL,
           position INTEGER NOT NULL,
           expires_at REAL NOT NULL,
           binding TEXT NOT NULL,
           PRIMARY KEY (aor, id)
         ) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS ${table}_expiry ON ${table} (expires_at);`,
      );
      this.selectAor = this.db.prepare(`SELECT binding FROM ${table} WHERE aor = ? ORDER BY position`);
      this.deleteAor = this.db.prepare(`DELETE FROM ${table} WHERE aor = ?`);
      this.insert = this.db.prepare(`INSERT INTO ${table} (aor, id, position, expires_at, binding) VALUES (?, ?, ?, ?, ?)`);
      this.deleteExpired = this.db.prepare(`DELETE FROM ${table} WHERE expires_at <= ?`);
    } catch (cause) {
      this.db.close();
      throw new LocationStoreError('LOCATION_ERR_BACKEND', `cannot prepare the location table in ${options.path}`, { cause });
    }
    this.sweep = options.sweepIntervalMs === undefined ? undefined : startSweep(this.clock, options.sweepIntervalMs, () => this.expire());
  }

  async update(aor: string, changes: readonly BindingChange[], options?: UpdateOptions): Promise<UpdateResult> {
    this.check();
    const key = canonicalAor(aor);
    const now = this.clock.now();
    let result: UpdateResult | undefined;
    // BEGIN IMMEDIATE takes the write lock before the read, so two processes cannot both read
    // the old bindings and both write (RFC 3261 §10.3 step 7: all or nothing). A throw rolls back.
    this.run(() => {
      this.db
        .transaction(() => {
          const current = this.read(key);
          result = applyBindingChanges(key, current, changes, now, options);
          this.deleteAor.run(key);
          result.bindings.forEach((b, position) => this.insert.run(key, bindingId(b), position, b.expiresAt, bindingToJson(b)));
        })
        .immediate();
    });
    if (result === undefined) throw new LocationStoreError('LOCATION_ERR_BACKEND', 'transaction did not run');
    return { ...result, bindings: [...result.bindings] };
  }

  async bindings(aor: string): Promise<Binding[]> {
    this.check();
    const key = canonicalAor(aor);
    const now = this.clock.now();
    return this.run(() => this.read(key)).filter((b) => b.expiresAt > now);
  }

  async expire(now: number = this.clock.now()): Promise<number> {
    this.check();
    const info = this.run(() => this.deleteExpired.run(now));
    return typeof info === 'object' && info !== null && 'changes' in info && typeof info.changes === 'number' ? info.changes : 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweep?.cancel();
    this.db.close();
  }

  private read(key: string): Binding[] {
    return this.selectAor.all(key).map((row) => {
      if (!isRow(row)) throw new LocationStoreError('LOCATION_ERR_CORRUPT', 'unexpected row shape');
      return bindingFromJson(row.binding);
    });
  }

  /** Runs a database call, wrapping driver errors (the binding-rule errors pass through). */
  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof VoxliteError) throw error;
      throw new LocationStoreError('LOCATION_ERR_BACKEND', 'sqlite location store failed', { cause: error });
    }
  }

  private check(): void {
    if (this.closed) throw new LocationStoreError('LOCATION_ERR_CLOSED', 'the location store is closed');
  }
}
