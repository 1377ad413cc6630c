// The task views as pure functions: a task in, blocks out, checked for what users see and click
// and against Block Kit's limits (the validator the fake Slack applies).
import { describe, expect, it } from 'vitest';
import { TITLE_MAX } from '../../src/features/tasks/limits.js';
import {
  DETAILS_HISTORY_SHOWN,
  NEW_TASK_FIELD,
  commentTaskModal,
  decodeStackMeta,
  deleteTaskConfirmModal,
  deletedCardBlocks,
  editTaskModal,
  loadingModal,
  newTaskModal,
  taskCardBlocks,
  taskDetailsModal,
  taskListBlocks,
  type DetailsData,
} from '../../src/features/tasks/views.js';
import { ACTION, VIEW } from '../../src/slack/ids.js';
import { noticeModal } from '../../src/slack/views.js';
import type { CommentRow } from '../../src/store/schema.js';
import { ANN, BOB, NOW, blockById, buttons, expectValidMessage, expectValidView, texts, types, taskRow } from './blocks.js';

const task = taskRow;
/** Escapes to five times its length: the longest text a title or comment can become. */
const hostile = (n: number): string => '<&>'.repeat(Math.ceil(n / 3)).slice(0, n);
const longTask = task({ number: 10 ** 12, title: hostile(3000), description: hostile(3000), sourcePermalink: 'https://x.slack.com/archives/C1/p1' });

describe('task card', () => {
  it('open: title, people, Complete and Open carrying the task id', () => {
    const blocks = taskCardBlocks(task({ dueDate: '2025-03-01' }), { today: '2025-03-10' });
    expectValidMessage(blocks);
    expect(types(blocks)).toEqual(['section', 'section', 'context', 'actions']);
    expect(texts(blocks)[0]).toBe('*#12 Send the contract*');
    expect(texts(blocks)[1]).toContain(`*Assignee*\n<@${ANN}>`);
    expect(texts(blocks)[1]).toContain('*overdue*');
    expect(buttons(blocks)).toEqual([
      { actionId: ACTION.taskComplete, text: 'Complete', value: '7', style: 'primary' },
      { actionId: ACTION.taskOpen, text: 'Open', value: '7', style: undefined },
    ]);
  });

  it('done: struck through, says who completed it, and keeps only Open', () => {
    const blocks = taskCardBlocks(task({ status: 'done', completedBy: BOB, completedAt: NOW, dueDate: '2025-03-01' }), { today: '2025-03-10' });
    expectValidMessage(blocks);
    expect(texts(blocks)[0]).toBe('*~#12 Send the contract~*');
    expect(texts(blocks)[1]).not.toContain('overdue');
    expect(texts(blocks)[2]).toContain(`Completed by <@${BOB}>`);
    expect(buttons(blocks).map((b) => b.actionId)).toEqual([ACTION.taskOpen]);
  });

  it('cancelled: no Complete either', () => {
    expect(buttons(taskCardBlocks(task({ status: 'cancelled' }))).map((b) => b.actionId)).toEqual([ACTION.taskOpen]);
  });

  it('the longest title and description are escaped and cut to fit', () => {
    const blocks = taskCardBlocks(longTask);
    expectValidMessage(blocks);
    expect(types(blocks)).toEqual(['section', 'section', 'section', 'context', 'actions']);
    const [title, , description] = texts(blocks);
    expect(`${title}${description}`).not.toMatch(/[<>]/);
    expect(title!.length).toBeLessThanOrEqual(TITLE_MAX + 12 + 2);
    expect(texts(blocks)[3]).toContain('|source message>');
  });

  it('deleted: struck through, who deleted it, nothing to click', () => {
    const blocks = deletedCardBlocks(longTask, BOB);
    expectValidMessage(blocks);
    expect(buttons(blocks)).toEqual([]);
    expect(texts(blocks)[1]).toBe(`:wastebasket: Deleted by <@${BOB}>`);
  });
});

