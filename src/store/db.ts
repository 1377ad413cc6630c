import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { foldForSearch } from './searchText.js';

export type Db = BetterSQLite3Database<typeof schema>;
/** What a write transaction callback receives: the same query API, bound to the transaction. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

/** The open SQLite store: drizzle for queries, the raw handle for pragmas and health. */
export interface Store {
  db: Db;
  sqlite: Database.Database;
  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction (SQLITE_BUSY-safe for writers).
   * `fn` must be synchronous: better-sqlite3 cannot roll back an async callback.
   */
  write<T>(fn: (tx: Tx) => T): T;
  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction that may await: `write` for callbacks that
   * cannot be synchronous. A rejection rolls it back. Writers stay serialised: such transactions
   * take the connection one at a time, in the order they were asked for, and hold the process's
   * write lock until they end (the sender and maintenance threads' writes wait for it); every other
   * use of this connection meanwhile waits its turn (`turns`), so nobody reads what may yet be
   * rolled back. Inside, work through `fn`'s own arguments or `write` (which nests): a call that
   * waits for its turn would wait for this very transaction. Keep it short: it blocks writers.
   */
  transaction<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** Whose turn the connection is while async transactions are about: see `ConnectionTurns`. */
  readonly turns: ConnectionTurns;
  /**
   * A drizzle query built and prepared once per store under `key` (`build` uses
   * `sql.placeholder` for its values), for the hot paths: building a query is most of what a
   * small query costs. The statement runs on the one connection, so inside `write` it is part
   * of that transaction.
   */
  prepared<T>(key: string, build: (db: Db) => T): T;
  /**
   * The lock `write` takes, shared with the process's other connections to this file (the outbox
   * sender thread opens its store with it): see `WriteLock`.
   */
  readonly writeLock: WriteLock;
  /** true when the store answers a trivial query. */
  ping(): boolean;
  close(): void;
  readonly closed: boolean;
}

/**
 * Opens (creating if needed) the SQLite file, applies pending migrations and returns the store.
 * WAL, busy_timeout and foreign keys are always on. Foreign keys are switched off around
 * `migrate()` because drizzle runs each migration inside a transaction, where drizzle-kit's own
 * `PRAGMA foreign_keys=OFF` for table rebuilds is a no-op and ON DELETE CASCADE would wipe
 * children (drizzle-orm #5782); a foreign_key_check afterwards proves nothing broke.
 * `migrationsFolder: null` opens a second connection to a store another connection of the
 * process has already migrated (the Home publisher's thread).
 */
export function openStore(databaseUrl: string, migrationsFolder: string | null = MIGRATIONS_FOLDER, writeLock = new WriteLock()): Store {
  if (databaseUrl !== ':memory:' && !databaseUrl.startsWith('file:')) prepareOwnerOnlyFiles(databaseUrl);
  const sqlite = new Database(databaseUrl);
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('synchronous = NORMAL');
    // The maintenance thread checkpoints (maintenance.ts); a commit does it only past this many
    // WAL pages (SQLite's default is 1,000, which a busy second reached between two rounds).
    sqlite.pragma('wal_autocheckpoint = 8000');
    // For SQL that folds titles itself: the migration that filled tasks.title_search.
    sqlite.function('tasklane_fold', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? foldForSearch(text) : null));
    const db = drizzle(sqlite, { schema });

    if (migrationsFolder !== null) {
      sqlite.pragma('foreign_keys = OFF');
      migrate(db, { migrationsFolder });
      const broken = sqlite.pragma('foreign_key_check') as unknown[];
      if (broken.length > 0) {
        throw new Error(`migration left ${broken.length} rows violating foreign keys: ${JSON.stringify(broken.slice(0, 5))}`);
      }
    }
    sqlite.pragma('foreign_keys = ON');

    let closed = false;
    const ping = sqlite.prepare('SELECT 1 AS ok');
    const begin = sqlite.prepare('BEGIN IMMEDIATE');
    const commit = sqlite.prepare('COMMIT');
    const rollback = sqlite.prepare('ROLLBACK');
    const preparedQueries = new Map<string, unknown>();
    const turns = new ConnectionTurns();
    return {
      db,
      sqlite,
      writeLock,
      turns,
      write: (fn) => writeLock.hold(() => db.transaction(fn, { behavior: 'immediate' })),
      transaction: <T>(fn: (d: Db) => Promise<T>) =>
        turns.take(() =>
          writeLock.holdAsync(async () => {
            begin.run();
            try {
              const result = await fn(db);
              commit.run();
              return result;
            } catch (err) {
              if (sqlite.inTransaction) rollback.run();
              throw err;
            }
          }),
        ),
      prepared<T>(key: string, build: (d: Db) => T): T {
        let q = preparedQueries.get(key) as T | undefined;
        if (q === undefined) preparedQueries.set(key, (q = build(db)));
        return q;
      },
      ping() {
        if (closed) return false;
        try {
          return (ping.get() as { ok: number } | undefined)?.ok === 1;
        } catch {
          return false;
        }
      },
      close() {
        if (closed) return;
        closed = true;
        sqlite.close();
      },
      get closed() {
        return closed;
      },
    };
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

/** Owner read/write only: the database holds every workspace's tasks, approvals and audit log. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * Makes sure the database file and its `-wal`/`-shm` are readable by their owner alone, before
 * SQLite opens them. A folder Tasklane creates is 0700; a folder that already exists is someone's
 * choice and is left alone. The database file is created here (empty, 0600) rather than by SQLite
 * (0644), and an existing one is narrowed; SQLite gives the `-wal` and `-shm` it creates the
 * database file's mode, and leftover ones from an older run are narrowed too.
 */
function prepareOwnerOnlyFiles(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE }); // only folders it creates get the mode
  if (!existsSync(path)) {
    try {
      closeSync(openSync(path, 'wx', FILE_MODE));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another connection won the race
    }
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) narrowToOwner(file);
}

