import { and, asc, count, desc, eq, getTableColumns, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Effect } from '../outbox.js';
import type { AuditRow, CommentRow, StepState, TaskRow } from '../schema.js';
import { foldForSearch, titleQuery } from '../searchText.js';
import type { TasksStore } from '../tasksStore.js';
import type { EffectsOf, NewTask, TaskListQuery, TaskMessage, TaskPage, TaskPatch, TaskReader, Transition } from '../tasks.js';
import { appendAuditPg } from './audit.js';
import type { PgDb, PgQueries } from './db.js';
import { writeEffectsPg } from './outbox.js';
import { auditLog, taskComments, taskMessages, tasks } from './schema.js';
import { titleHolds, visibleToPg } from './search.js';

/** PostgreSQL's SQLSTATE for a row whose referenced row is gone. */
const FOREIGN_KEY_VIOLATION = '23503';

/** The SQLSTATE of a failed query (drizzle wraps node-postgres' error as its `cause`). */
function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  const code = e.code ?? e.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Inserts a task numbered from its workspace's counter, in one statement: the counter row's lock,
 * which queues the workspace's other creates until commit, is taken as late as it can be.
 * `idempotent`: undefined (nothing inserted) when the task's execution id is taken already.
 */
async function insertNumbered(tx: PgQueries, idempotent: boolean, values: Omit<typeof tasks.$inferInsert, 'number'>): Promise<TaskRow | undefined> {
  const columns = getTableColumns(tasks);
  const given = Object.entries(values).filter(([, v]) => v !== undefined) as [keyof typeof columns, unknown][];
  const names = sql.join(given.map(([k]) => sql.identifier(columns[k].name)), sql`, `);
  const params = sql.join(given.map(([k, v]) => sql.param(v, columns[k])), sql`, `);
  const result = await tx.execute<Record<string, unknown>>(sql`
    WITH counter AS (
      INSERT INTO team_counters (team_id, last_task_number) VALUES (${values.teamId}, 1)
      ON CONFLICT (team_id) DO UPDATE SET last_task_number = team_counters.last_task_number + 1
      RETURNING last_task_number
    )
    INSERT INTO tasks (number, ${names}) SELECT counter.last_task_number, ${params} FROM counter
    ${idempotent ? sql`ON CONFLICT (function_execution_id) WHERE function_execution_id IS NOT NULL DO NOTHING` : sql``}
    RETURNING *`);
  const raw = result.rows[0];
  if (!raw) return undefined;
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(columns)) {
    const v = raw[column.name];
    row[key] = v === null || v === undefined ? null : column.mapFromDriverValue(v);
  }
  return row as TaskRow;
}

/**
 * The tasks store on PostgreSQL: the same methods, results, audit rows and effects as the SQLite
 * `TasksRepository` (../tasks.ts, which documents each method); test/store/tasksContract.test.ts
 * runs one suite on both. Every change is one `db.transaction` on one pooled connection.
 *
 * SQLite runs one writer at a time; here transactions from any number of connections and
 * instances run at once (READ COMMITTED), so what SQLite gets from that is asked for explicitly:
 * - task numbers: the workspace's `team_counters` row is upserted and incremented by the statement
 *   that inserts the task; its row lock queues the workspace's other creators until commit, so
 *   numbers are dense and unique, other workspaces are not held up, and a create that rolls back
 *   gives its number back;
 * - a change that reads the task before writing it (edit, assign, delete, comment) locks the row
 *   (`FOR UPDATE`): two edits of one task see each other's result, as they would on SQLite;
 * - complete, reopen and step transitions are single conditional UPDATEs: PostgreSQL evaluates
 *   the condition again on the row a concurrent change left, so exactly one of two racers wins.
 * Where SQLite quietly takes a value PostgreSQL refuses, it is met here: an id or number no
 * column can hold (NaN, a fraction, out of range) finds no task instead of failing the query, and
 * a NUL character, which PostgreSQL text cannot hold, is dropped from what people typed.
 */
