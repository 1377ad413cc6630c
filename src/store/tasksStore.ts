import type { AuditRow, CommentRow, StepState, TaskRow } from './schema.js';
import type { Deletion, EffectsOf, NewTask, NextOccurrence, TaskListQuery, TaskMessage, TaskPage, TaskPatch, TaskReader, Reassigned, Reassignment, Transition } from './tasks.js';

export type { Deletion, EffectsOf, NewTask, NextOccurrence, TaskListQuery, TaskMessage, TaskPage, TaskPatch, TaskReader, Reassigned, Reassignment, Transition } from './tasks.js';

/**
 * The tasks store, whichever engine holds it: `TasksRepository` (SQLite, ./tasks.ts, which
 * documents each method) and `PgTasksRepository` (PostgreSQL, ./pg/tasks.ts). Every method is
 * one whole transaction; every change appends its audit row and writes the effects it owes
 * (outbox rows) in that transaction. test/store/tasksContract.test.ts runs one suite on both.
 */
export interface TasksStore {
  create(input: NewTask, at: number, effects?: EffectsOf<TaskRow>): Promise<{ task: TaskRow; created: boolean }>;
  findById(teamId: string, id: number): Promise<TaskRow | undefined>;
  findByNumber(teamId: string, number: number): Promise<TaskRow | undefined>;
  findByExecutionId(teamId: string, functionExecutionId: string): Promise<TaskRow | undefined>;
  update(teamId: string, id: number, actorId: string, patch: TaskPatch, at: number, effects?: EffectsOf<TaskRow>): Promise<Transition | undefined>;
  assign(teamId: string, id: number, actorId: string, assigneeId: string, at: number, effects?: EffectsOf<Reassigned>): Promise<Reassignment | undefined>;
  complete(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<TaskRow>): Promise<Transition | undefined>;
  reopen(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<TaskRow>): Promise<Transition | undefined>;
  delete(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<Deletion>): Promise<Deletion | undefined>;
  /**
   * Creates the occurrence after `id` of its repeating series, once: nothing when `id` is gone or
   * no longer carries the rule (stopped, or its next occurrence was made); `plan` (run in the
   * transaction on the task as it is then) gives the next due date, or undefined to skip. The
   * previous occurrence's rule is cleared (only the newest carries it). An occurrence of the
   * series on that date already (unique series + due date) counts as made: `created: false`.
   */
  nextOccurrence(teamId: string, id: number, at: number, plan: (prev: TaskRow) => string | undefined, effects?: EffectsOf<TaskRow>): Promise<NextOccurrence>;
  /** Clears the rule of every occurrence of the series `id` belongs to; `stopped`: those that had it. */
  stopSeries(teamId: string, id: number, actorId: string, at: number, effects?: EffectsOf<TaskRow[]>): Promise<{ task: TaskRow; stopped: TaskRow[] } | undefined>;
  addComment(teamId: string, taskId: number, userId: string, text: string, at: number): Promise<CommentRow | undefined>;
  comments(teamId: string, taskId: number): Promise<CommentRow[]>;
  history(teamId: string, taskId: number): Promise<AuditRow[]>;
  recordMessage(teamId: string, taskId: number, message: TaskMessage): Promise<void>;
  messages(teamId: string, taskId: number): Promise<TaskMessage[]>;
  forgetMessage(teamId: string, channelId: string, ts: string): Promise<void>;
  findByMessage(teamId: string, channelId: string, ts: string): Promise<TaskRow | undefined>;
  list(teamId: string, q: TaskListQuery): Promise<TaskPage>;
  count(teamId: string, q: Pick<TaskListQuery, 'scope' | 'status' | 'userId' | 'guest'>): Promise<number>;
  openAssignedTo(teamId: string, userId: string, today: string, page: { limit: number; offset?: number }): Promise<TaskPage & { overdue: number }>;
  search(teamId: string, reader: TaskReader, query: string, limit?: number): Promise<TaskRow[]>;
  pendingSteps(): Promise<TaskRow[]>;
  waitingSteps(teamId?: string): Promise<TaskRow[]>;
  transitionStep(teamId: string, id: number, from: StepState[], to: StepState): Promise<boolean>;
}
