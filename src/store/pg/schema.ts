import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { APPROVAL_STATUSES, OUTBOX_STATES, PRIORITIES, STEP_STATES, TASK_ORIGINS, TASK_STATUSES } from '../schema.js';

/**
 * The Tasklane store on PostgreSQL: the same tables, columns, keys and indexes as the SQLite
 * schema (../schema.ts, which documents them), and the same row types, so one repository
 * interface fits both engines. test/store/schemaParity.test.ts fails when the two drift.
 * Change this file with ../schema.ts, then `npm run db:generate:pg` to add a migration to
 * `migrations-pg/`.
 *
 * Types: unix-ms times and row ids are `bigint` read as JS numbers (SQLite's integers are 64-bit;
 * ms times overflow `integer`); small counts are `integer`; SQLite's 0/1 flags are `boolean`;
 * enums and JSON stay `text`, as in SQLite (no ALTER TYPE to add a value). Ids are identity
 * columns `BY DEFAULT`, so a row may still be given its id, as SQLite allows.
 */

// Statement start, as SQLite's `unixepoch('subsec')` is per statement; truncated to the ms.
const now = sql`(floor(extract(epoch from statement_timestamp()) * 1000))::bigint`;
const ms = (name: string) => bigint(name, { mode: 'number' });
const id = (name: string) => bigint(name, { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity();

export const teamCounters = pgTable('team_counters', {
  teamId: text('team_id').primaryKey(),
  lastTaskNumber: integer('last_task_number').notNull().default(0),
});

/**
 * A small number per workspace (SQLite's search index keys a task by it, see ../schema.ts); kept
 * here so both engines hold the same tables.
 */
export const taskSearchShards = pgTable('task_search_shards', {
  shard: integer('shard').primaryKey().generatedByDefaultAsIdentity(),
  teamId: text('team_id').notNull().unique(),
});

export const tasks = pgTable(
  'tasks',
  {
    id: id('id'),
    teamId: text('team_id').notNull(),
    number: integer('number').notNull(),
    title: text('title').notNull(),
    /** The title folded for search (store/searchText.ts), indexed by its trigrams (tasks_search_keys_idx). */
    titleSearch: text('title_search').notNull(),
    description: text('description').notNull().default(''),
    status: text('status', { enum: TASK_STATUSES }).notNull().default('open'),
    priority: text('priority', { enum: PRIORITIES }).notNull().default('normal'),
    assigneeId: text('assignee_id').notNull(),
    creatorId: text('creator_id').notNull(),
    dueDate: text('due_date'),
    origin: text('origin', { enum: TASK_ORIGINS }).notNull(),
    sourcePermalink: text('source_permalink'),
    channelId: text('channel_id'),
    createdAt: ms('created_at').notNull().default(now),
    updatedAt: ms('updated_at').notNull().default(now),
    completedBy: text('completed_by'),
    completedAt: ms('completed_at'),
    functionExecutionId: text('function_execution_id'),
    stepState: text('step_state', { enum: STEP_STATES }).notNull().default('none'),
    private: boolean('private').notNull().default(false),
    repeatRule: text('repeat_rule'),
    seriesId: bigint('series_id', { mode: 'number' }),
    requestKey: text('request_key'),
  },
  (t) => [
    uniqueIndex('tasks_team_number_uq').on(t.teamId, t.number),
    uniqueIndex('tasks_series_due_uq').on(t.seriesId, t.dueDate).where(sql`${t.seriesId} IS NOT NULL`),
    uniqueIndex('tasks_request_key_uq').on(t.teamId, t.requestKey).where(sql`${t.requestKey} IS NOT NULL`),
    uniqueIndex('tasks_function_execution_uq').on(t.functionExecutionId).where(sql`${t.functionExecutionId} IS NOT NULL`),
    index('tasks_assignee_idx').on(t.teamId, t.assigneeId, t.status, t.dueDate),
    index('tasks_creator_idx').on(t.teamId, t.creatorId, t.status, t.createdAt),
    index('tasks_team_status_idx').on(t.teamId, t.status, t.createdAt),
    index('tasks_team_completed_idx').on(t.teamId, t.status, t.completedAt),
    index('tasks_step_state_idx').on(t.stepState).where(sql`${t.stepState} IN ('waiting', 'completing')`),
    // Title search (pg/search.ts): GIN over the title's search keys, each trigram of the folded
    // title prefixed with the workspace (`tasklane_search_keys`, created by the migration that
    // made this index), so a key's list holds one workspace's tasks, as SQLite's FTS5 table
    // tasks_fts (migrations/0006, outside its drizzle schema) keeps one workspace in one rowid
    // range. fastupdate off: a new title goes straight into the index instead of GIN's pending
    // list, which every search would read in full until a vacuum merged it.
    index('tasks_search_keys_idx').using('gin', sql`tasklane_search_keys(${t.teamId}, ${t.titleSearch})`).with({ fastupdate: 'off' }),
  ],
);

export const taskMessages = pgTable(
  'task_messages',
  {
    taskId: bigint('task_id', { mode: 'number' })
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    teamId: text('team_id').notNull(),
    channelId: text('channel_id').notNull(),
    ts: text('ts').notNull(),
    kind: text('kind', { enum: ['assignee_dm', 'channel'] }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.ts] }), index('task_messages_task_idx').on(t.taskId)],
);