export class PgTasksRepository implements TasksStore {
  constructor(private readonly db: PgDb) {}

  /**
   * Creates a task with the workspace's next number (see above). With a `functionExecutionId`
   * already used, returns that task with `created: false`, changes nothing and uses no number;
   * of two concurrent creates for one execution, the second waits for the first (at the
   * workspace's counter, or at the execution index), meets its task there (`ON CONFLICT DO
   * NOTHING` inserts nothing) and rolls back its counter increment.
   */
  async create(input: NewTask, at: number, effects?: EffectsOf<TaskRow>): Promise<{ task: TaskRow; created: boolean }> {
    const executionId = input.functionExecutionId ?? null;
    // As on SQLite, an empty execution id is stored but not looked for.
    const idempotent = Boolean(executionId);
    try {
      return await this.db.transaction(async (tx) => {
        if (idempotent) {
          const existing = await this.byExecutionId(tx, input.teamId, executionId as string);
          if (existing) return { task: existing, created: false };
        }
        const task = await insertNumbered(tx, idempotent, {
          teamId: input.teamId,
          title: storable(input.title),
          titleSearch: foldForSearch(input.title),
          description: storable(input.description ?? ''),
          priority: input.priority ?? 'normal',
          assigneeId: input.assigneeId,
          creatorId: input.creatorId,
          dueDate: input.dueDate ?? null,
          origin: input.origin,
          sourcePermalink: input.sourcePermalink ?? null,
          channelId: input.channelId ?? null,
          functionExecutionId: executionId,
          stepState: input.stepState ?? 'none',
          private: input.private ?? false,
          createdAt: at,
          updatedAt: at,
        });
        if (!task) throw new ExecutionTaken();
        await appendAuditPg(tx, {
          teamId: task.teamId,
          actorId: input.creatorId,
          entity: 'task',
          entityId: task.id,
          action: 'created',
          detail: { number: task.number, assignee: task.assigneeId, origin: task.origin, ...(task.dueDate ? { due: task.dueDate } : {}), ...(task.private ? { private: true } : {}) },
        });
        if (effects) await writeEffectsPg(tx, effects(task), at);
        return { task, created: true };
      });
    } catch (err) {
      if (!(err instanceof ExecutionTaken)) throw err;
      const existing = await this.byExecutionId(this.db, input.teamId, executionId as string);
      if (existing) return { task: existing, created: false };
      // Taken by another workspace's task: SQLite fails on the unique index here too.
      throw new Error(`function execution ${executionId} already made a task in another workspace`);
    }
  }

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