function narrowToOwner(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return; // not there (yet): nothing to narrow
  }
  if ((mode & ~FILE_MODE) === 0) return;
  try {
    chmodSync(file, mode & FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new Error(`${file} is readable by others and could not be made owner-only (${code}): run Tasklane as the file's owner, or chmod 600 it`);
  }
}

/** When waiting for the write lock ends (set at the first try that finds it held). */
interface Deadline {
  at?: number;
}

/**
 * The turns of one connection while async transactions (`Store.transaction`) are about: one
 * holds the connection at a time, in the order they were asked for, and any other call made
 * meanwhile (`run`) waits until the transactions queued before it have ended, so it neither joins
 * nor reads an open one. With none open or queued, which is nearly always, a call runs at once.
 * Every SQLite repository the app uses takes its turn this way (`sqliteStores`); their methods do
 * all their work on the connection before their first await, so a turn is one synchronous run.
 */
export class ConnectionTurns {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  /** Whether no async transaction is open or waiting: a call may use the connection now. */
  get free(): boolean {
    return this.queued === 0;
  }

  /** `fn` now when the connection is free, else once the transactions queued so far have ended. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.queued === 0 ? fn() : this.tail.then(fn);
  }

  /** `fn` alone on the connection, after the transactions queued before it. */
  take<T>(fn: () => Promise<T>): Promise<T> {
    this.queued++;
    const turn = this.tail.then(fn);
    const ended = (): void => {
      this.queued--;
    };
    this.tail = turn.then(ended, ended);
    return turn;
  }
}

/**
 * Serialises the write transactions of one process's connections to one file (the main thread's
 * and the outbox sender thread's), in shared memory. SQLite serialises writers too, but a writer
 * that finds the file locked sleeps in SQLite's busy handler (1, 2, 5, 10… ms, whatever the
 * holder needs): a main-thread commit that met the sender's round waited milliseconds for a
 * transaction that took a fraction of one. Here the waiter wakes the moment the lock is let go.
 * Another process's writers still meet SQLite's own locking (busy_timeout).
 *
 * Cell 0 holds the holder's thread id + 1 (0: free), cell 1 how many threads wait. A thread that dies holding it is let go
 * by `releaseIfHeldBy` (the sender thread's exit); a wait longer than `maxWaitMs` goes ahead
 * anyway and leaves the rest to SQLite's locking. Re-entrant within a thread (nested `write`).
 */
export class WriteLock {
  private readonly cell: Int32Array;
  private depth = 0;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8), private readonly maxWaitMs = 5_000) {
    this.cell = new Int32Array(buffer);
  }

  /** Whether a thread is waiting for the lock now: background work should let it go first. */
  hasWaiters(): boolean {
    return Atomics.load(this.cell, 1) > 0;
  }

  hold<T>(fn: () => T): T {
    if (this.depth > 0) {
      this.depth++;
      try {
        return fn();
      } finally {
        this.depth--;
      }
    }
    const me = threadId + 1;
    const acquired = this.acquire(me);
    this.depth = 1;
    try {
      return fn();
    } finally {
      this.depth = 0;
      if (acquired) this.release(me);
    }
  }

  /**
   * `hold` for an async transaction: waits without blocking the thread, and keeps the lock across
   * `fn`'s awaits (writes `fn` makes on this thread nest). One at a time per thread: the
   * connection's turns (`ConnectionTurns`) queue the others.
   */
  async holdAsync<T>(fn: () => Promise<T>): Promise<T> {
    if (this.depth > 0) throw new Error('an async transaction cannot start inside a synchronous one');
    const me = threadId + 1;
    const acquired = await this.acquireAsync(me);
    this.depth = 1;
    try {
      return await fn();
    } finally {
      this.depth = 0;
      if (acquired) this.release(me);
    }
  }

  /** Frees the lock if the thread `deadThreadId` held it (that thread exited). */
  releaseIfHeldBy(deadThreadId: number): void {
    this.release(deadThreadId + 1);
  }

  private acquire(me: number): boolean {
    const deadline: Deadline = {};
    for (;;) {
      const turn = this.take(me, deadline);
      if (typeof turn === 'boolean') return turn;
      Atomics.add(this.cell, 1, 1);
      Atomics.wait(this.cell, 0, turn.holder, turn.left);
      Atomics.sub(this.cell, 1, 1);
    }
  }

  private async acquireAsync(me: number): Promise<boolean> {
    const deadline: Deadline = {};
    for (;;) {
      const turn = this.take(me, deadline);
      if (typeof turn === 'boolean') return turn;
      Atomics.add(this.cell, 1, 1);
      const waited = Atomics.waitAsync(this.cell, 0, turn.holder, turn.left);
      if (waited.async) await waited.value;
      Atomics.sub(this.cell, 1, 1);
    }
  }

  /**
   * One try at the lock: true when taken; false when it has been waited for `maxWaitMs` (from the
   * first try, kept in `deadline`); else whom to wait for, and for how long at most.
   */
  private take(me: number, deadline: Deadline): boolean | { holder: number; left: number } {
    const holder = Atomics.compareExchange(this.cell, 0, 0, me);
    if (holder === 0) return true;
    deadline.at ??= Date.now() + this.maxWaitMs;
    const left = deadline.at - Date.now();
    return left <= 0 ? false : { holder, left };
  }

  private release(holder: number): void {
    if (Atomics.compareExchange(this.cell, 0, holder, 0) === holder) Atomics.notify(this.cell, 0, 1);
  }
}

