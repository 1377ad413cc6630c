// The App Home read model's contract, run on both engines: SQLite (a file store opened as in
// production) and PostgreSQL (a database of this file's own, migrated as at start-up). The data
// goes in through the tasks and approvals repositories; each case asserts whole `load` results.
// SQLite's behaviour is the reference. On PostgreSQL, a generated workspace is also read through
// both engines and every list, page and reader compared.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalsRepository } from '../../src/store/approvals.js';
import type { ApprovalsStore, NewApproval } from '../../src/store/approvalsStore.js';
import { DashboardReadModel } from '../../src/store/dashboard.js';
import type { Dashboard, DashboardQuery, DashboardStore, DashboardTask } from '../../src/store/dashboardStore.js';
import { openStore, type Store } from '../../src/store/db.js';
import { PgApprovalsRepository } from '../../src/store/pg/approvals.js';
import { PgDashboardReadModel } from '../../src/store/pg/dashboard.js';
import { pgDatabase, type PgDb } from '../../src/store/pg/db.js';
import * as pgSchema from '../../src/store/pg/schema.js';
import { PgTasksRepository } from '../../src/store/pg/tasks.js';
import type { HomeFilter, TaskRow } from '../../src/store/schema.js';
import { TasksRepository } from '../../src/store/tasks.js';
import type { NewTask, TasksStore } from '../../src/store/tasksStore.js';
import { useSqliteFileStore } from '../support/sqliteStore.js';
import { describePostgres, useMigratedPool } from '../support/postgres.js';

const A = 'T0AAAAAAA';
const B = 'T0BBBBBBB';
const ME = 'UME';
const BOB = 'UBOB';
const CAT = 'UCAT';
const FILTERS: HomeFilter[] = ['assigned', 'created', 'all_open', 'recently_done'];

let clock = 1_700_000_000_000;
const now = () => clock;
const tick = () => (clock += 1000);

/** One engine's store: the repositories that write, the read model under test. */
interface Engine {
  tasks: TasksStore;
  approvals: ApprovalsStore;
  read: DashboardStore;
}

const sqliteEngine = (store: Store): Engine => ({
  tasks: new TasksRepository(store),
  approvals: new ApprovalsRepository(store, now),
  read: new DashboardReadModel(store),
});

const pgEngine = (db: PgDb): Engine => ({
  tasks: new PgTasksRepository(db),
  approvals: new PgApprovalsRepository(db, now),
  read: new PgDashboardReadModel(db),
});

const newTask = (title: string, over: Partial<NewTask> = {}): NewTask => ({ teamId: A, title, assigneeId: ME, creatorId: BOB, origin: 'command', ...over });

const request = (title: string, approverIds: string[], over: Partial<NewApproval> = {}): NewApproval => ({
  teamId: A,
  title,
  details: `details of ${title}`,
  requesterId: 'UREQ',
  approverIds,
  origin: 'shortcut',
  actorId: 'UREQ',
  ...over,
});

/** What the Home shows of a task. */
const shown = (t: TaskRow): DashboardTask => ({
  id: t.id,
  number: t.number,
  title: t.title,
  status: t.status,
  priority: t.priority,
  assigneeId: t.assigneeId,
  creatorId: t.creatorId,
  dueDate: t.dueDate,
  completedBy: t.completedBy,
  completedAt: t.completedAt,
  repeatRule: t.repeatRule,
});

/**
 * Workspace A as the cases read it, ids in creation order (1, 2, …). Reader ME, today 2026-06-15.
 * Assigned to ME and open: privMine (05-01), o1a and o1b (06-01, overdue), d15 (today), d20, then
 * the undated u1 and u2. bobPrivate is hidden from other members; twinA and twinB share a creation
 * time, bobDone and bobPrivateDone a completion time; oldDone was completed before `doneSince`.
 * Workspace B holds tasks and an approval of ME's that A never shows.
 */