  async update(teamId: string, id: number, actorId: string, patch: TaskPatch, at: number, effects?: EffectsOf<TaskRow>): Promise<Transition | undefined> {
    if (!isRowId(id)) return undefined;
    const wanted: TaskPatch = {
      ...patch,
      ...(patch.title !== undefined ? { title: storable(patch.title) } : {}),
      ...(patch.description !== undefined ? { description: storable(patch.description) } : {}),
    };
    return this.db.transaction(async (tx) => {
      const before = await this.lock(tx, teamId, id);
      if (!before) return undefined;
      const changes: Record<string, unknown> = {};
      for (const key of ['title', 'description', 'dueDate', 'priority'] as const) {
        if (wanted[key] !== undefined && wanted[key] !== before[key]) changes[key] = wanted[key];
      }
      if (Object.keys(changes).length === 0) return { task: before, changed: false };
      const searchable = typeof changes['title'] === 'string' ? { titleSearch: foldForSearch(changes['title']) } : {};
      const [task] = await tx
        .update(tasks)
        .set({ ...changes, ...searchable, updatedAt: at })
        .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id)))
        .returning();
      await appendAuditPg(tx, { teamId, actorId, entity: 'task', entityId: id, action: 'edited', detail: { fields: Object.keys(changes) } });
      if (effects) await writeEffectsPg(tx, effects(task!), at);
      return { task: task!, changed: true };
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
    if (!isRowId(id)) return undefined;
    return this.db.transaction(async (tx) => {
      const before = await this.lock(tx, teamId, id);
      if (!before) return undefined;
      if (before.assigneeId === assigneeId) return { task: before, changed: false, previousAssigneeId: before.assigneeId };
      const [task] = await tx
        .update(tasks)
        .set({ assigneeId, updatedAt: at })
        .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id)))
        .returning();
      await appendAuditPg(tx, { teamId, actorId, entity: 'task', entityId: id, action: 'assigned', detail: { from: before.assigneeId, to: assigneeId } });
      if (effects) await writeEffectsPg(tx, effects({ task: task!, previousAssigneeId: before.assigneeId }), at);
      return { task: task!, changed: true, previousAssigneeId: before.assigneeId };
    });
  }

  async complete(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<TaskRow>): Promise<Transition | undefined> {
    if (!isRowId(id)) return undefined;
    return this.db.transaction(async (tx) => {
      const [task] = await tx
        .update(tasks)
        .set({
          status: 'done',
          completedBy: actorId,
          completedAt: at,
          updatedAt: at,
          stepState: sql`CASE WHEN ${tasks.stepState} = 'waiting' THEN 'completing' ELSE ${tasks.stepState} END`,
        })
        .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id), eq(tasks.status, 'open')))
        .returning();
      if (!task) {
        const current = await this.get(tx, teamId, id);
        return current ? { task: current, changed: false } : undefined;
      }
      await appendAuditPg(tx, { teamId, actorId, entity: 'task', entityId: id, action: 'completed' });
      if (effects) await writeEffectsPg(tx, effects(task), at);
      return { task, changed: true };
    });
  }

  async reopen(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<TaskRow>): Promise<Transition | undefined> {
    if (!isRowId(id)) return undefined;
    return this.db.transaction(async (tx) => {
      const [task] = await tx
        .update(tasks)
        .set({ status: 'open', completedBy: null, completedAt: null, updatedAt: at })
        .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id), eq(tasks.status, 'done')))
        .returning();
      if (!task) {
        const current = await this.get(tx, teamId, id);
        return current ? { task: current, changed: false } : undefined;
      }
      await appendAuditPg(tx, { teamId, actorId, entity: 'task', entityId: id, action: 'reopened' });
      if (effects) await writeEffectsPg(tx, effects(task), at);
      return { task, changed: true };
    });
  }

  async delete(
    teamId: string,
    id: number,
    actorId: string,
    at: number,
    effects?: (d: { task: TaskRow; messages: TaskMessage[] }) => Effect[],
  ): Promise<{ task: TaskRow; messages: TaskMessage[] } | undefined> {
    if (!isRowId(id)) return undefined;
    return this.db.transaction(async (tx) => {
      const task = await this.lock(tx, teamId, id);
      if (!task) return undefined;
      const messages = await this.messagesOf(tx, teamId, id);
      await tx.delete(tasks).where(and(eq(tasks.teamId, teamId), eq(tasks.id, id)));
      await appendAuditPg(tx, { teamId, actorId, entity: 'task', entityId: id, action: 'deleted', detail: { number: task.number, title: task.title } });
      if (effects) await writeEffectsPg(tx, effects({ task, messages }), at);
      return { task, messages };
    });
  }

  async addComment(teamId: string, taskId: number, userId: string, text: string, at: number): Promise<CommentRow | undefined> {
    if (!isRowId(taskId)) return undefined;
    return this.db.transaction(async (tx) => {
      if (!(await this.lock(tx, teamId, taskId))) return undefined;
      const [comment] = await tx.insert(taskComments).values({ taskId, teamId, userId, text: storable(text), createdAt: at }).returning();
      await tx.update(tasks).set({ updatedAt: at }).where(and(eq(tasks.teamId, teamId), eq(tasks.id, taskId)));
      await appendAuditPg(tx, { teamId, actorId: userId, entity: 'task', entityId: taskId, action: 'commented', detail: { comment: comment!.id } });
      return comment;
    });
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

  async recordMessage(teamId: string, taskId: number, message: TaskMessage): Promise<void> {
    if (!isRowId(taskId)) return;
    // One statement: inserted only while the task exists in this workspace. A delete committing
    // meanwhile either waits for it (the foreign key's check locks the task row) or wins, and the
    // check fails: the task is gone, there is nothing to record.
    try {
      await this.db.execute(sql`INSERT INTO task_messages (team_id, task_id, channel_id, ts, kind)
        SELECT ${teamId}, id, ${message.channelId}, ${message.ts}, ${message.kind} FROM tasks WHERE team_id = ${teamId} AND id = ${taskId}
        ON CONFLICT DO NOTHING`);
    } catch (err) {
      if (sqlState(err) !== FOREIGN_KEY_VIOLATION) throw err;
    }
  }

  async messages(teamId: string, taskId: number): Promise<TaskMessage[]> {
    if (!isRowId(taskId)) return [];
    return this.messagesOf(this.db, teamId, taskId);
  }

  async forgetMessage(teamId: string, channelId: string, ts: string): Promise<void> {
    if (`${channelId}${ts}`.includes('\u0000')) return;
    await this.db.delete(taskMessages).where(and(eq(taskMessages.teamId, teamId), eq(taskMessages.channelId, channelId), eq(taskMessages.ts, ts)));
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

  async transitionStep(teamId: string, id: number, from: StepState[], to: StepState): Promise<boolean> {
    if (!isRowId(id)) return false;
    return this.db.transaction(async (tx) => {
      const r = await tx
        .update(tasks)
        .set({ stepState: to })
        .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id), inArray(tasks.stepState, from)));
      if (r.rowCount === 1 && (to === 'completed' || to === 'failed')) {
        await appendAuditPg(tx, { teamId, actorId: 'system', entity: 'task', entityId: id, action: `step_${to}` });
      }
      return r.rowCount === 1;
    });
  }

  // ------------------------------------------------------------ helpers

  private async get(q: PgQueries, teamId: string, id: number): Promise<TaskRow | undefined> {
    const [row] = await q
      .select()
      .from(tasks)
      .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id)));
    return row;
  }

  /** The task, locked until the transaction ends: the change that read it is the next to write it. */
  private async lock(tx: PgQueries, teamId: string, id: number): Promise<TaskRow | undefined> {
    const [row] = await tx
      .select()
      .from(tasks)
      .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id)))
      .for('update');
    return row;
  }

  private async byExecutionId(q: PgQueries, teamId: string, functionExecutionId: string): Promise<TaskRow | undefined> {
    const [row] = await q
      .select()
      .from(tasks)
      .where(and(eq(tasks.teamId, teamId), eq(tasks.functionExecutionId, functionExecutionId)));
    return row;
  }

  private async messagesOf(q: PgQueries, teamId: string, taskId: number): Promise<TaskMessage[]> {
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

/** Ids are `bigint`: any other number names no row (on SQLite too; PostgreSQL would fail the query). */
const isRowId = (id: number) => Number.isSafeInteger(id);
/** Task numbers are `integer` (32-bit). */
const isTaskNumber = (n: number) => Number.isInteger(n) && n >= -2_147_483_648 && n <= 2_147_483_647;
/** PostgreSQL text cannot hold NUL (SQLite keeps it); it shows as nothing in Slack anyway. */
const storable = (text: string) => text.replaceAll('\u0000', '');

/** A create for an execution id another transaction has just used: roll back, return that task. */
class ExecutionTaken extends Error {}

/** The steps still open (the partial index's condition, as on SQLite). */
const OPEN_STEP = sql`${tasks.stepState} IN ('waiting', 'completing')`;

