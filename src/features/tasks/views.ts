import type { types } from '@slack/bolt';
import { Bits, Blocks, Elements, Modal, type BlockBuilder } from 'slack-block-builder';
import { ACTION, COMMAND, VIEW } from '../../slack/ids.js';
import { LIMIT, mention, plain, slackDate, truncate, userText } from '../../slack/mrkdwn.js';
import { metadataObject } from '../../slack/values.js';
import { blocks } from '../../slack/views.js';
import { PRIORITIES, type CommentRow, type Priority, type TaskOrigin, type TaskRow } from '../../store/schema.js';
import type { TaskListStatus, TaskScope } from '../../store/tasks.js';
import { formatDueDate } from './dates.js';
import { describe, type RepeatSpec } from './recurrence.js';
import { COMMENT_MAX, DESCRIPTION_MAX, TITLE_MAX } from './limits.js';

/**
 * Pure view builders for tasks: data in, Block Kit out, no I/O. Every user string goes through
 * `userText` (escaped, cut to the Block Kit limit), so a title like `<!channel>` cannot ping.
 */

type KnownBlock = types.KnownBlock;
type ModalView = types.ModalView;

const CARD_DESCRIPTION_MAX = 600;

/** `#12 Send the contract`, escaped, for mrkdwn. */
export function taskLabel(task: Pick<TaskRow, 'number' | 'title'>, max = TITLE_MAX + 12): string {
  return userText(`#${task.number} ${task.title}`, max);
}

function dueText(task: TaskRow, today?: string): string {
  if (!task.dueDate) return 'No due date';
  const overdue = today !== undefined && task.status === 'open' && task.dueDate < today;
  return `${formatDueDate(task.dueDate)}${overdue ? ' · *overdue*' : ''}`;
}

function statusText(task: TaskRow): string {
  return task.status === 'done' ? ':white_check_mark: Done' : task.status === 'cancelled' ? 'Cancelled' : ':large_blue_circle: Open';
}

// ---------------------------------------------------------------- task card

export interface CardOptions {
  /** the reader's today (YYYY-MM-DD), to mark overdue tasks; omitted on cards many people see */
  today?: string;
}

/**
 * The task card (assignee DM, channel post): title, assignee, due date, status, and the
 * Complete / Open buttons (value = task id). A done task keeps Open and says who completed it.
 */
export function taskCardBlocks(task: TaskRow, opts: CardOptions = {}): KnownBlock[] {
  const done = task.status !== 'open';
  const description = task.description.trim();
  const completed =
    task.status === 'done' && task.completedBy
      ? `:white_check_mark: Completed by ${mention(task.completedBy)}${task.completedAt ? ` ${slackDate(task.completedAt)}` : ''}`
      : undefined;
  return blocks(
    Blocks.Section({ text: `*${done ? `~${taskLabel(task)}~` : taskLabel(task)}*` }),
    Blocks.Section().fields(
      `*Assignee*\n${mention(task.assigneeId)}`,
      `*Due*\n${dueText(task, opts.today)}`,
      `*Status*\n${statusText(task)}`,
      `*Created by*\n${mention(task.creatorId)}`,
    ),
    description !== '' && Blocks.Section({ text: userText(description, CARD_DESCRIPTION_MAX) }),
    Blocks.Context().elements(completed ?? `Task #${task.number} · priority ${task.priority}${task.sourcePermalink ? ` · <${task.sourcePermalink}|source message>` : ''}`),
    Blocks.Actions().elements(
      ...(done ? [] : [Elements.Button({ text: 'Complete', actionId: ACTION.taskComplete, value: String(task.id) }).primary()]),
      Elements.Button({ text: 'Open', actionId: ACTION.taskOpen, value: String(task.id) }),
    ),
  );
}

/** Notification / fallback text for a card: escaped, since Slack parses it as mrkdwn too. */
export function taskCardText(task: TaskRow, lead?: string): string {
  return `${lead ? `${lead}: ` : ''}${taskLabel(task)}`;
}

/** What a card becomes once its task is deleted: no buttons left to click. */
export function deletedCardBlocks(task: TaskRow, deletedBy: string): KnownBlock[] {
  return blocks(
    Blocks.Section({ text: `~${taskLabel(task)}~` }),
    Blocks.Context().elements(`:wastebasket: Deleted by ${mention(deletedBy)}`),
  );
}

// ---------------------------------------------------------------- messages

