import type { ApprovalsStore } from './approvalsStore.js';
import { ApprovalsRepository } from './approvals.js';
import { DashboardReadModel } from './dashboard.js';
import type { DashboardStore } from './dashboardStore.js';
import { isPostgresUrl } from '../config.js';
import { openStore, type ConnectionTurns, type Store } from './db.js';
import { DeliveriesRepository } from './deliveries.js';
import { sqliteDeliveriesStore, type DeliveriesStore } from './deliveriesStore.js';
import { HomeStateRepository } from './homeState.js';
import { sqliteHomeStateStore, type HomeStatePrefsStore } from './homeStateStore.js';
import { JobsRepository, type JobsStore } from './jobs.js';
import { OutboxRepository } from './outbox.js';
import { sqliteOutboxStore, type OutboxStore } from './outboxStore.js';
import { PgApprovalsRepository } from './pg/approvals.js';
import { PgDashboardReadModel } from './pg/dashboard.js';
import { PgDeliveriesRepository } from './pg/deliveries.js';
import { PgHomeStateRepository } from './pg/homeState.js';
import { PgJobsRepository } from './pg/jobs.js';
import { openPgStore, type PgStore } from './pg/open.js';
import { PgOutboxRepository } from './pg/outbox.js';
import { PgSettingsRepository } from './pg/settings.js';
import { PgTasksRepository } from './pg/tasks.js';
import { SettingsRepository, type SettingsStore } from './settings.js';
import { TasksRepository } from './tasks.js';
import type { TasksStore } from './tasksStore.js';

/**
 * The store the app runs on, whichever engine holds it: one async repository per aggregate, the
 * same interfaces on SQLite (the embedded default) and PostgreSQL (`DATABASE_URL=postgres://…`,
 * for several instances sharing one database). Features use these and nothing else.
 */
export interface Stores {
  readonly engine: 'sqlite' | 'postgresql';
  readonly tasks: TasksStore;
  readonly approvals: ApprovalsStore;
  readonly outbox: OutboxStore;
  readonly deliveries: DeliveriesStore;
  readonly homeState: HomeStatePrefsStore;
  readonly dashboard: DashboardStore;
  readonly jobs: JobsStore;
  /** Reminder settings per person, audit feed per workspace. */
  readonly settings: SettingsStore;
  /** SQLite only: the file store itself (the sender thread and the maintenance thread open it too). */
  readonly sqlite: Store | undefined;
  /** PostgreSQL only: the pooled store. */
  readonly postgres: PgStore | undefined;
  /**
   * Runs `fn` as one transaction over several repositories, and `fn` may await: its changes commit
   * together or, when it throws, not at all. SQLite: `Store.transaction` (writers stay
   * serialised; the connection's other users wait until it ends); PostgreSQL: `db.transaction` on
   * one pooled connection (rows it changes stay locked until it ends). Inside, use only the
   * repositories `fn` is given. For changes that belong together; a single change is one
   * repository call, already a whole transaction.
   */
  transaction<T>(fn: (stores: TransactionStores) => Promise<T>): Promise<T>;
  /** true when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The repositories one transaction of `Stores.transaction` works through. */
export type TransactionStores = Pick<Stores, 'tasks' | 'approvals' | 'settings' | 'outbox'>;

/**
 * The repositories of an open SQLite store. Each call takes its turn on the connection
 * (`ConnectionTurns`): at once, unless an async transaction is open or waiting.
 */
export function sqliteStores(store: Store, now: () => number = Date.now): Stores {
  const inTransaction: TransactionStores = {
    tasks: new TasksRepository(store),
    approvals: new ApprovalsRepository(store, now),
    outbox: sqliteOutboxStore(new OutboxRepository(store)),
    settings: new SettingsRepository(store),
  };
  const turnTaking = <R extends object>(repo: R): R => takingTurns(store.turns, repo);
  return {
    engine: 'sqlite',
    tasks: turnTaking(inTransaction.tasks),
    approvals: turnTaking(inTransaction.approvals),
    outbox: turnTaking(inTransaction.outbox),
    deliveries: turnTaking(sqliteDeliveriesStore(new DeliveriesRepository(store, now))),
    homeState: turnTaking(sqliteHomeStateStore(new HomeStateRepository(store), store)),
    dashboard: turnTaking(new DashboardReadModel(store)),
    jobs: turnTaking(new JobsRepository(store)),
    settings: turnTaking(inTransaction.settings),
    transaction: (fn) => store.transaction(() => fn(inTransaction)),
    sqlite: store,
    postgres: undefined,
    ping: async () => store.ping(),
    close: async () => store.close(),
  };
}

/** The repositories of an open (migrated) PostgreSQL store. */
export function postgresStores(pg: PgStore, now: () => number = Date.now): Stores {
  return {
    engine: 'postgresql',
    tasks: new PgTasksRepository(pg.db),
    approvals: new PgApprovalsRepository(pg.db, now),
    outbox: new PgOutboxRepository(pg.db),
    deliveries: new PgDeliveriesRepository(pg.db, now),
    homeState: new PgHomeStateRepository(pg.db),
    dashboard: new PgDashboardReadModel(pg.db),
    jobs: new PgJobsRepository(pg.db),
    settings: new PgSettingsRepository(pg.db),
    transaction: (fn) =>
      pg.db.transaction((tx) =>
        fn({ tasks: new PgTasksRepository(tx), approvals: new PgApprovalsRepository(tx, now), settings: new PgSettingsRepository(tx), outbox: new PgOutboxRepository(tx) }),
      ),
    sqlite: undefined,
    postgres: pg,
    ping: () => pg.ping(),
    close: () => pg.close(),
  };
}

/**
 * `repo` with each method call made in its turn on the connection (`ConnectionTurns.run`). The
 * repositories' methods are async and do their work before their first await, so a call made in
 * its turn neither joins nor reads an async transaction still open.
 */
function takingTurns<R extends object>(turns: ConnectionTurns, repo: R): R {
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(repo, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      let method = methods.get(name);
      if (method === undefined) {
        const call = (...args: unknown[]): unknown => Reflect.apply(value, target, args);
        method = (...args: unknown[]): unknown => (turns.free ? call(...args) : turns.run(async () => call(...args)));
        methods.set(name, method);
      }
      return method;
    },
  });
}

/**
 * Opens and migrates the store `databaseUrl` names: PostgreSQL for a `postgres://` URL (pooled,
 * migrated under an advisory lock), a SQLite file otherwise. `onError`: a line for the log when a
 * pooled connection is lost (it is replaced on next use).
 */
export async function openStores(
  config: { databaseUrl: string; databasePoolSize?: number; databaseStatementTimeoutMs?: number },
  onError: (message: string) => void,
  now: () => number = Date.now,
): Promise<Stores> {
  if (!isPostgresUrl(config.databaseUrl)) return sqliteStores(openStore(config.databaseUrl), now);
  const pg = await openPgStore(config.databaseUrl.trim(), { poolSize: config.databasePoolSize ?? 10, statementTimeoutMs: config.databaseStatementTimeoutMs ?? 10_000 }, onError);
  return postgresStores(pg, now);
}
