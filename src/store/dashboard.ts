import { and, asc, count, desc, eq, gt, gte, isNotNull, isNull, max, sql } from 'drizzle-orm';
import { alias, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { DashboardStore } from './dashboardStore.js';
import type { Db, Store } from './db.js';
import { approvalApprovers, approvals, tasks, taskSearchShards, type HomeFilter, type Priority, type TaskStatus } from './schema.js';
import { HIT_TITLE_CHARS, SHORT_QUERY_REACH, titleQuery } from './searchText.js';

/**
 * The App Home's read model: read-only SQL over `tasks`, `approvals` and `approval_approvers`.
 *
 * Every statement is prepared once and walks one index in its own order (no temp B-tree, no
 * full scan), so a page costs the same for a user with 10 tasks or 10,000 in a store of
 * 1,000,000 (see bench/home.ts and test/home/dashboard.test.ts, which checks the plans):
 *
 * | list                | index                                                         |
 * |---------------------|---------------------------------------------------------------|
 * | assigned to me      | tasks_assignee_idx (team_id, assignee_id, status, due_date)   |
 * | created by me       | tasks_creator_idx (team_id, creator_id, status, created_at)   |
 * | all open            | tasks_team_status_idx (team_id, status, created_at)           |
 * | recently done       | tasks_team_completed_idx (team_id, status, completed_at)      |
 * | waiting on you      | approval_approvers_user_idx (team_id, user_id, approval_id) + approvals PK |
 * | search, 3+ letters  | tasks_fts (trigram), the workspace's rowid range, newest first; then the |
 * |                     | task by tasks_team_number_uq; stops at the limit                        |
 * | search, 1–2 letters | tasks_team_number_uq (team_id, number): the newest 1,000, newest first      |
 *
 * "Assigned to me" is ordered by due date with undated tasks last. SQLite sorts NULL first and
 * `ORDER BY due_date IS NULL, …` would defeat the index, so the list is read as two index
 * ranges (dated, then undated) stitched together by offset. Overdue tasks come first because
 * their dates are the earliest.
 */

export interface DashboardTask {
  id: number;
  number: number;
  title: string;
  status: TaskStatus;
  priority: Priority;
  assigneeId: string;
  creatorId: string;
  dueDate: string | null;
  completedBy: string | null;
  completedAt: number | null;
  /** A repeating task's rule (the series' newest occurrence only); null otherwise. */
  repeatRule: string | null;
}

export interface DashboardApproval {
  id: number;
  title: string;
  details: string;
  requesterId: string | null;
  createdAt: number;
}

export interface TaskPage {
  filter: HomeFilter;
  /** Zero-based; clamped to the last page when the list shrank. */
  page: number;
  pageSize: number;
  total: number;
  items: DashboardTask[];
}

export interface Dashboard {
  approvals: { total: number; items: DashboardApproval[] };
  tasks: TaskPage;
  /** Open tasks assigned to the user that are past due (whatever the filter shows). */
  overdue: number;
}

export interface DashboardQuery {
  teamId: string;
  userId: string;
  /** The user is a Slack guest: the workspace-wide lists show them only their own tasks. */
  guest: boolean;
  filter: HomeFilter;
  page: number;
  pageSize: number;
  /** How many pending approvals to return (the total is always counted). */
  approvalsLimit: number;
  /** The user's calendar date (`YYYY-MM-DD`): due dates before it are overdue. */
  today: string;
  /** "Recently done" shows tasks completed at or after this time (unix ms). */
  doneSince: number;
}

export interface TaskSearchHit {
  id: number;
  number: number;
  /** The title's first `HIT_TITLE_CHARS` characters (all of a title that is not longer). */
  title: string;
  status: TaskStatus;
}

/** The columns a Home row shows, picked from either engine's `tasks` table. */
const DASHBOARD_TASK_FIELDS = ['id', 'number', 'title', 'status', 'priority', 'assigneeId', 'creatorId', 'dueDate', 'completedBy', 'completedAt', 'repeatRule'] as const;
type DashboardTaskField = (typeof DASHBOARD_TASK_FIELDS)[number];
export function dashboardTaskColumns<T extends Record<DashboardTaskField, unknown>>(table: T): Pick<T, DashboardTaskField> {
  return Object.fromEntries(DASHBOARD_TASK_FIELDS.map((f) => [f, table[f]])) as Pick<T, DashboardTaskField>;
}

const TASK = dashboardTaskColumns(tasks);
const HIT = { id: tasks.id, number: tasks.number, title: sql<string>`substr(${tasks.title}, 1, ${sql.raw(String(HIT_TITLE_CHARS))})`.as('title'), status: tasks.status };

/**
 * The title search index (FTS5, trigram; created by migrations/0006, not by drizzle-kit): a task
 * is kept under the rowid `(shard << 32) | number`; the hidden column named after the table takes
 * the MATCH.
 */
const tasksFts = sqliteTable('tasks_fts', { rowid: integer('rowid').notNull(), match: text('tasks_fts') });
const f = alias(tasksFts, 'f');

/** Every statement's values, bound by name when it runs. */
const p = {
  teamId: sql.placeholder('teamId'),
  userId: sql.placeholder('userId'),
  guest: sql.placeholder('guest'),
  today: sql.placeholder('today'),
  doneSince: sql.placeholder('doneSince'),
  number: sql.placeholder('number'),
  text: sql.placeholder('text'),
  match: sql.placeholder('match'),
  limit: sql.placeholder('limit'),
  offset: sql.placeholder('offset'),
};

/**
 * The visibility rule (`visibleTo` in taskReads.ts, `maySee` in features/tasks) for the
 * workspace-wide lists and the search, with the reader as values (guest: 1 or 0), so one prepared
 * statement serves every reader. A row filter on the range each list's index already reads, so
 * the plans stay the same.
 */
const visible = sql`(${tasks.assigneeId} = ${p.userId} OR ${tasks.creatorId} = ${p.userId} OR (${tasks.private} = 0 AND ${p.guest} = 0))`;

const assigned = () => and(eq(tasks.teamId, p.teamId), eq(tasks.assigneeId, p.userId), eq(tasks.status, 'open'));
const created = () => and(eq(tasks.teamId, p.teamId), eq(tasks.creatorId, p.userId), eq(tasks.status, 'open'));
const allOpen = () => and(eq(tasks.teamId, p.teamId), eq(tasks.status, 'open'), visible);
const recentlyDone = () => and(eq(tasks.teamId, p.teamId), eq(tasks.status, 'done'), gte(tasks.completedAt, p.doneSince), visible);
const waiting = () =>
  and(
    eq(approvalApprovers.teamId, p.teamId),
    eq(approvalApprovers.userId, p.userId),
    eq(approvals.teamId, approvalApprovers.teamId),
    eq(approvals.status, 'pending'),
  );
const workspaceShard = (db: Db) => db.select({ shard: taskSearchShards.shard }).from(taskSearchShards).where(eq(taskSearchShards.teamId, p.teamId));

/**
 * Every dashboard statement, by name, unprepared (the EXPLAIN QUERY PLAN test reads their SQL);
 * the read model prepares each once per store.
 */
export function dashboardQueries(db: Db) {
  return {
    assignedDated: db
      .select(TASK)
      .from(tasks)
      .where(and(assigned(), isNotNull(tasks.dueDate)))
      .orderBy(asc(tasks.dueDate), asc(tasks.id))
      .limit(p.limit)
      .offset(p.offset),
    assignedUndated: db
      .select(TASK)
      .from(tasks)
      .where(and(assigned(), isNull(tasks.dueDate)))
      .orderBy(asc(tasks.id))
      .limit(p.limit)
      .offset(p.offset),
    assignedCounts: db
      .select({
        dated: count(tasks.dueDate),
        undated: sql<number>`count(*) - count(${tasks.dueDate})`,
        overdue: sql<number>`count(CASE WHEN ${tasks.dueDate} < ${p.today} THEN 1 END)`,
      })
      .from(tasks)
      .where(assigned()),
    created: db.select(TASK).from(tasks).where(created()).orderBy(desc(tasks.createdAt), desc(tasks.id)).limit(p.limit).offset(p.offset),
    createdCount: db.select({ n: count() }).from(tasks).where(created()),
    allOpen: db.select(TASK).from(tasks).where(allOpen()).orderBy(desc(tasks.createdAt), desc(tasks.id)).limit(p.limit).offset(p.offset),
    allOpenCount: db.select({ n: count() }).from(tasks).where(allOpen()),
    recentlyDone: db
      .select(TASK)
      .from(tasks)
      .where(recentlyDone())
      .orderBy(desc(tasks.completedAt), desc(tasks.id))
      .limit(p.limit)
      .offset(p.offset),
    recentlyDoneCount: db.select({ n: count() }).from(tasks).where(recentlyDone()),
    pendingApprovals: db
      .select({
        id: approvals.id,
        title: approvals.title,
        details: approvals.details,
        requesterId: approvals.requesterId,
        createdAt: approvals.createdAt,
      })
      .from(approvalApprovers)
      .innerJoin(approvals, eq(approvals.id, approvalApprovers.approvalId))
      .where(waiting())
      .orderBy(asc(approvalApprovers.approvalId))
      .limit(p.limit),
    pendingApprovalsCount: db
      .select({ n: count() })
      .from(approvalApprovers)
      .innerJoin(approvals, eq(approvals.id, approvalApprovers.approvalId))
      .where(waiting()),
    // The workspace is one rowid range of the search index, read from the top (newest first) until
    // the limit. FTS5 finds the rows holding the query's end trigrams (titleQuery); instr keeps
    // those holding the whole query.
    searchTitle: db
      .select(HIT)
      .from(f)
      .innerJoin(tasks, and(eq(tasks.teamId, p.teamId), eq(tasks.number, sql`(${f.rowid} & 4294967295)`)))
      .where(
        and(
          sql`${f.match} MATCH ${p.match}`,
          sql`${f.rowid} BETWEEN ${workspaceShard(db)} << 32 AND (${workspaceShard(db)} << 32) | 4294967295`,
          sql`instr(${tasks.titleSearch}, ${p.text}) > 0`,
          visible,
        ),
      )
      .orderBy(desc(f.rowid))
      .limit(p.limit),
    // One or two letters make no trigram: the workspace's newest SHORT_QUERY_REACH tasks, newest
    // first, until the limit.
    searchShortTitle: db
      .select(HIT)
      .from(tasks)
      .where(
        and(
          eq(tasks.teamId, p.teamId),
          gt(tasks.number, sql`(${db.select({ n: max(tasks.number) }).from(tasks).where(eq(tasks.teamId, p.teamId))}) - ${sql.raw(String(SHORT_QUERY_REACH))}`),
          sql`instr(${tasks.titleSearch}, ${p.text}) > 0`,
          visible,
        ),
      )
      .orderBy(desc(tasks.number))
      .limit(p.limit),
    byNumber: db
      .select(HIT)
      .from(tasks)
      .where(and(eq(tasks.teamId, p.teamId), eq(tasks.number, p.number), visible)),
  };
}

type Queries = ReturnType<typeof dashboardQueries>;

/** How far back "Recently done" looks. */
export const RECENTLY_DONE_MS = 30 * 24 * 60 * 60 * 1000;

export class DashboardReadModel implements DashboardStore {
  constructor(private readonly store: Store) {}

  /** The statement `name`, prepared once per store. */
  private q<K extends keyof Queries>(name: K): ReturnType<Queries[K]['prepare']> {
    return this.store.prepared(`dashboard.${name}`, (db) => dashboardQueries(db)[name].prepare() as ReturnType<Queries[K]['prepare']>);
  }

  /** Everything one user's Home shows, in one read transaction (a consistent snapshot). */
  async load(q: DashboardQuery): Promise<Dashboard> {
    return this.store.sqlite.transaction(() => this.loadSync(q))();
  }

  private loadSync(q: DashboardQuery): Dashboard {
    const me = { teamId: q.teamId, userId: q.userId };
    const reader = { ...me, guest: q.guest ? 1 : 0 };
    const approvals = {
      total: this.q('pendingApprovalsCount').get(me)?.n ?? 0,
      items: this.q('pendingApprovals').all({ ...me, limit: q.approvalsLimit }),
    };
    const counts = this.q('assignedCounts').get({ ...me, today: q.today }) ?? { dated: 0, undated: 0, overdue: 0 };
    const size = Math.max(1, q.pageSize);

    let total: number;
    switch (q.filter) {
      case 'assigned':
        total = counts.dated + counts.undated;
        break;
      case 'created':
        total = this.q('createdCount').get(me)?.n ?? 0;
        break;
      case 'all_open':
        total = this.q('allOpenCount').get(reader)?.n ?? 0;
        break;
      case 'recently_done':
        total = this.q('recentlyDoneCount').get({ ...reader, doneSince: q.doneSince })?.n ?? 0;
        break;
    }
    const lastPage = Math.max(0, Math.ceil(total / size) - 1);
    const page = Math.min(Math.max(0, Math.floor(q.page)), lastPage);
    const offset = page * size;

    let items: DashboardTask[];
    switch (q.filter) {
      case 'assigned': {
        items = offset < counts.dated ? this.q('assignedDated').all({ ...me, limit: size, offset }) : [];
        if (items.length < size) {
          items = items.concat(this.q('assignedUndated').all({ ...me, limit: size - items.length, offset: Math.max(0, offset - counts.dated) }));
        }
        break;
      }
      case 'created':
        items = this.q('created').all({ ...me, limit: size, offset });
        break;
      case 'all_open':
        items = this.q('allOpen').all({ ...reader, limit: size, offset });
        break;
      case 'recently_done':
        items = this.q('recentlyDone').all({ ...reader, doneSince: q.doneSince, limit: size, offset });
        break;
    }
    return { approvals, tasks: { filter: q.filter, page, pageSize: size, total, items }, overdue: counts.overdue };
  }

  /**
   * Tasks of one workspace whose title contains `query`, ignoring case and accents
   * (`foldForSearch`), newest first; a query like `12` or `#12` also finds task #12 first.
   * Only tasks `reader` may see.
   */
  async searchTasks(reader: { teamId: string; userId: string; guest: boolean }, query: string, limit: number): Promise<TaskSearchHit[]> {
    const q = query.trim();
    if (q === '') return [];
    const who = { teamId: reader.teamId, userId: reader.userId, guest: reader.guest ? 1 : 0 };
    const hits: TaskSearchHit[] = [];
    const numberMatch = /^#?(\d{1,15})$/.exec(q);
    if (numberMatch) {
      const exact = this.q('byNumber').get({ ...who, number: Number(numberMatch[1]) });
      if (exact) hits.push(exact);
    }
    const title = titleQuery(q);
    if (title === null) return hits;
    const rows =
      title.match === null
        ? this.q('searchShortTitle').all({ ...who, text: title.text, limit })
        : this.q('searchTitle').all({ ...who, text: title.text, match: title.match, limit });
    for (const r of rows) {
      if (hits.length >= limit) break;
      if (!hits.some((h) => h.id === r.id)) hits.push(r);
    }
    return hits;
  }
}
