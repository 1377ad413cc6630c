import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { homeView, HOME_APPROVALS_SHOWN, HOME_PAGE_SIZE } from '../../src/features/home/views.js';
import { dashboardQueries, DashboardReadModel, type DashboardQuery } from '../../src/store/dashboard.js';
import { openStore, type Store } from '../../src/store/db.js';
import { HomeStateRepository } from '../../src/store/homeState.js';
import { validateView } from '../../src/sandbox/blockKit.js';
import { seedApprovals, seedTasks } from './seed.js';

const T = 'T1';
const U = 'UONE';

describe('the dashboard read model', () => {
  let dir: string;
  let store: Store;
  let read: DashboardReadModel;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-dashboard-'));
    store = openStore(join(dir, 'db.sqlite'));
    read = new DashboardReadModel(store);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const query = (over: Partial<DashboardQuery> = {}): DashboardQuery => ({
    teamId: T,
    userId: U,
    guest: false,
    filter: 'assigned',
    page: 0,
    pageSize: 3,
    approvalsLimit: 10,
    today: '2026-06-15',
    doneSince: 0,
    ...over,
  });

  it('walks an index for every statement: no table scan, no sort', () => {
    for (const [name, query] of Object.entries(dashboardQueries(store.db))) {
      const { sql, params } = query.toSQL();
      expect(sql.match(/\?/g)?.length ?? 0, name).toBe(params.length);
      const plan = (store.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params.map((v) => (typeof v === 'object' ? 'x' : v))) as { detail: string }[]).map((r) => r.detail);
      for (const step of plan) {
        // The search index: a MATCH within the workspace's rowid range (> and <), no other scan.
        expect(step, `${name}: ${plan.join(' | ')}`).toMatch(
          /^SEARCH \w+ USING (COVERING )?INDEX|^SEARCH \w+ USING INTEGER PRIMARY KEY|^SCAN f VIRTUAL TABLE INDEX \d+:M\d*><$|^SCALAR SUBQUERY \d+$/,
        );
        expect(step, name).not.toContain('TEMP B-TREE');
      }
    }
  });

  it('orders "assigned to me" by due date with undated last, across the page boundary', async () => {
    const ids = seedTasks(store, T, [
      { assigneeId: U, dueDate: null, title: 'undated 1' },
      { assigneeId: U, dueDate: '2026-06-20' },
      { assigneeId: U, dueDate: '2026-06-01' },
      { assigneeId: U, dueDate: null, title: 'undated 2' },
      { assigneeId: U, dueDate: '2026-06-15' },
      { assigneeId: U, dueDate: '2026-06-01' },
      { assigneeId: U, dueDate: '2026-07-01', status: 'done' },
      { assigneeId: 'UOTHER', dueDate: '2026-01-01' },
    ]);
    const [u1, d20, d01a, u2, d15, d01b] = ids as [number, number, number, number, number, number];
    const pages = await Promise.all([0, 1, 2].map((page) => read.load(query({ page }))));
    expect(pages.map((p) => p.tasks.items.map((t) => t.id))).toEqual([[d01a, d01b, d15], [d20, u1, u2], [d20, u1, u2]]);
    expect(pages[2]?.tasks.page).toBe(1); // clamped to the last page
    expect(pages[0]?.tasks.total).toBe(6);
    expect(pages[0]?.overdue).toBe(2);
    const two = await read.load(query({ pageSize: 2, page: 2 }));
    expect(two.tasks.items.map((t) => t.id)).toEqual([u1, u2]);
  });

  it('keeps workspaces apart in every list, count and search', async () => {
    seedTasks(store, 'T2', [{ assigneeId: U, title: 'foreign' }, { assigneeId: U, title: 'foreign done', status: 'done' }]);
    seedApprovals(store, 'T2', 2, { approvers: [U] });
    for (const filter of ['assigned', 'created', 'all_open', 'recently_done'] as const) {
      const d = await read.load(query({ filter }));
      expect(d.tasks.total, filter).toBe(0);
      expect(d.approvals.total).toBe(0);
    }
    expect(await read.searchTasks({ teamId: T, userId: U, guest: false }, 'foreign', 100)).toEqual([]);
    expect((await read.searchTasks({ teamId: 'T2', userId: U, guest: false }, 'FOREIGN', 100)).map((h) => h.title)).toEqual(['foreign done', 'foreign']);
    expect((await read.searchTasks({ teamId: 'T2', userId: U, guest: false }, '#1', 100)).map((h) => h.number)).toEqual([1]);
  });

  it('counts pending approvals of the user only, oldest first', async () => {
    const mine = seedApprovals(store, T, 12, { approvers: [U, 'UOTHER'] });
    seedApprovals(store, T, 3, { approvers: ['UOTHER'] });
    store.sqlite.prepare("UPDATE approvals SET status = 'approved' WHERE id = ?").run(mine[0]);
    const d = await read.load(query({ approvalsLimit: 5 }));
    expect(d.approvals.total).toBe(11);
    expect(d.approvals.items.map((a) => a.id)).toEqual(mine.slice(1, 6));
  });

  it('home_state: touch keeps earlier choices, save upserts', async () => {
    const repo = new HomeStateRepository(store);
    expect(await repo.get(T, U)).toBeUndefined();
    repo.touchIn(T, U, 1_000);
    expect(await repo.get(T, U)).toEqual({ filter: 'assigned', page: 0 });
    repo.saveIn(T, U, { filter: 'recently_done', page: 3 }, 2_000);
    repo.touchIn(T, U, 3_000);
    expect(await repo.get(T, U)).toEqual({ filter: 'recently_done', page: 3 });
    expect(store.sqlite.prepare('SELECT updated_at AS at FROM home_state').get()).toEqual({ at: 3_000 });
    expect(await repo.get('T2', U)).toBeUndefined();
  });
});

describe('the Home view', () => {
  it('fits Block Kit whatever the data: 100 blocks, 250 KB, every string cut and escaped', () => {
    const huge = `<!here> *bold* & ${'é'.repeat(2990)}`;
    const tasks = Array.from({ length: HOME_PAGE_SIZE }, (_, i) => ({
      id: 1_000_000 + i,
      number: 999_999_999 - i,
      title: huge,
      status: 'open' as const,
      priority: 'urgent' as const,
      assigneeId: 'UTWO',
      creatorId: 'UONE',
      dueDate: '2020-01-01',
      completedBy: null,
      completedAt: null,
      repeatRule: 'weeks:52:7',
    }));
    const approvals = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, title: huge, details: huge, requesterId: 'not a user <@U1>', createdAt: 1 }));
    for (const filter of ['assigned', 'created', 'all_open', 'recently_done'] as const) {
      const view = homeView({
        userId: 'UONE',
        today: '2026-01-01',
        dashboard: { approvals: { total: 10_000, items: approvals }, tasks: { filter, page: 3, pageSize: HOME_PAGE_SIZE, total: 1_000_000, items: tasks }, overdue: 5000 },
      });
      expect(validateView(view, 'home')).toEqual({ ok: true });
      expect(view.blocks.length).toBeLessThanOrEqual(4 + 2 * HOME_APPROVALS_SHOWN + 1 + 5 + 2 * HOME_PAGE_SIZE + 1);
      const json = JSON.stringify(view);
      expect(Buffer.byteLength(json)).toBeLessThan(100 * 1024);
      expect(json).not.toContain('<!here>');
      expect(json).not.toContain('<@U1>');
      expect(json).toContain('61–80 of 1000000');
    }
  });
});