async function seed(e: Engine) {
  const make = async (title: string, over: Partial<NewTask> = {}, at = tick()) => (await e.tasks.create(newTask(title, over), at)).task;
  const u1 = await make('Undated 1');
  const d20 = await make('Due the 20th', { dueDate: '2026-06-20', priority: 'high' });
  const o1a = await make('Overdue 1a', { dueDate: '2026-06-01' });
  const u2 = await make('Undated 2, mine', { creatorId: ME });
  const d15 = await make('Due today', { dueDate: '2026-06-15', priority: 'urgent' });
  const o1b = await make('Overdue 1b', { dueDate: '2026-06-01' });
  const mineDone = await make('Done of mine', { dueDate: '2026-07-01' });
  const bobOpen = await make("Bob's", { assigneeId: BOB });
  const bobPrivate = await make("Bob's private", { assigneeId: BOB, private: true });
  const privMine = await make('Private, assigned to me', { dueDate: '2026-05-01', private: true });
  const createdByMe = await make('Private, created by me', { assigneeId: BOB, creatorId: ME, private: true });
  const twinAt = tick();
  const twinA = await make('Twin A', { assigneeId: CAT, creatorId: CAT }, twinAt);
  const twinB = await make('Twin B', { assigneeId: CAT, creatorId: CAT }, twinAt);
  const bobDone = await make('Bob done', { assigneeId: BOB });
  const bobPrivateDone = await make('Bob done, private', { assigneeId: BOB, private: true });
  const oldDone = await make('Done long ago', { assigneeId: BOB });

  await e.tasks.complete(A, oldDone.id, BOB, 1_600_000_000_000);
  const doneSince = tick();
  const mineDoneAt = tick();
  await e.tasks.complete(A, mineDone.id, ME, mineDoneAt);
  const doneAt = tick();
  await e.tasks.complete(A, bobDone.id, BOB, doneAt);
  await e.tasks.complete(A, bobPrivateDone.id, BOB, doneAt);

  await make('Foreign', { teamId: B, creatorId: ME, dueDate: '2026-01-01' });
  const foreignDone = await make('Foreign done', { teamId: B, creatorId: ME });
  await e.tasks.complete(B, foreignDone.id, ME, tick());

  tick();
  const a1 = (await e.approvals.create(request('Budget', [ME, BOB]))).approval;
  tick();
  const a2 = (await e.approvals.create(request('Bob only', [BOB]))).approval;
  tick();
  const a3 = (await e.approvals.create(request('Cat and me', [CAT, ME]))).approval;
  tick();
  const a4 = (await e.approvals.create(request('Decided', [ME]))).approval;
  await e.approvals.decide({ teamId: A, id: a4.id, outcome: 'approved', deciderId: ME, comment: '' });
  tick();
  const a5 = (await e.approvals.create(request('Last', [ME], { requesterId: null, actorId: 'workflow' }))).approval;
  tick();
  await e.approvals.create(request('Foreign', [ME], { teamId: B }));

  const rows = [u1, d20, o1a, u2, d15, o1b, mineDone, bobOpen, bobPrivate, privMine, createdByMe, twinA, twinB, bobDone, bobPrivateDone, oldDone];
  const fresh = await Promise.all(rows.map(async (t) => shown((await e.tasks.findById(A, t.id))!)));
  const [U1, D20, O1A, U2, D15, O1B, MINE_DONE, BOB_OPEN, BOB_PRIVATE, PRIV_MINE, CREATED_BY_ME, TWIN_A, TWIN_B, BOB_DONE, BOB_PRIVATE_DONE, OLD_DONE] = fresh as [
    DashboardTask, DashboardTask, DashboardTask, DashboardTask, DashboardTask, DashboardTask, DashboardTask, DashboardTask,
    DashboardTask, DashboardTask, DashboardTask, DashboardTask, DashboardTask, DashboardTask, DashboardTask, DashboardTask,
  ];
  const approval = (a: typeof a1) => ({ id: a.id, title: a.title, details: a.details, requesterId: a.requesterId, createdAt: a.createdAt });
  return {
    t: { U1, D20, O1A, U2, D15, O1B, MINE_DONE, BOB_OPEN, BOB_PRIVATE, PRIV_MINE, CREATED_BY_ME, TWIN_A, TWIN_B, BOB_DONE, BOB_PRIVATE_DONE, OLD_DONE },
    a: { a1: approval(a1), a2: approval(a2), a3: approval(a3), a5: approval(a5) },
    doneSince,
    mineDoneAt,
  };
}

