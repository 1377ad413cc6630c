import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * The Tasklane store. Every row carries `team_id`; every query filters on it.
 * Times are unix milliseconds; due dates are calendar dates `YYYY-MM-DD`.
 * Change this file, then `npm run db:generate` to add a migration to `migrations/`.
 */

export const TASK_STATUSES = ['open', 'done', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const TASK_ORIGINS = ['command', 'shortcut', 'message', 'workflow', 'home'] as const;
export type TaskOrigin = (typeof TASK_ORIGINS)[number];
/** `expired`: no approver decided within the request's `expire_after_hours`. */
export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'failed', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
/** Whether a workflow step bound to a row still has to be completed in Slack. */
export const STEP_STATES = ['none', 'waiting', 'completing', 'completed', 'failed'] as const;
export type StepState = (typeof STEP_STATES)[number];

const now = sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`;

/** Per-workspace counter: task numbers never repeat, even after a delete. */
export const teamCounters = sqliteTable('team_counters', {
  teamId: text('team_id').primaryKey(),
  lastTaskNumber: integer('last_task_number').notNull().default(0),
});

export const tasks = sqliteTable(
  'tasks',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    teamId: text('team_id').notNull(),
    number: integer('number').notNull(),
    title: text('title').notNull(),
    /**
     * `title` folded for search (store/searchText.ts `foldForSearch`), written with the title.
     * Indexed by `tasks_fts` (FTS5, trigram; not known to drizzle), kept in step by triggers on
     * this table (migrations/0006). A migration that rebuilds this table (drizzle-kit does for
     * some changes) drops those triggers and must create them again: test/store/search.test.ts
     * checks they exist.
     */
    titleSearch: text('title_search').notNull(),
    description: text('description').notNull().default(''),
    status: text('status', { enum: TASK_STATUSES }).notNull().default('open'),
    priority: text('priority', { enum: PRIORITIES }).notNull().default('normal'),
    assigneeId: text('assignee_id').notNull(),
    creatorId: text('creator_id').notNull(),
    dueDate: text('due_date'),
    origin: text('origin', { enum: TASK_ORIGINS }).notNull(),
    sourcePermalink: text('source_permalink'),
    /** Channel the creator asked the card to be posted in (besides the assignee's DM). */
    channelId: text('channel_id'),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
    completedBy: text('completed_by'),
    completedAt: integer('completed_at'),
    /** Set when a `create_task` workflow step made this task. */
    functionExecutionId: text('function_execution_id'),
    /** `waiting` while a `create_task` step with wait_for_completion awaits this task's completion. */
    stepState: text('step_state', { enum: STEP_STATES }).notNull().default('none'),
    /**
     * Made from a message in a private channel, group DM or DM: only its creator and its current
     * assignee may see it. Decided once, when the task is created.
     */
    private: integer('private', { mode: 'boolean' }).notNull().default(false),
    /**
     * A repeating task's rule (features/tasks/recurrence.ts), e.g. `weekly:1`: when this
     * occurrence is completed or its day passes, the next is created. Null: not repeating, or the
     * series was stopped.
     */
    repeatRule: text('repeat_rule'),
    /** The id of a repeating series' first task (on every occurrence, the first's included). */
    seriesId: integer('series_id'),
    /**
     * What made it, for a request Slack may deliver again (a slash command's `command:<trigger_id>`):
     * a second create with the same key returns this task instead of making another.
     */
    requestKey: text('request_key'),
  },
  (t) => [
    uniqueIndex('tasks_team_number_uq').on(t.teamId, t.number),
    // One occurrence per series and due date: the next occurrence is created once, however many
    // times its creation is attempted (a completion and the day passing, a retry, two instances).
    uniqueIndex('tasks_series_due_uq').on(t.seriesId, t.dueDate).where(sql`${t.seriesId} IS NOT NULL`),
    uniqueIndex('tasks_request_key_uq').on(t.teamId, t.requestKey).where(sql`${t.requestKey} IS NOT NULL`),
    // Partial: only workflow-made tasks have an execution id, and only their steps still open
    // (waiting, completing) are looked up, so a task from /task, a shortcut or the Home adds no
    // entry to these two indexes (two fewer pages in its commit).
    uniqueIndex('tasks_function_execution_uq').on(t.functionExecutionId).where(sql`${t.functionExecutionId} IS NOT NULL`),
    index('tasks_assignee_idx').on(t.teamId, t.assigneeId, t.status, t.dueDate),
    index('tasks_creator_idx').on(t.teamId, t.creatorId, t.status, t.createdAt),
    index('tasks_team_status_idx').on(t.teamId, t.status, t.createdAt),
    index('tasks_team_completed_idx').on(t.teamId, t.status, t.completedAt),
    index('tasks_step_state_idx').on(t.stepState).where(sql`${t.stepState} IN ('waiting', 'completing')`),
  ],
);

/**
 * A small number per workspace, given by the tasks insert trigger when the workspace's first task
 * is stored (migrations/0006): the search index `tasks_fts` keeps a task under the rowid
 * `(shard << 32) | number`, so a search reads one workspace's part of the index, newest first.
 */
export const taskSearchShards = sqliteTable('task_search_shards', {
  shard: integer('shard').primaryKey(),
  teamId: text('team_id').notNull().unique(),
});

/** Slack messages that show a task (assignee DM card, channel card, thread replies are not tracked). */
export const taskMessages = sqliteTable(
  'task_messages',
  {
    taskId: integer('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    teamId: text('team_id').notNull(),
    channelId: text('channel_id').notNull(),
    ts: text('ts').notNull(),
    kind: text('kind', { enum: ['assignee_dm', 'channel'] }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.ts] }), index('task_messages_task_idx').on(t.taskId)],
);

export const taskComments = sqliteTable(
  'task_comments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    taskId: integer('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    text: text('text').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('task_comments_task_idx').on(t.taskId, t.createdAt)],
);

export const approvals = sqliteTable(
  'approvals',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    teamId: text('team_id').notNull(),
    title: text('title').notNull(),
    details: text('details').notNull().default(''),
    requesterId: text('requester_id'),
    status: text('status', { enum: APPROVAL_STATUSES }).notNull().default('pending'),
    decidedBy: text('decided_by'),
    comment: text('comment'),
    decidedAt: integer('decided_at'),
    failureReason: text('failure_reason'),
    origin: text('origin', { enum: ['workflow', 'shortcut'] }).notNull(),
    functionExecutionId: text('function_execution_id'),
    workflowExecutionId: text('workflow_execution_id'),
    /** `waiting` until the workflow step has been completed in Slack (survives restarts). */
    stepState: text('step_state', { enum: STEP_STATES }).notNull().default('none'),
    /** Re-ping approvers who have not decided every this many hours (at most 3 times); null: never. */
    remindAfterHours: integer('remind_after_hours'),
    /** Added as an approver (and told why) when the first reminder goes out. */
    escalateTo: text('escalate_to'),
    /** No decision within this many hours → `expired` (the step completes with approved=false). */
    expireAfterHours: integer('expire_after_hours'),
    /** How many reminders went out so far. */
    remindersSent: integer('reminders_sent').notNull().default(0),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('approvals_function_execution_uq').on(t.functionExecutionId),
    index('approvals_team_status_idx').on(t.teamId, t.status, t.createdAt),
    index('approvals_step_state_idx').on(t.stepState),
    // The recovery job's "pending, created in the last hours" (every 30 s, across workspaces).
    index('approvals_status_created_idx').on(t.status, t.createdAt),
  ],
);

/** One row per approver: who may decide, and the DM that carries their buttons. */
export const approvalApprovers = sqliteTable(
  'approval_approvers',
  {
    approvalId: integer('approval_id')
      .notNull()
      .references(() => approvals.id, { onDelete: 'cascade' }),
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    channelId: text('channel_id'),
    messageTs: text('message_ts'),
    /** Added by escalation (the request's `escalate_to`), not named by the request. */
    escalated: integer('escalated', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.approvalId, t.userId] }),
    index('approval_approvers_user_idx').on(t.teamId, t.userId, t.approvalId),
  ],
);

/** Append-only: who did what to which task or approval, and when. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    teamId: text('team_id').notNull(),
    actorId: text('actor_id').notNull(),
    entity: text('entity', { enum: ['task', 'approval'] }).notNull(),
    entityId: integer('entity_id').notNull(),
    action: text('action').notNull(),
    detail: text('detail'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('audit_log_entity_idx').on(t.entity, t.entityId, t.createdAt)],
);

/**
 * Slack deliveries already taken (event ids): makes Slack's retries harmless. An event is
 * `handling` (its body kept) until its listener finished, then `done` (body dropped): one a crash
 * cut short is handled again from its body (at least once; the listeners' effects are idempotent).
 */
export const processedDeliveries = sqliteTable(
  'processed_deliveries',
  {
    key: text('key').primaryKey(),
    teamId: text('team_id').notNull(),
    receivedAt: integer('received_at').notNull().default(now),
    state: text('state', { enum: ['handling', 'done', 'failed'] }).notNull().default('done'),
    /** When the current attempt took it (a newer attempt may take over an older one's). */
    claimedAt: integer('claimed_at'),
    attempts: integer('attempts').notNull().default(1),
    /** The delivery's JSON body while `handling`, to handle it again after a crash. */
    body: text('body'),
  },
  (t) => [
    index('processed_deliveries_received_idx').on(t.receivedAt),
    index('processed_deliveries_handling_idx').on(t.claimedAt).where(sql`${t.state} = 'handling'`),
  ],
);

export const OUTBOX_STATES = ['pending', 'done', 'failed'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/**
 * Every effect a change has in Slack (a card, a DM, a card update, a step completion, a Home
 * publish), written in the change's own transaction and sent by the outbox sender
 * (src/outbox/). `key` names the effect: writing the same effect twice is a no-op, or, for
 * coalescing effects (card refreshes, Home publishes), bumps `generation` so that one more send
 * renders the newest state. A sender holds a row while `lease_until` is in the future.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    key: text('key').notNull(),
    teamId: text('team_id').notNull(),
    kind: text('kind').notNull(),
    /** Who or where it goes: a channel or user id, a workflow execution id. */
    target: text('target').notNull(),
    /** JSON: what the kind's handler needs besides the store's current state. */
    payload: text('payload').notNull(),
    state: text('state', { enum: OUTBOX_STATES }).notNull().default('pending'),
    /** Bumped each time a coalescing effect is written again while not yet sent. */
    generation: integer('generation').notNull().default(0),
    /** A coalescing effect is sent at most once per this many ms (a burst of changes, one send). */
    spacingMs: integer('spacing_ms').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    leaseOwner: text('lease_owner'),
    leaseUntil: integer('lease_until'),
    /** The last attempt's outcome is unknown (timeout, 5xx): look before posting again. */
    uncertain: integer('uncertain', { mode: 'boolean' }).notNull().default(false),
    lastError: text('last_error'),
    /** What the send produced (a message's `channel/ts`), for logs and tests. */
    result: text('result'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('outbox_key_uq').on(t.key),
    index('outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.state} = 'pending'`),
    // Rows held by a sender (a handful): when the first lease runs out, for a sender that died.
    index('outbox_lease_idx').on(t.leaseUntil).where(sql`${t.state} = 'pending' AND ${t.leaseUntil} IS NOT NULL`),
    index('outbox_done_idx').on(t.updatedAt).where(sql`${t.state} <> 'pending'`),
  ],
);

