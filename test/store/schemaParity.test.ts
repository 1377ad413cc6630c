import { sql, type Table } from 'drizzle-orm';
import * as pgCore from 'drizzle-orm/pg-core';
import * as sqliteCore from 'drizzle-orm/sqlite-core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as pgSchema from '../../src/store/pg/schema.js';
import * as sqliteSchema from '../../src/store/schema.js';
import { narrowPgIntegers, pgShape, schemaDifferences, sqliteShape } from '../support/schemaParity.js';

/**
 * The SQLite and PostgreSQL schemas describe one store: the same tables, columns, keys, indexes
 * and constraints, and the same row types, so one repository interface fits both engines.
 */

type TablesOf<S> = { [K in keyof S as S[K] extends Table ? K : never]: S[K] };
type Selected<S> = { [K in keyof TablesOf<S>]: TablesOf<S>[K] extends Table ? TablesOf<S>[K]['$inferSelect'] : never };
type Inserted<S> = { [K in keyof TablesOf<S>]: TablesOf<S>[K] extends Table ? TablesOf<S>[K]['$inferInsert'] : never };

describe('the PostgreSQL schema beside the SQLite one', () => {
  // Checked by `tsc --noEmit` (the first half of `npm test`): every exported table, by export name.
  it('has the same tables with the same row types, read and written', () => {
    expectTypeOf<Selected<typeof pgSchema>>().toEqualTypeOf<Selected<typeof sqliteSchema>>();
    expectTypeOf<Inserted<typeof pgSchema>>().toEqualTypeOf<Inserted<typeof sqliteSchema>>();
  });

  it('has the same tables, columns, keys, indexes and constraints', () => {
    const sqlite = sqliteShape(sqliteSchema);
    expect(Object.keys(sqlite).length).toBeGreaterThanOrEqual(10);
    // The one difference by design: title search is indexed by each engine its own way. SQLite's
    // index is the FTS5 table tasks_fts with its triggers (migrations/0006), which a drizzle
    // schema cannot declare; PostgreSQL's is a GIN index on tasks, declared in its schema.
    expect(schemaDifferences(sqlite, pgShape(pgSchema))).toEqual(['tasks: index tasks_search_keys_idx only in PostgreSQL']);
  });

  it('keeps ids and ms times in bigint columns', () => {
    expect(narrowPgIntegers(pgSchema)).toEqual([]);
  });
});