function contract(current: () => Engine): void {
  describe('one seeded workspace', () => seeded(current));
}

function seeded(current: () => Engine): void {
  const read = () => current().read;
  let s: Awaited<ReturnType<typeof seed>>;
  const query = (over: Partial<DashboardQuery> = {}): DashboardQuery => ({
    teamId: A,
    userId: ME,
    guest: false,
    filter: 'assigned',
    page: 0,
    pageSize: 3,
    approvalsLimit: 10,
    today: '2026-06-15',
    doneSince: s.doneSince,
    ...over,
  });
  /** ME's Home with the given list page: three approvals waiting, three overdue tasks. */
  const mine = (filter: HomeFilter, page: number, pageSize: number, total: number, items: DashboardTask[]): Dashboard => ({
    approvals: { total: 3, items: [s.a.a1, s.a.a3, s.a.a5] },
    tasks: { filter, page, pageSize, total, items },
    overdue: 3,
  });

  beforeEach(async () => {
    s = await seed(current());
  });

  describe('assigned to me', () => {
    it('orders by due date, overdue first, undated last (by id), on every page size and across the boundary', async () => {
      const { PRIV_MINE, O1A, O1B, D15, D20, U1, U2 } = s.t;
      const order = [PRIV_MINE, O1A, O1B, D15, D20, U1, U2];
      for (const size of [1, 2, 3, 4, 5, 6, 7, 8]) {
        const pages = Math.ceil(order.length / size);
        for (let page = 0; page < pages; page++) {
          expect(await read().load(query({ pageSize: size, page })), `size ${size} page ${page}`).toEqual(
            mine('assigned', page, size, 7, order.slice(page * size, (page + 1) * size)),
          );
        }
      }
    });

    it('clamps the page to the last one, a negative or fractional page to a whole one, the size to at least 1', async () => {
      const { PRIV_MINE, O1A, O1B, D15, D20, U1, U2 } = s.t;
      expect(await read().load(query({ page: 9 }))).toEqual(mine('assigned', 2, 3, 7, [U2]));
      expect(await read().load(query({ page: -4 }))).toEqual(mine('assigned', 0, 3, 7, [PRIV_MINE, O1A, O1B]));
      expect(await read().load(query({ page: 1.7 }))).toEqual(mine('assigned', 1, 3, 7, [D15, D20, U1]));
      expect(await read().load(query({ pageSize: 0, page: 6 }))).toEqual(mine('assigned', 6, 1, 7, [U2]));
    });

    it('counts overdue against the given day, whatever the filter shows', async () => {
      for (const filter of FILTERS) {
        expect((await read().load(query({ filter, today: '2026-06-01' }))).overdue).toBe(1);
        expect((await read().load(query({ filter, today: '2026-06-16' }))).overdue).toBe(4);
        expect((await read().load(query({ filter, today: '2027-01-01' }))).overdue).toBe(5);
      }
    });

    it('shows a user with nothing an empty first page', async () => {
      for (const filter of ['assigned', 'created'] as const) {
        expect(await read().load(query({ userId: 'UNOBODY', filter, page: 3 }))).toEqual({
          approvals: { total: 0, items: [] },
          tasks: { filter, page: 0, pageSize: 3, total: 0, items: [] },
          overdue: 0,
        });
      }
    });
  });

  describe('the other lists', () => {
    it('created by me: open ones, newest first, private ones too', async () => {
      const { CREATED_BY_ME, U2 } = s.t;
      expect(await read().load(query({ filter: 'created' }))).toEqual(mine('created', 0, 3, 2, [CREATED_BY_ME, U2]));
      expect(await read().load(query({ filter: 'created', guest: true, pageSize: 1, page: 1 }))).toEqual(mine('created', 1, 1, 2, [U2]));
    });

    it('all open: newest first (a shared creation time by id), private tasks of others hidden', async () => {
      const { TWIN_B, TWIN_A, CREATED_BY_ME, PRIV_MINE, BOB_OPEN, O1B, D15, U2, O1A, D20, U1 } = s.t;
      const all = [TWIN_B, TWIN_A, CREATED_BY_ME, PRIV_MINE, BOB_OPEN, O1B, D15, U2, O1A, D20, U1];
      for (const page of [0, 1, 2, 3]) {
        expect(await read().load(query({ filter: 'all_open', page, pageSize: 4 })), `page ${page}`).toEqual(
          mine('all_open', Math.min(page, 2), 4, 11, all.slice(Math.min(page, 2) * 4, Math.min(page, 2) * 4 + 4)),
        );
      }
      const cat = await read().load(query({ userId: CAT, filter: 'all_open', pageSize: 20 }));
      expect(cat.tasks.items.map((t) => t.title)).toEqual(['Twin B', 'Twin A', "Bob's", 'Overdue 1b', 'Due today', 'Undated 2, mine', 'Overdue 1a', 'Due the 20th', 'Undated 1']);
      expect(cat.approvals).toEqual({ total: 1, items: [s.a.a3] });
      expect(cat.overdue).toBe(0);
    });

    it('all open for a guest: only tasks they created or are assigned', async () => {
      const { CREATED_BY_ME, PRIV_MINE, O1B, D15, U2, O1A, D20, U1 } = s.t;
      expect(await read().load(query({ filter: 'all_open', guest: true, pageSize: 10 }))).toEqual(
        mine('all_open', 0, 10, 8, [CREATED_BY_ME, PRIV_MINE, O1B, D15, U2, O1A, D20, U1]),
      );
      const cat = await read().load(query({ userId: CAT, guest: true, filter: 'all_open' }));
      expect(cat.tasks).toEqual({ filter: 'all_open', page: 0, pageSize: 3, total: 2, items: [s.t.TWIN_B, s.t.TWIN_A] });
    });

    it('recently done: completed since the cut-off (inclusive), latest first (a shared time by id), visibility applied', async () => {
      const { BOB_DONE, BOB_PRIVATE_DONE, MINE_DONE, OLD_DONE } = s.t;
      expect(await read().load(query({ filter: 'recently_done' }))).toEqual(mine('recently_done', 0, 3, 2, [BOB_DONE, MINE_DONE]));
      expect(await read().load(query({ filter: 'recently_done', doneSince: 0 }))).toEqual(mine('recently_done', 0, 3, 3, [BOB_DONE, MINE_DONE, OLD_DONE]));
      expect(await read().load(query({ filter: 'recently_done', doneSince: s.mineDoneAt, pageSize: 1, page: 1 }))).toEqual(
        mine('recently_done', 1, 1, 2, [MINE_DONE]),
      );
      expect(await read().load(query({ filter: 'recently_done', guest: true }))).toEqual(mine('recently_done', 0, 3, 1, [MINE_DONE]));
      const bob = await read().load(query({ userId: BOB, filter: 'recently_done', page: 5 }));
      expect(bob.tasks).toEqual({ filter: 'recently_done', page: 0, pageSize: 3, total: 3, items: [BOB_PRIVATE_DONE, BOB_DONE, MINE_DONE] });
      expect(bob.approvals).toEqual({ total: 2, items: [s.a.a1, s.a.a2] });
    });
  });

  describe('approvals waiting on the user', () => {
    it('only pending ones the user is an approver of, oldest first, up to the limit, all counted', async () => {
      expect((await read().load(query({ approvalsLimit: 2 }))).approvals).toEqual({ total: 3, items: [s.a.a1, s.a.a3] });
      expect((await read().load(query({ approvalsLimit: 0 }))).approvals).toEqual({ total: 3, items: [] });
      expect((await read().load(query({ approvalsLimit: -1 }))).approvals).toEqual({ total: 3, items: [s.a.a1, s.a.a3, s.a.a5] });
      expect((await read().load(query({ userId: 'UREQ' }))).approvals).toEqual({ total: 0, items: [] });
    });
  });

  describe('workspaces', () => {
    it('never shows another workspace in any list, count or search', async () => {
      const b = (over: Partial<DashboardQuery>) => read().load(query({ teamId: B, pageSize: 10, ...over }));
      const foreignA = await b({ filter: 'assigned' });
      expect(foreignA.tasks.items.map((t) => t.title)).toEqual(['Foreign']);
      expect(foreignA.overdue).toBe(1);
      expect(foreignA.approvals.items.map((a) => a.title)).toEqual(['Foreign']);
      expect((await b({ filter: 'recently_done', doneSince: 0 })).tasks.items.map((t) => t.title)).toEqual(['Foreign done']);
      for (const filter of FILTERS) {
        const d = await read().load(query({ filter, doneSince: 0, pageSize: 50 }));
        expect(d.tasks.items.every((t) => !t.title.startsWith('Foreign')), filter).toBe(true);
        expect(d.approvals.items.every((a) => a.title !== 'Foreign')).toBe(true);
        expect(await read().load(query({ teamId: 'T0NOBODY', filter }))).toEqual({
          approvals: { total: 0, items: [] },
          tasks: { filter, page: 0, pageSize: 3, total: 0, items: [] },
          overdue: 0,
        });
      }
      expect(await read().searchTasks({ teamId: A, userId: ME, guest: false }, 'foreign', 100)).toEqual([]);
    });
  });

  describe('search', () => {
    it('finds titles and numbers the reader may see, newest first', async () => {
      const hit = (t: DashboardTask) => ({ id: t.id, number: t.number, title: t.title, status: t.status });
      const me = { teamId: A, userId: ME, guest: false };
      expect(await read().searchTasks(me, 'PRIVATE', 100)).toEqual([hit(s.t.CREATED_BY_ME), hit(s.t.PRIV_MINE)]);
      expect(await read().searchTasks({ ...me, userId: BOB }, 'private', 100)).toEqual([
        hit(s.t.BOB_PRIVATE_DONE),
        hit(s.t.CREATED_BY_ME),
        hit(s.t.PRIV_MINE),
        hit(s.t.BOB_PRIVATE),
      ]);
      expect(await read().searchTasks(me, '#9', 100)).toEqual([]);
      expect(await read().searchTasks({ ...me, userId: CAT, guest: true }, 'twin', 100)).toEqual([hit(s.t.TWIN_B), hit(s.t.TWIN_A)]);
      expect(await read().searchTasks(me, '3', 2)).toEqual([hit(s.t.O1A)]);
      expect(await read().searchTasks(me, '  ', 10)).toEqual([]);
    });
  });
}