describe('/task list', () => {
  it('empty: the title and a hint', () => {
    const blocks = taskListBlocks([], 0, 'mine', 'open');
    expectValidMessage(blocks);
    expect(texts(blocks)).toEqual(['*Your open tasks*\nNothing on your plate. Add one with `/task add &lt;title&gt;`.']);
  });

  it('a few: one line each, then how to complete one', () => {
    const blocks = taskListBlocks([task(), task({ id: 8, number: 13, title: 'Call <!here>', assigneeId: BOB })], 2, 'all', 'open');
    expectValidMessage(blocks);
    expect(texts(blocks)).toEqual([
      `*All open tasks in this workspace* (2)\n*#12* Send the contract · for <@${ANN}>\n*#13* Call &lt;!here&gt; · for <@${BOB}>`,
      'Complete one with `/task done #n`.',
    ]);
  });

  it('many long titles: split into sections under the limit, with a footer pointing to the Home', () => {
    const tasks = Array.from({ length: 40 }, (_, i) => task({ id: i + 1, number: i + 1, title: hostile(3000) }));
    const blocks = taskListBlocks(tasks, 500, 'mine', 'open');
    expectValidMessage(blocks);
    expect(blocks.length).toBeGreaterThan(2);
    expect(texts(blocks).at(-1)).toBe('Showing the 40 newest of 500. The App Home has the full list.');
  });
});

describe('task modals', () => {
  it('New task: every input, the channel one included, and what it carries', () => {
    const view = newTaskModal({ userId: ANN, metadata: { origin: 'command' } });
    expectValidView(view);
    expect(view.callback_id).toBe(VIEW.newTask);
    expect(JSON.parse(view.private_metadata!)).toEqual({ origin: 'command' });
    expect(view.blocks.map((b) => b.block_id)).toEqual(Object.values(NEW_TASK_FIELD));
  });

  it('New task from a message: says so first, prefilled and cut to the inputs', () => {
    const source = { channelId: 'C1', ts: '1.2' };
    const view = newTaskModal({ userId: ANN, metadata: { origin: 'message', source }, title: hostile(5000), description: hostile(5000) });
    expectValidView(view);
    expect(view.blocks[0]!.type).toBe('context');
    expect(JSON.parse(view.private_metadata!)).toEqual({ origin: 'message', source });
  });

  it('Edit task: prefilled, no channel input, its place in the stack', () => {
    const view = editTaskModal(longTask, { taskId: 7, depth: 2, parentId: 'V1', parentHash: 'h' });
    expectValidView(view);
    expect(view.callback_id).toBe(VIEW.editTask);
    expect(decodeStackMeta(view.private_metadata)).toEqual({ taskId: 7, depth: 2, parentId: 'V1', parentHash: 'h' });
    expect(blockById(view.blocks, NEW_TASK_FIELD.channel)).toBeUndefined();
    const title = blockById(view.blocks, NEW_TASK_FIELD.title)!['element'] as { initial_value: string };
    expect(title.initial_value.length).toBeLessThanOrEqual(TITLE_MAX);
    expect(title.initial_value.endsWith('…')).toBe(true);
  });

  it('Comment, Delete confirmation and Loading', () => {
    const meta = { taskId: 7, depth: 2 };
    const comment = commentTaskModal(longTask, meta);
    expectValidView(comment);
    expect(comment.callback_id).toBe(VIEW.commentTask);
    expect(blockById(comment.blocks, 'task_comment_text')).toBeDefined();
    const del = deleteTaskConfirmModal(longTask, meta);
    expectValidView(del);
    expect([del.callback_id, del.submit?.text]).toEqual([VIEW.detailsDeleteTask, 'Delete']);
    const loading = loadingModal('A title much longer than a modal title may be');
    expectValidView(loading);
    expect(loading.callback_id).toBe(VIEW.loading);
  });
});

