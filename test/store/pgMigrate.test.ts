import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { is } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY, migratePostgres, PG_MIGRATIONS_FOLDER } from '../../src/store/pg/migrate.js';
import * as schema from '../../src/store/pg/schema.js';
import { createTestDatabase, describePostgres, useTestDatabase, type TestDatabase } from '../support/postgres.js';
import { REPO_ROOT } from '../support/process.js';

/** Start-up migrations on a real PostgreSQL server (the suite's, see test/support/postgres.ts). */

const tables = (Object.values(schema) as unknown[])
  .filter((v): v is PgTable => is(v, PgTable))
  .map((t) => getTableConfig(t));
const journal = JSON.parse(readFileSync(join(PG_MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };

const applied = async (pool: pg.Pool) =>
  (await pool.query<{ hash: string; created_at: string }>('SELECT hash, created_at FROM drizzle.__drizzle_migrations ORDER BY id')).rows;
/** Advisory locks held in the pool's database (pg_locks is server-wide: other test files migrate meanwhile). */
const advisoryLocks = async (pool: pg.Pool) =>
  Number(
    (await pool.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).rows[0]!.n,
  );
const tableExists = async (pool: pg.Pool, name: string) =>
  (await pool.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', ['public', name])).rowCount === 1;

describePostgres('PostgreSQL migrations', () => {
  const db = useTestDatabase();
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
  });
  afterAll(() => pool?.end());

  it('give a fresh database every table, column, key and index of the schema', async () => {
    await migratePostgres(pool);

    expect((await applied(pool)).length).toBe(journal.entries.length);
    const { rows: tableRows } = await pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    expect(tableRows.map((r) => r.table_name).sort()).toEqual(tables.map((t) => t.name).sort());

    for (const table of tables) {
      const { rows: columns } = await pool.query<{ column_name: string; data_type: string; is_nullable: string }>(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
        [table.name],
      );
      const shape = (name: string, type: string, nullable: boolean) => `${name} ${type}${nullable ? '' : ' not null'}`;
      expect(columns.map((c) => shape(c.column_name, c.data_type, c.is_nullable === 'YES')).sort(), table.name).toEqual(
        table.columns.map((c) => shape(c.name, c.getSQLType(), !c.notNull)).sort(),
      );

      // Every index but the primary key's and those behind a constraint (UNIQUE), with its uniqueness and its partial `where`.
      const { rows: indexes } = await pool.query<{ name: string; unique: boolean; partial: boolean }>(
        `SELECT c.relname AS name, i.indisunique AS unique, i.indpred IS NOT NULL AS partial
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = $1::regclass AND NOT i.indisprimary
            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
        [`public.${table.name}`],
      );
      const index = (name: string | undefined, unique: boolean, partial: boolean) => `${name}${unique ? ' unique' : ''}${partial ? ' partial' : ''}`;
      expect(indexes.map((i) => index(i.name, i.unique, i.partial)).sort(), table.name).toEqual(
        table.indexes.map((i) => index(i.config.name, i.config.unique, i.config.where !== undefined)).sort(),
      );

      const { rows: keys } = await pool.query<{ constraint_name: string; constraint_type: string }>(
        `SELECT constraint_name, constraint_type FROM information_schema.table_constraints
          WHERE table_schema = 'public' AND table_name = $1 AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')`,
        [table.name],
      );
      expect(keys.filter((k) => k.constraint_type === 'FOREIGN KEY').map((k) => k.constraint_name).sort(), table.name).toEqual(
        table.foreignKeys.map((fk) => fk.getName() as string).sort(),
      );
      expect(keys.filter((k) => k.constraint_type === 'PRIMARY KEY'), table.name).toHaveLength(1);
    }
  });

  it('apply nothing the second time, and the data stays', async () => {
    await pool.query("INSERT INTO tasks (team_id, number, title, title_search, assignee_id, creator_id, origin) VALUES ('T1', 1, 'Kept', 'kept', 'U1', 'U1', 'command')");
    const before = await applied(pool);
    // Any DDL (a table re-created or altered) gives its catalog row a new xmin.
    const catalog = "SELECT relname, xmin::text FROM pg_class WHERE relnamespace IN ('public'::regnamespace, 'drizzle'::regnamespace) ORDER BY relname";
    const catalogBefore = (await pool.query(catalog)).rows;

    await migratePostgres(pool);

    expect(await applied(pool)).toEqual(before);
    expect((await pool.query(catalog)).rows).toEqual(catalogBefore);
    expect((await pool.query('SELECT title, private, created_at FROM tasks')).rows).toEqual([
      { title: 'Kept', private: false, created_at: expect.any(String) },
    ]);
    expect(await advisoryLocks(pool)).toBe(0);
  });

  it('wait while another instance holds the migration lock', async () => {
    const other = await createTestDatabase();
    const otherPool = new pg.Pool({ connectionString: other.url, max: 2 });
    const holder = new pg.Client({ connectionString: other.url });
    try {
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      let finished = false;
      const migrating = migratePostgres(otherPool).then(() => (finished = true));
      await new Promise((r) => setTimeout(r, 500));
      expect(finished).toBe(false);
      expect(await tableExists(otherPool, 'tasks')).toBe(false);

      await holder.query('COMMIT');
      await migrating;
      expect(await tableExists(otherPool, 'tasks')).toBe(true);
      expect(await advisoryLocks(otherPool)).toBe(0);
    } finally {
      await holder.end().catch(() => {});
      await otherPool.end();
      await other.drop();
    }
  });

  it('roll back a migration that fails, releasing the lock and leaving the pool usable', async () => {
    const other = await createTestDatabase();
    const otherPool = new pg.Pool({ connectionString: other.url, max: 2 });
    const folder = mkdtempSync(join(tmpdir(), 'tasklane-pg-migrations-'));
    try {
      mkdirSync(join(folder, 'meta'));
      writeFileSync(
        join(folder, 'meta', '_journal.json'),
        JSON.stringify({ version: '7', dialect: 'postgresql', entries: [{ idx: 0, version: '7', when: 1, tag: '0000_broken', breakpoints: true }] }),
      );
      writeFileSync(join(folder, '0000_broken.sql'), 'CREATE TABLE half (x integer);\n--> statement-breakpoint\nSELECT no_such_function();\n');

      await expect(migratePostgres(otherPool, folder)).rejects.toThrow(/no_such_function/);
      expect(await tableExists(otherPool, 'half')).toBe(false);
      expect(await advisoryLocks(otherPool)).toBe(0);
      expect((await applied(otherPool)).length).toBe(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
      await otherPool.end();
      await other.drop();
    }
  });

  it('run once when two processes start migrating the same fresh database at the same moment', async () => {
    const other: TestDatabase = await createTestDatabase();
    const checkPool = new pg.Pool({ connectionString: other.url, max: 1 });
    try {
      const instances = [0, 1].map(() => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/pgMigrateProcess.ts', other.url], {
          cwd: REPO_ROOT,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        return { child, output: () => out, exited };
      });
      // Both connected, then both told to go at once.
      await expect.poll(() => instances.every((i) => i.output().includes('ready')), { timeout: 30_000 }).toBe(true);
      for (const i of instances) i.child.stdin.end('go\n');
      const codes = await Promise.all(instances.map((i) => i.exited));

      expect(codes, instances.map((i) => i.output()).join('\n---\n')).toEqual([0, 0]);
      for (const i of instances) expect(i.output()).toContain('migrated');
      const rows = await applied(checkPool);
      expect(rows.length).toBe(journal.entries.length);
      expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
      expect(await tableExists(checkPool, 'outbox')).toBe(true);
    } finally {
      await checkPool.end();
      await other.drop();
    }
  }, 60_000);
});
