import { and, asc, count, desc, eq, gte, sql, type SQL } from 'drizzle-orm';
import { dashboardTaskColumns, type Dashboard, type DashboardApproval, type DashboardQuery, type DashboardTask, type TaskSearchHit } from '../dashboard.js';
import type { DashboardStore } from '../dashboardStore.js';
import type { PgDb, PgTx } from './db.js';
import { approvalApprovers, approvals, tasks } from './schema.js';
import { searchTasksPg, visibleToPg } from './search.js';

/**
 * The App Home's read model on PostgreSQL: the same lists, order, page clamping, counts and
 * visibility as the SQLite `DashboardReadModel` (../dashboard.ts, which documents them);
 * test/store/dashboardContract.test.ts checks both against the same data.
 *
 * One `load` is one REPEATABLE READ, read-only transaction: its counts and its page come from one
 * snapshot, as SQLite's read transaction gives them, whatever other instances commit meanwhile.
 *
 * The tables and indexes are SQLite's; the planner picks among them by cost. A user's long list
 * walks the index SQLite's walks, in order, and stops at the page (tasks_assignee_idx,
 * tasks_creator_idx, tasks_team_status_idx, tasks_team_completed_idx). A short list, the approvals
 * waiting (approval_approvers_user_idx) and, when cheaper, a guest's own tasks (the assignee and
 * creator indexes) are read as bitmap scans and sorted. No query scans a table; the plans are
 * checked in test/store/dashboardContract.test.ts.
 *
 * "Assigned to me" is one query: a PostgreSQL btree keeps NULLs last in ascending order, so
 * `due_date ASC` (NULLS LAST by default) walks tasks_assignee_idx forwards, dated tasks then
 * undated ones, where SQLite stitches two ranges. SQLite's indexes end with the rowid (the id);
 * PostgreSQL's do not, so the tie-break on id is an incremental sort of each run of equal keys:
 * cheap for tasks due the same day or created the same millisecond, but a page of undated tasks
 * sorts all of the user's undated open tasks.
 */

const TASK = dashboardTaskColumns(tasks);

const APPROVAL = {
  id: approvals.id,
  title: approvals.title,
  details: approvals.details,
  requesterId: approvals.requesterId,
  createdAt: approvals.createdAt,
};

export class PgDashboardReadModel implements DashboardStore {
  constructor(private readonly db: PgDb) {}

  /** Everything one user's Home shows, in one REPEATABLE READ read-only transaction. */
  async load(q: DashboardQuery): Promise<Dashboard> {
    return this.db.transaction((tx) => this.read(tx, q), { isolationLevel: 'repeatable read', accessMode: 'read only' });
  }

  private async read(tx: PgTx, q: DashboardQuery): Promise<Dashboard> {
    const waiting = and(
      eq(approvalApprovers.teamId, q.teamId),
      eq(approvalApprovers.userId, q.userId),
      eq(approvals.teamId, approvalApprovers.teamId),
      eq(approvals.status, 'pending'),
    );
    const [approvalsTotal] = await tx
      .select({ n: count() })
      .from(approvalApprovers)
      .innerJoin(approvals, eq(approvals.id, approvalApprovers.approvalId))
      .where(waiting);
    const approvalItems = tx
      .select(APPROVAL)
      .from(approvalApprovers)
      .innerJoin(approvals, eq(approvals.id, approvalApprovers.approvalId))
      .where(waiting)
      .orderBy(asc(approvalApprovers.approvalId))
      .$dynamic();
    // SQLite takes a negative LIMIT as none; PostgreSQL refuses it.
    const approvalRows: DashboardApproval[] = await (q.approvalsLimit < 0 ? approvalItems : approvalItems.limit(q.approvalsLimit));

    const assigned = and(eq(tasks.teamId, q.teamId), eq(tasks.assigneeId, q.userId), eq(tasks.status, 'open'));
    const [counts] = await tx
      .select({
        dated: count(tasks.dueDate),
        all: count(),
        overdue: sql<number>`count(*) FILTER (WHERE ${tasks.dueDate} < ${q.today})`.mapWith(Number),
      })
      .from(tasks)
      .where(assigned);
    const dated = counts?.dated ?? 0;
    const undated = (counts?.all ?? 0) - dated;
    const size = Math.max(1, q.pageSize);
    const reader = { userId: q.userId, guest: q.guest };

    let where: SQL | undefined;
    let order: SQL[];
    switch (q.filter) {
      case 'assigned':
        where = assigned;
        order = [asc(tasks.dueDate), asc(tasks.id)];
        break;
      case 'created':
        where = and(eq(tasks.teamId, q.teamId), eq(tasks.creatorId, q.userId), eq(tasks.status, 'open'));
        order = [desc(tasks.createdAt), desc(tasks.id)];
        break;
      case 'all_open':
        where = and(eq(tasks.teamId, q.teamId), eq(tasks.status, 'open'), visibleToPg(reader));
        order = [desc(tasks.createdAt), desc(tasks.id)];
        break;
      case 'recently_done':
        where = and(eq(tasks.teamId, q.teamId), eq(tasks.status, 'done'), gte(tasks.completedAt, q.doneSince), visibleToPg(reader));
        order = [desc(tasks.completedAt), desc(tasks.id)];
        break;
    }
    const total = q.filter === 'assigned' ? dated + undated : ((await tx.select({ n: count() }).from(tasks).where(where))[0]?.n ?? 0);
    const lastPage = Math.max(0, Math.ceil(total / size) - 1);
    const page = Math.min(Math.max(0, Math.floor(q.page)), lastPage);
    const items: DashboardTask[] =
      total === 0
        ? []
        : await tx
            .select(TASK)
            .from(tasks)
            .where(where)
            .orderBy(...order)
            .limit(size)
            .offset(page * size);

    return {
      approvals: { total: approvalsTotal?.n ?? 0, items: approvalRows },
      tasks: { filter: q.filter, page, pageSize: size, total, items },
      overdue: counts?.overdue ?? 0,
    };
  }

  /** The title search of ./search.ts (`searchTasksPg`), as SQLite's `searchTasks`. */
  async searchTasks(reader: { teamId: string; userId: string; guest: boolean }, query: string, limit: number): Promise<TaskSearchHit[]> {
    return searchTasksPg(this.db, reader, query, limit);
  }
}
