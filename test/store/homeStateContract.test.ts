// The App Home choices' contract, run on both engines: SQLite (a file store opened as in
// production, behind its async adapter) and PostgreSQL (a database of this file's own, migrated as
// at start-up). The same cases, the same expectations; SQLite's behaviour is the reference.
import pg from 'pg';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import { HomeStateRepository } from '../../src/store/homeState.js';
import { sqliteHomeStateStore, type HomeStatePrefsStore } from '../../src/store/homeStateStore.js';
import { OutboxRepository, writeEffects, type Effect } from '../../src/store/outbox.js';
import { pgDatabase } from '../../src/store/pg/db.js';
import { PgHomeStateRepository } from '../../src/store/pg/homeState.js';
import { PgOutboxRepository, writeEffectsPg } from '../../src/store/pg/outbox.js';
import { useSqliteFileStore } from '../support/sqliteStore.js';
import { describePostgres, useMigratedPool } from '../support/postgres.js';

const T = 'T1';
const U = 'U1';
const publish: Effect = { key: `home:${T}:${U}`, teamId: T, kind: 'home', target: U, coalesce: true, spacingMs: 250 };

/** One engine's Home choices, the listeners' transaction (a choice with its publish), and the raw row. */
interface Engine {
  repo: HomeStatePrefsStore;
  /** `touchIn` (or `saveIn` with `prefs`) and the Home's publish in one transaction, which throws `error` when given. */
  withPublish(prefs: { filter: 'assigned' | 'created' | 'all_open' | 'recently_done'; page: number } | undefined, now: number, error?: Error): Promise<void>;
  publishes(): Promise<number>;
  row(): Promise<{ filter: string; page: number; updatedAt: number } | undefined>;
  setRaw(filter: string, page: number): Promise<void>;
}

function sqliteEngine(store: Store): Engine {
  const homes = new HomeStateRepository(store);
  const outbox = new OutboxRepository(store);
  return {
    repo: sqliteHomeStateStore(homes, store),
    withPublish: async (prefs, now, error) =>
      store.write(() => {
        if (prefs) homes.saveIn(T, U, prefs, now);
        else homes.touchIn(T, U, now);
        writeEffects(store, [publish], now);
        if (error) throw error;
      }),
    publishes: async () => outbox.all().length,
    row: async () => store.sqlite.prepare('SELECT filter, page, updated_at AS updatedAt FROM home_state').get() as { filter: string; page: number; updatedAt: number } | undefined,
    setRaw: async (filter, page) => {
      store.sqlite.prepare('UPDATE home_state SET filter = ?, page = ?').run(filter, page);
    },
  };
}

function pgEngine(pool: pg.Pool): Engine {
  const db = pgDatabase(pool);
  const homes = new PgHomeStateRepository(db);
  return {
    repo: homes,
    withPublish: async (prefs, now, error) =>
      db.transaction(async (tx) => {
        if (prefs) await homes.saveIn(tx, T, U, prefs, now);
        else await homes.touchIn(tx, T, U, now);
        await writeEffectsPg(tx, [publish], now);
        if (error) throw error;
      }),
    publishes: async () => (await new PgOutboxRepository(db).all()).length,
    row: async () => (await pool.query<{ filter: string; page: number; updatedAt: number }>('SELECT filter, page, updated_at::float8 AS "updatedAt" FROM home_state')).rows[0],
    setRaw: async (filter, page) => {
      await pool.query('UPDATE home_state SET filter = $1, page = $2', [filter, page]);
    },
  };
}

function contract(current: () => Engine): void {
  const e = () => current();
  const repo = () => current().repo;

  it('touch keeps earlier choices, save upserts, each records when the Home was opened', async () => {
    expect(await repo().get(T, U)).toBeUndefined();
    await repo().touch(T, U, 1_000);
    expect(await repo().get(T, U)).toEqual({ filter: 'assigned', page: 0 });
    expect(await e().row()).toEqual({ filter: 'assigned', page: 0, updatedAt: 1_000 });
    await repo().save(T, U, { filter: 'recently_done', page: 3 }, 2_000);
    await repo().touch(T, U, 3_000);
    expect(await repo().get(T, U)).toEqual({ filter: 'recently_done', page: 3 });
    expect(await e().row()).toEqual({ filter: 'recently_done', page: 3, updatedAt: 3_000 });
    expect(await repo().get('T2', U)).toBeUndefined();
    expect(await repo().get(T, 'U2')).toBeUndefined();
  });

  it('a first save creates the row; pages are whole and never negative', async () => {
    await repo().save(T, U, { filter: 'created', page: 2.7 }, 1_000);
    expect(await e().row()).toEqual({ filter: 'created', page: 2, updatedAt: 1_000 });
    await repo().save(T, U, { filter: 'all_open', page: -4 }, 2_000);
    expect(await repo().get(T, U)).toEqual({ filter: 'all_open', page: 0 });
  });

  it('reads a filter it does not know as the default, and a negative page as the first', async () => {
    await repo().touch(T, U, 1_000);
    await e().setRaw('someday', -2);
    expect(await repo().get(T, U)).toEqual({ filter: 'assigned', page: 0 });
  });

  it('touchIn and saveIn are part of the transaction that writes the Home’s publish', async () => {
    await e().withPublish(undefined, 1_000);
    await e().withPublish({ filter: 'created', page: 1 }, 2_000);
    expect(await e().row()).toEqual({ filter: 'created', page: 1, updatedAt: 2_000 });
    expect(await e().publishes()).toBe(1);
    await expect(e().withPublish({ filter: 'all_open', page: 5 }, 3_000, new Error('the publish failed'))).rejects.toThrow('the publish failed');
    expect(await e().row()).toEqual({ filter: 'created', page: 1, updatedAt: 2_000 });
  });
}

describe('Home choices on SQLite', () => {
  const sqlite = useSqliteFileStore();
  let engine: Engine;
  beforeEach(() => {
    engine = sqliteEngine(sqlite.store);
  });
  contract(() => engine);
});

describePostgres('Home choices on PostgreSQL', () => {
  const database = useMigratedPool(4);
  let engine: Engine;
  beforeAll(() => {
    engine = pgEngine(database.pool);
  });
  contract(() => engine);
});
