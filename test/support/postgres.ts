import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, inject } from 'vitest';
import { migratePostgres } from '../../src/store/pg/migrate.js';

/**
 * PostgreSQL for tests: the suite's server (postgres.globalSetup.ts) and a database of their own
 * on it, so test files run in parallel without seeing each other's rows.
 */

const server = inject('postgres');
const IN_CI = process.env.CI !== undefined;

/**
 * `describe` for tests that need PostgreSQL: run when the suite has a server; without one,
 * skipped (the reason in the name), except in CI, where they run and fail saying why
 * (as the browser tests do without chromium).
 */
export function describePostgres(name: string, fn: () => void): void {
  if (server.url !== null || IN_CI) describe(name, fn);
  else describe.skip(`${name} (skipped: ${server.missing})`, fn);
}

function serverUrl(): string {
  if (server.url === null) throw new Error(`PostgreSQL is required in CI: ${server.missing}`);
  return server.url;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A new empty database on the suite's server, under a name no other test uses; with `locale`
 * (e.g. `C.UTF-8`) instead of the server's own (`C`: initdb --no-locale).
 */
export async function createTestDatabase(options: { locale?: string } = {}): Promise<TestDatabase> {
  const base = serverUrl();
  const name = `tasklane_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const locale = options.locale === undefined ? '' : ` TEMPLATE template0 LOCALE '${options.locale.replaceAll("'", "''")}'`;
  await onServer(base, `CREATE DATABASE ${name}${locale}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    // FORCE: a pool a failed test left open must not keep the database alive.
    drop: () => onServer(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** The calling file's own database: created before its tests, dropped after them. */
export function useTestDatabase(): { readonly url: string; readonly name: string } {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  const current = () => {
    if (db === undefined) throw new Error('useTestDatabase: read its url inside a test or hook');
    return db;
  };
  return {
    get url() {
      return current().url;
    },
    get name() {
      return current().name;
    },
  };
}

async function onServer(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * For a `describePostgres` block: a database of its own, migrated as in production, through one
 * pool of `max` connections, emptied before each test (ids from 1, as a new SQLite file).
 */
export function useMigratedPool(max = 6): { readonly pool: pg.Pool; readonly url: string } {
  const database = useTestDatabase();
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: database.url, max });
    await migratePostgres(pool);
  });
  afterAll(() => pool?.end());
  beforeEach(async () => {
    const { rows } = await current().query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    await current().query(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
  });
  const current = () => {
    if (pool === undefined) throw new Error('useMigratedPool: read its pool inside a test or hook');
    return pool;
  };
  return {
    get pool() {
      return current();
    },
    get url() {
      return database.url;
    },
  };
}
