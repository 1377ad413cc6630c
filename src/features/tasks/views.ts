import type { types } from '@slack/bolt';
import { BlockCollection, Blocks, Elements, Modal, type BlockBuilder } from 'slack-block-builder';
import { ACTION, COMMAND, VIEW } from '../../slack/ids.js';
import { LIMIT, mention, plain, slackDate, userText } from '../../slack/mrkdwn.js';
import type { CommentRow, TaskRow } from '../../store/schema.js';
import type { TaskListStatus, TaskScope } from '../../store/tasks.js';
import { formatDueDate } from './dates.js';

/**
 * Pure view builders for tasks: data in, Block Kit out, no I/O. Every user string goes through
 * `userText` (escaped, cut to the Block Kit limit), so a title like `<!channel>` cannot ping.
 * slack-block-builder returns readonly DTOs; `blocks()` casts them once to Bolt's types.
 */

type KnownBlock = types.KnownBlock;
type ModalView = types.ModalView;

const TITLE_MAX = 150;
const CARD_DESCRIPTION_MAX = 600;

function blocks(...builders: (BlockBuilder | undefined | false)[]): KnownBlock[] {
  return BlockCollection(...builders.filter((b): b is BlockBuilder => Boolean(b))) as unknown as KnownBlock[];
}

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
        ? `Nothing on your plate. Add one with \`${COMMAND.task} add <title>\`.`
        : `Nothing here. Try \`${COMMAND.task} list all\` or \`${COMMAND.task} list mine done\`.`;
    return blocks(Blocks.Section({ text: `*${title}*\n${hint}` }));
  }
  const lines = tasks.map((t) => {
    const parts = [`*#${t.number}* ${userText(t.title, TITLE_MAX)}`];
    if (scope !== 'mine') parts.push(`for ${mention(t.assigneeId)}`);
    if (t.status === 'open' && t.dueDate) parts.push(`due ${dueText(t, today)}`);
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
    `• \`${COMMAND.task} add <title> [@assignee] [due <date>]\` creates a task`,
    `• \`${COMMAND.task} list\` shows yours, \`${COMMAND.task} done #n\` completes one`,
    `• \`${COMMAND.task} help\` for everything else, or open my App Home.`,
  ].join('\n');
}

// ---------------------------------------------------------------- modals

/** Block and action ids of the New task modal; field errors are keyed by these block ids. */
export const NEW_TASK_FIELD = {
  title: 'task_title',
  assignee: 'task_assignee',
  dueDate: 'task_due',
  description: 'task_description',
} as const;

export interface NewTaskMetadata {
  /** the creator's IANA time zone, so the submission can check "not before today" without a Slack call */
  tz: string;
  channelId?: string;
}

export function newTaskModal(opts: { userId: string; metadata: NewTaskMetadata; title?: string; description?: string }): ModalView {
  const metadata = JSON.stringify(opts.metadata);
  return Modal({ title: 'New task', submit: 'Create', close: 'Cancel', callbackId: VIEW.newTask, privateMetaData: metadata })
    .blocks(
      Blocks.Input({ label: 'Title', blockId: NEW_TASK_FIELD.title }).element(
        Elements.TextInput({ actionId: NEW_TASK_FIELD.title, maxLength: TITLE_MAX, placeholder: 'e.g. Send the contract to legal' }).initialValue(
          opts.title ? plain(opts.title, TITLE_MAX) : undefined,
        ),
      ),
      Blocks.Input({ label: 'Assignee', blockId: NEW_TASK_FIELD.assignee }).element(
        Elements.UserSelect({ actionId: NEW_TASK_FIELD.assignee, initialUser: opts.userId }),
      ),
      Blocks.Input({ label: 'Due date', blockId: NEW_TASK_FIELD.dueDate })
        .optional(true)
        .element(Elements.DatePicker({ actionId: NEW_TASK_FIELD.dueDate })),
      Blocks.Input({ label: 'Description', blockId: NEW_TASK_FIELD.description })
        .optional(true)
        .element(
          Elements.TextInput({ actionId: NEW_TASK_FIELD.description, multiline: true, maxLength: LIMIT.inputMax }).initialValue(
            opts.description ? plain(opts.description, LIMIT.inputMax) : undefined,
          ),
        ),
    )
    .buildToObject() as unknown as ModalView;
}

const ACTION_WORDS: Record<string, string> = {
  created: 'created the task',
  edited: 'edited the task',
  assigned: 'reassigned the task',
  completed: 'completed the task',
  reopened: 'reopened the task',
  commented: 'commented',
};

export interface DetailsData {
  task: TaskRow;
  comments: CommentRow[];
  history: { actorId: string; action: string; createdAt: number }[];
  today?: string;
}

/** Read-only task details (a later issue adds Edit / Comment / Complete / Delete). */
export function taskDetailsModal({ task, comments, history, today }: DetailsData): ModalView {
  const shownComments = comments.slice(-10);
  const shownHistory = history.filter((h) => ACTION_WORDS[h.action]).slice(-8);
  return Modal({
    title: plain(`Task #${task.number}`, LIMIT.modalTitle),
    close: 'Close',
    callbackId: VIEW.taskDetails,
    privateMetaData: JSON.stringify({ taskId: task.id }),
  })
    .blocks(
      Blocks.Section({ text: `*${taskLabel(task)}*` }),
      Blocks.Section().fields(
        `*Assignee*\n${mention(task.assigneeId)}`,
        `*Due*\n${dueText(task, today)}`,
        `*Status*\n${statusText(task)}`,
        `*Created by*\n${mention(task.creatorId)}`,
        `*Priority*\n${task.priority}`,
        `*Created*\n${slackDate(task.createdAt, '{date_short_pretty}')}`,
      ),
      task.description.trim() !== '' ? Blocks.Section({ text: userText(task.description, LIMIT.sectionText) }) : undefined,
      task.sourcePermalink ? Blocks.Context().elements(`<${task.sourcePermalink}|Source message>`) : undefined,
      Blocks.Divider(),
      Blocks.Section({ text: shownComments.length === 0 ? '*Comments*\nNo comments yet.' : `*Comments* (${comments.length})` }),
      ...shownComments.map((c) => Blocks.Context().elements(`${mention(c.userId)} ${slackDate(c.createdAt)}: ${userText(c.text, 1500)}`)),
      shownHistory.length > 0 ? Blocks.Divider() : undefined,
      shownHistory.length > 0
        ? Blocks.Context().elements(
            ...shownHistory.slice(-LIMIT.contextElements).map((h) => `${mention(h.actorId)} ${ACTION_WORDS[h.action] ?? h.action} ${slackDate(h.createdAt)}`),
          )
        : undefined,
    )
    .buildToObject() as unknown as ModalView;
}

/** A one-section modal for "that task is gone" and similar. */
export function noticeModal(title: string, text: string): ModalView {
  return Modal({ title: plain(title, LIMIT.modalTitle), close: 'Close' })
    .blocks(Blocks.Section({ text }))
    .buildToObject() as unknown as ModalView;
}

