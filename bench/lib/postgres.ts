// `npm run bench`'s PostgreSQL part: a server (BENCH_DATABASE_URL, or a throwaway one started
// here), a database seeded with the same rows as the SQLite bench store, and the meters read
// around each phase (the server's CPU from /proc, statements from pg_stat_statements).
import { readdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { migratePostgres } from '../../src/store/pg/migrate.js';
import { findPostgresBin, startThrowawayServer } from '../../test/support/postgresServer.js';

export interface BenchPostgres {
  /** The bench's own database on the server (created here, dropped by `stop`). */
  url: string;
  /** Where the server came from, for the report. */
  source: string;
  stop(): Promise<void>;
}

/**
 * The server: `BENCH_DATABASE_URL` (any database on it; its role must be allowed to create
 * databases) or, without it, a throwaway server from Debian's binaries with pg_stat_statements
 * preloaded, stopped by `stop`. On it, a new database of the bench's own. Without either, the
 * reason (the bench then runs on SQLite only).
 */
export async function benchPostgres(): Promise<BenchPostgres | { missing: string }> {
  const given = process.env.BENCH_DATABASE_URL;
  let server: { url: string; stop: () => Promise<void> };
  let source: string;
  if (given) {
    server = { url: given, stop: async () => {} };
    source = `BENCH_DATABASE_URL (${new URL(given).host})`;
  } else {
    const bin = findPostgresBin();
    if (bin === null) return { missing: "no PostgreSQL server: set BENCH_DATABASE_URL, or install Debian's postgresql (initdb under /usr/lib/postgresql/*/bin)" };
    try {
      server = await startThrowawayServer(bin, ["shared_preload_libraries = 'pg_stat_statements'", 'pg_stat_statements.max = 10000']);
    } catch (err) {
      return { missing: (err as Error).message.split('\n')[0] ?? String(err) };
    }
    source = `a throwaway server from ${bin}`;
    // pg_ctl stop runs synchronously: a run that crashes does not leave the server behind.
    process.once('exit', () => void server.stop());
  }
  const name = `tasklane_bench_${process.pid}`;
  try {
    await onServer(server.url, `DROP DATABASE IF EXISTS ${name}`);
    await onServer(server.url, `CREATE DATABASE ${name}`);
  } catch (err) {
    await server.stop();
    return { missing: `cannot create a database on the PostgreSQL server: ${(err as Error).message}` };
  }
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    source,
    async stop() {
      try {
        await onServer(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await server.stop();
      }
    },
  };
}

async function onServer(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const BATCH = 10_000;

/**
 * Copies every row of the SQLite store at `sqlitePath` into the empty database at `url`, after the
 * app's migrations have made its schema: each table PostgreSQL has (the SQLite-only search index
 * tables are left out), the columns both have, in batches of `INSERT … SELECT FROM unnest(…)`
 * with one batch in flight while the next is read; the big tables' indexes dropped meanwhile and
 * built again from their definitions (two at a time); identity sequences moved past the copied ids; then
 * VACUUM ANALYZE and a CHECKPOINT. (bench/lib/pgSearch.ts does the same for the tasks table alone.)
 */
export async function copySqliteToPostgres(sqlitePath: string, url: string): Promise<{ seconds: number; rows: Record<string, number> }> {
  const started = performance.now();
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  const lite = new Database(sqlitePath, { readonly: true });
  const copied: Record<string, number> = {};
  try {
    await migratePostgres(pool);
    const client = await pool.connect();
    try {
      const { rows: columns } = await client.query<{ table_name: string; column_name: string; data_type: string }>(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
      );
      const tables = new Map<string, { name: string; type: string }[]>();
      for (const c of columns) {
        const list = tables.get(c.table_name) ?? [];
        list.push({ name: c.column_name, type: c.data_type });
        tables.set(c.table_name, list);
      }
      // Referenced tables first (approvals before approval_approvers).
      const { rows: references } = await client.query<{ child: string; parent: string }>(
        `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent FROM pg_constraint c
           WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace AND c.conrelid <> c.confrelid`,
      );
      const order: string[] = [];
      const visit = (table: string, path: Set<string>) => {
        if (order.includes(table) || path.has(table)) return;
        path.add(table);
        for (const r of references) if (r.child.replaceAll('"', '') === table) visit(r.parent.replaceAll('"', ''), path);
        order.push(table);
      };
      for (const table of tables.keys()) visit(table, new Set());
      await client.query("SET maintenance_work_mem = '256MB'");
      for (const table of order) {
        const pgColumns = tables.get(table);
        if (!pgColumns) continue;
        const liteColumns = new Set((lite.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name));
        const cols = pgColumns.filter((c) => liteColumns.has(c.name));
        if (cols.length === 0) continue;
        const count = (lite.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
        if (count === 0) continue;
        const { rows: present } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`);
        if (present[0]?.n !== '0') throw new Error(`the bench's PostgreSQL database already has rows in ${table}`);
        // Indexes other than the primary key: dropped for the copy of a big table, built after.
        const { rows: indexes } = count < 50_000 ? { rows: [] } : await client.query<{ indexname: string; indexdef: string }>(
          `SELECT i.indexname, i.indexdef FROM pg_indexes i
             WHERE i.schemaname = 'public' AND i.tablename = $1
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
          [table],
        );
        for (const i of indexes) await client.query(`DROP INDEX "${i.indexname}"`);
        const names = cols.map((c) => `"${c.name}"`).join(', ');
        const insert = `INSERT INTO "${table}" (${names}) SELECT * FROM unnest(${cols.map((c, n) => `$${n + 1}::${c.type}[]`).join(', ')})`;
        const booleans = cols.map((c) => c.type === 'boolean');
        const read = lite.prepare(`SELECT ${names} FROM "${table}" ORDER BY rowid`).raw(true);
        let batch: unknown[][] = cols.map(() => []);
        let inBatch = 0;
        let inFlight: Promise<unknown> = Promise.resolve();
        const flush = async () => {
          if (inBatch === 0) return;
          const sending = batch;
          batch = cols.map(() => []);
          inBatch = 0;
          await inFlight;
          inFlight = client.query(insert, sending);
        };
        for (const row of read.iterate() as IterableIterator<unknown[]>) {
          for (let c = 0; c < row.length; c++) batch[c]!.push(booleans[c] ? row[c] === 1 : row[c]);
          if (++inBatch === BATCH) await flush();
        }
        await flush();
        await inFlight;
        // Two at a time (the GIN search index takes longest): each CREATE INDEX uses one core.
        const queue = [...indexes];
        const builder = async () => {
          const c = await pool.connect();
          try {
            await c.query("SET maintenance_work_mem = '256MB'");
            for (let i = queue.shift(); i; i = queue.shift()) await c.query(i.indexdef);
          } finally {
            c.release();
          }
        };
        await Promise.all([builder(), builder()]);
        // Identity columns: the next id after the copied ones (as SQLite's rowid would be).
        const { rows: identities } = await client.query<{ column_name: string }>(
          "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND is_identity = 'YES'",
          [table],
        );
        for (const { column_name } of identities) {
          if (!cols.some((c) => c.name === column_name)) continue;
          await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), (SELECT max("${column_name}") FROM "${table}"))`, [`"${table}"`, column_name]);
        }
        copied[table] = count;
      }
      await client.query('VACUUM ANALYZE');
      // The copy's dirty pages written now, not by a timed checkpoint during some later phase
      // (its writes would be counted as that phase's server CPU). Needs pg_checkpoint or superuser.
      await client.query('CHECKPOINT').catch(() => {});
    } finally {
      client.release();
    }
    return { seconds: (performance.now() - started) / 1000, rows: copied };
  } finally {
    lite.close();
    await pool.end();
  }
}

/** What the PostgreSQL server has done so far: CPU of all its processes, statements run in the bench's database. */
export interface PgSample {
  /** ms of CPU (user + system) of the postmaster and all its children, the exited ones included; undefined when not readable. */
  serverCpuMs: number | undefined;
  /** Statements executed in the bench's database (pg_stat_statements `calls`, BEGIN/COMMIT included); undefined without the extension. */
  statements: number | undefined;
}

export interface PgMeter {
  /** Why a figure cannot be read (server elsewhere, extension not preloaded), for the report. */
  notes: string[];
  sample(): Promise<PgSample>;
  /** pg_stat_statements' calls by statement text (normalised), in the bench's database: diff two to see what a phase ran. */
  byStatement(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

/**
 * Meters for the database at `url`. Server CPU: the postmaster is found as the parent of this
 * connection's backend (`pg_backend_pid()`), when that process is on this machine; its own
 * utime + stime + cutime + cstime (children it has reaped: connections the pool closed) plus the
 * utime + stime + cutime + cstime of each of its live children, from /proc. Statements:
 * pg_stat_statements' `calls` summed over the bench's database, less the meter's own reads.
 */
export async function pgMeter(url: string): Promise<PgMeter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const notes: string[] = [];
  let postmaster: number | undefined;
  const host = new URL(url).hostname;
  if (['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(host)) {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    try {
      const stat = readStat(rows[0]!.pid);
      const parent = stat.ppid;
      if (stat.comm === 'postgres' && readStat(parent).comm === 'postgres') postmaster = parent;
    } catch {
      // not readable
    }
  }
  if (postmaster === undefined) notes.push('PostgreSQL server CPU not measured: its processes are not readable in /proc here');
  let statements = true;
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await client.query('SELECT 1 FROM pg_stat_statements LIMIT 1');
  } catch (err) {
    statements = false;
    notes.push(`round trips not counted: ${(err as Error).message}`);
  }
  const serverCpuMs = () => {
    if (postmaster === undefined) return undefined;
    const p = readStat(postmaster);
    let total = p.utime + p.stime + p.cutime + p.cstime;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const s = readStat(Number(entry));
        if (s.ppid === postmaster) total += s.utime + s.stime + s.cutime + s.cstime;
      } catch {
        // exited meanwhile
      }
    }
    return total * 10; // ticks of 10 ms (CLK_TCK 100)
  };
  // The meter's own reads of pg_stat_statements are counted by it too: taken out below.
  let ownReads = 0;
  return {
    notes,
    async sample() {
      let count: number | undefined;
      if (statements) {
        const { rows } = await client.query<{ n: string }>(
          `SELECT coalesce(sum(calls), 0) AS n FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        ownReads += 1;
        count = Number(rows[0]?.n ?? 0) - (ownReads - 1);
      }
      return { serverCpuMs: serverCpuMs(), statements: count };
    },
    async byStatement() {
      const by = new Map<string, number>();
      if (!statements) return by;
      const { rows } = await client.query<{ query: string; calls: string }>(
        `SELECT query, calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      ownReads += 1;
      for (const r of rows) {
        const text = r.query.replace(/\s+/g, ' ');
        by.set(text, (by.get(text) ?? 0) + Number(r.calls));
      }
      return by;
    },
    close: () => client.end(),
  };
}

function readStat(pid: number): { comm: string; ppid: number; utime: number; stime: number; cutime: number; cstime: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the comm: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
  return { comm, ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]), cutime: Number(fields[13]), cstime: Number(fields[14]) };
}