describe('repeating tasks', () => {
  it('New task: a Repeat select, "Does not repeat" chosen; Edit has none', () => {
    const view = newTaskModal({ userId: ANN, metadata: { origin: 'command' } });
    const repeat = blockById(view.blocks, NEW_TASK_FIELD.repeat)!;
    expect(repeat).toMatchObject({ type: 'input', optional: true, label: { text: 'Repeat' } });
    const select = repeat['element'] as { type: string; initial_option: { value: string }; options: { value: string; text: { text: string } }[] };
    expect(select.type).toBe('static_select');
    expect(select.initial_option.value).toBe('none');
    expect(select.options.map((o) => [o.value, o.text.text])).toEqual([
      ['none', 'Does not repeat'],
      ['daily', 'Every day'],
      ['weekdays', 'Every weekday (Mon–Fri)'],
      ['weekly', 'Every week'],
      ['weeks2', 'Every 2 weeks'],
      ['monthly', 'Every month'],
    ]);
    expect(blockById(editTaskModal(task(), { taskId: 7, depth: 1 }).blocks, NEW_TASK_FIELD.repeat)).toBeUndefined();
  });

  it('details: "Repeats every Monday" and how to end the series; nothing for a plain task', () => {
    const view = taskDetailsModal({ task: task({ repeatRule: 'weekly:1', seriesId: 7 }), comments: [], history: [] });
    expectValidView(view);
    expect(texts(view.blocks)).toContain(':repeat: Repeats every Monday · `/task stop #12` ends the series');
    const longest = taskDetailsModal({ task: { ...longTask, repeatRule: 'monthly:31', seriesId: 7 }, comments: [], history: [], notice: hostile(4000) });
    expectValidView(longest);
    expect(texts(longest.blocks).join('\n')).toContain('Repeats every month on the 31st (or the month’s last day)');
    expect(texts(taskDetailsModal({ task: task({ seriesId: 7 }), comments: [], history: [] }).blocks).join('\n')).not.toContain('Repeats');
  });

  it('/task list: an open repeating task says how it repeats', () => {
    const blocks = taskListBlocks([task({ repeatRule: 'weeks:2:3', dueDate: '2025-03-12' }), task({ id: 8, number: 13, status: 'done', repeatRule: 'daily', completedBy: ANN })], 2, 'all', 'open', '2025-03-10');
    expectValidMessage(blocks);
    const text = texts(blocks).join('\n');
    expect(text).toContain('*#12* Send the contract · for <@UANN00001> · due Wed, Mar 12, 2025 · repeats every 2 weeks on Wednesday');
    expect(text).not.toContain('repeats every day');
  });
});

describe('task details', () => {
  const comment = (i: number, text: string): CommentRow => ({ id: i, taskId: 7, teamId: 'T1', userId: BOB, text, createdAt: NOW + i });
  const details = (over: Partial<DetailsData>): ReturnType<typeof taskDetailsModal> => taskDetailsModal({ task: task(), comments: [], history: [], ...over });

  it('read-only without permissions: no buttons, and an empty history', () => {
    const view = details({});
    expectValidView(view);
    expect(buttons(view.blocks)).toEqual([]);
    expect(texts(view.blocks)).toContain('*History*\nNothing yet.');
  });

  it('shows each action the viewer may take, with the task id', () => {
    const all = details({ can: { edit: true, complete: true, delete: true } });
    expectValidView(all);
    expect(buttons(all.blocks).map((b) => [b.actionId, b.value, b.style])).toEqual([
      [ACTION.detailsComplete, '7', 'primary'],
      [ACTION.detailsEdit, '7', undefined],
      [ACTION.detailsComment, '7', undefined],
      [ACTION.detailsDelete, '7', 'danger'],
    ]);
    const commentOnly = details({ can: { edit: false, complete: false, delete: false } });
    expect(buttons(commentOnly.blocks).map((b) => b.actionId)).toEqual([ACTION.detailsComment]);
    const done = details({ task: task({ status: 'done' }), can: { edit: true, complete: true, delete: true } });
    expect(buttons(done.blocks).map((b) => b.actionId)).not.toContain(ACTION.detailsComplete);
  });

  it('a long history: the latest entries only, in order, within the view limits', () => {
    const comments = Array.from({ length: 30 }, (_, i) => comment(i, hostile(3000)));
    const history = Array.from({ length: 30 }, (_, i) => ({ actorId: ANN, action: 'edited', createdAt: NOW + 100 + i }));
    const view = taskDetailsModal({ task: longTask, comments, history, can: { edit: true, complete: true, delete: true }, notice: hostile(4000), depth: 3 });
    expectValidView(view);
    expect(texts(view.blocks)).toContain(`*History* (latest ${DETAILS_HISTORY_SHOWN} of 60)`);
    expect(texts(view.blocks).filter((t) => t.includes('edited the task'))).toHaveLength(DETAILS_HISTORY_SHOWN);
    expect(decodeStackMeta(view.private_metadata)).toEqual({ taskId: 7, depth: 3 });
  });
});

describe('notice modal', () => {
  it('a title cut to 24, one section cut to 3000, only a Close button', () => {
    const view = noticeModal('A title much longer than a modal title may be', 'x'.repeat(5000));
    expectValidView(view);
    expect(view.title.text).toHaveLength(24);
    expect([view.close?.text, view.submit, view.callback_id]).toEqual(['Close', undefined, undefined]);
    expect(texts(view.blocks)[0]).toHaveLength(3000);
  });
});