export function assignedText(task: TaskRow, by: string): string {
  return by === task.assigneeId
    ? taskCardText(task, 'You have a new task')
    : taskCardText(task, `${mention(by)} assigned you a task`);
}

/** The thread reply under a message a task was made from ("Make a task"). */
export function madeFromMessageText(task: TaskRow): string {
  return `:memo: ${mention(task.creatorId)} made this a task: *${taskLabel(task)}*, assigned to ${mention(task.assigneeId)}.`;
}

export function completedNoticeText(task: TaskRow): string {
  return `:white_check_mark: ${task.completedBy ? mention(task.completedBy) : 'Someone'} completed ${taskLabel(task)}`;
}

const SCOPE_TITLE: Record<TaskScope, Record<TaskListStatus, string>> = {
  mine: { open: 'Your open tasks', done: 'Tasks you completed or that were done for you' },
  created: { open: 'Open tasks you created', done: 'Done tasks you created' },
  all: { open: 'All open tasks in this workspace', done: 'Recently done tasks in this workspace' },
};

/** `/task list` answer: newest first, one line per task, a footer when there are more. */
export function taskListBlocks(tasks: TaskRow[], total: number, scope: TaskScope, status: TaskListStatus, today?: string): KnownBlock[] {
  const title = SCOPE_TITLE[scope][status];
  if (tasks.length === 0) {
    const hint =
      status === 'open' && scope === 'mine'
        ? `Nothing on your plate. Add one with \`${COMMAND.task} add &lt;title&gt;\`.`
        : `Nothing here. Try \`${COMMAND.task} list all\` or \`${COMMAND.task} list mine done\`.`;
    return blocks(Blocks.Section({ text: `*${title}*\n${hint}` }));
  }
  const lines = tasks.map((t) => {
    const parts = [`*#${t.number}* ${userText(t.title, TITLE_MAX)}`];
    if (scope !== 'mine') parts.push(`for ${mention(t.assigneeId)}`);
    if (t.status === 'open' && t.dueDate) parts.push(`due ${dueText(t, today)}`);
    const repeats = t.status === 'open' ? describe(t.repeatRule) : undefined;
    if (repeats) parts.push(`repeats ${repeats}`);
    if (t.status === 'done' && t.completedBy) parts.push(`done by ${mention(t.completedBy)}`);
    return parts.join(' · ');
  });
  const sections: string[] = [];
  let current = `*${title}* (${total})`;
  for (const line of lines) {
    if (current.length + line.length + 1 > LIMIT.sectionText) {
      sections.push(current);
      current = line;
    } else current += `\n${line}`;
  }
  sections.push(current);
  const footer =
    total > tasks.length
      ? `Showing the ${tasks.length} newest of ${total}. The App Home has the full list.`
      : `Complete one with \`${COMMAND.task} done #n\`.`;
  return blocks(...sections.map((text) => Blocks.Section({ text })), Blocks.Context().elements(footer));
}

export function taskListText(total: number, scope: TaskScope, status: TaskListStatus): string {
  return `${SCOPE_TITLE[scope][status]}: ${total}`;
}

export function mentionReplyText(userId: string, openCount: number): string {
  const count =
    openCount === 0 ? 'You have no open tasks.' : openCount === 1 ? 'You have *1* open task.' : `You have *${openCount}* open tasks.`;
  return [
    `Hi ${mention(userId)}! ${count}`,
    `• \`${COMMAND.task} add &lt;title&gt; [@assignee] [due &lt;date&gt;]\` creates a task`,
    `• \`${COMMAND.task} list\` shows yours, \`${COMMAND.task} done #n\` completes one`,
    `• \`${COMMAND.task} help\` for everything else, or open my App Home.`,
  ].join('\n');
}

// ---------------------------------------------------------------- modals

/**
 * Block ids of the New/Edit task form; each input's action id is the same string. Field errors
 * (`response_action: "errors"`) are keyed by these block ids.
 */
export const NEW_TASK_FIELD = {
  title: 'task_title',
  assignee: ACTION.taskFormAssignee,
  dueDate: 'task_due',
  priority: 'task_priority',
  repeat: 'task_repeat',
  channel: 'task_channel',
  description: 'task_description',
} as const;

