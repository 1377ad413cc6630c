import { and, asc, count, desc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import { appendAudit } from './audit.js';
import type { Store, Tx } from './db.js';
import { writeEffects, type Effect } from './outbox.js';
import { foldForSearch, titleQuery, type TitleQuery } from './searchText.js';
import {
  auditLog,
  taskComments,
  taskMessages,
  tasks,
  teamCounters,
  type AuditRow,
  type CommentRow,
  type Priority,
  type StepState,
  type TaskOrigin,
  type TaskRow,
} from './schema.js';
import type { TasksStore } from './tasksStore.js';

/**
 * The only SQL for tasks. Every method is one whole transaction (writes through
 * `store.write`, BEGIN IMMEDIATE) and filters on `team_id`, so an id from workspace B never
 * resolves in workspace A. Every change appends an audit row in the same transaction.
 * Async on purpose: a PostgreSQL implementation can slot in behind the same interface.
 * Each change takes `effects`, a function of its outcome returning what it owes Slack (outbox
 * rows): called inside the transaction, so the change and its effects commit together or not at all.
 */

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

/** What a change owes Slack, given its outcome (run inside its transaction). */
export type EffectsOf<T> = (outcome: T) => Effect[];

/**
 * The partial step index's own condition (schema.ts: steps still open), written as literals:
 * SQLite uses a partial index only for a query whose WHERE contains that very term (bound
 * parameters would not do).
 */
const OPEN_STEP = sql`${tasks.stepState} IN ('waiting', 'completing')`;

export interface NewTask {
  teamId: string;
  title: string;
  description?: string;
  priority?: Priority;
  assigneeId: string;
  creatorId: string;
  dueDate?: string | null;
  origin: TaskOrigin;
  sourcePermalink?: string | null;
  channelId?: string | null;
  functionExecutionId?: string | null;
  stepState?: StepState;
  /** Only its creator and assignee may see it (made from a private conversation's message). */
  private?: boolean;
}

/**
 * Who reads a list: tasks are filtered in SQL by the visibility rule (its pure form is
 * `maySee` in features/tasks/visibility.ts), so pages and totals count only what they may see.
 */
export interface TaskReader {
  userId: string;
  /** A Slack guest: sees only tasks they created or are assigned. */
  guest: boolean;
}

/**
 * The visibility rule as SQL: the reader's own tasks (creator or assignee), and for a member
 * also every task not private. Narrows the list indexes' ranges row by row, no other index needed.
 */
export function visibleTo(reader: TaskReader): SQL {
  const own = or(eq(tasks.assigneeId, reader.userId), eq(tasks.creatorId, reader.userId)) as SQL;
  return reader.guest ? own : (or(eq(tasks.private, false), own) as SQL);
}

export interface TaskPatch {
  title?: string;
  description?: string;
  dueDate?: string | null;
  priority?: Priority;
}

export type TaskMessageKind = 'assignee_dm' | 'channel';
export interface TaskMessage {
  channelId: string;
  ts: string;
  kind: TaskMessageKind;
}

export type TaskScope = 'mine' | 'created' | 'all';
export type TaskListStatus = 'open' | 'done';
export interface TaskListQuery {
  scope: TaskScope;
  status: TaskListStatus;
  /** whose "mine"/"created", and who reads "all" */
  userId: string;
  /** the reader is a Slack guest (see TaskReader) */
  guest: boolean;
  limit: number;
  offset?: number;
}
export interface TaskPage {
  tasks: TaskRow[];
  total: number;
}

/** Result of a conditional change: `changed` false when the task was already in the wanted state. */
export interface Transition {
  task: TaskRow;
  changed: boolean;
}

export class TasksRepository implements TasksStore {
  constructor(private readonly store: Store) {}

  /**
   * Creates a task with the workspace's next number. The counter row is upserted and incremented
   * inside the same IMMEDIATE transaction as the insert, so concurrent creates get distinct,
   * consecutive numbers, and a deleted task's number is never handed out again.
   * With a `functionExecutionId` already used (a retried `function_executed`), returns that task
   * with `created: false` and changes nothing.
   */
  async create(input: NewTask, at: number, effects?: EffectsOf<TaskRow>): Promise<{ task: TaskRow; created: boolean }> {
    return this.store.write((tx) => {
      if (input.functionExecutionId) {
        const existing = tx
          .select()
          .from(tasks)
          .where(and(eq(tasks.teamId, input.teamId), eq(tasks.functionExecutionId, input.functionExecutionId)))
          .get();
        if (existing) return { task: existing, created: false };
      }
      const counter = this.store
        .prepared('tasks.nextNumber', (db) =>
          db
            .insert(teamCounters)
            .values({ teamId: sql.placeholder('teamId'), lastTaskNumber: 1 })
            .onConflictDoUpdate({ target: teamCounters.teamId, set: { lastTaskNumber: sql`${teamCounters.lastTaskNumber} + 1` } })
            .returning({ n: teamCounters.lastTaskNumber })
            .prepare(),
        )
        .get({ teamId: input.teamId }) as { n: number };
      const task = this.store
        .prepared('tasks.insert', (db) =>
          db
            .insert(tasks)
            .values({
              teamId: sql.placeholder('teamId'),
              number: sql.placeholder('number'),
              title: sql.placeholder('title'),
              titleSearch: sql.placeholder('titleSearch'),
              description: sql.placeholder('description'),
              priority: sql.placeholder('priority'),
              assigneeId: sql.placeholder('assigneeId'),
              creatorId: sql.placeholder('creatorId'),
              dueDate: sql.placeholder('dueDate'),
              origin: sql.placeholder('origin'),
              sourcePermalink: sql.placeholder('sourcePermalink'),
              channelId: sql.placeholder('channelId'),
              functionExecutionId: sql.placeholder('functionExecutionId'),
              stepState: sql.placeholder('stepState'),
              private: sql.placeholder('private'),
              createdAt: sql.placeholder('at'),
              updatedAt: sql.placeholder('at'),
            })
            .returning()
            .prepare(),
        )
        .get({
          teamId: input.teamId,
          number: counter.n,
          title: input.title,
          titleSearch: foldForSearch(input.title),
          description: input.description ?? '',
          priority: input.priority ?? 'normal',
          assigneeId: input.assigneeId,
          creatorId: input.creatorId,
          dueDate: input.dueDate ?? null,
          origin: input.origin,
          sourcePermalink: input.sourcePermalink ?? null,
          channelId: input.channelId ?? null,
          functionExecutionId: input.functionExecutionId ?? null,
          stepState: input.stepState ?? 'none',
          // better-sqlite3 binds numbers, not booleans; the column reads back as a boolean.
          private: input.private ? 1 : 0,
          at,
        }) as TaskRow;
      appendAudit(this.store, {
        teamId: task.teamId,
        actorId: input.creatorId,
        entity: 'task',
        entityId: task.id,
        action: 'created',
        detail: { number: task.number, assignee: task.assigneeId, origin: task.origin, ...(task.dueDate ? { due: task.dueDate } : {}), ...(task.private ? { private: true } : {}) },
      });
      if (effects) writeEffects(this.store, effects(task), at);
      return { task, created: true };
    });
  }

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

  /** Changes the given fields; the audit row names the fields that really changed. */
  async update(teamId: string, id: number, actorId: string, patch: TaskPatch, at: number, effects?: EffectsOf<TaskRow>): Promise<Transition | undefined> {
    return this.store.write((tx) => {
      const before = this.get(teamId, id);
      if (!before) return undefined;
      const changes: Record<string, unknown> = {};
      for (const key of ['title', 'description', 'dueDate', 'priority'] as const) {
        if (patch[key] !== undefined && patch[key] !== before[key]) changes[key] = patch[key];
      }
      if (Object.keys(changes).length === 0) return { task: before, changed: false };
      const searchable = typeof changes['title'] === 'string' ? { titleSearch: foldForSearch(changes['title']) } : {};
      const task = tx
        .update(tasks)
        .set({ ...changes, ...searchable, updatedAt: at })
        .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id)))
        .returning()
        .get();
      appendAudit(this.store, { teamId, actorId, entity: 'task', entityId: id, action: 'edited', detail: { fields: Object.keys(changes) } });
      if (effects) writeEffects(this.store, effects(task), at);
      return { task, changed: true };
    });
  }

  async assign(
    teamId: string,
    id: number,
    actorId: string,
    assigneeId: string,
    at: number,
    effects?: (t: { task: TaskRow; previousAssigneeId: string }) => Effect[],
  ): Promise<(Transition & { previousAssigneeId: string }) | undefined> {
    return this.store.write((tx) => {
      const before = this.get(teamId, id);
      if (!before) return undefined;
      if (before.assigneeId === assigneeId) return { task: before, changed: false, previousAssigneeId: before.assigneeId };
      const task = tx
        .update(tasks)
        .set({ assigneeId, updatedAt: at })
        .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id)))
        .returning()
        .get();
      appendAudit(this.store, { teamId, actorId, entity: 'task', entityId: id, action: 'assigned', detail: { from: before.assigneeId, to: assigneeId } });
      if (effects) writeEffects(this.store, effects({ task, previousAssigneeId: before.assigneeId }), at);
      return { task, changed: true, previousAssigneeId: before.assigneeId };
    });
  }

  /**
   * open → done, conditionally: of two racing completions exactly one has `changed: true`. A
   * workflow step waiting on the task moves to `completing` (its completion is an effect now).
   */
  async complete(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<TaskRow>): Promise<Transition | undefined> {
    return this.store.write(() => {
      const task = this.store
        .prepared('tasks.complete', (db) =>
          db
            .update(tasks)
            .set({
              status: 'done',
              completedBy: sql`${sql.placeholder('actorId')}`,
              completedAt: sql`${sql.placeholder('at')}`,
              updatedAt: sql`${sql.placeholder('at')}`,
              stepState: sql`CASE WHEN ${tasks.stepState} = 'waiting' THEN 'completing' ELSE ${tasks.stepState} END`,
            })
            .where(and(eq(tasks.teamId, sql.placeholder('teamId')), eq(tasks.id, sql.placeholder('id')), eq(tasks.status, 'open')))
            .returning()
            .prepare(),
        )
        .get({ teamId, id, actorId, at }) as TaskRow | undefined;
      if (!task) {
        const current = this.get(teamId, id);
        return current ? { task: current, changed: false } : undefined;
      }
      appendAudit(this.store, { teamId, actorId, entity: 'task', entityId: id, action: 'completed' });
      if (effects) writeEffects(this.store, effects(task), at);
      return { task, changed: true };
    });
  }

  /** done → open, conditionally. */
  async reopen(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<TaskRow>): Promise<Transition | undefined> {
    return this.store.write((tx) => {
      const task = tx
        .update(tasks)
        .set({ status: 'open', completedBy: null, completedAt: null, updatedAt: at })
        .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id), eq(tasks.status, 'done')))
        .returning()
        .get();
      if (!task) {
        const current = this.get(teamId, id);
        return current ? { task: current, changed: false } : undefined;
      }
      appendAudit(this.store, { teamId, actorId, entity: 'task', entityId: id, action: 'reopened' });
      if (effects) writeEffects(this.store, effects(task), at);
      return { task, changed: true };
    });
  }

  /**
   * Deletes the task with its comments and card records (ON DELETE CASCADE) and returns what it
   * was, with its card messages (so they can be updated). The audit rows stay: the log is append-only.
   */
  async delete(
    teamId: string,
    id: number,
    actorId: string,
    at: number,
    effects?: (d: { task: TaskRow; messages: TaskMessage[] }) => Effect[],
  ): Promise<{ task: TaskRow; messages: TaskMessage[] } | undefined> {
    return this.store.write((tx) => {
      const task = this.get(teamId, id);
      if (!task) return undefined;
      const messages = this.messagesOf(teamId, id);
      tx.delete(tasks).where(and(eq(tasks.teamId, teamId), eq(tasks.id, id))).run();
      appendAudit(this.store, { teamId, actorId, entity: 'task', entityId: id, action: 'deleted', detail: { number: task.number, title: task.title } });
      if (effects) writeEffects(this.store, effects({ task, messages }), at);
      return { task, messages };
    });
  }

  async addComment(teamId: string, taskId: number, userId: string, text: string, at: number): Promise<CommentRow | undefined> {
    return this.store.write((tx) => {
      if (!this.get(teamId, taskId)) return undefined;
      const comment = tx.insert(taskComments).values({ taskId, teamId, userId, text, createdAt: at }).returning().get();
      tx.update(tasks).set({ updatedAt: at }).where(and(eq(tasks.teamId, teamId), eq(tasks.id, taskId))).run();
      appendAudit(this.store, { teamId, actorId: userId, entity: 'task', entityId: taskId, action: 'commented', detail: { comment: comment.id } });
      return comment;
    });
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

  /** Remembers a Slack message that shows the task (idempotent on channel + ts). */
  async recordMessage(teamId: string, taskId: number, message: TaskMessage): Promise<void> {
    this.store.write(() => {
      if (!this.get(teamId, taskId)) return;
      this.store
        .prepared('tasks.recordMessage', (db) =>
          db
            .insert(taskMessages)
            .values({ teamId: sql.placeholder('teamId'), taskId: sql.placeholder('taskId'), channelId: sql.placeholder('channelId'), ts: sql.placeholder('ts'), kind: sql.placeholder('kind') })
            .onConflictDoNothing()
            .prepare(),
        )
        .run({ teamId, taskId, ...message });
    });
  }

  async messages(teamId: string, taskId: number): Promise<TaskMessage[]> {
    return this.messagesOf(teamId, taskId);
  }

  /** Forgets a card Slack no longer has (`message_not_found` on update). */
  async forgetMessage(teamId: string, channelId: string, ts: string): Promise<void> {
    this.store.write((tx) => {
      tx.delete(taskMessages).where(and(eq(taskMessages.teamId, teamId), eq(taskMessages.channelId, channelId), eq(taskMessages.ts, ts))).run();
    });
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

  /** Moves step_state from one of `from` to `to`; false when another path got there first. */
  async transitionStep(teamId: string, id: number, from: StepState[], to: StepState): Promise<boolean> {
    return this.store.write((tx) => {
      const r = tx
        .update(tasks)
        .set({ stepState: to })
        .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id), inArray(tasks.stepState, from)))
        .run();
      if (r.changes === 1 && (to === 'completed' || to === 'failed')) {
        appendAudit(this.store, { teamId, actorId: 'system', entity: 'task', entityId: id, action: `step_${to}` });
      }
      return r.changes === 1;
    });
  }

  // ------------------------------------------------------------ helpers

  /** One task of the workspace (inside `write`, part of its transaction: one connection). */
  private get(teamId: string, id: number): TaskRow | undefined {
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
  private messagesOf(teamId: string, taskId: number): TaskMessage[] {
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