export const taskComments = pgTable(
  'task_comments',
  {
    id: id('id'),
    taskId: bigint('task_id', { mode: 'number' })
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    text: text('text').notNull(),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('task_comments_task_idx').on(t.taskId, t.createdAt)],
);

export const approvals = pgTable(
  'approvals',
  {
    id: id('id'),
    teamId: text('team_id').notNull(),
    title: text('title').notNull(),
    details: text('details').notNull().default(''),
    requesterId: text('requester_id'),
    status: text('status', { enum: APPROVAL_STATUSES }).notNull().default('pending'),
    decidedBy: text('decided_by'),
    comment: text('comment'),
    decidedAt: ms('decided_at'),
    failureReason: text('failure_reason'),
    origin: text('origin', { enum: ['workflow', 'shortcut'] }).notNull(),
    functionExecutionId: text('function_execution_id'),
    workflowExecutionId: text('workflow_execution_id'),
    stepState: text('step_state', { enum: STEP_STATES }).notNull().default('none'),
    remindAfterHours: integer('remind_after_hours'),
    escalateTo: text('escalate_to'),
    expireAfterHours: integer('expire_after_hours'),
    remindersSent: integer('reminders_sent').notNull().default(0),
    createdAt: ms('created_at').notNull().default(now),
    updatedAt: ms('updated_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('approvals_function_execution_uq').on(t.functionExecutionId),
    index('approvals_team_status_idx').on(t.teamId, t.status, t.createdAt),
    index('approvals_step_state_idx').on(t.stepState),
    index('approvals_status_created_idx').on(t.status, t.createdAt),
  ],
);

export const approvalApprovers = pgTable(
  'approval_approvers',
  {
    approvalId: bigint('approval_id', { mode: 'number' })
      .notNull()
      .references(() => approvals.id, { onDelete: 'cascade' }),
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    channelId: text('channel_id'),
    messageTs: text('message_ts'),
    escalated: boolean('escalated').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.approvalId, t.userId] }),
    index('approval_approvers_user_idx').on(t.teamId, t.userId, t.approvalId),
  ],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: id('id'),
    teamId: text('team_id').notNull(),
    actorId: text('actor_id').notNull(),
    entity: text('entity', { enum: ['task', 'approval'] }).notNull(),
    entityId: bigint('entity_id', { mode: 'number' }).notNull(),
    action: text('action').notNull(),
    detail: text('detail'),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('audit_log_entity_idx').on(t.entity, t.entityId, t.createdAt)],
);

export const processedDeliveries = pgTable(
  'processed_deliveries',
  {
    key: text('key').primaryKey(),
    teamId: text('team_id').notNull(),
    receivedAt: ms('received_at').notNull().default(now),
    state: text('state', { enum: ['handling', 'done', 'failed'] }).notNull().default('done'),
    claimedAt: ms('claimed_at'),
    attempts: integer('attempts').notNull().default(1),
    body: text('body'),
  },
  (t) => [
    index('processed_deliveries_received_idx').on(t.receivedAt),
    index('processed_deliveries_handling_idx').on(t.claimedAt).where(sql`${t.state} = 'handling'`),
  ],
);

export const outbox = pgTable(
  'outbox',
  {
    id: id('id'),
    key: text('key').notNull(),
    teamId: text('team_id').notNull(),
    kind: text('kind').notNull(),
    target: text('target').notNull(),
    payload: text('payload').notNull(),
    state: text('state', { enum: OUTBOX_STATES }).notNull().default('pending'),
    generation: integer('generation').notNull().default(0),
    spacingMs: integer('spacing_ms').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ms('next_attempt_at').notNull(),
    leaseOwner: text('lease_owner'),
    leaseUntil: ms('lease_until'),
    uncertain: boolean('uncertain').notNull().default(false),
    lastError: text('last_error'),
    result: text('result'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('outbox_key_uq').on(t.key),
    index('outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.state} = 'pending'`),
    index('outbox_lease_idx').on(t.leaseUntil).where(sql`${t.state} = 'pending' AND ${t.leaseUntil} IS NOT NULL`),
    index('outbox_done_idx').on(t.updatedAt).where(sql`${t.state} <> 'pending'`),
  ],
);

export const homeState = pgTable(
  'home_state',
  {
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    filter: text('filter', { enum: ['assigned', 'created', 'all_open', 'recently_done'] })
      .notNull()
      .default('assigned'),
    page: integer('page').notNull().default(0),
    updatedAt: ms('updated_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] })],
);

export const jobRuns = pgTable('job_runs', {
  name: text('name').primaryKey(),
  nextRunAt: ms('next_run_at').notNull(),
  owner: text('owner').notNull(),
  ranAt: ms('ran_at').notNull(),
});

export const userSettings = pgTable(
  'user_settings',
  {
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    remindersEnabled: boolean('reminders_enabled').notNull().default(true),
    reminderHour: integer('reminder_hour').notNull().default(9),
    updatedAt: ms('updated_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] })],
);

export const workspaceSettings = pgTable('workspace_settings', {
  teamId: text('team_id').primaryKey(),
  auditWebhookUrl: text('audit_webhook_url'),
  updatedBy: text('updated_by').notNull(),
  updatedAt: ms('updated_at').notNull().default(now),
});
