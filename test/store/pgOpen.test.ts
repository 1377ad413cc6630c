// Opening the PostgreSQL store (store/pg/open.ts) on the suite's real server: migrated, the pool
// sized and the statement timeout enforced as configured.
import { expect, it } from 'vitest';
import { drizzle } from 'drizzle-orm/node-postgres';
import * as schema from '../../src/store/pg/schema.js';
import { openPgStore } from '../../src/store/pg/open.js';
import { searchTasksPg } from '../../src/store/pg/search.js';
import { describePostgres, useTestDatabase } from '../support/postgres.js';

describePostgres('opening the PostgreSQL store', () => {
  const database = useTestDatabase();

  it('migrates, answers, cancels a statement past the timeout, and closes', async () => {
    const store = await openPgStore(database.url, { poolSize: 3, statementTimeoutMs: 200 });
    try {
      expect(await store.ping()).toBe(true);
      expect(store.pool.options.max).toBe(3);
      const { rows } = await store.pool.query<{ n: string }>("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'tasks'");
      expect(rows[0]?.n).toBe('1');
      const started = Date.now();
      await expect(store.pool.query('SELECT pg_sleep(5)')).rejects.toThrow(/statement timeout/);
      expect(Date.now() - started).toBeLessThan(3_000);
      // The connection is still usable after a cancelled statement.
      expect(await store.ping()).toBe(true);
    } finally {
      await store.close();
    }
    expect(await store.ping()).toBe(false);
  });

  it("runs the search's prepared statements on the one plan made for any values, never planning a search again", async () => {
    const store = await openPgStore(database.url, { poolSize: 2, statementTimeoutMs: 0 });
    // One connection, held: the statements and the count of their plans are per session.
    const client = await store.pool.connect();
    try {
      const reader = { teamId: 'T1', userId: 'U1', guest: false };
      const db = drizzle(client, { schema });
      // A run of one kind of query, then another.
      for (let i = 0; i < 12; i++) await searchTasksPg(db, reader, i < 8 ? 'rev' : 'launch plan', 100);
      const { rows } = await client.query<{ generic: string; custom: string }>(
        "SELECT sum(generic_plans) AS generic, sum(custom_plans) AS custom FROM pg_prepared_statements WHERE name LIKE 'tasklane_title_search%'",
      );
      expect(Number(rows[0]?.generic)).toBe(12);
      expect(Number(rows[0]?.custom)).toBe(0);
    } finally {
      client.release();
      await store.close();
    }
  });

  it('a second store on the same database (another instance) opens without migrating again', async () => {
    const [a, b] = await Promise.all([0, 1].map(() => openPgStore(database.url, { poolSize: 2, statementTimeoutMs: 0 })));
    try {
      const { rows } = await a!.pool.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations');
      expect(Number(rows[0]?.n)).toBeGreaterThan(0);
      expect(await b!.ping()).toBe(true);
    } finally {
      await Promise.all([a?.close(), b?.close()]);
    }
  });
});
