import type { types } from '@slack/bolt';
import { Bits, Blocks, Elements, OptionCollection, Surfaces, type BlockBuilder } from 'slack-block-builder';
import { ACTION, VIEW } from '../../slack/ids.js';
import { LIMIT, slackDate, truncate, userText } from '../../slack/mrkdwn.js';
import { metadataObject } from '../../slack/values.js';
import type { Dashboard, DashboardApproval, DashboardTask, TaskSearchHit } from '../../store/dashboard.js';
import type { HomeFilter, Priority } from '../../store/schema.js';
import { describe } from '../tasks/recurrence.js';

type HomeView = types.HomeView;
type ModalView = types.ModalView;
type PlainTextOption = types.PlainTextOption;

/**
 * The App Home dashboard as pure functions: data in, Block Kit out. No I/O.
 *
 * Size budget (Block Kit: ≤ 100 blocks, ≤ 250 KB): 3 header blocks, "Waiting on you" at most
 * 1 + 2 × APPROVALS_SHOWN + 1, a divider, the task list at most 3 + 2 × PAGE_SIZE + 2: 71 blocks
 * whatever the user has. Every user string is escaped and cut (titles 200, details 300
 * characters), so a page stays under 30 KB even when every title is 3,000 characters long.
 */

export const HOME_PAGE_SIZE = 20;
export const HOME_APPROVALS_SHOWN = 10;
const TITLE_MAX = 200;
const DETAILS_MAX = 300;

export const HOME_FILTER_LABEL: Record<HomeFilter, string> = {
  assigned: 'Assigned to me',
  created: 'Created by me',
  all_open: 'All open in this workspace',
  recently_done: 'Recently done',
};

const LIST_TITLE: Record<HomeFilter, string> = {
  assigned: 'Your tasks',
  created: 'Tasks you created',
  all_open: 'All open tasks',
  recently_done: 'Recently done',
};

const EMPTY_LIST: Record<HomeFilter, string> = {
  assigned: ':tada: You have no open tasks. Use *New task* above, or type `/task add …` in any channel.',
  created: 'You have no open tasks that you created. Use *New task* above to hand one out.',
  all_open: ':sunny: Nothing is open in this workspace right now.',
  recently_done: 'Nothing was completed in the last 30 days.',
};

const PRIORITY_LABEL: Record<Priority, string | undefined> = {
  urgent: ':red_circle: Urgent',
  high: ':large_orange_circle: High',
  normal: undefined,
  low: 'Low priority',
};

/** What the overflow menu of a task on the Home can ask for; its option value is `<verb>:<task id>`. */
export const TASK_MENU = ['open', 'edit', 'reassign', 'delete', 'reopen'] as const;
export type TaskMenuVerb = (typeof TASK_MENU)[number];

export function parseTaskMenuValue(value: string | undefined): { verb: TaskMenuVerb; taskId: number } | undefined {
  const m = /^([a-z]+):(\d{1,15})$/.exec(value ?? '');
  if (!m || !(TASK_MENU as readonly string[]).includes(m[1] as string)) return undefined;
  return { verb: m[1] as TaskMenuVerb, taskId: Number(m[2]) };
}

/** Pagination buttons carry the filter they were drawn for, so a click on a stale Home is harmless. */
export function pageValue(filter: HomeFilter, page: number): string {
  return `${filter}:${page}`;
}

export function parsePageValue(value: string | undefined): { filter: string; page: number } | undefined {
  const m = /^([a-z_]+):(\d{1,6})$/.exec(value ?? '');
  return m ? { filter: m[1] as string, page: Number(m[2]) } : undefined;
}

export interface HomeViewInput {
  userId: string;
  /** The user's calendar date (`YYYY-MM-DD`). */
  today: string;
  dashboard: Dashboard;
}

export function homeView({ userId, today, dashboard }: HomeViewInput): HomeView {
  const blocks: BlockBuilder[] = [
    Blocks.Header({ text: 'Tasklane' }),
    Blocks.Actions({ blockId: 'home_header' }).elements(
      Elements.Button({ text: 'New task', actionId: ACTION.homeNewTask, value: 'new_task' }).primary(),
      Elements.Button({ text: 'Request approval', actionId: ACTION.homeRequestApproval, value: 'request_approval' }),
      Elements.ExternalSelect({ actionId: ACTION.homeSearch, placeholder: 'Find a task…', minQueryLength: 1 }),
      Elements.Button({ text: 'Settings', actionId: ACTION.homeSettings, value: 'settings' }),
    ),
    Blocks.Divider(),
    ...approvalBlocks(dashboard.approvals),
    Blocks.Divider(),
    ...taskListBlocks(userId, today, dashboard),
  ];
  return Surfaces.HomeTab({ callbackId: 'home' }).blocks(blocks).buildToObject();
}

