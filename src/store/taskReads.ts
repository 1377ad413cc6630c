import { and, asc, count, desc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Store } from './db.js';
import { titleQuery, type TitleQuery } from './searchText.js';
import { auditLog, taskComments, taskMessages, tasks, type AuditRow, type CommentRow, type TaskRow } from './schema.js';
import type { TaskListQuery, TaskMessage, TaskPage, TaskReader } from './tasks.js';

/**
 * The workspace's tasks whose folded title contains `title.text`. With 3 letters or more, the
 * numbers come from the search index (migrations/0006: rowid = (workspace shard << 32) | number,
 * one workspace = one rowid range); under 3 there is no trigram to look up and every row of the
 * workspace is read.
 */
function titleContains(teamId: string, title: TitleQuery): SQL {
  const contains = sql`instr(${tasks.titleSearch}, ${title.text}) > 0`;
  if (title.match === null) return contains;
  const shard = sql`(SELECT shard FROM task_search_shards WHERE team_id = ${teamId})`;
  return sql`(${tasks.number} IN (SELECT rowid & 4294967295 FROM tasks_fts WHERE tasks_fts MATCH ${title.match}
    AND rowid BETWEEN ${shard} << 32 AND (${shard} << 32) | 4294967295) AND ${contains})`;
}

/**
 * The partial step index's own condition (schema.ts: steps still open), written as literals:
 * SQLite uses a partial index only for a query whose WHERE contains that very term (bound
 * parameters would not do).
 */
const OPEN_STEP = sql`${tasks.stepState} IN ('waiting', 'completing')`;

/**
 * The visibility rule as SQL: the reader's own tasks (creator or assignee), and for a member
 * also every task not private. Narrows the list indexes' ranges row by row, no other index needed.
 */
export function visibleTo(reader: TaskReader): SQL {
  const own = or(eq(tasks.assigneeId, reader.userId), eq(tasks.creatorId, reader.userId)) as SQL;
  return reader.guest ? own : (or(eq(tasks.private, false), own) as SQL);
}

/** The SQLite tasks repository's queries (`TasksRepository` in ./tasks.ts): everything that only reads. */
export class TaskReads {
  constructor(protected readonly store: Store) {}

  async findById(teamId: string, id: number): Promise<TaskRow | undefined> {
    return this.get(teamId, id);
  }

  async findByNumber(teamId: string, number: number): Promise<TaskRow | undefined> {
    return this.store
      .prepared('tasks.byNumber', (db) =>
        db
          .select()
          .from(tasks)
          .where(and(eq(tasks.teamId, sql.placeholder('teamId')), eq(tasks.number, sql.placeholder('number'))))
          .prepare(),
      )
      .get({ teamId, number });
  }

  async findByExecutionId(teamId: string, functionExecutionId: string): Promise<TaskRow | undefined> {
    return this.store.db
      .select()
      .from(tasks)
      .where(and(eq(tasks.teamId, teamId), eq(tasks.functionExecutionId, functionExecutionId)))
      .get();
  }

  /** Oldest first. */
  async comments(teamId: string, taskId: number): Promise<CommentRow[]> {
    return this.store.db
      .select()
      .from(taskComments)
      .where(and(eq(taskComments.teamId, teamId), eq(taskComments.taskId, taskId)))
      .orderBy(asc(taskComments.createdAt), asc(taskComments.id))
      .all();
  }

