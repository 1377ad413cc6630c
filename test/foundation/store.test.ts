import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, openStore } from '../../src/store/db.js';
import { DeliveriesRepository } from '../../src/store/deliveries.js';
import { teamCounters } from '../../src/store/schema.js';

describe('the SQLite store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const applied = (db: ReturnType<typeof openStore>) =>
    (db.sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n;
  const migrationCount = () =>
    (JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

  it('migrates a fresh database, with WAL, busy_timeout and foreign keys on', () => {
    const store = openStore(join(dir, 'nested', 'fresh.db'));
    expect(applied(store)).toBe(migrationCount());
    const tables = (store.sqlite.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['tasks', 'approvals', 'approval_approvers', 'audit_log', 'processed_deliveries', 'team_counters']));
    expect(store.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    store.close();
  });

  it('a second start applies nothing and the data survives the restart', async () => {
    const path = join(dir, 'restart.db');
    const first = openStore(path);
    first.sqlite
      .prepare("INSERT INTO tasks (team_id, number, title, title_search, assignee_id, creator_id, origin) VALUES ('T1', 1, 'Kept', 'kept', 'U1', 'U1', 'command')")
      .run();
    const t0 = Date.now();
    const firstDeliveries = new DeliveriesRepository(first, () => t0);
    expect(firstDeliveries.claim('T1', 'event:Ev1', '{"n":1}')).toBe('fresh');
    firstDeliveries.finish('event:Ev1');
    // Taken but never finished (the process died while handling it): its body must survive.
    expect(firstDeliveries.claim('T1', 'event:Ev2', '{"n":2}')).toBe('fresh');
    const schemaBefore = first.sqlite.prepare('SELECT sql FROM sqlite_master ORDER BY name').all();
    first.close();

    const second = openStore(path);
    expect(applied(second)).toBe(migrationCount());
    expect(second.sqlite.prepare('SELECT sql FROM sqlite_master ORDER BY name').all()).toEqual(schemaBefore);
    expect(second.sqlite.prepare('SELECT title FROM tasks').all()).toEqual([{ title: 'Kept' }]);
    const secondDeliveries = new DeliveriesRepository(second, () => t0 + 31_000);
    expect(secondDeliveries.claim('T1', 'event:Ev1', '{"n":1}')).toBe('duplicate');
    expect(secondDeliveries.unfinished(t0 + 1)).toEqual([{ key: 'event:Ev2', body: '{"n":2}' }]);
    expect(secondDeliveries.claim('T1', 'event:Ev2', '{"n":2}')).toBe('resume');
    second.close();
  });

  it('a table-rebuild migration does not cascade-delete children (foreign keys off around migrate)', () => {
    // A migration shaped like drizzle-kit's table rebuild of the parent `tasks` table.
    const folder = join(dir, 'migrations');
    cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
    const path = join(dir, 'rebuild.db');
    const before = openStore(path, folder);
    before.sqlite
      .prepare("INSERT INTO tasks (id, team_id, number, title, title_search, assignee_id, creator_id, origin) VALUES (1, 'T1', 1, 'Parent', 'parent', 'U1', 'U1', 'command')")
      .run();
    before.sqlite.prepare("INSERT INTO task_comments (task_id, team_id, user_id, text) VALUES (1, 'T1', 'U1', 'child row')").run();
    const createTasks = (before.sqlite.prepare("SELECT sql FROM sqlite_master WHERE name = 'tasks'").get() as { sql: string }).sql;
    before.close();

    const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as {
      entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[];
    };
    const tag = '9999_rebuild_tasks';
    journal.entries.push({ idx: journal.entries.length, version: '6', when: Date.now(), tag, breakpoints: true });
    writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify(journal));
    writeFileSync(
      join(folder, `${tag}.sql`),
      [
        'PRAGMA foreign_keys=OFF;',
        `${createTasks.replace(/^CREATE TABLE [`"]?tasks[`"]?/, 'CREATE TABLE `__new_tasks`')};`,
        'INSERT INTO `__new_tasks` SELECT * FROM `tasks`;',
        'DROP TABLE `tasks`;',
        'ALTER TABLE `__new_tasks` RENAME TO `tasks`;',
        'PRAGMA foreign_keys=ON;',
      ].join('--> statement-breakpoint\n'),
    );

    const after = openStore(path, folder);
    expect(after.sqlite.prepare('SELECT text FROM task_comments').all()).toEqual([{ text: 'child row' }]);
    after.close();
  });

  it('refuses to open when a migration leaves rows that break foreign keys', () => {
    const folder = join(dir, 'migrations');
    cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
    const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: object[] };
    journal.entries.push({ idx: journal.entries.length, version: '6', when: Date.now(), tag: '9999_orphan', breakpoints: true });
    writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify(journal));
    writeFileSync(join(folder, '9999_orphan.sql'), "INSERT INTO task_comments (task_id, team_id, user_id, text) VALUES (424242, 'T1', 'U1', 'orphan');");
    expect(() => openStore(join(dir, 'orphan.db'), folder)).toThrow(/foreign keys/);
  });

  it('prepares a hot query once per store, and runs it with new values each time', () => {
    const store = openStore(':memory:');
    let builds = 0;
    const lastNumber = () =>
      store.prepared('test.lastNumber', (db) => {
        builds++;
        return db.select({ n: teamCounters.lastTaskNumber }).from(teamCounters).where(eq(teamCounters.teamId, sql.placeholder('teamId'))).prepare();
      });
    store.sqlite.prepare("INSERT INTO team_counters (team_id, last_task_number) VALUES ('T1', 3), ('T2', 7)").run();
    expect(lastNumber().get({ teamId: 'T1' })).toEqual({ n: 3 });
    expect(lastNumber().get({ teamId: 'T2' })).toEqual({ n: 7 });
    expect(lastNumber()).toBe(lastNumber());
    expect(builds).toBe(1);
    store.close();
  });

  it('records handled deliveries as done with the next claim, or shortly after on their own', async () => {
    const store = openStore(':memory:');
    const deliveries = new DeliveriesRepository(store);
    const state = (key: string) => (store.sqlite.prepare('SELECT state, body FROM processed_deliveries WHERE key = ?').get(key) as { state: string; body: string | null }).state;
    expect(deliveries.claim('T1', 'event:Ev1', '{"a":1}')).toBe('fresh');
    const first = deliveries.finish('event:Ev1');
    expect(state('event:Ev1')).toBe('handling'); // not yet recorded…
    expect(deliveries.claim('T1', 'event:Ev2', '{}')).toBe('fresh');
    expect(state('event:Ev1')).toBe('done'); // …recorded in the next claim's transaction
    const second = deliveries.finish('event:Ev2');
    await Promise.all([first, second]);
    expect(state('event:Ev2')).toBe('done'); // no claim came: recorded by the timer
    expect(store.sqlite.prepare("SELECT count(*) AS n FROM processed_deliveries WHERE body IS NOT NULL").get()).toEqual({ n: 0 });
    expect(deliveries.claim('T1', 'event:Ev1', '{}')).toBe('duplicate');
    store.close();
  });

  it('prunes event redelivery guards older than the cut-off, and nothing else', async () => {
    const store = openStore(':memory:');
    const deliveries = new DeliveriesRepository(store);
    for (const key of ['event:EvOLD', 'approval-outcome:T1:1', 'event:EvNEW', 'event:EvOLDUNFINISHED']) {
      expect(deliveries.claim('T1', key, '{}')).toBe('fresh');
      if (key !== 'event:EvOLDUNFINISHED') await deliveries.finish(key);
    }
    const dayAndASecondAgo = Date.now() - 24 * 60 * 60_000 - 1000;
    store.sqlite
      .prepare("UPDATE processed_deliveries SET received_at = ? WHERE key IN ('event:EvOLD', 'approval-outcome:T1:1', 'event:EvOLDUNFINISHED')")
      .run(dayAndASecondAgo);

    // Only finished event rows go: an old one still being handled keeps its guard (and its body).
    expect(await deliveries.pruneEvents(24 * 60 * 60_000)).toBe(1);
    const keys = (store.sqlite.prepare('SELECT key FROM processed_deliveries ORDER BY key').all() as { key: string }[]).map((r) => r.key);
    expect(keys).toEqual(['approval-outcome:T1:1', 'event:EvNEW', 'event:EvOLDUNFINISHED']);
    store.close();
  });
});

describe('the database files are readable by their owner alone', () => {
  let dir: string;
  let umask: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-modes-'));
    umask = process.umask(0o002); // a permissive umask, as on many desktops: the modes must not depend on it
  });
  afterEach(() => {
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  });

  const modeOf = (path: string) => statSync(path).mode & 0o777;
  const write = (store: ReturnType<typeof openStore>) =>
    store.sqlite.prepare("INSERT INTO team_counters (team_id, last_task_number) VALUES ('T1', 1) ON CONFLICT DO NOTHING").run();

  it('a fresh store: its folder 0700, the database, -wal and -shm 0600, also after a second connection writes', () => {
    const folder = join(dir, 'data', 'nested');
    const path = join(folder, 'tasklane.db');
    const store = openStore(path);
    write(store);
    // The checkpointer's connection, opened as it opens it.
    const second = new Database(path, { fileMustExist: true });
    second.pragma('wal_checkpoint(PASSIVE)');
    expect(modeOf(join(dir, 'data')).toString(8)).toBe('700');
    expect(modeOf(folder).toString(8)).toBe('700');
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect([file.slice(dir.length), modeOf(file).toString(8)]).toEqual([file.slice(dir.length), '600']);
    second.close();
    store.close();
  });

  it('an existing world-readable database and its -wal/-shm are narrowed to 0600; an existing folder keeps its mode', () => {
    const folder = join(dir, 'shared');
    mkdirSync(folder, { mode: 0o755 });
    chmodSync(folder, 0o755);
    const path = join(folder, 'old.db');
    const old = new Database(path); // as earlier versions created it
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1);');
    for (const file of [path, `${path}-wal`, `${path}-shm`]) chmodSync(file, 0o644);

    const store = openStore(path);
    write(store);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect([file.slice(dir.length), modeOf(file).toString(8)]).toEqual([file.slice(dir.length), '600']);
    expect(modeOf(folder).toString(8)).toBe('755');
    store.close();
    old.close();
  });
});