function approvalBlocks({ total, items }: Dashboard['approvals']): BlockBuilder[] {
  const out: BlockBuilder[] = [Blocks.Header({ text: total > 0 ? `Waiting on you (${total})` : 'Waiting on you' })];
  if (total === 0) {
    out.push(Blocks.Section({ blockId: 'home_approvals_empty', text: ':sparkles: Nothing is waiting on you. Approval requests sent to you will show up here.' }));
    return out;
  }
  const shown = items.slice(0, HOME_APPROVALS_SHOWN);
  for (const a of shown) out.push(...approvalItem(a));
  const more = total - shown.length;
  if (more > 0) {
    out.push(Blocks.Context({ blockId: 'home_approvals_more' }).elements(`…and ${more} more waiting on you (oldest first above). Each one is also in your messages with Tasklane.`));
  }
  return out;
}

function approvalItem(a: DashboardApproval): BlockBuilder[] {
  const who = a.requesterId ? `Requested by ${userRef(a.requesterId)}` : 'Requested by a workflow';
  const lines = [`*${userText(a.title, TITLE_MAX)}*`, `${who} · ${slackDate(a.createdAt)}`];
  const details = a.details.replace(/\s+/g, ' ').trim();
  if (details !== '') lines.push(`> ${userText(details, DETAILS_MAX)}`);
  const id = String(a.id);
  return [
    Blocks.Section({ blockId: `home_approval_${id}`, text: lines.join('\n') }),
    Blocks.Actions({ blockId: `home_approval_actions_${id}` }).elements(
      Elements.Button({ text: 'Approve', actionId: ACTION.approve, value: id }).primary(),
      Elements.Button({ text: 'Reject', actionId: ACTION.reject, value: id }).danger(),
    ),
  ];
}

function taskListBlocks(userId: string, today: string, { tasks, overdue }: Dashboard): BlockBuilder[] {
  const { filter, page, pageSize, total, items } = tasks;
  const out: BlockBuilder[] = [
    Blocks.Header({ text: LIST_TITLE[filter] }),
    Blocks.Actions({ blockId: 'home_filter' }).elements(
      Elements.StaticSelect({ actionId: ACTION.homeFilter, placeholder: 'Show…' })
        .options((Object.keys(HOME_FILTER_LABEL) as HomeFilter[]).map((f) => Bits.Option({ text: HOME_FILTER_LABEL[f], value: f })))
        .initialOption(Bits.Option({ text: HOME_FILTER_LABEL[filter], value: filter })),
    ),
  ];
  const summary = [total === 0 ? 'No tasks' : total === 1 ? '1 task' : `${total} tasks`];
  if (overdue > 0) summary.push(`:warning: ${overdue} of yours overdue`);
  out.push(Blocks.Context({ blockId: 'home_summary' }).elements(summary.join(' · ')));

  if (items.length === 0) {
    out.push(Blocks.Section({ blockId: 'home_tasks_empty', text: EMPTY_LIST[filter] }));
    return out;
  }
  for (const t of items.slice(0, pageSize)) out.push(...taskItem(t, userId, today, filter));

  const from = page * pageSize + 1;
  const to = page * pageSize + Math.min(items.length, pageSize);
  const pager: BlockBuilder[] = [Blocks.Context({ blockId: 'home_range' }).elements(`${from}–${to} of ${total}`)];
  const buttons = [];
  if (page > 0) buttons.push(Elements.Button({ text: '◀ Previous', actionId: ACTION.homePrev, value: pageValue(filter, page - 1) }));
  if (to < total) buttons.push(Elements.Button({ text: 'Next ▶', actionId: ACTION.homeNext, value: pageValue(filter, page + 1) }));
  if (buttons.length > 0) pager.push(Blocks.Actions({ blockId: 'home_pages' }).elements(buttons));
  return out.concat(pager);
}

