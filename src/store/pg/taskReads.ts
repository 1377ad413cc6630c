import { and, asc, count, desc, eq, or, sql, type SQL } from 'drizzle-orm';
import type { AuditRow, CommentRow, TaskRow } from '../schema.js';
import { titleQuery } from '../searchText.js';
import type { TaskListQuery, TaskMessage, TaskPage, TaskReader } from '../tasks.js';
import type { PgQueries } from './db.js';
import { auditLog, taskComments, taskMessages, tasks } from './schema.js';
import { titleHolds, visibleToPg } from './search.js';

/** Ids are `bigint`: any other number names no row (on SQLite too; PostgreSQL would fail the query). */
export const isRowId = (id: number) => Number.isSafeInteger(id);
/** Task numbers are `integer` (32-bit). */
const isTaskNumber = (n: number) => Number.isInteger(n) && n >= -2_147_483_648 && n <= 2_147_483_647;

/** The steps still open (the partial index's condition, as on SQLite). */
const OPEN_STEP = sql`${tasks.stepState} IN ('waiting', 'completing')`;

/** The PostgreSQL tasks repository's queries (`PgTasksRepository` in ./tasks.ts): everything that only reads. */
export class PgTaskReads {
  constructor(protected readonly db: PgQueries) {}

  async findById(teamId: string, id: number): Promise<TaskRow | undefined> {
    if (!isRowId(id)) return undefined;
    return this.get(this.db, teamId, id);
  }

  async findByNumber(teamId: string, number: number): Promise<TaskRow | undefined> {
    if (!isTaskNumber(number)) return undefined;
    const [row] = await this.db
      .select()
      .from(tasks)
      .where(and(eq(tasks.teamId, teamId), eq(tasks.number, number)));
    return row;
  }

  async findByExecutionId(teamId: string, functionExecutionId: string): Promise<TaskRow | undefined> {
    if (functionExecutionId.includes('\u0000')) return undefined;
    return this.byExecutionId(this.db, teamId, functionExecutionId);
  }

  async comments(teamId: string, taskId: number): Promise<CommentRow[]> {
    if (!isRowId(taskId)) return [];
    return this.db
      .select()
      .from(taskComments)
      .where(and(eq(taskComments.teamId, teamId), eq(taskComments.taskId, taskId)))
      .orderBy(asc(taskComments.createdAt), asc(taskComments.id));
  }

