import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';

export const PG_MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../migrations-pg', import.meta.url));

/** The advisory lock key every Tasklane process migrates under: "tasklane" in ASCII, as a bigint. */
export const MIGRATION_LOCK_KEY = '8386110886357593701';

/**
 * Applies the pending migrations of `folder` (drizzle-kit's `migrations-pg/`), once even when
 * several instances start together.
 *
 * drizzle's migrator (pg-core/dialect.js `migrate`) creates its `drizzle` schema and table, reads
 * the last applied migration, then applies the newer ones in one transaction of its own (BEGIN …
 * COMMIT on the connection it is given). Two instances racing through that would both see
 * nothing applied and both apply everything (or fail on CREATE … IF NOT EXISTS). The lock cannot
 * go inside drizzle's transaction, and a session lock (`pg_advisory_lock`) stays with a pooled
 * connection when its unlock is missed. So a second connection opens a transaction whose only
 * work is to hold `pg_advisory_xact_lock`: taking it waits for any other instance's migration;
 * the migrator runs on the first connection meanwhile; the holder commits (releasing the lock)
 * only after drizzle's transaction has committed, so the next instance reads what was applied and
 * finds nothing to do. A connection that failed is destroyed, not returned to the pool.
 * Needs two connections from `pool` while it runs.
 */
export async function migratePostgres(pool: pg.Pool, folder: string = PG_MIGRATIONS_FOLDER): Promise<void> {
  if ((pool.options.max ?? 10) < 2) throw new Error('migratePostgres needs a pool of at least 2 connections');
  const holder = await pool.connect();
  let migrator: pg.PoolClient | undefined;
  let failed = false;
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    migrator = await pool.connect();
    await migrate(drizzle(migrator), { migrationsFolder: folder });
    await holder.query('COMMIT');
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    migrator?.release(failed);
    holder.release(failed); // destroying the connection ends its transaction and the lock with it
  }
}
