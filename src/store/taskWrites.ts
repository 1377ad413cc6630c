import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { appendAudit } from './audit.js';
import { writeEffects } from './outbox.js';
import { foldForSearch } from './searchText.js';
import { taskComments, taskMessages, tasks, teamCounters, type CommentRow, type StepState, type TaskRow } from './schema.js';
import { TaskReads } from './taskReads.js';
import { SeriesDateTakenError } from './taskErrors.js';
import { nextOccurrenceOf, type Deletion, type EffectsOf, type NewTask, type NextOccurrence, type TaskMessage, type TaskPatch, type Reassigned, type Reassignment, type Transition } from './tasks.js';

/**
 * The SQLite tasks repository's changes (`TasksRepository` in ./tasks.ts), each one `store.write`
 * transaction: it reads the task through `TaskReads` on the same connection, changes it, appends
 * the audit row and writes the effects it owes.
 */
export class TaskWrites extends TaskReads {
  /**
   * Creates a task with the workspace's next number. The counter row is upserted and incremented
   * inside the same IMMEDIATE transaction as the insert, so concurrent creates get distinct,
   * consecutive numbers, and a deleted task's number is never handed out again.
   * With a `functionExecutionId` or a `requestKey` already used (a retried `function_executed`, a
   * slash command delivered again), returns that task with `created: false` and changes nothing.
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
      if (input.requestKey) {
        const existing = tx
          .select()
          .from(tasks)
          .where(and(eq(tasks.teamId, input.teamId), eq(tasks.requestKey, input.requestKey)))
          .get();
        if (existing) return { task: existing, created: false };
      }
      const task = this.insertRow(input, at);
      if (effects) writeEffects(this.store, effects(task), at);
      return { task, created: true };
    });
  }

  /**
   * The next occurrence of a repeating series, after the occurrence `id` (see `TasksStore`). One
   * writer at a time: the look-up of (series, due date) before the insert is the whole guard
   * here (the unique index `tasks_series_due_uq` backs it).
   */
  async nextOccurrence(teamId: string, id: number, at: number, plan: (prev: TaskRow) => string | undefined, effects?: EffectsOf<TaskRow>): Promise<NextOccurrence> {
    return this.store.write((tx) => {
      const prev = this.get(teamId, id);
      if (!prev) return { skipped: 'the task was deleted' };
      if (prev.repeatRule === null || prev.seriesId === null) return { skipped: 'not repeating (stopped, or the next one exists)' };
      const dueDate = plan(prev);
      if (dueDate === undefined) return { skipped: 'not due (its due date changed)' };
      // Only the newest occurrence carries the rule.
      tx.update(tasks).set({ repeatRule: null }).where(and(eq(tasks.teamId, teamId), eq(tasks.id, id))).run();
      const existing = tx
        .select()
        .from(tasks)
        .where(and(eq(tasks.teamId, teamId), eq(tasks.seriesId, prev.seriesId), eq(tasks.dueDate, dueDate)))
        .get();
      if (existing) return { task: existing, created: false };
      const task = this.insertRow(nextOccurrenceOf(prev, dueDate), at, { after: prev.id });
      if (effects) writeEffects(this.store, effects(task), at);
      return { task, created: true };
    });
  }

  /** Ends the series task `id` belongs to: every occurrence's rule is cleared (see `TasksStore`). */
  async stopSeries(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<TaskRow[]>): Promise<{ task: TaskRow; stopped: TaskRow[] } | undefined> {
    return this.store.write((tx) => {
      const task = this.get(teamId, id);
      if (!task) return undefined;
      if (task.seriesId === null) return { task, stopped: [] };
      const stopped = tx
        .update(tasks)
        .set({ repeatRule: null, updatedAt: at })
        .where(and(eq(tasks.teamId, teamId), eq(tasks.seriesId, task.seriesId), isNotNull(tasks.repeatRule)))
        .returning()
        .all()
        .sort((a, b) => a.id - b.id);
      for (const row of stopped) appendAudit(this.store, { teamId, actorId, entity: 'task', entityId: row.id, action: 'stopped_repeating', detail: { series: task.seriesId } });
      if (effects && stopped.length > 0) writeEffects(this.store, effects(stopped), at);
      return { task: stopped.find((r) => r.id === id) ?? task, stopped };
    });
  }

  /** Numbers and inserts a task, with its audit row (inside a write). A new series is its own first task. */
  private insertRow(input: NewTask, at: number, series?: { after: number }): TaskRow {
    const tx = this.store.db;
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
    const inserted = this.store
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
            repeatRule: sql.placeholder('repeatRule'),
            seriesId: sql.placeholder('seriesId'),
            requestKey: sql.placeholder('requestKey'),
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
        repeatRule: input.repeatRule ?? null,
        seriesId: input.seriesId ?? null,
        requestKey: input.requestKey || null,
        at,
      }) as TaskRow;
    const task = input.repeatRule && input.seriesId == null ? tx.update(tasks).set({ seriesId: inserted.id }).where(eq(tasks.id, inserted.id)).returning().get() : inserted;
    appendAudit(this.store, {
      teamId: task.teamId,
      actorId: input.creatorId,
      entity: 'task',
      entityId: task.id,
      action: 'created',
      detail: {
        number: task.number,
        assignee: task.assigneeId,
        origin: task.origin,
        ...(task.dueDate ? { due: task.dueDate } : {}),
        ...(task.private ? { private: true } : {}),
        ...(task.repeatRule ? { repeat: task.repeatRule } : {}),
        ...(series ? { after: series.after } : {}),
      },
    });
    return task;
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
      const due = changes['dueDate'];
      if (typeof due === 'string' && before.seriesId !== null) {
        const taken = tx.select({ id: tasks.id }).from(tasks).where(and(eq(tasks.teamId, teamId), eq(tasks.seriesId, before.seriesId), eq(tasks.dueDate, due))).get();
        if (taken) throw new SeriesDateTakenError(due);
      }
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

  async assign(teamId: string, id: number, actorId: string, assigneeId: string, at: number, effects?: EffectsOf<Reassigned>): Promise<Reassignment | undefined> {
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
  async delete(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<Deletion>): Promise<Deletion | undefined> {
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

  /** Forgets a card Slack no longer has (`message_not_found` on update). */
  async forgetMessage(teamId: string, channelId: string, ts: string): Promise<void> {
    this.store.write((tx) => {
      tx.delete(taskMessages).where(and(eq(taskMessages.teamId, teamId), eq(taskMessages.channelId, channelId), eq(taskMessages.ts, ts))).run();
    });
  }

  // ------------------------------------------------------------ workflow steps

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
}
