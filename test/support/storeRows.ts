import type { TestApp } from './harness.js';

/**
 * Plain SQL against the app's store, on either engine, for tests that check what it holds: `?`
 * placeholders (numbered for PostgreSQL). PostgreSQL hands back bigints as strings and booleans as
 * booleans where SQLite has numbers: compare rows within one engine, or select what reads the same.
 */
export async function storeRows<T = Record<string, unknown>>(t: TestApp, text: string, params: unknown[] = []): Promise<T[]> {
  const pg = t.stores.postgres;
  if (!pg) {
    const stmt = t.store.sqlite.prepare(text);
    if (!stmt.reader) {
      stmt.run(...params);
      return [];
    }
    return stmt.all(...params) as T[];
  }
  let n = 0;
  const { rows } = await pg.pool.query(text.replace(/\?/g, () => `$${++n}`), params);
  return rows as T[];
}

/** The store's own tables (not the migrations' journal, nor SQLite's search index and its shadow tables). */
export async function storeTables(t: TestApp): Promise<string[]> {
  const rows = t.stores.postgres
    ? await storeRows<{ name: string }>(t, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name")
    : await storeRows<{ name: string }>(
        t,
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name",
      );
  return rows.map((r) => r.name);
}

/** Every row of every table (optionally only one workspace's), to prove a request changed nothing. */
export async function snapshot(t: TestApp, teamId?: string): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const name of await storeTables(t)) {
    const cols = t.stores.postgres
      ? (await storeRows<{ name: string }>(t, "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ?", [name])).map((c) => c.name)
      : (await storeRows<{ name: string }>(t, `SELECT name FROM pragma_table_info('${name}')`)).map((c) => c.name);
    if (teamId !== undefined && !cols.includes('team_id')) continue;
    const where = teamId !== undefined ? ' WHERE team_id = ?' : '';
    // SQLite: in insertion order; PostgreSQL has none, so by the whole row.
    const order = t.stores.postgres ? `ORDER BY "${name}"::text` : 'ORDER BY rowid';
    out[name] = await storeRows(t, `SELECT * FROM "${name}"${where} ${order}`, teamId !== undefined ? [teamId] : []);
  }
  return out;
}

/** Row counts of every table. */
export async function rowCounts(t: TestApp): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const name of await storeTables(t)) counts[name] = Number((await storeRows<{ n: number | string }>(t, `SELECT count(*) AS n FROM "${name}"`))[0]?.n);
  return counts;
}
