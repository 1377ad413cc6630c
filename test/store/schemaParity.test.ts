import type { Table } from 'drizzle-orm';
import { describe, expectTypeOf, it } from 'vitest';
import * as pgSchema from '../../src/store/pg/schema.js';
import * as sqliteSchema from '../../src/store/schema.js';

/**
 * The SQLite and PostgreSQL schemas describe one store: the same row types, so one repository
 * interface fits both engines.
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
});
