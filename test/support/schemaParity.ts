import { is, SQL, type Column } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgDialect, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteSyncDialect, SQLiteTable } from 'drizzle-orm/sqlite-core';

/**
 * The SQLite and PostgreSQL schemas reduced to what both must agree on (tables, columns with
 * their nullability, key, default and type family, indexes with their `where`, foreign keys,
 * unique and check constraints), and the differences between two such shapes, in words.
 */

export interface ColumnShape {
  family: string;
  jsType: string;
  notNull: boolean;
  primaryKey: boolean;
  unique: boolean;
  /** `none`, `auto-increment`, `expression` (SQL, dialect-specific) or the literal value as JSON. */
  default: string;
  enumValues: string | null;
}

export interface TableShape {
  columns: Record<string, ColumnShape>;
  primaryKeys: Record<string, string>;
  indexes: Record<string, string>;
  foreignKeys: Record<string, string>;
  uniqueConstraints: Record<string, string>;
  checks: Record<string, string>;
}

export type SchemaShape = Record<string, TableShape>;

/** SQLite's integer is 64-bit: every integer width of PostgreSQL is the same family. */
const SQLITE_FAMILY: Record<string, string> = {
  SQLiteInteger: 'integer',
  SQLiteBoolean: 'boolean',
  SQLiteTimestamp: 'timestamp',
  SQLiteText: 'text',
  SQLiteTextJson: 'json',
  SQLiteReal: 'real',
  SQLiteNumeric: 'numeric',
  SQLiteNumericNumber: 'numeric',
  SQLiteNumericBigInt: 'numeric',
  SQLiteBlobJson: 'json',
  SQLiteBlobBuffer: 'blob',
  SQLiteBigInt: 'integer',
};
const PG_FAMILY: Record<string, string> = {
  PgSmallInt: 'integer',
  PgInteger: 'integer',
  PgBigInt53: 'integer',
  PgBigInt64: 'integer',
  PgSmallSerial: 'integer',
  PgSerial: 'integer',
  PgBigSerial53: 'integer',
  PgBigSerial64: 'integer',
  PgBoolean: 'boolean',
  PgText: 'text',
  PgVarchar: 'text',
  PgChar: 'text',
  PgJson: 'json',
  PgJsonb: 'json',
  PgReal: 'real',
  PgDoublePrecision: 'real',
  PgNumeric: 'numeric',
  PgNumericNumber: 'numeric',
  PgNumericBigInt: 'numeric',
  PgTimestamp: 'timestamp',
  PgTimestampString: 'timestamp',
  PgBytea: 'blob',
};

type Render = (query: SQL) => string;
const sqliteDialect = new SQLiteSyncDialect();
const pgDialect = new PgDialect();
// 'indexes': columns unqualified, as they are written in an index's or a check's text.
const renderSqlite: Render = (query) => normaliseSql(sqliteDialect.sqlToQuery(query, 'indexes'));
const renderPg: Render = (query) => normaliseSql(pgDialect.sqlToQuery(query, 'indexes'));