/** What each user last chose on their App Home, so republishing keeps it. */
export const homeState = sqliteTable(
  'home_state',
  {
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    filter: text('filter', { enum: ['assigned', 'created', 'all_open', 'recently_done'] })
      .notNull()
      .default('assigned'),
    page: integer('page').notNull().default(0),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] })],
);

/**
 * One row per periodic job (recovery, pruning): the instance whose update moves `next_run_at`
 * runs it, so instances sharing a store run each job once per period between them.
 */
export const jobRuns = sqliteTable('job_runs', {
  name: text('name').primaryKey(),
  nextRunAt: integer('next_run_at').notNull(),
  owner: text('owner').notNull(),
  ranAt: integer('ran_at').notNull(),
});

/** Each person's reminder settings (App Home → Settings); no row: reminders on, at 09:00. */
export const userSettings = sqliteTable(
  'user_settings',
  {
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    remindersEnabled: integer('reminders_enabled', { mode: 'boolean' }).notNull().default(true),
    /** The local hour (0–23, the user's Slack time zone) due-date reminders and nudges go out. */
    reminderHour: integer('reminder_hour').notNull().default(9),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] })],
);

/** Per-workspace settings a workspace admin changes from the App Home. */
export const workspaceSettings = sqliteTable('workspace_settings', {
  teamId: text('team_id').primaryKey(),
  /** The audit feed's incoming webhook (overrides AUDIT_WEBHOOK_URL for this workspace); null: none. */
  auditWebhookUrl: text('audit_webhook_url'),
  updatedBy: text('updated_by').notNull(),
  updatedAt: integer('updated_at').notNull().default(now),
});

export type TaskRow = typeof tasks.$inferSelect;
export type NewTaskRow = typeof tasks.$inferInsert;
export type ApprovalRow = typeof approvals.$inferSelect;
export type ApproverRow = typeof approvalApprovers.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
export type CommentRow = typeof taskComments.$inferSelect;
export type HomeStateRow = typeof homeState.$inferSelect;
export type HomeFilter = HomeStateRow['filter'];
export type OutboxRow = typeof outbox.$inferSelect;
export type UserSettingsRow = typeof userSettings.$inferSelect;
export type WorkspaceSettingsRow = typeof workspaceSettings.$inferSelect;
export type NewOutboxRow = typeof outbox.$inferInsert;
