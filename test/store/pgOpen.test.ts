// Opening the PostgreSQL store (store/pg/open.ts) on the suite's real server: migrated, the pool
// sized and the statement timeout enforced as configured.
import { expect, it } from 'vitest';
import { openPgStore } from '../../src/store/pg/open.js';
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
