import type { Statement } from 'better-sqlite3';
import type { DashboardStore } from './dashboardStore.js';
import type { Store } from './db.js';
import type { HomeFilter, Priority, TaskStatus } from './schema.js';
import { titleQuery } from './searchText.js';

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
 * | search, 1–2 letters | tasks_team_number_uq (team_id, number): newest first, stops at the limit |
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
  title: string;
  status: TaskStatus;
}

interface TaskSqlRow {
  id: number;
  number: number;
  title: string;
  status: TaskStatus;
  priority: Priority;
  assignee_id: string;
  creator_id: string;
  due_date: string | null;
  completed_by: string | null;
  completed_at: number | null;
}

interface ApprovalSqlRow {
  id: number;
  title: string;
  details: string;
  requester_id: string | null;
  created_at: number;
}

const TASK_COLUMNS = 'id, number, title, status, priority, assignee_id, creator_id, due_date, completed_by, completed_at';

/**
 * The visibility rule (`visibleTo` in tasks.ts, `maySee` in features/tasks) for the
 * workspace-wide lists and the search. Parameters: user, user, guest (1 or 0). A row filter on
 * the range each list's index already reads, so the plans stay the same.
 */
const VISIBLE = `(assignee_id = ? OR creator_id = ? OR (private = 0 AND ? = 0))`;

const toTask = (r: TaskSqlRow): DashboardTask => ({
  id: r.id,
  number: r.number,
  title: r.title,
  status: r.status,
  priority: r.priority,
  assigneeId: r.assignee_id,
  creatorId: r.creator_id,
  dueDate: r.due_date,
  completedBy: r.completed_by,
  completedAt: r.completed_at,
});

/** The SQL of every dashboard statement, by name (exported for the EXPLAIN QUERY PLAN test). */
export const DASHBOARD_SQL = {
  assignedDated: `SELECT ${TASK_COLUMNS} FROM tasks
    WHERE team_id = ? AND assignee_id = ? AND status = 'open' AND due_date IS NOT NULL
    ORDER BY due_date, id LIMIT ? OFFSET ?`,
  assignedUndated: `SELECT ${TASK_COLUMNS} FROM tasks
    WHERE team_id = ? AND assignee_id = ? AND status = 'open' AND due_date IS NULL
    ORDER BY id LIMIT ? OFFSET ?`,
  assignedCounts: `SELECT count(due_date) AS dated, count(*) - count(due_date) AS undated,
      count(CASE WHEN due_date < ? THEN 1 END) AS overdue
    FROM tasks WHERE team_id = ? AND assignee_id = ? AND status = 'open'`,
  created: `SELECT ${TASK_COLUMNS} FROM tasks
    WHERE team_id = ? AND creator_id = ? AND status = 'open'
    ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
  createdCount: `SELECT count(*) AS n FROM tasks WHERE team_id = ? AND creator_id = ? AND status = 'open'`,
  allOpen: `SELECT ${TASK_COLUMNS} FROM tasks
    WHERE team_id = ? AND status = 'open' AND ${VISIBLE}
    ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
  allOpenCount: `SELECT count(*) AS n FROM tasks WHERE team_id = ? AND status = 'open' AND ${VISIBLE}`,
  recentlyDone: `SELECT ${TASK_COLUMNS} FROM tasks
    WHERE team_id = ? AND status = 'done' AND completed_at >= ? AND ${VISIBLE}
    ORDER BY completed_at DESC, id DESC LIMIT ? OFFSET ?`,
  recentlyDoneCount: `SELECT count(*) AS n FROM tasks
    WHERE team_id = ? AND status = 'done' AND completed_at >= ? AND ${VISIBLE}`,
  pendingApprovals: `SELECT a.id, a.title, a.details, a.requester_id, a.created_at
    FROM approval_approvers aa JOIN approvals a ON a.id = aa.approval_id
    WHERE aa.team_id = ? AND aa.user_id = ? AND a.team_id = aa.team_id AND a.status = 'pending'
    ORDER BY aa.approval_id LIMIT ?`,
  pendingApprovalsCount: `SELECT count(*) AS n
    FROM approval_approvers aa JOIN approvals a ON a.id = aa.approval_id
    WHERE aa.team_id = ? AND aa.user_id = ? AND a.team_id = aa.team_id AND a.status = 'pending'`,
  // The search index holds a task under (its workspace's shard << 32) | its number (migrations/0006),
  // so the workspace is one rowid range, read from the top (newest first) until the limit. FTS5
  // finds the rows holding the query's end trigrams (titleQuery); instr keeps those holding the query.
  // Parameters: team, FTS5 query, team, team, folded query, user, user, guest, limit.
  searchTitle: `SELECT t.id, t.number, t.title, t.status FROM tasks_fts f
      JOIN tasks t ON t.team_id = ? AND t.number = (f.rowid & 4294967295)
    WHERE tasks_fts MATCH ?
      AND f.rowid BETWEEN (SELECT shard FROM task_search_shards WHERE team_id = ?) << 32
        AND ((SELECT shard FROM task_search_shards WHERE team_id = ?) << 32) | 4294967295
      AND instr(t.title_search, ?) > 0 AND ${VISIBLE}
    ORDER BY f.rowid DESC LIMIT ?`,
  // One or two letters make no trigram: the workspace's rows newest first, until the limit (all
  // of them when few match).
  searchShortTitle: `SELECT id, number, title, status FROM tasks
    WHERE team_id = ? AND instr(title_search, ?) > 0 AND ${VISIBLE}
    ORDER BY number DESC LIMIT ?`,
  byNumber: `SELECT id, number, title, status FROM tasks WHERE team_id = ? AND number = ? AND ${VISIBLE}`,
} as const;

