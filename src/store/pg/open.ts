import pg from 'pg';
import { pgDatabase, type PgDb } from './db.js';
import { migratePostgres } from './migrate.js';

export interface PgStoreOptions {
  /** Connections in the pool (one per concurrent query or transaction). */
  poolSize: number;
  /** A statement running longer is cancelled by the server; 0: no limit. */
  statementTimeoutMs: number;
}

/** An open, migrated PostgreSQL store: drizzle for queries, the pool for health and shutdown. */
export interface PgStore {
  db: PgDb;
  pool: pg.Pool;
  /** true when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Connects to `url`, migrates under the advisory lock (instances starting together migrate once:
 * migrate.ts) and returns the store. The statement timeout is set per connection by the server
 * (`statement_timeout`), so a query stuck on a lock or a bad plan fails instead of holding a
 * pooled connection forever. A connection the server drops (restart, idle timeout) is logged by
 * the pool's `error` event and replaced on next use, instead of crashing the process.
 */
export async function openPgStore(url: string, o: PgStoreOptions, onError: (message: string) => void = () => {}): Promise<PgStore> {
  const pool = new pg.Pool(pgPoolConfig(url, o));
  pool.on('error', (err) => onError(`PostgreSQL connection lost: ${err.message}`));
  try {
    await migratePostgres(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  let closed = false;
  return {
    db: pgDatabase(pool),
    pool,
    async ping() {
      if (closed) return false;
      try {
        const { rows } = await pool.query<{ ok: number }>('SELECT 1 AS ok');
        return rows[0]?.ok === 1;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** The pool's settings for `url`: the app's, and the bench's that times its statements. */
export function pgPoolConfig(url: string, o: PgStoreOptions): pg.PoolConfig {
  return {
    connectionString: url,
    max: o.poolSize,
    statement_timeout: o.statementTimeoutMs,
    application_name: 'tasklane',
    // The search's statements, prepared once per connection (search.ts), are written so that one
    // plan serves any values; that plan is made once, not again for every search (0.5–0.9 ms
    // each). Only named statements are affected: the others are planned per run anyway.
    options: '-c plan_cache_mode=force_generic_plan',
  };
}