  async history(teamId: string, taskId: number): Promise<AuditRow[]> {
    if (!isRowId(taskId)) return [];
    return this.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entity, 'task'), eq(auditLog.entityId, taskId), eq(auditLog.teamId, teamId)))
      .orderBy(asc(auditLog.createdAt), asc(auditLog.id));
  }

  // ------------------------------------------------------------ task cards

  async messages(teamId: string, taskId: number): Promise<TaskMessage[]> {
    if (!isRowId(taskId)) return [];
    return this.messagesOf(this.db, teamId, taskId);
  }

  async findByMessage(teamId: string, channelId: string, ts: string): Promise<TaskRow | undefined> {
    // From a payload (a reaction's message): a NUL matches nothing stored, and PostgreSQL refuses it.
    if (`${channelId}${ts}`.includes('\u0000')) return undefined;
    const [row] = await this.db
      .select({ task: tasks })
      .from(taskMessages)
      .innerJoin(tasks, eq(tasks.id, taskMessages.taskId))
      .where(and(eq(taskMessages.channelId, channelId), eq(taskMessages.ts, ts), eq(taskMessages.teamId, teamId), eq(tasks.teamId, teamId)));
    return row?.task;
  }

  // ------------------------------------------------------------ lists

  async list(teamId: string, q: TaskListQuery): Promise<TaskPage> {
    const where = and(eq(tasks.teamId, teamId), eq(tasks.status, q.status), ...this.scopeFilter(q));
    // SQLite's order: my open tasks by id (creation order), the other lists by creation or
    // completion time; SQLite puts NULL last in a descending order, PostgreSQL first unless told.
    const order =
      q.scope === 'mine' && q.status === 'open'
        ? [desc(tasks.id)]
        : [sql`${q.status === 'done' ? tasks.completedAt : tasks.createdAt} DESC NULLS LAST`, desc(tasks.id)];
    const rows = await this.db
      .select()
      .from(tasks)
      .where(where)
      .orderBy(...order)
      .limit(q.limit)
      .offset(q.offset ?? 0);
    const [total] = await this.db.select({ n: count() }).from(tasks).where(where);
    return { tasks: rows, total: total?.n ?? 0 };
  }

  async count(teamId: string, q: Pick<TaskListQuery, 'scope' | 'status' | 'userId' | 'guest'>): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(tasks)
      .where(and(eq(tasks.teamId, teamId), eq(tasks.status, q.status), ...this.scopeFilter(q)));
    return row?.n ?? 0;
  }

  async openAssignedTo(teamId: string, userId: string, today: string, page: { limit: number; offset?: number }): Promise<TaskPage & { overdue: number }> {
    const where = and(eq(tasks.teamId, teamId), eq(tasks.assigneeId, userId), eq(tasks.status, 'open'));
    const rows = await this.db
      .select()
      .from(tasks)
      .where(where)
      .orderBy(sql`${tasks.dueDate} IS NULL`, asc(tasks.dueDate), desc(tasks.id))
      .limit(page.limit)
      .offset(page.offset ?? 0);
    const [counts] = await this.db
      .select({ total: count(), overdue: sql<number>`count(*) FILTER (WHERE ${tasks.dueDate} < ${today})`.mapWith(Number) })
      .from(tasks)
      .where(where);
    return { tasks: rows, total: counts?.total ?? 0, overdue: counts?.overdue ?? 0 };
  }

  /**
   * As on SQLite: folded titles containing the folded query, and task #n for `n` or `#n`; open
   * first, newest first, at most 100, only what `reader` may see. Every match of the workspace
   * is read (to put open ones first), through the search index when the query has a trigram.
   */
  async search(teamId: string, reader: TaskReader, query: string, limit = 100): Promise<TaskRow[]> {
    const max = Math.min(Math.max(limit, 1), 100);
    const title = titleQuery(query);
    const hits = title
      ? await this.db
          .select()
          .from(tasks)
          .where(and(eq(tasks.teamId, teamId), titleHolds(teamId, title.text), visibleToPg(reader)))
          .orderBy(sql`${tasks.status} <> 'open'`, desc(tasks.id))
          .limit(max)
      : [];
    const byNumber = /^#?(\d{1,9})$/.exec(query.trim());
    const [numbered] = byNumber
      ? await this.db
          .select()
          .from(tasks)
          .where(and(eq(tasks.teamId, teamId), eq(tasks.number, Number(byNumber[1])), visibleToPg(reader)))
      : [];
    if (!numbered || hits.some((t) => t.id === numbered.id)) return hits;
    const openFirst = (t: TaskRow) => (t.status === 'open' ? 0 : 1);
    return [...hits, numbered].sort((a, b) => openFirst(a) - openFirst(b) || b.id - a.id).slice(0, max);
  }

  // ------------------------------------------------------------ workflow steps

  async pendingSteps(): Promise<TaskRow[]> {
    return this.db
      .select()
      .from(tasks)
      .where(and(OPEN_STEP, or(eq(tasks.stepState, 'completing'), and(eq(tasks.stepState, 'waiting'), eq(tasks.status, 'done')))))
      .orderBy(asc(tasks.id));
  }

  async waitingSteps(teamId?: string): Promise<TaskRow[]> {
    const conds: SQL[] = [OPEN_STEP, eq(tasks.stepState, 'waiting')];
    if (teamId) conds.push(eq(tasks.teamId, teamId));
    return this.db
      .select()
      .from(tasks)
      .where(and(...conds))
      .orderBy(asc(tasks.id));
  }

  // ------------------------------------------------------------ helpers

  protected async get(q: PgQueries, teamId: string, id: number): Promise<TaskRow | undefined> {
    const [row] = await q
      .select()
      .from(tasks)
      .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id)));
    return row;
  }

  protected async byExecutionId(q: PgQueries, teamId: string, functionExecutionId: string): Promise<TaskRow | undefined> {
    const [row] = await q
      .select()
      .from(tasks)
      .where(and(eq(tasks.teamId, teamId), eq(tasks.functionExecutionId, functionExecutionId)));
    return row;
  }

  protected async byRequestKey(q: PgQueries, teamId: string, requestKey: string): Promise<TaskRow | undefined> {
    const [row] = await q
      .select()
      .from(tasks)
      .where(and(eq(tasks.teamId, teamId), eq(tasks.requestKey, requestKey)));
    return row;
  }

  protected async messagesOf(q: PgQueries, teamId: string, taskId: number): Promise<TaskMessage[]> {
    return q
      .select({ channelId: taskMessages.channelId, ts: taskMessages.ts, kind: taskMessages.kind })
      .from(taskMessages)
      .where(and(eq(taskMessages.taskId, taskId), eq(taskMessages.teamId, teamId)));
  }

  /** "mine" and "created" are the reader's own tasks, visible by definition; "all" is filtered. */
  private scopeFilter(q: Pick<TaskListQuery, 'scope' | 'userId' | 'guest'>): SQL[] {
    if (q.scope === 'mine') return [eq(tasks.assigneeId, q.userId)];
    if (q.scope === 'created') return [eq(tasks.creatorId, q.userId)];
    return [visibleToPg(q)];
  }
}