/** The New task form's Repeat choices: value → label and what it means (a weekday or day left open is the due date's). */
export const REPEAT_CHOICES: readonly { value: string; label: string; spec?: RepeatSpec }[] = [
  { value: 'none', label: 'Does not repeat' },
  { value: 'daily', label: 'Every day', spec: { kind: 'daily' } },
  { value: 'weekdays', label: 'Every weekday (Mon–Fri)', spec: { kind: 'weekdays' } },
  { value: 'weekly', label: 'Every week', spec: { kind: 'weekly', every: 1 } },
  { value: 'weeks2', label: 'Every 2 weeks', spec: { kind: 'weekly', every: 2 } },
  { value: 'monthly', label: 'Every month', spec: { kind: 'monthly' } },
];

/** The Comment modal's one input. */
export const COMMENT_FIELD = 'task_comment_text';

const PRIORITY_LABEL: Record<Priority, string> = { low: 'Low', normal: 'Normal', high: 'High', urgent: 'Urgent' };

/**
 * What the New task modal carries from opening to submission: ids only. `tz` is the creator's
 * IANA zone when it was known at opening (so "not before today" needs no Slack call at submit);
 * `source` is the message a task is made from (channel + ts).
 */
export interface NewTaskMetadata {
  origin: TaskOrigin;
  tz?: string;
  source?: { channelId: string; ts: string; threadTs?: string };
}

/**
 * Where a modal of the task details stack sits (Slack's 3-view stack): the task, its
 * depth (1 = opened with views.open), and — for a view pushed on top of the details — the details
 * view's id and the hash it had when this view was pushed, to refresh it after the submission.
 */
export interface StackMeta {
  taskId: number;
  depth: number;
  parentId?: string;
  parentHash?: string;
}

export const MAX_STACK = 3;

export function encodeStackMeta(meta: StackMeta): string {
  return JSON.stringify(meta);
}

export function decodeStackMeta(raw: unknown): StackMeta | undefined {
  const m = metadataObject(raw) as Partial<Record<keyof StackMeta, unknown>> | undefined;
  if (!m || typeof m.taskId !== 'number' || !Number.isSafeInteger(m.taskId)) return undefined;
  const depth = typeof m.depth === 'number' && m.depth >= 1 && m.depth <= MAX_STACK ? Math.floor(m.depth) : 1;
  return {
    taskId: m.taskId,
    depth,
    ...(typeof m.parentId === 'string' && m.parentId !== '' ? { parentId: m.parentId } : {}),
    ...(typeof m.parentHash === 'string' && m.parentHash !== '' ? { parentHash: m.parentHash } : {}),
  };
}

const isoToDate = (date: string): Date => new Date(`${date}T00:00:00Z`);

function priorityOption(p: Priority) {
  return Bits.Option({ text: PRIORITY_LABEL[p], value: p });
}

interface TaskFormInitial {
  title?: string;
  description?: string;
  assigneeId: string;
  dueDate?: string | null;
  priority?: Priority;
}

/**
 * The inputs shared by New and Edit. Initial values are cut to the input's max_length (Slack
 * refuses a view whose initial_value is longer). The assignee select dispatches its choice, so
 * the app can look the person up before the form is submitted.
 */
function taskFormBlocks(initial: TaskFormInitial, withChannel: boolean): BlockBuilder[] {
  const list: BlockBuilder[] = [
    Blocks.Input({ label: 'Title', blockId: NEW_TASK_FIELD.title }).element(
      Elements.TextInput({ actionId: NEW_TASK_FIELD.title, maxLength: TITLE_MAX, placeholder: 'e.g. Send the contract to legal' }).initialValue(
        initial.title ? plain(initial.title, TITLE_MAX) : undefined,
      ),
    ),
    Blocks.Input({ label: 'Assignee', blockId: NEW_TASK_FIELD.assignee })
      .dispatchAction(true)
      .element(Elements.UserSelect({ actionId: NEW_TASK_FIELD.assignee, initialUser: initial.assigneeId })),
    Blocks.Input({ label: 'Due date', blockId: NEW_TASK_FIELD.dueDate })
      .optional(true)
      .element(Elements.DatePicker({ actionId: NEW_TASK_FIELD.dueDate }).initialDate(initial.dueDate ? isoToDate(initial.dueDate) : undefined)),
    Blocks.Input({ label: 'Priority', blockId: NEW_TASK_FIELD.priority }).element(
      Elements.StaticSelect({ actionId: NEW_TASK_FIELD.priority })
        .options(...PRIORITIES.map(priorityOption))
        .initialOption(priorityOption(initial.priority ?? 'normal')),
    ),
  ];
  if (withChannel) {
    const none = REPEAT_CHOICES[0] as (typeof REPEAT_CHOICES)[number];
    const option = (c: (typeof REPEAT_CHOICES)[number]) => Bits.Option({ text: c.label, value: c.value });
    list.push(
      Blocks.Input({ label: 'Repeat', blockId: NEW_TASK_FIELD.repeat, hint: 'On the due date’s weekday or day of the month; without a due date, the first is due on the first matching day from today.' })
        .optional(true)
        .element(
          Elements.StaticSelect({ actionId: NEW_TASK_FIELD.repeat })
            .options(...REPEAT_CHOICES.map(option))
            .initialOption(option(none)),
        ),
    );
    list.push(
      Blocks.Input({ label: 'Post the task in a channel', blockId: NEW_TASK_FIELD.channel, hint: 'Optional. The assignee gets it in a DM either way.' })
        .optional(true)
        .element(
          Elements.ConversationSelect({ actionId: NEW_TASK_FIELD.channel, placeholder: 'Pick a channel' }).filter('public', 'private').excludeBotUsers(true),
        ),
    );
  }
  list.push(
    Blocks.Input({ label: 'Description', blockId: NEW_TASK_FIELD.description })
      .optional(true)
      .element(
        Elements.TextInput({ actionId: NEW_TASK_FIELD.description, multiline: true, maxLength: DESCRIPTION_MAX }).initialValue(
          initial.description ? plain(initial.description, DESCRIPTION_MAX) : undefined,
        ),
      ),
  );
  return list;
}

