// Transactions whose callbacks await (Stores.transaction, and SQLite's Store.transaction under it):
// on both engines, changes across repositories commit together or not at all; on SQLite, where
// one connection serves the whole process, such transactions stay serialised, and nobody else on
// the connection joins or reads one while it is open.
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { messageEffect } from '../../src/outbox/kinds.js';
import type { Store } from '../../src/store/db.js';
import { openStores, sqliteStores, type Stores } from '../../src/store/engine.js';
import { DEFAULT_USER_SETTINGS } from '../../src/store/settings.js';
import { startWorkerModule } from '../../src/workerThread.js';
import { describePostgres, useTestDatabase } from '../support/postgres.js';
import { useSqliteFileStore } from '../support/sqliteStore.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const URL_T1 = 'https://hooks.slack.com/services/T1/B1/secret';

/** A gate a test opens when it chooses: `wait` resolves once `open` is called. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

function contract(current: () => Stores): void {
  const stores = () => current();

  it('commits the changes of several repositories together, across awaits', async () => {
    const result = await stores().transaction(async (s) => {
      await s.settings.saveUser('T1', 'U1', { remindersEnabled: false, reminderHour: 7 }, 1_000);
      await sleep(5);
      await s.settings.saveWorkspace('T1', { auditWebhookUrl: URL_T1 }, 'U1', 1_000);
      await s.outbox.add([messageEffect({ key: 'tx:commit', teamId: 'T1', channel: 'C1', text: 'saved' })], 1_000);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await stores().settings.user('T1', 'U1')).toEqual({ remindersEnabled: false, reminderHour: 7 });
    expect((await stores().settings.workspace('T1'))?.auditWebhookUrl).toBe(URL_T1);
    expect((await stores().outbox.byKey('tx:commit'))?.state).toBe('pending');
  });

  it('rolls all of them back when the callback fails after an await, and the caller gets the error', async () => {
    const failing = stores().transaction(async (s) => {
      await s.settings.saveUser('T2', 'U1', { remindersEnabled: false, reminderHour: 7 }, 1_000);
      await s.outbox.add([messageEffect({ key: 'tx:rollback', teamId: 'T2', channel: 'C1', text: 'never' })], 1_000);
      await sleep(5);
      await s.settings.saveWorkspace('T2', { auditWebhookUrl: URL_T1 }, 'U1', 1_000);
      throw new Error('the second half failed');
    });
    await expect(failing).rejects.toThrow('the second half failed');
    expect(await stores().settings.user('T2', 'U1')).toEqual(DEFAULT_USER_SETTINGS);
    expect(await stores().settings.workspace('T2')).toBeUndefined();
    expect(await stores().outbox.byKey('tx:rollback')).toBeUndefined();
    // The store is still usable afterwards.
    await stores().settings.saveUser('T2', 'U1', { remindersEnabled: true, reminderHour: 8 }, 2_000);
    expect(await stores().settings.user('T2', 'U1')).toEqual({ remindersEnabled: true, reminderHour: 8 });
  });

  it('keeps a change made by another caller meanwhile apart from it', async () => {
    const started = gate();
    const inside = gate();
    const running = stores().transaction(async (s) => {
      await s.settings.saveUser('T3', 'U1', { remindersEnabled: false, reminderHour: 6 }, 1_000);
      started.open();
      await inside.wait;
      throw new Error('abandoned');
    });
    // Another request's change, made while the transaction is open: not rolled back with it.
    await started.wait;
    const other = stores().settings.saveUser('T3', 'U2', { remindersEnabled: false, reminderHour: 5 }, 1_000);
    await sleep(20);
    inside.open();
    await expect(running).rejects.toThrow('abandoned');
    await other;
    expect(await stores().settings.user('T3', 'U1')).toEqual(DEFAULT_USER_SETTINGS);
    expect(await stores().settings.user('T3', 'U2')).toEqual({ remindersEnabled: false, reminderHour: 5 });
  });
}

describe('transactions that await, on SQLite', () => {
  const sqlite = useSqliteFileStore();
  let store: Store;
  let stores: Stores;
  beforeEach(() => {
    store = sqlite.store;
    stores = sqliteStores(store);
  });

  contract(() => stores);

  const counter = () => store.sqlite.prepare("SELECT last_task_number FROM team_counters WHERE team_id = 'T1'").pluck().get() as number | undefined;

  it('serialises writers: transactions that read, await and write one counter all count, in the order asked', async () => {
    store.sqlite.prepare("INSERT INTO team_counters (team_id, last_task_number) VALUES ('T1', 0)").run();
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        store.transaction(async () => {
          order.push(i);
          const n = counter() ?? 0;
          await sleep(3);
          store.sqlite.prepare("UPDATE team_counters SET last_task_number = ? WHERE team_id = 'T1'").run(n + 1);
        }),
      ),
    );
    expect(counter()).toBe(6);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a rejection rolls back what the callback wrote, also through nested synchronous writes', async () => {
    const failing = store.transaction(async (db) => {
      store.write(() => store.sqlite.prepare("INSERT INTO team_counters (team_id, last_task_number) VALUES ('T1', 1)").run());
      await sleep(2);
      db.run(sql`INSERT INTO team_counters (team_id, last_task_number) VALUES ('T2', 1)`);
      throw new Error('no');
    });
    await expect(failing).rejects.toThrow('no');
    expect(store.sqlite.prepare('SELECT count(*) FROM team_counters').pluck().get()).toBe(0);
    expect(store.sqlite.inTransaction).toBe(false);
  });

  it('every other call on the connection waits its turn: it never reads what is not committed yet', async () => {
    const inside = gate();
    let committed = false;
    const running = stores.transaction(async (s) => {
      await s.settings.saveUser('T1', 'U1', { remindersEnabled: false, reminderHour: 5 }, 1_000);
      await inside.wait;
      committed = true;
    });
    let readWhileOpen: unknown;
    const read = stores.settings.user('T1', 'U1').then((r) => {
      readWhileOpen = committed;
      return r;
    });
    await sleep(20);
    expect(store.turns.free).toBe(false);
    inside.open();
    await running;
    // The read was asked while the transaction was open, and answered once it had committed.
    expect(await read).toEqual({ remindersEnabled: false, reminderHour: 5 });
    expect(readWhileOpen).toBe(true);
    expect(store.turns.free).toBe(true);

    // Rolled back: the waiting read sees the state from before.
    const again = gate();
    const abandoned = stores.transaction(async (s) => {
      await s.settings.saveUser('T1', 'U1', { remindersEnabled: true, reminderHour: 22 }, 2_000);
      await again.wait;
      throw new Error('abandoned');
    });
    const second = stores.settings.user('T1', 'U1');
    again.open();
    await expect(abandoned).rejects.toThrow('abandoned');
    expect(await second).toEqual({ remindersEnabled: false, reminderHour: 5 });
  });

  describe('with another thread of the process writing (the outbox sender, the maintenance thread)', () => {
    const holder = (holdMs: number): Worker => startWorkerModule(import.meta.url, '../support/writeLockHolder', { buffer: store.writeLock.buffer, holdMs, die: false }, { maxOldGenerationSizeMb: 32 });
    const nextMessage = async (w: Worker) => ((await once(w, 'message')) as [{ op: string; at?: number }])[0];

    it("waits for that thread's transaction without blocking this thread", async () => {
      const w = holder(300);
      expect((await nextMessage(w)).op).toBe('holding');
      let ticks = 0;
      const ticking = setInterval(() => ticks++, 10);
      const startedAt = await store.transaction(async () => Date.now());
      clearInterval(ticking);
      const released = await nextMessage(w);
      expect(released.op).toBe('released');
      expect(startedAt).toBeGreaterThanOrEqual(released.at as number);
      // Timers ran while it waited: the wait did not hold up the event loop.
      expect(ticks).toBeGreaterThanOrEqual(5);
      await once(w, 'exit');
    });

    it('holds that thread back until it commits', async () => {
      const inside = gate();
      let committedAt = 0;
      const running = store.transaction(async () => {
        store.sqlite.prepare("INSERT INTO team_counters (team_id, last_task_number) VALUES ('T1', 1)").run();
        await inside.wait;
        committedAt = Date.now();
      });
      await sleep(10);
      const w = holder(0);
      await vi.waitFor(() => expect(store.writeLock.hasWaiters()).toBe(true), { timeout: 15_000, interval: 10 });
      inside.open();
      await running;
      const holding = await nextMessage(w);
      expect(holding.op).toBe('holding');
      expect((await nextMessage(w)).at).toBeGreaterThanOrEqual(committedAt);
      await once(w, 'exit');
    });
  });
});

describePostgres('transactions that await, on PostgreSQL', () => {
  const database = useTestDatabase();
  let stores: Stores;
  beforeAll(async () => {
    stores = await openStores({ databaseUrl: database.url, databasePoolSize: 4 }, () => {});
  });
  afterAll(() => stores?.close());

  contract(() => stores);
});