function taskItem(t: DashboardTask, userId: string, today: string, filter: HomeFilter): BlockBuilder[] {
  const mayChange = t.assigneeId === userId || t.creatorId === userId;
  const meta: string[] = [];
  if (t.status === 'open') meta.push(dueText(t.dueDate, today));
  else if (t.status === 'done') {
    meta.push(`:white_check_mark: Done${t.completedBy ? ` by ${userRef(t.completedBy)}` : ''}${t.completedAt ? ` ${slackDate(t.completedAt, '{date_short_pretty}')}` : ''}`);
  }
  const repeats = t.status === 'open' ? describe(t.repeatRule) : undefined;
  if (repeats) meta.push(`:repeat: Repeats ${repeats}`);
  const priority = PRIORITY_LABEL[t.priority];
  if (priority && t.status === 'open') meta.push(priority);
  if (filter === 'assigned') {
    if (t.creatorId !== userId) meta.push(`from ${userRef(t.creatorId)}`);
  } else {
    meta.push(t.assigneeId === userId ? 'assigned to you' : `for ${userRef(t.assigneeId)}`);
  }

  const id = String(t.id);
  const menu: [string, TaskMenuVerb][] = [['Open', 'open']];
  if (t.status === 'open' && mayChange) menu.push(['Edit', 'edit'], ['Reassign', 'reassign']);
  if (t.status === 'open' && t.creatorId === userId) menu.push(['Delete', 'delete']);
  if (t.status === 'done' && mayChange) menu.push(['Reopen', 'reopen']);

  const blocks: BlockBuilder[] = [
    Blocks.Section({ blockId: `home_task_${id}`, text: `*#${t.number}* ${userText(t.title, TITLE_MAX)}\n${meta.join(' · ')}` }).accessory(
      Elements.OverflowMenu({ actionId: ACTION.homeTaskOverflow }).options(menu.map(([text, verb]) => Bits.Option({ text, value: `${verb}:${id}` }))),
    ),
  ];
  if (t.status === 'open' && mayChange) {
    blocks.push(
      Blocks.Actions({ blockId: `home_task_actions_${id}` }).elements(
        Elements.Button({ text: 'Complete', actionId: ACTION.homeTaskComplete, value: id }).primary(),
      ),
    );
  }
  return blocks;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Nov 24" (with the year when it is not this year's), from `YYYY-MM-DD`, without Intl (hot path). */
export function shortDate(date: string, today: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return userText(date, 20);
  const label = `${MONTHS[Number(m[2]) - 1] ?? m[2]} ${Number(m[3])}`;
  return m[1] === today.slice(0, 4) ? label : `${label}, ${m[1]}`;
}

function dueText(dueDate: string | null, today: string): string {
  if (dueDate === null) return 'No due date';
  if (dueDate < today) return `:warning: *Overdue* (due ${shortDate(dueDate, today)})`;
  if (dueDate === today) return ':calendar: *Due today*';
  return `Due ${shortDate(dueDate, today)}`;
}

/** A mention for a Slack user id from the store; anything that is not an id is shown as text. */
function userRef(userId: string): string {
  return /^[UW][A-Z0-9]{1,20}$/.test(userId) ? `<@${userId}>` : userText(userId, 40);
}

// ------------------------------------------------------------------ search

/** The options of the task search (`external_select`): "#12 Title", value = task id. */
export function searchOptions(hits: TaskSearchHit[]): PlainTextOption[] {
  const options = hits.slice(0, LIMIT.staticOptions).map((h) =>
    Bits.Option({ text: truncate(`#${h.number} ${h.title.replace(/\s+/g, ' ')}${h.status === 'done' ? ' (done)' : ''}`, LIMIT.optionText), value: String(h.id) }),
  );
  return OptionCollection(options) as PlainTextOption[];
}

// ------------------------------------------------------------------ small modals

/** What the Home's task modals carry from the click to their submission (`private_metadata`). */
export interface TaskModalMeta {
  taskId: number;
}

export function decodeTaskMeta(raw: unknown): TaskModalMeta | undefined {
  const taskId = metadataObject(raw)?.['taskId'];
  return typeof taskId === 'number' && Number.isSafeInteger(taskId) ? { taskId } : undefined;
}

interface TaskSummary {
  id: number;
  number: number;
  title: string;
  assigneeId: string;
}

export const REASSIGN_INPUT = { block: 'reassign_assignee', action: 'assignee' } as const;

/** Reassign from the Home's overflow menu: one users_select, prefilled with the current assignee. */
export function reassignModal(task: TaskSummary): ModalView {
  return Surfaces.Modal({ title: 'Reassign task', submit: 'Reassign', close: 'Cancel', callbackId: VIEW.reassignTask, privateMetaData: JSON.stringify({ taskId: task.id }) })
    .blocks(
      Blocks.Section({ text: `*#${task.number}* ${userText(task.title, TITLE_MAX)}` }),
      Blocks.Input({ label: 'New assignee', blockId: REASSIGN_INPUT.block }).element(
        Elements.UserSelect({ actionId: REASSIGN_INPUT.action, initialUser: task.assigneeId }),
      ),
    )
    .buildToObject();
}

