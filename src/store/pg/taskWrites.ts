import { and, eq, getTableColumns, inArray, isNotNull, sql } from 'drizzle-orm';
import type { CommentRow, StepState, TaskRow } from '../schema.js';
import { foldForSearch } from '../searchText.js';
import { SeriesDateTakenError } from '../taskErrors.js';
import { nextOccurrenceOf, type Deletion, type EffectsOf, type NewTask, type NextOccurrence, type TaskMessage, type TaskPatch, type Reassigned, type Reassignment, type Transition } from '../tasks.js';
import { appendAuditPg } from './audit.js';
import type { PgQueries } from './db.js';
import { writeEffectsPg } from './outbox.js';
import { taskComments, taskMessages, tasks } from './schema.js';
import { isRowId, PgTaskReads } from './taskReads.js';

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
 * `unique`: undefined (nothing inserted) when the task's execution id, or its series' occurrence on
 * its due date, is taken already.
 */
async function insertNumbered(tx: PgQueries, unique: 'execution' | 'series' | 'request' | undefined, values: Omit<typeof tasks.$inferInsert, 'number'>): Promise<TaskRow | undefined> {
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
    ${unique === 'execution' ? sql`ON CONFLICT (function_execution_id) WHERE function_execution_id IS NOT NULL DO NOTHING` : sql``}
    ${unique === 'series' ? sql`ON CONFLICT (series_id, due_date) WHERE series_id IS NOT NULL DO NOTHING` : sql``}
    ${unique === 'request' ? sql`ON CONFLICT (team_id, request_key) WHERE request_key IS NOT NULL DO NOTHING` : sql``}
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

/** PostgreSQL text cannot hold NUL (SQLite keeps it); it shows as nothing in Slack anyway. */
const storable = (text: string) => text.replaceAll('\u0000', '');

/** A create for an execution id another transaction has just used: roll back, return that task. */
class ExecutionTaken extends Error {}

/** An occurrence another transaction has just made: roll back (giving the number back), look again. */
class OccurrenceTaken extends Error {}

/** The row a task's create inserts (both a create and a series' next occurrence). */
function taskValues(input: NewTask, at: number): Omit<typeof tasks.$inferInsert, 'number'> {
  return {
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
    functionExecutionId: input.functionExecutionId ?? null,
    stepState: input.stepState ?? 'none',
    private: input.private ?? false,
    repeatRule: input.repeatRule ?? null,
    seriesId: input.seriesId ?? null,
    requestKey: input.requestKey ?? null,
    createdAt: at,
    updatedAt: at,
  };
}

/** The audit row of a created task (a series' later occurrence names the one it follows). */
function createdDetail(task: TaskRow, after?: number): Record<string, unknown> {
  return {
    number: task.number,
    assignee: task.assigneeId,
    origin: task.origin,
    ...(task.dueDate ? { due: task.dueDate } : {}),
    ...(task.private ? { private: true } : {}),
    ...(task.repeatRule ? { repeat: task.repeatRule } : {}),
    ...(after !== undefined ? { after } : {}),
  };
}

/**
 * The PostgreSQL tasks repository's changes (`PgTasksRepository` in ./tasks.ts), each one
 * `db.transaction`: it locks or conditionally updates the task, appends the audit row and writes
 * the effects it owes.
 */
export class PgTaskWrites extends PgTaskReads {
  /**
   * Creates a task with the workspace's next number (see `PgTasksRepository`). With a `functionExecutionId`
   * already used, returns that task with `created: false`, changes nothing and uses no number;
   * of two concurrent creates for one execution, the second waits for the first (at the
   * workspace's counter, or at the execution index), meets its task there (`ON CONFLICT DO
   * NOTHING` inserts nothing) and rolls back its counter increment.
   */
  async create(input: NewTask, at: number, effects?: EffectsOf<TaskRow>): Promise<{ task: TaskRow; created: boolean }> {
    const executionId = input.functionExecutionId ?? null;
    // As on SQLite, an empty execution id is stored but not looked for.
    const idempotent = Boolean(executionId);
    const requestKey = input.requestKey || null;
    try {
      return await this.db.transaction(async (tx) => {
        if (idempotent) {
          const existing = await this.byExecutionId(tx, input.teamId, executionId as string);
          if (existing) return { task: existing, created: false };
        }
        if (requestKey) {
          const existing = await this.byRequestKey(tx, input.teamId, requestKey);
          if (existing) return { task: existing, created: false };
        }
        const inserted = await insertNumbered(tx, idempotent ? 'execution' : requestKey ? 'request' : undefined, { ...taskValues(input, at), functionExecutionId: executionId, seriesId: null });
        if (!inserted) throw new ExecutionTaken();
        // A new series: its first task's id names it.
        const task = input.repeatRule ? ((await tx.update(tasks).set({ seriesId: input.seriesId ?? inserted.id }).where(eq(tasks.id, inserted.id)).returning())[0] as TaskRow) : inserted;
        await appendAuditPg(tx, { teamId: task.teamId, actorId: input.creatorId, entity: 'task', entityId: task.id, action: 'created', detail: createdDetail(task) });
        if (effects) await writeEffectsPg(tx, effects(task), at);
        return { task, created: true };
      });
    } catch (err) {
      if (!(err instanceof ExecutionTaken)) throw err;
      if (!idempotent && requestKey) {
        // Another transaction made the task for this request meanwhile (the same command twice at once).
        const made = await this.byRequestKey(this.db, input.teamId, requestKey);
        if (made) return { task: made, created: false };
      }
      const existing = await this.byExecutionId(this.db, input.teamId, executionId as string);
      if (existing) return { task: existing, created: false };
      // Taken by another workspace's task: SQLite fails on the unique index here too.
      throw new Error(`function execution ${executionId} already made a task in another workspace`);
    }
  }

  /**
   * See `TasksStore.nextOccurrence`. The previous occurrence is locked first, so two attempts for
   * it (its completion and its day passing, two instances) queue and the second finds its rule
   * cleared. The unique (series, due date) index backs that: an insert meeting it rolls back (its
   * number is given back) and the occurrence found is returned.
   */
  async nextOccurrence(teamId: string, id: number, at: number, plan: (prev: TaskRow) => string | undefined, effects?: EffectsOf<TaskRow>): Promise<NextOccurrence> {
    if (!isRowId(id)) return { skipped: 'the task was deleted' };
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.db.transaction(async (tx): Promise<NextOccurrence> => {
          const prev = await this.lock(tx, teamId, id);
          if (!prev) return { skipped: 'the task was deleted' };
          if (prev.repeatRule === null || prev.seriesId === null) return { skipped: 'not repeating (stopped, or the next one exists)' };
          const dueDate = plan(prev);
          if (dueDate === undefined) return { skipped: 'not due (its due date changed)' };
          await tx.update(tasks).set({ repeatRule: null }).where(and(eq(tasks.teamId, teamId), eq(tasks.id, id)));
          const [existing] = await tx
            .select()
            .from(tasks)
            .where(and(eq(tasks.teamId, teamId), eq(tasks.seriesId, prev.seriesId), eq(tasks.dueDate, dueDate)));
          if (existing) return { task: existing, created: false };
          const task = await insertNumbered(tx, 'series', taskValues(nextOccurrenceOf(prev, dueDate), at));
          if (!task) throw new OccurrenceTaken();
          await appendAuditPg(tx, { teamId, actorId: prev.creatorId, entity: 'task', entityId: task.id, action: 'created', detail: createdDetail(task, prev.id) });
          if (effects) await writeEffectsPg(tx, effects(task), at);
          return { task, created: true };
        });
      } catch (err) {
        if (!(err instanceof OccurrenceTaken) || attempt >= 2) throw err;
      }
    }
  }

  async stopSeries(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<TaskRow[]>): Promise<{ task: TaskRow; stopped: TaskRow[] } | undefined> {
    if (!isRowId(id)) return undefined;
    return this.db.transaction(async (tx) => {
      const task = await this.lock(tx, teamId, id);
      if (!task) return undefined;
      if (task.seriesId === null) return { task, stopped: [] };
      const stopped = await tx
        .update(tasks)
        .set({ repeatRule: null, updatedAt: at })
        .where(and(eq(tasks.teamId, teamId), eq(tasks.seriesId, task.seriesId), isNotNull(tasks.repeatRule)))
        .returning();
      stopped.sort((a, b) => a.id - b.id);
      for (const row of stopped) await appendAuditPg(tx, { teamId, actorId, entity: 'task', entityId: row.id, action: 'stopped_repeating', detail: { series: task.seriesId } });
      if (effects && stopped.length > 0) await writeEffectsPg(tx, effects(stopped), at);
      return { task: stopped.find((r) => r.id === id) ?? task, stopped };
    });
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
      const due = changes['dueDate'];
      if (typeof due === 'string' && before.seriesId !== null) {
        const [taken] = await tx
          .select({ id: tasks.id })
          .from(tasks)
          .where(and(eq(tasks.teamId, teamId), eq(tasks.seriesId, before.seriesId), eq(tasks.dueDate, due)));
        if (taken) throw new SeriesDateTakenError(due);
      }
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

  async assign(teamId: string, id: number, actorId: string, assigneeId: string, at: number, effects?: EffectsOf<Reassigned>): Promise<Reassignment | undefined> {
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

  async delete(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<Deletion>): Promise<Deletion | undefined> {
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

  async forgetMessage(teamId: string, channelId: string, ts: string): Promise<void> {
    if (`${channelId}${ts}`.includes('\u0000')) return;
    await this.db.delete(taskMessages).where(and(eq(taskMessages.teamId, teamId), eq(taskMessages.channelId, channelId), eq(taskMessages.ts, ts)));
  }

  // ------------------------------------------------------------ workflow steps

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

  /** The task, locked until the transaction ends: the change that read it is the next to write it. */
  private async lock(tx: PgQueries, teamId: string, id: number): Promise<TaskRow | undefined> {
    const [row] = await tx
      .select()
      .from(tasks)
      .where(and(eq(tasks.teamId, teamId), eq(tasks.id, id)))
      .for('update');
    return row;
  }
}
