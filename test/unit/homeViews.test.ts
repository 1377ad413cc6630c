// The App Home as a pure function: a dashboard in, a home view out, checked for what users see
// and click and against Block Kit's limits (100 blocks, 250 KB) at its largest.
import { describe, expect, it } from 'vitest';
import { HOME_APPROVALS_SHOWN, HOME_PAGE_SIZE, REASSIGN_INPUT, homeView, reassignModal, searchOptions } from '../../src/features/home/views.js';
import { ACTION, VIEW } from '../../src/slack/ids.js';
import type { Dashboard, DashboardApproval, DashboardTask } from '../../src/store/dashboard.js';
import type { HomeFilter } from '../../src/store/schema.js';
import { ANN, BOB, NOW, blockById, buttons, expectValidView, texts } from './blocks.js';

const TODAY = '2025-03-10';
const LONG = '<&>'.repeat(1000);

function homeTask(over: Partial<DashboardTask> = {}): DashboardTask {
  return { id: 7, number: 12, title: 'Send the contract', status: 'open', priority: 'normal', assigneeId: ANN, creatorId: BOB, dueDate: null, completedBy: null, completedAt: null, repeatRule: null, ...over };
}

function homeApproval(id: number, over: Partial<DashboardApproval> = {}): DashboardApproval {
  return { id, title: `Budget ${id}`, details: '', requesterId: BOB, createdAt: NOW, ...over };
}

function dashboard(o: { filter?: HomeFilter; page?: number; total?: number; items?: DashboardTask[]; approvals?: DashboardApproval[]; approvalsTotal?: number; overdue?: number } = {}): Dashboard {
  const items = o.items ?? [];
  const approvals = o.approvals ?? [];
  return {
    approvals: { total: o.approvalsTotal ?? approvals.length, items: approvals },
    tasks: { filter: o.filter ?? 'assigned', page: o.page ?? 0, pageSize: HOME_PAGE_SIZE, total: o.total ?? items.length, items },
    overdue: o.overdue ?? 0,
  };
}

const home = (d: Dashboard, userId = ANN) => homeView({ userId, today: TODAY, dashboard: d });

/** The overflow menu's option values of a task's row. */
function menu(view: ReturnType<typeof home>, taskId: number): string[] {
  const accessory = blockById(view.blocks, `home_task_${taskId}`)!['accessory'] as { action_id: string; options: { value: string }[] };
  expect(accessory.action_id).toBe(ACTION.homeTaskOverflow);
  return accessory.options.map((o) => o.value);
}

