import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describePostgres, useTestDatabase } from '../support/postgres.js';

describePostgres('the test PostgreSQL server', () => {
  const db = useTestDatabase();
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: db.url });
  });
  afterAll(() => pool?.end());

  it('gives the file an empty database of its own on a real server', async () => {
    const { rows } = await pool.query<{ db: string; version: string; tables: string }>(
      "SELECT current_database() AS db, version() AS version, (SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public') AS tables",
    );
    expect(rows[0]).toMatchObject({ db: db.name, tables: '0' });
    expect(rows[0]!.version).toMatch(/^PostgreSQL \d+/);
  });

  it('makes another database on request and drops it', async () => {
    const other = await createTestDatabase();
    expect(other.name).not.toBe(db.name);
    const exists = async () =>
      (await pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [other.name])).rowCount;
    expect(await exists()).toBe(1);
    await other.drop();
    expect(await exists()).toBe(0);
  });
});