/** New task: title, assignee (default: the user), due date, priority, channel, description. */
export function newTaskModal(opts: { userId: string; metadata: NewTaskMetadata; title?: string; description?: string }): ModalView {
  const fromMessage = opts.metadata.source !== undefined;
  return Modal({ title: 'New task', submit: 'Create', close: 'Cancel', callbackId: VIEW.newTask, privateMetaData: JSON.stringify(opts.metadata) })
    .blocks(
      fromMessage ? Blocks.Context().elements('Made from a message: the task links back to it, and I’ll reply in its thread.') : undefined,
      ...taskFormBlocks({ title: opts.title, description: opts.description, assigneeId: opts.userId }, true),
    )
    .buildToObject();
}

/** Edit task (pushed on the details view, or in its place when the stack is full). */
export function editTaskModal(task: TaskRow, meta: StackMeta): ModalView {
  return Modal({
    title: plain(`Edit task #${task.number}`, LIMIT.modalTitle),
    submit: 'Save',
    close: 'Back',
    callbackId: VIEW.editTask,
    privateMetaData: encodeStackMeta(meta),
  })
    .blocks(
      ...taskFormBlocks(
        { title: task.title, description: task.description, assigneeId: task.assigneeId, dueDate: task.dueDate, priority: task.priority },
        false,
      ),
    )
    .buildToObject();
}

export function commentTaskModal(task: TaskRow, meta: StackMeta): ModalView {
  return Modal({
    title: plain(`Comment on #${task.number}`, LIMIT.modalTitle),
    submit: 'Comment',
    close: 'Back',
    callbackId: VIEW.commentTask,
    privateMetaData: encodeStackMeta(meta),
  })
    .blocks(
      Blocks.Section({ text: `*${taskLabel(task)}*` }),
      Blocks.Input({ label: 'Comment', blockId: COMMENT_FIELD }).element(
        Elements.TextInput({ actionId: COMMENT_FIELD, multiline: true, maxLength: COMMENT_MAX, placeholder: 'Everyone who opens the task sees it.' }),
      ),
    )
    .buildToObject();
}

/** Delete confirmation from the details view; its submit deletes and closes the whole stack. */
export function deleteTaskConfirmModal(task: TaskRow, meta: StackMeta): ModalView {
  return Modal({
    title: plain(`Delete task #${task.number}`, LIMIT.modalTitle),
    submit: 'Delete',
    close: 'Back',
    callbackId: VIEW.detailsDeleteTask,
    privateMetaData: encodeStackMeta(meta),
  })
    .blocks(Blocks.Section({ text: `Delete *${taskLabel(task)}*? Its comments go with it. This cannot be undone.` }))
    .buildToObject();
}

/** Opened at once with a fresh trigger id, then replaced (views.update) when the real modal is ready. */
export function loadingModal(title: string): ModalView {
  return Modal({ title: plain(title, LIMIT.modalTitle), close: 'Cancel', callbackId: VIEW.loading })
    .blocks(Blocks.Section({ text: ':hourglass_flowing_sand: Loading…' }))
    .buildToObject();
}