describe('App Home', () => {
  it('empty: New task, Request approval and Settings, and a word where each list would be', () => {
    const view = home(dashboard());
    expectValidView(view, 'home');
    expect(buttons(view.blocks).map((b) => b.actionId)).toEqual([ACTION.homeNewTask, ACTION.homeRequestApproval, ACTION.homeSettings]);
    expect(blockById(view.blocks, 'home_approvals_empty')).toBeDefined();
    expect(texts([blockById(view.blocks, 'home_tasks_empty')])[0]).toContain('You have no open tasks');
    expect(texts([blockById(view.blocks, 'home_summary')])).toEqual(['No tasks']);
  });

  it('approvals waiting: Approve and Reject carry the approval id; the rest are counted', () => {
    const approvals = Array.from({ length: HOME_APPROVALS_SHOWN + 5 }, (_, i) => homeApproval(i + 1, { details: 'line one\n\nline two' }));
    const view = home(dashboard({ approvals, approvalsTotal: 40 }));
    expectValidView(view, 'home');
    expect(buttons([blockById(view.blocks, 'home_approval_actions_3')])).toEqual([
      { actionId: ACTION.approve, text: 'Approve', value: '3', style: 'primary' },
      { actionId: ACTION.reject, text: 'Reject', value: '3', style: 'danger' },
    ]);
    const [title, requested, details] = texts([blockById(view.blocks, 'home_approval_3')])[0]!.split('\n');
    expect([title, details]).toEqual(['*Budget 3*', '> line one line two']);
    expect(requested).toMatch(new RegExp(`^Requested by <@${BOB}> · <!date\\^${NOW / 1000}\\^`));
    expect(blockById(view.blocks, `home_approval_${HOME_APPROVALS_SHOWN + 1}`)).toBeUndefined();
    expect(texts([blockById(view.blocks, 'home_approvals_more')])[0]).toContain(`…and ${40 - HOME_APPROVALS_SHOWN} more`);
  });

  it('a task row: Complete only for an open task of one’s own; the menu offers what the user may do', () => {
    const mine = homeTask({ id: 1, creatorId: ANN, dueDate: '2025-03-01', priority: 'urgent' });
    const assignedToMe = homeTask({ id: 2 });
    const others = homeTask({ id: 3, assigneeId: BOB, creatorId: BOB });
    const done = homeTask({ id: 4, status: 'done', completedBy: ANN, completedAt: NOW });
    const view = home(dashboard({ filter: 'all_open', items: [mine, assignedToMe, others, done], overdue: 1 }));
    expectValidView(view, 'home');
    expect(menu(view, 1)).toEqual(['open:1', 'edit:1', 'reassign:1', 'delete:1']);
    expect(menu(view, 2)).toEqual(['open:2', 'edit:2', 'reassign:2']);
    expect(menu(view, 3)).toEqual(['open:3']);
    expect(menu(view, 4)).toEqual(['open:4', 'reopen:4']);
    expect(buttons(view.blocks).filter((b) => b.actionId === ACTION.homeTaskComplete).map((b) => b.value)).toEqual(['1', '2']);
    expect(texts([blockById(view.blocks, 'home_task_1')])[0]).toContain(':warning: *Overdue* (due Mar 1)');
    expect(texts([blockById(view.blocks, 'home_summary')])).toEqual(['4 tasks · :warning: 1 of yours overdue']);
  });

  it('a repeating task’s row says how it repeats (open ones only)', () => {
    const weekly = homeTask({ id: 1, repeatRule: 'weekly:1', dueDate: TODAY });
    const done = homeTask({ id: 2, status: 'done', repeatRule: 'daily', completedBy: ANN, completedAt: NOW });
    const plain = homeTask({ id: 3 });
    const view = home(dashboard({ filter: 'all_open', items: [weekly, done, plain] }));
    expectValidView(view, 'home');
    expect(texts([blockById(view.blocks, 'home_task_1')])[0]).toContain(':calendar: *Due today* · :repeat: Repeats every Monday');
    expect(texts([blockById(view.blocks, 'home_task_2')])[0]).not.toContain('Repeats');
    expect(texts([blockById(view.blocks, 'home_task_3')])[0]).not.toContain('Repeats');
  });

  it('pages: Previous and Next carry the filter and the page they lead to', () => {
    const page = (n: number) => Array.from({ length: HOME_PAGE_SIZE }, (_, i) => homeTask({ id: n * 100 + i, number: i }));
    const pagers = (p: number) => buttons([blockById(home(dashboard({ filter: 'created', page: p, total: 3 * HOME_PAGE_SIZE, items: page(p) })).blocks, 'home_pages')]);
    expect(pagers(0).map((b) => [b.actionId, b.value])).toEqual([[ACTION.homeNext, 'created:1']]);
    expect(pagers(1).map((b) => [b.actionId, b.value])).toEqual([
      [ACTION.homePrev, 'created:0'],
      [ACTION.homeNext, 'created:2'],
    ]);
    expect(pagers(2).map((b) => [b.actionId, b.value])).toEqual([[ACTION.homePrev, 'created:1']]);
    const single = home(dashboard({ items: [homeTask()] }));
    expect(blockById(single.blocks, 'home_pages')).toBeUndefined();
    expect(texts([blockById(single.blocks, 'home_range')])).toEqual(['1–1 of 1']);
  });

  it('at its largest (every approval and task shown, every title 3,000 characters) it fits Block Kit', () => {
    const approvals = Array.from({ length: HOME_APPROVALS_SHOWN }, (_, i) => homeApproval(i + 1, { title: LONG, details: LONG }));
    const items = Array.from({ length: HOME_PAGE_SIZE }, (_, i) => homeTask({ id: i + 1, number: 10 ** 12 + i, title: LONG, creatorId: ANN }));
    const view = home(dashboard({ filter: 'created', page: 1, total: 10_000, items, approvals, approvalsTotal: 10_000 }));
    expectValidView(view, 'home');
    expect(texts(view.blocks).join('')).not.toContain('<&>');
  });
});

describe('App Home search and modals', () => {
  it('search options: at most 100, plain text cut to 75, done ones marked, value = task id', () => {
    const hits = Array.from({ length: 150 }, (_, i) => ({ id: i + 1, number: i + 1, title: `${LONG}\n`, status: i % 2 ? ('done' as const) : ('open' as const) }));
    const options = searchOptions(hits);
    expect(options).toHaveLength(100);
    expect(options.every((o) => o.text.type === 'plain_text' && o.text.text.length <= 75)).toBe(true);
    expect(options[0]!.value).toBe('1');
    expect(searchOptions([{ id: 9, number: 3, title: 'Ship it', status: 'done' }])[0]!.text.text).toBe('#3 Ship it (done)');
    expect(searchOptions([])).toEqual([]);
  });

  it('Reassign: a users select prefilled with the assignee, the task id in the metadata', () => {
    const view = reassignModal({ id: 7, number: 10 ** 12, title: LONG, assigneeId: BOB });
    expectValidView(view);
    expect(view.callback_id).toBe(VIEW.reassignTask);
    expect(JSON.parse(view.private_metadata!)).toEqual({ taskId: 7 });
    expect(blockById(view.blocks, REASSIGN_INPUT.block)!['element']).toEqual({ type: 'users_select', action_id: REASSIGN_INPUT.action, initial_user: BOB });
  });
});
