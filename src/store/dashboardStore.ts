import type { Dashboard, DashboardQuery, TaskSearchHit } from './dashboard.js';

export type { Dashboard, DashboardApproval, DashboardQuery, DashboardTask, TaskPage, TaskSearchHit } from './dashboard.js';

/**
 * The App Home's read model, whichever engine holds the store: `DashboardReadModel` (SQLite,
 * ./dashboard.ts, which documents the lists, their order and visibility) and
 * `PgDashboardReadModel` (PostgreSQL, ./pg/dashboard.ts). Read-only; `load` reads one snapshot.
 * test/store/dashboardContract.test.ts runs one suite on both.
 */
export interface DashboardStore {
  /** Everything one user's Home shows: pending approvals, one page of one list, the overdue count. */
  load(q: DashboardQuery): Promise<Dashboard>;
  /** Tasks of the reader's workspace whose title contains `query` (or task #n), newest first. */
  searchTasks(reader: { teamId: string; userId: string; guest: boolean }, query: string, limit: number): Promise<TaskSearchHit[]>;
}
