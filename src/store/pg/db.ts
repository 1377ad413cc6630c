import { drizzle, type NodePgDatabase, type NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import * as schema from './schema.js';

/** drizzle over a node-postgres pool: each query takes a pooled connection; a transaction keeps one. */
export type PgDb = NodePgDatabase<typeof schema>;
/** What `db.transaction`'s callback receives: the same query API, on the transaction's connection. */
export type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0];
/** Either of them: helpers that run inside or outside a transaction take this. */
export type PgQueries = PgDatabase<NodePgQueryResultHKT, typeof schema>;

/** The drizzle database the PostgreSQL repositories work on (`pool` from the caller, who ends it). */
export function pgDatabase(pool: pg.Pool): PgDb {
  return drizzle(pool, { schema });
}