type StatementName = keyof typeof DASHBOARD_SQL;

/** How far back "Recently done" looks. */
export const RECENTLY_DONE_MS = 30 * 24 * 60 * 60 * 1000;

export class DashboardReadModel implements DashboardStore {
  private readonly statements = new Map<StatementName, Statement>();

  constructor(private readonly store: Store) {}

  private stmt(name: StatementName): Statement {
    let s = this.statements.get(name);
    if (!s) {
      s = this.store.sqlite.prepare(DASHBOARD_SQL[name]);
      this.statements.set(name, s);
    }
    return s;
  }

  private tasks(name: StatementName, ...params: unknown[]): DashboardTask[] {
    return (this.stmt(name).all(...params) as TaskSqlRow[]).map(toTask);
  }

  private count(name: StatementName, ...params: unknown[]): number {
    return (this.stmt(name).get(...params) as { n: number }).n;
  }

  /** Everything one user's Home shows, in one read transaction (a consistent snapshot). */
  async load(q: DashboardQuery): Promise<Dashboard> {
    return this.store.sqlite.transaction(() => this.loadSync(q))();
  }

  private loadSync(q: DashboardQuery): Dashboard {
    const approvals = {
      total: this.count('pendingApprovalsCount', q.teamId, q.userId),
      items: (this.stmt('pendingApprovals').all(q.teamId, q.userId, q.approvalsLimit) as ApprovalSqlRow[]).map((r) => ({
        id: r.id,
        title: r.title,
        details: r.details,
        requesterId: r.requester_id,
        createdAt: r.created_at,
      })),
    };
    const counts = this.stmt('assignedCounts').get(q.today, q.teamId, q.userId) as { dated: number; undated: number; overdue: number };
    const size = Math.max(1, q.pageSize);
    const reader = [q.userId, q.userId, q.guest ? 1 : 0];

    let total: number;
    switch (q.filter) {
      case 'assigned':
        total = counts.dated + counts.undated;
        break;
      case 'created':
        total = this.count('createdCount', q.teamId, q.userId);
        break;
      case 'all_open':
        total = this.count('allOpenCount', q.teamId, ...reader);
        break;
      case 'recently_done':
        total = this.count('recentlyDoneCount', q.teamId, q.doneSince, ...reader);
        break;
    }
    const lastPage = Math.max(0, Math.ceil(total / size) - 1);
    const page = Math.min(Math.max(0, Math.floor(q.page)), lastPage);
    const offset = page * size;

    let items: DashboardTask[];
    switch (q.filter) {
      case 'assigned': {
        items = offset < counts.dated ? this.tasks('assignedDated', q.teamId, q.userId, size, offset) : [];
        if (items.length < size) {
          items = items.concat(this.tasks('assignedUndated', q.teamId, q.userId, size - items.length, Math.max(0, offset - counts.dated)));
        }
        break;
      }
      case 'created':
        items = this.tasks('created', q.teamId, q.userId, size, offset);
        break;
      case 'all_open':
        items = this.tasks('allOpen', q.teamId, ...reader, size, offset);
        break;
      case 'recently_done':
        items = this.tasks('recentlyDone', q.teamId, q.doneSince, ...reader, size, offset);
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
    const teamId = reader.teamId;
    const visible = [reader.userId, reader.userId, reader.guest ? 1 : 0];
    const hits: TaskSearchHit[] = [];
    const numberMatch = /^#?(\d{1,15})$/.exec(q);
    if (numberMatch) {
      const exact = this.stmt('byNumber').get(teamId, Number(numberMatch[1]), ...visible) as TaskSearchHit | undefined;
      if (exact) hits.push(exact);
    }
    const title = titleQuery(q);
    if (title === null) return hits;
    const rows = (
      title.match === null
        ? this.stmt('searchShortTitle').all(teamId, title.text, ...visible, limit)
        : this.stmt('searchTitle').all(teamId, title.match, teamId, teamId, title.text, ...visible, limit)
    ) as TaskSearchHit[];
    for (const r of rows) {
      if (hits.length >= limit) break;
      if (!hits.some((h) => h.id === r.id)) hits.push(r);
    }
    return hits;
  }
}