/** Quotes, case, spacing and placeholder style left out; parameters appended. */
function normaliseSql({ sql, params }: { sql: string; params: unknown[] }): string {
  const text = sql
    .replace(/["`]/g, '')
    .replace(/\$\d+|\?/g, '?')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
  return params.length > 0 ? `${text} ${JSON.stringify(params)}` : text;
}

function columnShape(column: Column, family: string, autoIncrement: boolean): ColumnShape {
  const value: unknown = column.default;
  let dflt = 'none';
  if (autoIncrement) dflt = 'auto-increment';
  else if (column.defaultFn !== undefined) dflt = 'function';
  else if (value !== undefined) dflt = is(value, SQL) ? 'expression' : JSON.stringify(value);
  return {
    family,
    jsType: column.dataType,
    notNull: column.notNull,
    primaryKey: column.primary,
    unique: column.isUnique,
    default: dflt,
    enumValues: column.enumValues === undefined ? null : JSON.stringify(column.enumValues),
  };
}

const names = (columns: ReadonlyArray<{ name: string } | SQL>, render: Render) =>
  columns.map((c) => ('name' in c && typeof c.name === 'string' ? c.name : render(c as SQL))).join(', ');

interface AnyConfig {
  name: string;
  columns: Column[];
  indexes: Array<{ config: { name: string; columns: ReadonlyArray<{ name: string } | SQL>; unique: boolean; where?: SQL } }>;
  foreignKeys: Array<{
    getName(): string;
    reference(): { columns: Column[]; foreignColumns: Column[]; foreignTable: unknown };
    onDelete?: string;
    onUpdate?: string;
  }>;
  primaryKeys: Array<{ getName(): string; columns: Column[] }>;
  uniqueConstraints: Array<{ getName(): string | undefined; columns: Column[] }>;
  checks: Array<{ name: string; value: SQL }>;
}

function tableShape(config: AnyConfig, render: Render, column: (c: Column) => ColumnShape, tableName: (t: unknown) => string): TableShape {
  const byName = <T>(items: T[], key: (item: T) => string, value: (item: T) => string) =>
    Object.fromEntries(items.map((item) => [key(item), value(item)]));
  return {
    columns: Object.fromEntries(config.columns.map((c) => [c.name, column(c)])),
    primaryKeys: byName(config.primaryKeys, (pk) => pk.getName(), (pk) => names(pk.columns, render)),
    indexes: byName(
      config.indexes,
      (i) => i.config.name,
      (i) =>
        `${i.config.unique ? 'unique ' : ''}(${names(i.config.columns, render)})` +
        (i.config.where === undefined ? '' : ` where ${render(i.config.where)}`),
    ),
    foreignKeys: byName(
      config.foreignKeys,
      (fk) => fk.getName(),
      (fk) => {
        const ref = fk.reference();
        return (
          `(${names(ref.columns, render)}) → ${tableName(ref.foreignTable)}(${names(ref.foreignColumns, render)})` +
          ` on delete ${fk.onDelete ?? 'no action'} on update ${fk.onUpdate ?? 'no action'}`
        );
      },
    ),
    uniqueConstraints: byName(config.uniqueConstraints, (u) => u.getName() ?? '', (u) => names(u.columns, render)),
    checks: byName(config.checks, (c) => c.name, (c) => render(c.value)),
  };
}

export function sqliteShape(schema: Record<string, unknown>): SchemaShape {
  const tables = Object.values(schema).filter((v): v is SQLiteTable => is(v, SQLiteTable));
  return Object.fromEntries(
    tables.map((t) => {
      const config = sqliteTableConfig(t);
      // An INTEGER PRIMARY KEY is the rowid: SQLite numbers a row that comes without one.
      const column = (c: Column) =>
        columnShape(c, SQLITE_FAMILY[c.columnType] ?? `unknown ${c.columnType}`, (c as { autoIncrement?: boolean }).autoIncrement === true || (c.primary && c.columnType === 'SQLiteInteger'));
      const name = (ft: unknown) => sqliteTableConfig(ft as SQLiteTable).name;
      return [config.name, tableShape(config as unknown as AnyConfig, renderSqlite, column, name)];
    }),
  );
}

export function pgShape(schema: Record<string, unknown>): SchemaShape {
  const tables = Object.values(schema).filter((v): v is PgTable => is(v, PgTable));
  return Object.fromEntries(
    tables.map((t) => {
      const config = pgTableConfig(t);
      const column = (c: Column) => {
        const autoIncrement = c.generatedIdentity !== undefined || c.columnType.includes('Serial');
        return columnShape(c, PG_FAMILY[c.columnType] ?? `unknown ${c.columnType}`, autoIncrement);
      };
      const name = (ft: unknown) => pgTableConfig(ft as PgTable).name;
      return [config.name, tableShape(config as unknown as AnyConfig, renderPg, column, name)];
    }),
  );
}

const PARTS = [
  ['primaryKeys', 'primary key'],
  ['indexes', 'index'],
  ['foreignKeys', 'foreign key'],
  ['uniqueConstraints', 'unique constraint'],
  ['checks', 'check'],
] as const;

/** Every way `pg` differs from `sqlite`, one sentence each; empty when they agree. */
export function schemaDifferences(sqlite: SchemaShape, pg: SchemaShape): string[] {
  const out: string[] = [];
  const compareKeys = (where: string, what: string, a: Record<string, unknown>, b: Record<string, unknown>) => {
    for (const k of Object.keys(a)) if (!(k in b)) out.push(`${where}${what} ${k} only in SQLite`);
    for (const k of Object.keys(b)) if (!(k in a)) out.push(`${where}${what} ${k} only in PostgreSQL`);
    return Object.keys(a).filter((k) => k in b);
  };
  for (const table of compareKeys('', 'table', sqlite, pg)) {
    const a = sqlite[table]!;
    const b = pg[table]!;
    for (const col of compareKeys(`${table}: `, 'column', a.columns, b.columns)) {
      const ca = a.columns[col]!;
      const cb = b.columns[col]!;
      for (const prop of Object.keys(ca) as Array<keyof ColumnShape>) {
        if (ca[prop] === cb[prop]) continue;
        out.push(`${table}.${col}: ${prop} is ${String(ca[prop])} in SQLite, ${String(cb[prop])} in PostgreSQL`);
      }
    }
    for (const [part, what] of PARTS) {
      for (const name of compareKeys(`${table}: `, what, a[part], b[part])) {
        if (a[part][name] === b[part][name]) continue;
        out.push(`${table}: ${what} ${name} is ${a[part][name]} in SQLite, ${b[part][name]} in PostgreSQL`);
      }
    }
  }
  return out;
}

/**
 * PostgreSQL-only rule: integer columns holding row ids (`id`, `*_id`) or unix-ms times (`*_at`)
 * are `bigint` (SQLite's integers are 64-bit; a ms time overflows `integer` today).
 */
export function narrowPgIntegers(schema: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const t of Object.values(schema).filter((v): v is PgTable => is(v, PgTable))) {
    const config = pgTableConfig(t);
    for (const c of config.columns) {
      const wide = /^(id|.*_id|.*_at)$/.test(c.name);
      if (wide && PG_FAMILY[c.columnType] === 'integer' && !['bigint', 'bigserial'].includes(c.getSQLType())) {
        out.push(`${config.name}.${c.name} is ${c.getSQLType()}, not bigint`);
      }
    }
  }
  return out;
}