describe('dashboard read model on SQLite', () => {
  const sqlite = useSqliteFileStore();
  let engine: Engine;
  beforeEach(() => {
    engine = sqliteEngine(sqlite.store);
  });
  contract(() => engine);
});

describePostgres('dashboard read model on PostgreSQL', () => {
  const database = useMigratedPool(6);
  let db: PgDb;
  let engine: Engine;
  beforeAll(() => {
    db = pgDatabase(database.pool);
    engine = pgEngine(db);
  });
  contract(() => engine);

  it('reads every list through an index, no table scan; a long list walks its index in order', async () => {
    // A store of 40 workspaces, so the planner prices a workspace's rows as the few they are.
    await database.pool.query(`INSERT INTO tasks (team_id, number, title, title_search, status, assignee_id, creator_id, due_date,
        origin, created_at, updated_at, completed_at, completed_by, private)
      SELECT 'T' || (g % 40), g, 'Task ' || g, 'task ' || g, CASE WHEN g % 3 = 0 THEN 'done' ELSE 'open' END,
        'U' || (g % 20), 'U' || ((g / 7) % 20), CASE WHEN g % 4 = 0 THEN NULL ELSE '2026-0' || (1 + g % 9) || '-1' || (g % 10) END,
        'command', 1700000000000 + g * 1000, 1700000000000 + g * 1000,
        CASE WHEN g % 3 = 0 THEN 1700000000000 + g * 1000 END, CASE WHEN g % 3 = 0 THEN 'U1' END, g % 10 = 0
      FROM generate_series(1, 50000) g`);
    await database.pool.query(`INSERT INTO approvals (team_id, title, details, requester_id, origin, status, created_at, updated_at)
      SELECT 'T' || (g % 40), 'A' || g, '', 'UREQ', 'shortcut', CASE WHEN g % 4 = 0 THEN 'approved' ELSE 'pending' END, g, g
      FROM generate_series(1, 20000) g`);
    await database.pool.query(`INSERT INTO approval_approvers (approval_id, team_id, user_id)
      SELECT id, team_id, 'U' || (id % 20) FROM approvals UNION ALL SELECT id, team_id, 'U' || ((id + 1) % 20) FROM approvals`);
    // And one user with thousands of tasks and approvals of their own.
    await database.pool.query(`INSERT INTO tasks (team_id, number, title, title_search, status, assignee_id, creator_id, due_date,
        origin, created_at, updated_at, completed_at, completed_by, private)
      SELECT 'T3', 100000 + g, 'Big ' || g, 'big ' || g, CASE WHEN g % 3 = 0 THEN 'done' ELSE 'open' END,
        'UBIG', 'UBIG', CASE WHEN g % 4 = 0 THEN NULL ELSE '2026-0' || (1 + g % 9) || '-1' || (g % 10) END,
        'command', 1700000000000 + g * 1000, 1700000000000 + g * 1000,
        CASE WHEN g % 3 = 0 THEN 1700000000000 + g * 1000 END, CASE WHEN g % 3 = 0 THEN 'UBIG' END, false
      FROM generate_series(1, 3000) g`);
    await database.pool.query(`WITH a AS (INSERT INTO approvals (team_id, title, details, requester_id, origin, created_at, updated_at)
        SELECT 'T3', 'Big ' || g, '', 'UREQ', 'shortcut', g, g FROM generate_series(1, 500) g RETURNING id)
      INSERT INTO approval_approvers (approval_id, team_id, user_id) SELECT id, 'T3', 'UBIG' FROM a`);
    await database.pool.query('ANALYZE');
    const plans = async (userId: string) => {
      const seen: { query: string; params: unknown[] }[] = [];
      const logged = drizzle(database.pool, { schema: pgSchema, logger: { logQuery: (query, params) => seen.push({ query, params }) } });
      const reader = new PgDashboardReadModel(logged);
      for (const filter of FILTERS) {
        for (const guest of [false, true]) {
          await reader.load({ teamId: 'T3', userId, guest, filter, page: 2, pageSize: 10, approvalsLimit: 5, today: '2026-05-01', doneSince: 1_700_000_000_000 });
        }
      }
      // Each load: one REPEATABLE READ read-only transaction around its reads.
      expect(seen.filter((q) => /^begin/i.test(q.query)).map((q) => q.query.toLowerCase())).toEqual(
        Array(FILTERS.length * 2).fill('begin isolation level repeatable read read only'),
      );
      const selects = seen.filter((q) => /^select/i.test(q.query));
      expect(selects.length).toBe(2 * (4 + 3 * 5)); // "assigned" needs no count of its own
      return Promise.all(
        selects.map(async ({ query, params }) => {
          const { rows } = await database.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query}`, params);
          return { query, plan: rows.map((r) => r['QUERY PLAN']).join('\n') };
        }),
      );
    };
    for (const { query, plan } of [...(await plans('U3')), ...(await plans('UBIG'))]) {
      expect(plan, `${query}\n${plan}`).not.toMatch(/Seq Scan/);
    }
    // Thousands of tasks: each page walks its list's index in order and stops at the limit,
    // sorting only runs of equal keys by id (PostgreSQL's indexes do not end with the id).
    const pages = (await plans('UBIG')).filter((p) => /^select "id".* limit /.test(p.query));
    expect(pages).toHaveLength(8);
    const walks = [
      'Index Scan using tasks_assignee_idx',
      'Index Scan using tasks_assignee_idx',
      'Index Scan Backward using tasks_creator_idx',
      'Index Scan Backward using tasks_creator_idx',
      'Index Scan Backward using tasks_team_status_idx',
      'Index Scan Backward using tasks_team_status_idx',
      'Index Scan Backward using tasks_team_completed_idx',
      // A guest's recently done: their own done tasks through the assignee and creator indexes
      // (a BitmapOr), then sorted; the planner prices that below walking the workspace's.
    ];
    walks.forEach((walk, i) => {
      const { query, plan } = pages[i]!;
      expect(plan, `${query}\n${plan}`).toContain(walk);
      expect(plan, `${query}\n${plan}`).not.toMatch(/(?<!Incremental )Sort {2}\(/);
    });
  });

  describe('the same data on both engines', () => {
    let dir: string;
    let store: Store;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'tasklane-dashboard-both-'));
      store = openStore(join(dir, 'db.sqlite'));
    });
    afterEach(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a generated workspace reads the same through both, for every user, list, page and page size', async () => {
      const engines = [sqliteEngine(store), engine];
      const users = [ME, BOB, CAT, 'UDAN'];
      let x = 12345;
      const rand = (n: number) => ((x = (x * 1103515245 + 12345) % 2147483648) % n);
      const dates = [null, null, '2026-06-01', '2026-06-14', '2026-06-15', '2026-06-15', '2026-07-30'];
      const base = clock;
      // The same writes, in the same order and at the same times, on both engines.
      for (let i = 0; i < 90; i++) {
        const input = newTask(`Generated ${i}`, {
          teamId: rand(8) === 0 ? B : A,
          assigneeId: users[rand(4)]!,
          creatorId: users[rand(4)]!,
          dueDate: dates[rand(dates.length)]!,
          private: rand(4) === 0,
        });
        const at = base + 1000 * Math.floor(i / 3); // three tasks per creation time
        const done = rand(3) === 0 ? base + 500 * rand(20) : null;
        const actor = users[rand(4)]!;
        for (const e of engines) {
          const { task } = await e.tasks.create(input, at);
          if (done !== null) await e.tasks.complete(input.teamId, task.id, actor, done);
        }
      }
      for (let i = 0; i < 12; i++) {
        const approvers = users.filter(() => rand(2) === 0);
        const decide = rand(3) === 0;
        clock += 1000;
        for (const e of engines) {
          const { approval } = await e.approvals.create(request(`Generated ${i}`, approvers.length > 0 ? approvers : [ME]));
          if (decide) await e.approvals.decide({ teamId: A, id: approval.id, outcome: 'rejected', deciderId: approval.approvers[0]!.userId, comment: 'no' });
        }
      }
      let compared = 0;
      for (const userId of [...users, 'UNOBODY']) {
        for (const guest of [false, true]) {
          for (const filter of FILTERS) {
            for (const pageSize of [1, 4, 7, 100]) {
              const q: DashboardQuery = {
                teamId: A,
                userId,
                guest,
                filter,
                page: 0,
                pageSize,
                approvalsLimit: 3,
                today: '2026-06-15',
                doneSince: base + 500 * 8,
              };
              const first = await engines[0]!.read.load(q);
              const pages = Math.ceil(first.tasks.total / pageSize);
              for (const page of new Set([0, 1, 2, pages - 2, pages - 1, pages, pages + 3])) {
                const [want, got] = await Promise.all(engines.map((e) => e.read.load({ ...q, page })));
                expect(got, `${userId} guest=${guest} ${filter} size ${pageSize} page ${page}`).toEqual(want);
                compared++;
              }
            }
          }
        }
      }
      expect(compared).toBeGreaterThan(200);
    });
  });
});
