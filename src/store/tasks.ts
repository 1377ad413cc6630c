import type { Effect } from './outbox.js';
import type { Priority, StepState, TaskOrigin, TaskRow } from './schema.js';
import { TaskWrites } from './taskWrites.js';
import type { TasksStore } from './tasksStore.js';

/** What a change owes Slack, given its outcome (run inside its transaction). */
export type EffectsOf<T> = (outcome: T) => Effect[];

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
  /** A repeating task's rule (features/tasks/recurrence.ts); the first occurrence becomes its series. */
  repeatRule?: string | null;
  /** The series (its first task's id) of a later occurrence. */
  seriesId?: number | null;
  /** A request Slack may deliver again (`command:<trigger_id>`): a second create with it returns the first task. */
  requestKey?: string | null;
}

/**
 * A repeating series' next occurrence after `prev`, due `dueDate`: the same title, description,
 * priority, people, channel, privacy, rule and series (both engines insert it).
 */
export function nextOccurrenceOf(prev: TaskRow, dueDate: string): NewTask {
  const { teamId, title, description, priority, assigneeId, creatorId, origin, channelId, private: hidden, repeatRule, seriesId } = prev;
  return { teamId, title, description, priority, assigneeId, creatorId, dueDate, origin, channelId, private: hidden, repeatRule, seriesId };
}

/** What `nextOccurrence` did: the next occurrence (made now, or found made already), or why nothing. */
export type NextOccurrence = { task: TaskRow; created: boolean } | { skipped: string };

/**
 * Who reads a list: tasks are filtered in SQL by the visibility rule (its pure form is
 * `maySee` in features/tasks/visibility.ts), so pages and totals count only what they may see.
 */
export interface TaskReader {
  userId: string;
  /** A Slack guest: sees only tasks they created or are assigned. */
  guest: boolean;
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

/** A reassignment: the task as it is now, and whom it was assigned to before. */
export interface Reassigned {
  task: TaskRow;
  previousAssigneeId: string;
}
/** `assign`'s outcome: a reassignment, or the task unchanged (already theirs). */
export type Reassignment = Transition & Reassigned;
/** A deletion's outcome: the task as it was, with the card messages that showed it. */
export interface Deletion {
  task: TaskRow;
  messages: TaskMessage[];
}

/**
 * The SQLite tasks repository: the only SQL for tasks, its reads in ./taskReads.ts and its
 * changes in ./taskWrites.ts. Every method is one whole transaction (writes through
 * `store.write`, BEGIN IMMEDIATE) and filters on `team_id`, so an id from workspace B never
 * resolves in workspace A. Every change appends an audit row in the same transaction.
 * Async on purpose: a PostgreSQL implementation can slot in behind the same interface.
 * Each change takes `effects`, a function of its outcome returning what it owes Slack (outbox
 * rows): called inside the transaction, so the change and its effects commit together or not at all.
 */
export class TasksRepository extends TaskWrites implements TasksStore {}