const ACTION_WORDS: Record<string, string> = {
  created: 'created the task',
  edited: 'edited the task',
  assigned: 'reassigned the task',
  completed: 'completed the task',
  reopened: 'reopened the task',
};

/** How many history lines (audit + comments) the details view shows. */
export const DETAILS_HISTORY_SHOWN = 15;

/** What the viewer may do with the task (decided by the service's rules, not here). */
export interface DetailsPermissions {
  edit: boolean;
  complete: boolean;
  delete: boolean;
}

export interface DetailsData {
  task: TaskRow;
  comments: CommentRow[];
  history: { actorId: string; action: string; createdAt: number }[];
  today?: string;
  /** With it, the view shows Edit / Comment / Complete / Delete as allowed; without, it is read-only. */
  can?: DetailsPermissions;
  /** Where the view sits in the modal stack (default 1). */
  depth?: number;
  /** A line at the top, e.g. why a click did nothing. Our own mrkdwn (already escaped). */
  notice?: string;
}

type TimelineEntry = { at: number; text: string };

function timeline(comments: CommentRow[], history: DetailsData['history']): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    ...history
      .filter((h) => ACTION_WORDS[h.action] !== undefined)
      .map((h) => ({ at: h.createdAt, text: `${mention(h.actorId)} ${ACTION_WORDS[h.action] as string} · ${slackDate(h.createdAt)}` })),
    ...comments.map((c) => ({ at: c.createdAt, text: `:speech_balloon: ${mention(c.userId)} · ${slackDate(c.createdAt)}\n${userText(c.text, 1500)}` })),
  ];
  return entries.sort((a, b) => a.at - b.at);
}

/** Task details: fields, the latest history (audit and comments), and what the viewer may do. */
export function taskDetailsModal({ task, comments, history, today, can, depth = 1, notice }: DetailsData): ModalView {
  const entries = timeline(comments, history);
  const repeats = describe(task.repeatRule);
  const shown = entries.slice(-DETAILS_HISTORY_SHOWN);
  const value = String(task.id);
  const buttons = can
    ? [
        can.complete && task.status === 'open' ? Elements.Button({ text: 'Complete', actionId: ACTION.detailsComplete, value }).primary() : undefined,
        can.edit ? Elements.Button({ text: 'Edit', actionId: ACTION.detailsEdit, value }) : undefined,
        Elements.Button({ text: 'Comment', actionId: ACTION.detailsComment, value }),
        can.delete ? Elements.Button({ text: 'Delete', actionId: ACTION.detailsDelete, value }).danger() : undefined,
      ].filter((b) => b !== undefined)
    : [];
  return Modal({
    title: plain(`Task #${task.number}`, LIMIT.modalTitle),
    close: 'Close',
    callbackId: VIEW.taskDetails,
    privateMetaData: encodeStackMeta({ taskId: task.id, depth }),
  })
    .blocks(
      Blocks.Section({ text: `*${taskLabel(task)}*` }),
      notice ? Blocks.Context().elements(truncate(`:warning: ${notice}`, LIMIT.sectionText)) : undefined,
      Blocks.Section().fields(
        `*Assignee*\n${mention(task.assigneeId)}`,
        `*Due*\n${dueText(task, today)}`,
        `*Status*\n${statusText(task)}`,
        `*Created by*\n${mention(task.creatorId)}`,
        `*Priority*\n${PRIORITY_LABEL[task.priority]}`,
        `*Created*\n${slackDate(task.createdAt, '{date_short_pretty}')}`,
      ),
      repeats ? Blocks.Context().elements(`:repeat: Repeats ${repeats} · \`${COMMAND.task} stop #${task.number}\` ends the series`) : undefined,
      task.description.trim() !== '' ? Blocks.Section({ text: userText(task.description, LIMIT.sectionText) }) : undefined,
      task.sourcePermalink ? Blocks.Context().elements(`<${task.sourcePermalink}|Source message>`) : undefined,
      buttons.length > 0 ? Blocks.Actions({ blockId: 'task_details_actions' }).elements(...buttons) : undefined,
      Blocks.Divider(),
      Blocks.Section({
        text:
          entries.length === 0
            ? '*History*\nNothing yet.'
            : `*History*${entries.length > shown.length ? ` (latest ${shown.length} of ${entries.length})` : ''}`,
      }),
      ...shown.map((e) => Blocks.Context().elements(e.text)),
    )
    .buildToObject();
}