describe('the drift check', () => {
  // Two small schemas alike in everything.
  const liteParent = sqliteCore.sqliteTable('parents', { id: sqliteCore.integer('id').primaryKey({ autoIncrement: true }) });
  const pgParent = pgCore.pgTable('parents', { id: pgCore.bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity() });
  const liteWidgets = sqliteCore.sqliteTable(
    'widgets',
    {
      id: sqliteCore.integer('id').primaryKey({ autoIncrement: true }),
      parentId: sqliteCore.integer('parent_id').notNull().references(() => liteParent.id, { onDelete: 'cascade' }),
      name: sqliteCore.text('name').notNull().default(''),
      state: sqliteCore.text('state', { enum: ['on', 'off'] }).notNull(),
      active: sqliteCore.integer('active', { mode: 'boolean' }).notNull().default(true),
      weight: sqliteCore.real('weight'),
      createdAt: sqliteCore.integer('created_at').notNull().default(sql`(unixepoch() * 1000)`),
    },
    (t) => [
      sqliteCore.uniqueIndex('widgets_name_uq').on(t.parentId, t.name),
      sqliteCore.index('widgets_on_idx').on(t.createdAt).where(sql`${t.state} = 'on'`),
      sqliteCore.unique('widgets_state_name_unique').on(t.state, t.name),
      sqliteCore.check('widgets_weight_check', sql`${t.weight} >= 0`),
    ],
  );
  const pgWidgetColumns = {
    id: pgCore.bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    parentId: pgCore
      .bigint('parent_id', { mode: 'number' })
      .notNull()
      .references(() => pgParent.id, { onDelete: 'cascade' }),
    name: pgCore.text('name').notNull().default(''),
    state: pgCore.text('state', { enum: ['on', 'off'] }).notNull(),
    active: pgCore.boolean('active').notNull().default(true),
    weight: pgCore.doublePrecision('weight'),
    createdAt: pgCore.bigint('created_at', { mode: 'number' }).notNull().default(sql`(extract(epoch from now()) * 1000)::bigint`),
  };
  const pgWidgetsExtras = (t: Record<'parentId' | 'name' | 'state' | 'weight' | 'createdAt', pgCore.ExtraConfigColumn>) => [
    pgCore.uniqueIndex('widgets_name_uq').on(t.parentId, t.name),
    pgCore.index('widgets_on_idx').on(t.createdAt).where(sql`${t.state} = 'on'`),
    pgCore.unique('widgets_state_name_unique').on(t.state, t.name),
    pgCore.check('widgets_weight_check', sql`${t.weight} >= 0`),
  ];
  const pgWidgets = pgCore.pgTable('widgets', pgWidgetColumns, pgWidgetsExtras);
  const lite = sqliteShape({ liteParent, liteWidgets });
  const diff = (pg: Record<string, unknown>) => schemaDifferences(lite, pgShape(pg));

  it('finds nothing between schemas that agree', () => {
    expect(diff({ pgParent, pgWidgets })).toEqual([]);
  });

  it('reports a table, a column or an index on one side only', () => {
    const extra = pgCore.pgTable('extra', { id: pgCore.integer('id') });
    const wider = pgCore.pgTable('widgets', { ...pgWidgetColumns, colour: pgCore.text('colour') }, (t) => [
      ...pgWidgetsExtras(t),
      pgCore.index('widgets_colour_idx').on(t.colour),
    ]);
    expect(diff({ pgWidgets, extra })).toEqual(['table parents only in SQLite', 'table extra only in PostgreSQL']);
    expect(diff({ pgParent, pgWidgets: wider })).toEqual([
      'widgets: column colour only in PostgreSQL',
      'widgets: index widgets_colour_idx only in PostgreSQL',
    ]);
  });

  it('reports a column that differs in type family, nullability, default or enum', () => {
    const changed = pgCore.pgTable(
      'widgets',
      {
        ...pgWidgetColumns,
        name: pgCore.text('name').default('x'),
        state: pgCore.text('state', { enum: ['on', 'off', 'broken'] }).notNull(),
        active: pgCore.integer('active').notNull().default(1),
        createdAt: pgCore.bigint('created_at', { mode: 'number' }).notNull(),
      },
      pgWidgetsExtras,
    );
    expect(diff({ pgParent, pgWidgets: changed })).toEqual([
      'widgets.name: notNull is true in SQLite, false in PostgreSQL',
      'widgets.name: default is "" in SQLite, "x" in PostgreSQL',
      'widgets.state: enumValues is ["on","off"] in SQLite, ["on","off","broken"] in PostgreSQL',
      'widgets.active: family is boolean in SQLite, integer in PostgreSQL',
      'widgets.active: jsType is boolean in SQLite, number in PostgreSQL',
      'widgets.active: default is true in SQLite, 1 in PostgreSQL',
      'widgets.created_at: default is expression in SQLite, none in PostgreSQL',
    ]);
  });

  it('reports an index, key or constraint that differs', () => {
    const parentId = pgCore.bigint('parent_id', { mode: 'number' }).notNull().references(() => pgParent.id);
    const changed = pgCore.pgTable('widgets', { ...pgWidgetColumns, parentId }, (t) => [
      pgCore.index('widgets_name_uq').on(t.parentId, t.name),
      pgCore.index('widgets_on_idx').on(t.createdAt).where(sql`${t.state} <> 'off'`),
      pgCore.unique('widgets_state_name_unique').on(t.name, t.state),
      pgCore.check('widgets_weight_check', sql`${t.weight} > 0`),
    ]);
    expect(diff({ pgParent, pgWidgets: changed })).toEqual([
      'widgets: index widgets_name_uq is unique (parent_id, name) in SQLite, (parent_id, name) in PostgreSQL',
      "widgets: index widgets_on_idx is (created_at) where state = 'on' in SQLite, (created_at) where state <> 'off' in PostgreSQL",
      'widgets: foreign key widgets_parent_id_parents_id_fk is (parent_id) → parents(id) on delete cascade on update no action in SQLite, ' +
        '(parent_id) → parents(id) on delete no action on update no action in PostgreSQL',
      'widgets: unique constraint widgets_state_name_unique is state, name in SQLite, name, state in PostgreSQL',
      'widgets: check widgets_weight_check is weight >= 0 in SQLite, weight > 0 in PostgreSQL',
    ]);
  });

  it('reports a PostgreSQL id or ms time narrower than bigint', () => {
    const narrow = pgCore.pgTable('narrow', {
      id: pgCore.serial('id').primaryKey(),
      ownerId: pgCore.integer('owner_id'),
      seenAt: pgCore.integer('seen_at'),
      count: pgCore.integer('count'),
    });
    expect(narrowPgIntegers({ narrow })).toEqual([
      'narrow.id is serial, not bigint',
      'narrow.owner_id is integer, not bigint',
      'narrow.seen_at is integer, not bigint',
    ]);
  });
});