  /** The task's audit trail, oldest first. */
  async history(teamId: string, taskId: number): Promise<AuditRow[]> {
    return this.store.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entity, 'task'), eq(auditLog.entityId, taskId), eq(auditLog.teamId, teamId)))
      .orderBy(asc(auditLog.createdAt), asc(auditLog.id))
      .all();
  }

  // ------------------------------------------------------------ task cards

  async messages(teamId: string, taskId: number): Promise<TaskMessage[]> {
    return this.messagesOf(teamId, taskId);
  }

  /** The task a card (channel + ts) shows, in this workspace only — e.g. for a reaction on it. */
  async findByMessage(teamId: string, channelId: string, ts: string): Promise<TaskRow | undefined> {
    const row = this.store.db
      .select({ task: tasks })
      .from(taskMessages)
      .innerJoin(tasks, eq(tasks.id, taskMessages.taskId))
      .where(and(eq(taskMessages.channelId, channelId), eq(taskMessages.ts, ts), eq(taskMessages.teamId, teamId), eq(tasks.teamId, teamId)))
      .get();
    return row?.task;
  }


  // ------------------------------------------------------------ lists

  /** "mine / created / all × open / done", newest first (done: most recently completed first). */
  async list(teamId: string, q: TaskListQuery): Promise<TaskPage> {
    if (q.scope === 'mine' && q.status === 'open') return this.mineOpen(teamId, q.userId, q.limit, q.offset ?? 0);
    const where = and(eq(tasks.teamId, teamId), eq(tasks.status, q.status), ...this.scopeFilter(q));
    const newest = q.status === 'done' ? tasks.completedAt : tasks.createdAt;
    // One person's list must search the person's index (assignee or creator), far narrower than
    // the team-wide index SQLite would otherwise pick just because it is already in this order.
    // `+column` makes the sort key an expression, which no index can provide, so selectivity decides.
    const personal = q.scope === 'mine' || (q.scope === 'created' && q.status === 'done');
    const rows = this.store.db
      .select()
      .from(tasks)
      .where(where)
      .orderBy(personal ? sql`+${newest} DESC` : desc(newest), desc(tasks.id))
      .limit(q.limit)
      .offset(q.offset ?? 0)
      .all();
    const total = this.store.db.select({ n: count() }).from(tasks).where(where).get()?.n ?? 0;
    return { tasks: rows, total };
  }

  /**
   * My open tasks, newest first. Ids grow with creation, and the id is part of the assignee index:
   * the page's ids come from the index alone (no row read for thousands of open tasks), then
   * only that page's rows are read. The most asked list, so both queries are prepared once.
   */
  private mineOpen(teamId: string, userId: string, limit: number, offset: number): TaskPage {
    const mine = () => and(eq(tasks.teamId, sql.placeholder('teamId')), eq(tasks.status, 'open'), eq(tasks.assigneeId, sql.placeholder('userId')));
    const rows = this.store
      .prepared('tasks.mineOpen', (db) => {
        const page = db.select({ id: tasks.id }).from(tasks).where(mine()).orderBy(sql`+${tasks.id} DESC`).limit(sql.placeholder('limit')).offset(sql.placeholder('offset'));
        return db.select().from(tasks).where(inArray(tasks.id, page)).orderBy(desc(tasks.id)).prepare();
      })
      .all({ teamId, userId, limit, offset });
    const total = this.store.prepared('tasks.mineOpenCount', (db) => db.select({ n: count() }).from(tasks).where(mine()).prepare()).get({ teamId, userId })?.n ?? 0;
    return { tasks: rows, total };
  }


  /** How many tasks a `list` query would return, without loading them. */
  async count(teamId: string, q: Pick<TaskListQuery, 'scope' | 'status' | 'userId' | 'guest'>): Promise<number> {
    const where = and(eq(tasks.teamId, teamId), eq(tasks.status, q.status), ...this.scopeFilter(q));
    return this.store.db.select({ n: count() }).from(tasks).where(where).get()?.n ?? 0;
  }

  /**
   * Open tasks assigned to `userId` for the App Home: overdue first, then by due date (tasks
   * without one last), newest first among equals. Since an overdue date sorts before every other
   * date, "overdue first, then by due date" is one ascending order on due_date, nulls last.
   */
  async openAssignedTo(teamId: string, userId: string, today: string, page: { limit: number; offset?: number }): Promise<TaskPage & { overdue: number }> {
    const where = and(eq(tasks.teamId, teamId), eq(tasks.assigneeId, userId), eq(tasks.status, 'open'));
    const rows = this.store.db
      .select()
      .from(tasks)
      .where(where)
      .orderBy(sql`${tasks.dueDate} IS NULL`, asc(tasks.dueDate), desc(tasks.id))
      .limit(page.limit)
      .offset(page.offset ?? 0)
      .all();
    const counts = this.store.db
      .select({ total: count(), overdue: sql<number>`coalesce(sum(${tasks.dueDate} < ${today}), 0)` })
      .from(tasks)
      .where(where)
      .get();
    return { tasks: rows, total: counts?.total ?? 0, overdue: counts?.overdue ?? 0 };
  }

  /**
   * Title search for a workspace: titles containing `query` ignoring case and accents
   * (`foldForSearch`), and task #n for a query `n` or `#n`. Open tasks first, newest first, at
   * most 100; only what `reader` may see. Uses the search index as the App Home's search does
   * (DashboardReadModel.searchTasks), but reads every match of the workspace to put open ones first.
   */
  async search(teamId: string, reader: TaskReader, query: string, limit = 100): Promise<TaskRow[]> {
    const max = Math.min(Math.max(limit, 1), 100);
    const title = titleQuery(query);
    const hits = title
      ? this.store.db
          .select()
          .from(tasks)
          .where(and(eq(tasks.teamId, teamId), titleContains(teamId, title), visibleTo(reader)))
          .orderBy(sql`${tasks.status} <> 'open'`, desc(tasks.id))
          .limit(max)
          .all()
      : [];
    // Asked apart: an OR with the index lookup would read the whole workspace.
    const byNumber = /^#?(\d{1,9})$/.exec(query.trim());
    const numbered = byNumber
      ? this.store.db
          .select()
          .from(tasks)
          .where(and(eq(tasks.teamId, teamId), eq(tasks.number, Number(byNumber[1])), visibleTo(reader)))
          .get()
      : undefined;
    if (!numbered || hits.some((t) => t.id === numbered.id)) return hits;
    const openFirst = (t: TaskRow) => (t.status === 'open' ? 0 : 1);
    return [...hits, numbered].sort((a, b) => openFirst(a) - openFirst(b) || b.id - a.id).slice(0, max);
  }

  // ------------------------------------------------------------ workflow steps

  /**
   * Tasks whose `create_task` step still has to be completed in Slack (restart recovery): done
   * while their step waited, or caught between claiming the completion and confirming it.
   */
  async pendingSteps(): Promise<TaskRow[]> {
    return this.store.db
      .select()
      .from(tasks)
      .where(and(OPEN_STEP, or(eq(tasks.stepState, 'completing'), and(eq(tasks.stepState, 'waiting'), eq(tasks.status, 'done')))))
      .all();
  }

  /** Tasks whose step is waiting, done or not. */
  async waitingSteps(teamId?: string): Promise<TaskRow[]> {
    const conds: SQL[] = [OPEN_STEP, eq(tasks.stepState, 'waiting')];
    if (teamId) conds.push(eq(tasks.teamId, teamId));
    return this.store.db.select().from(tasks).where(and(...conds)).all();
  }

  // ------------------------------------------------------------ helpers

  /** One task of the workspace (inside `write`, part of its transaction: one connection). */
  protected get(teamId: string, id: number): TaskRow | undefined {
    return this.store
      .prepared('tasks.get', (db) =>
        db
          .select()
          .from(tasks)
          .where(and(eq(tasks.teamId, sql.placeholder('teamId')), eq(tasks.id, sql.placeholder('id'))))
          .prepare(),
      )
      .get({ teamId, id });
  }

  /** Prepared: it runs on the one connection, so inside `store.write` it is part of the transaction. */
  protected messagesOf(teamId: string, taskId: number): TaskMessage[] {
    return this.store
      .prepared('tasks.messagesOf', (db) =>
        db
          .select({ channelId: taskMessages.channelId, ts: taskMessages.ts, kind: taskMessages.kind })
          .from(taskMessages)
          .where(and(eq(taskMessages.taskId, sql.placeholder('taskId')), eq(taskMessages.teamId, sql.placeholder('teamId'))))
          .prepare(),
      )
      .all({ teamId, taskId });
  }

  /** "mine" and "created" are the reader's own tasks, visible by definition; "all" is filtered. */
  private scopeFilter(q: Pick<TaskListQuery, 'scope' | 'userId' | 'guest'>): SQL[] {
    if (q.scope === 'mine') return [eq(tasks.assigneeId, q.userId)];
    if (q.scope === 'created') return [eq(tasks.creatorId, q.userId)];
    return [visibleTo(q)];
  }
}
