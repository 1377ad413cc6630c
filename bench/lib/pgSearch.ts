// bench:home's PostgreSQL part (TASKLANE_BENCH_DATABASE_URL): the same tasks as the SQLite
// store, copied into a PostgreSQL database migrated as in production, and the same searches
// timed through src/store/pg/search.ts.
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { migratePostgres } from '../../src/store/pg/migrate.js';
import { pgPoolConfig } from '../../src/store/pg/open.js';
import * as schema from '../../src/store/pg/schema.js';
import { searchTasksPg } from '../../src/store/pg/search.js';

const COLUMNS = [
  ['id', 'bigint'],
  ['team_id', 'text'],
  ['number', 'integer'],
  ['title', 'text'],
  ['title_search', 'text'],
  ['description', 'text'],
  ['status', 'text'],
  ['priority', 'text'],
  ['assignee_id', 'text'],
  ['creator_id', 'text'],
  ['due_date', 'text'],
  ['origin', 'text'],
  ['created_at', 'bigint'],
  ['updated_at', 'bigint'],
  ['completed_by', 'text'],
  ['completed_at', 'bigint'],
  ['private', 'boolean'],
] as const;
const BATCH = 10_000;

/**
 * Copies every task of the SQLite file at `sqlitePath` into the empty database at `url`: rows in
 * batches of `INSERT … SELECT FROM unnest(…)`, with the tasks indexes dropped meanwhile and built
 * again after (as the migrations define them), then VACUUM ANALYZE.
 */
export async function seedPostgres(
  sqlitePath: string,
  url: string,
): Promise<{ seconds: number; tableMb: number; searchIndexMb: number; server: string; ctype: string }> {
  const started = performance.now();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const lite = new Database(sqlitePath, { readonly: true });
  try {
    await migratePostgres(pool);
    const { rows: present } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM tasks');
    if (present[0]?.n !== '0') throw new Error('TASKLANE_BENCH_DATABASE_URL must name a database without tasks (a fresh one)');
    const { rows: indexes } = await pool.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'tasks' AND indexname <> 'tasks_pkey'",
    );
    for (const i of indexes) await pool.query(`DROP INDEX ${i.indexname}`);

    const names = COLUMNS.map(([name]) => name).join(', ');
    const insert = `INSERT INTO tasks (${names}) SELECT * FROM unnest(${COLUMNS.map(([, type], n) => `$${n + 1}::${type}[]`).join(', ')})`;
    const read = lite.prepare(`SELECT ${names} FROM tasks ORDER BY id`).raw(true);
    let batch: unknown[][] = COLUMNS.map(() => []);
    let count = 0;
    const flush = async () => {
      if (count === 0) return;
      await pool.query(insert, batch);
      batch = COLUMNS.map(() => []);
      count = 0;
    };
    for (const row of read.iterate() as IterableIterator<unknown[]>) {
      row.forEach((value, c) => batch[c]!.push(c === COLUMNS.length - 1 ? value === 1 : value));
      if (++count === BATCH) await flush();
    }
    await flush();
    await pool.query("SELECT setval(pg_get_serial_sequence('tasks', 'id'), (SELECT max(id) FROM tasks))");
    await pool.query("SET maintenance_work_mem = '256MB'");
    for (const i of indexes) await pool.query(i.indexdef);
    await pool.query('VACUUM ANALYZE tasks');
    // The load's dirty pages are written now, not while the searches are timed: a server in
    // service writes them out in the background, spread over minutes.
    await pool.query('CHECKPOINT');
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await pool.query<{ table: string; search: string; version: string; ctype: string }>(
      `SELECT pg_table_size('tasks') AS table, pg_relation_size('tasks_search_keys_idx') AS search, version() AS version,
         (SELECT datctype FROM pg_database WHERE datname = current_database()) AS ctype`,
    );
    const info = rows[0]!;
    return {
      seconds,
      tableMb: Number(info.table) / 1e6,
      searchIndexMb: Number(info.search) / 1e6,
      server: info.version.split(' on ')[0] ?? info.version,
      ctype: info.ctype,
    };
  } finally {
    lite.close();
    await pool.end();
  }
}

/** Times `rounds` searches of `queries` (picked by `pick`) after one warm-up pass of each. */
export async function timePgSearches(
  url: string,
  reader: { teamId: string; userId: string; guest: boolean },
  queries: readonly string[],
  rounds: number,
  pick: (xs: readonly string[]) => string,
): Promise<{ all: number[]; byQuery: Map<string, number[]> }> {
  const pool = new pg.Pool(pgPoolConfig(url, { poolSize: 2, statementTimeoutMs: 0 })); // as the app connects
  const db = drizzle(pool, { schema });
  try {
    for (const q of queries) await searchTasksPg(db, reader, q, 100);
    const all: number[] = [];
    const byQuery = new Map<string, number[]>(queries.map((q) => [q, []]));
    for (let i = 0; i < rounds; i++) {
      const q = pick(queries);
      const t0 = performance.now();
      await searchTasksPg(db, reader, q, 100);
      const ms = performance.now() - t0;
      all.push(ms);
      byQuery.get(q)!.push(ms);
    }
    all.sort((a, b) => a - b);
    for (const times of byQuery.values()) times.sort((a, b) => a - b);
    return { all, byQuery };
  } finally {
    await pool.end();
  }
}
