import type { ViewOutput } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTaskDetails } from '../../src/features/tasks/details.js';
import { TaskService } from '../../src/features/tasks/service.js';
import { COMMENT_FIELD, NEW_TASK_FIELD } from '../../src/features/tasks/views.js';
import { ACTION, VIEW } from '../../src/slack/ids.js';
import { noticeModal } from '../../src/slack/views.js';
import type { TaskRow } from '../../src/store/schema.js';
import type { FakeView } from '../../src/sandbox/fakeSlack.js';
import { startTestApp, TEAM, type TestApp } from '../support/harness.js';
import { auditOf, dmCard, slash, taskByNumber } from '../tasks/helpers.js';
import { ANN, BOB, EVE, addPeople, dayIn, expectNoPushLimit, inputElement, meta, refusedCalls, taskFormValues, viewButtons, viewText } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
  addPeople(t);
});
afterEach(async () => t?.dispose());

/** ANN creates a task for `assignee` with /task add. */
async function newTask(title: string, assignee = BOB): Promise<TaskRow> {
  const r = await slash(t, ANN, `add "${title}" <@${assignee}|x>`);
  return await taskByNumber(t, Number(/#(\d+)/.exec(r.text)?.[1]));
}

/** The task's details, opened from the assignee's DM card (the Open button). */
async function openFromCard(task: TaskRow, userId = task.assigneeId): Promise<FakeView> {
  const card = await dmCard(t, task.id);
  const r = await t.slack.blockAction({ teamId: TEAM, userId, actionId: ACTION.taskOpen, container: 'message', channelId: card.channel, messageTs: card.ts });
  expect(r.response.status).toBe(200);
  await t.settle();
  const view = t.fake.topView(userId);
  expect(view?.callback_id).toBe(VIEW.taskDetails);
  return view as FakeView;
}

/** The details opened the way the App Home will: openTaskDetails with a fresh trigger id. */
async function openDirect(task: TaskRow, userId: string, from?: FakeView): Promise<FakeView> {
  const tasks = new TaskService(t.services);
  await openTaskDetails(t.services, tasks, {
    teamId: TEAM,
    userId,
    taskId: task.id,
    triggerId: t.fake.issueTriggerId(userId, TEAM),
    ...(from ? { from: t.fake.viewObject(from) as unknown as ViewOutput } : {}),
  });
  await t.settle();
  return t.fake.topView(userId) as FakeView;
}

async function clickIn(view: FakeView, userId: string, actionId: string) {
  const r = await t.slack.blockAction({ teamId: TEAM, userId, actionId, container: 'view', viewId: view.id });
  expect(r.response.status).toBe(200);
  await t.settle();
  return t.fake.topView(userId);
}

async function submit(view: FakeView, userId: string, values: Record<string, Record<string, unknown>>) {
  const r = await t.slack.viewSubmission({ teamId: TEAM, userId, viewId: view.id, values });
  await t.settle();
  expect(r.stackError).toBeUndefined();
  return r;
}

const commentValues = (text: string | null) => ({ [COMMENT_FIELD]: { [COMMENT_FIELD]: { type: 'plain_text_input', value: text } } });

const editValues = (task: TaskRow, over: Parameters<typeof taskFormValues>[0] = {}) =>
  taskFormValues({ title: task.title, assignee: task.assigneeId, due: task.dueDate, priority: task.priority, description: task.description, ...over });

describe('task details modal', () => {
  it('shows the fields and history, and only the buttons the viewer may use', async () => {
    // Typed as Slack sends command text (&, <, > escaped): stored raw, shown escaped again.
    const task = await newTask('Prepare the &lt;b&gt; &amp; demo');
    expect(task.title).toBe('Prepare the <b> & demo');
    const assignee = await openFromCard(task);
    expect(viewButtons(assignee)).toEqual([ACTION.detailsComplete, ACTION.detailsEdit, ACTION.detailsComment]);
    expect(viewText(assignee)).toContain('Prepare the &lt;b&gt; &amp; demo');
    expect(viewText(assignee)).not.toContain('<b>');
    expect(viewText(assignee)).toContain(`<@${ANN}> created the task`);
    expect(meta(assignee)).toEqual({ taskId: task.id, depth: 1 });

    expect(viewButtons(await openDirect(task, ANN))).toEqual([ACTION.detailsComplete, ACTION.detailsEdit, ACTION.detailsComment, ACTION.detailsDelete]);
    expect(viewButtons(await openDirect(task, EVE))).toEqual([ACTION.detailsComment]);
    expect(refusedCalls(t)).toEqual([]);
  });

  it('Complete updates the details view in place (its id and hash) and the store', async () => {
    const task = await newTask('Finish me');
    const details = await openFromCard(task);
    const hash = details.hash;
    const after = await clickIn(details, BOB, ACTION.detailsComplete);
    expect(await taskByNumber(t, task.number)).toMatchObject({ status: 'done', completedBy: BOB });
    const update = t.fake.callsTo('views.update').at(-1);
    expect(update?.args).toMatchObject({ view_id: details.id, hash });
    expect(update?.response['ok']).toBe(true);
    expect(after?.id).toBe(details.id);
    expect(t.fake.viewStack(BOB)).toHaveLength(1);
    expect(viewButtons(after)).toEqual([ACTION.detailsEdit, ACTION.detailsComment]);
    expect(viewText(after)).toContain(`<@${BOB}> completed the task`);
  });

  it('a viewer who may not complete (stale button) gets a notice in the same view; nothing changes', async () => {
    const task = await newTask('Not yours');
    const eve = await openDirect(task, EVE);
    const r = await t.slack.blockAction({ teamId: TEAM, userId: EVE, actionId: ACTION.detailsComplete, container: 'view', viewId: eve.id, value: String(task.id), unchecked: true });
    expect(r.response.status).toBe(200);
    await t.settle();
    expect((await taskByNumber(t, task.number)).status).toBe('open');
    expect(viewText(t.fake.topView(EVE))).toContain('can complete');
  });

  describe('Edit (pushed)', () => {
    it('push → submit pops it, and the details below are refreshed with their view_id and current hash', async () => {
      const task = await newTask('Old title');
      const details = await openFromCard(task);
      const edit = await clickIn(details, BOB, ACTION.detailsEdit);
      expect(edit?.callback_id).toBe(VIEW.editTask);
      expect(t.fake.callsTo('views.push')).toHaveLength(1);
      expect(t.fake.viewStack(BOB).map((v) => v.id)).toEqual([details.id, edit?.id]);
      expect(edit?.previous_view_id).toBe(details.id);
      expect(meta(edit)).toEqual({ taskId: task.id, depth: 2, parentId: details.id, parentHash: details.hash });
      expect(inputElement(edit, NEW_TASK_FIELD.title)).toMatchObject({ initial_value: 'Old title', max_length: 150 });

      const currentHash = t.fake.view(details.id)?.hash;
      const updatesBefore = t.fake.callsTo('views.update').length;
      const due = dayIn('America/New_York', 5);
      const r = await submit(edit as FakeView, BOB, editValues(task, { title: 'New title', priority: 'urgent', due }));
      expect(r.action).toBe('pop');
      expect(await taskByNumber(t, task.number)).toMatchObject({ title: 'New title', priority: 'urgent', dueDate: due });

      const updates = t.fake.callsTo('views.update').slice(updatesBefore);
      expect(updates).toHaveLength(1);
      expect(updates[0]?.args).toMatchObject({ view_id: details.id, hash: currentHash });
      expect(updates[0]?.response['ok']).toBe(true);
      expect(t.fake.viewStack(BOB).map((v) => v.id)).toEqual([details.id]);
      const shown = t.fake.view(details.id);
      expect(viewText(shown)).toContain('New title');
      expect(viewText(shown)).toContain('Urgent');
      expect(viewText(shown)).toContain(`<@${BOB}> edited the task`);
      expect(await auditOf(t, task.id)).toEqual(['created', 'edited']);
      // The card in the DM follows too.
      expect(t.fake.message((await dmCard(t, task.id)).channel, (await dmCard(t, task.id)).ts)?.text).toContain('New title');
    });

    it('a stale hash (the details changed meanwhile) is recovered: redrawn from the store without a hash', async () => {
      const task = await newTask('Before');
      const details = await openFromCard(task);
      const edit = (await clickIn(details, BOB, ACTION.detailsEdit)) as FakeView;
      const pushedHash = details.hash;
      // Something else redraws the details view: its hash changes under the Edit form.
      await t.services.client.views.update({ view_id: details.id, view: noticeModal('Elsewhere', 'Someone else drew this.') });
      expect(t.fake.view(details.id)?.hash).not.toBe(pushedHash);

      const updatesBefore = t.fake.callsTo('views.update').length;
      const r = await submit(edit, BOB, editValues(task, { title: 'After' }));
      expect(r.action).toBe('pop');
      const updates = t.fake.callsTo('views.update').slice(updatesBefore);
      expect(updates.map((c) => [c.args['view_id'], c.args['hash'] ?? null, c.response['error'] ?? 'ok'])).toEqual([
        [details.id, pushedHash, 'hash_conflict'],
        [details.id, null, 'ok'],
      ]);
      const shown = t.fake.view(details.id);
      expect(shown?.callback_id).toBe(VIEW.taskDetails);
      expect(viewText(shown)).toContain('After');
      expect(viewText(shown)).not.toContain('Someone else drew this.');
      expect((await taskByNumber(t, task.number)).title).toBe('After');
      expect(refusedCalls(t, ['hash_conflict'])).toEqual([]);
    });

    it('errors stay on the Edit form (blank title, a new due date in the past, a bot); the details are untouched', async () => {
      const task = await newTask('Keep me');
      const details = await openFromCard(task);
      const edit = (await clickIn(details, BOB, ACTION.detailsEdit)) as FakeView;
      const updatesBefore = t.fake.callsTo('views.update').length;
      const r = await submit(edit, BOB, editValues(task, { title: '   ', due: dayIn('America/New_York', -1), assignee: 'UROBOT005' }));
      expect(r.action).toBe('errors');
      expect(r.json).toEqual({
        response_action: 'errors',
        errors: {
          [NEW_TASK_FIELD.title]: 'The task needs a title.',
          [NEW_TASK_FIELD.dueDate]: 'The due date can’t be in the past.',
          [NEW_TASK_FIELD.assignee]: 'robot is an app or bot; tasks need a person.',
        },
      });
      expect(t.fake.viewStack(BOB).map((v) => v.id)).toEqual([details.id, edit.id]);
      expect(t.fake.callsTo('views.update').slice(updatesBefore)).toEqual([]);
      expect((await taskByNumber(t, task.number)).title).toBe('Keep me');
    });

    it('reassigning in the Edit form gives the task to the new person (DM card) and the details show it', async () => {
      const task = await newTask('Hand over');
      const details = await openFromCard(task);
      const edit = (await clickIn(details, BOB, ACTION.detailsEdit)) as FakeView;
      const r = await submit(edit, BOB, editValues(task, { assignee: EVE }));
      expect(r.action).toBe('pop');
      expect((await taskByNumber(t, task.number)).assigneeId).toBe(EVE);
      expect(t.fake.messages(t.fake.dmChannel(EVE)).at(-1)?.text).toContain('Hand over');
      expect(viewText(t.fake.view(details.id))).toContain(`*Assignee*\\n<@${EVE}>`);
    });
  });

  describe('Comment (pushed)', () => {
    it('adds the comment, pops, and the details show it in the history', async () => {
      const task = await newTask('Discuss');
      const details = await openDirect(task, EVE);
      const comment = (await clickIn(details, EVE, ACTION.detailsComment)) as FakeView;
      expect(comment.callback_id).toBe(VIEW.commentTask);

      const empty = await submit(comment, EVE, commentValues('   '));
      expect(empty.json).toEqual({ response_action: 'errors', errors: { [COMMENT_FIELD]: 'Write something first.' } });
      const invisible = await submit(comment, EVE, commentValues('\u200B \u2060\u200D'));
      expect(invisible.json).toEqual({ response_action: 'errors', errors: { [COMMENT_FIELD]: 'Write something first.' } });

      const r = await submit(comment, EVE, commentValues('Looks good <@U1> & fine'));
      expect(r.action).toBe('pop');
      const shown = t.fake.view(details.id);
      expect(viewText(shown)).toContain('Looks good &lt;@U1&gt; &amp; fine');
      expect(t.fake.callsTo('views.update').at(-1)?.args).toMatchObject({ view_id: details.id, hash: details.hash });
      expect(await auditOf(t, task.id)).toEqual(['created', 'commented']);
    });
  });

  describe('Delete', () => {
    it('pushes a confirmation whose submit deletes and clears the whole stack', async () => {
      const task = await newTask('Doomed');
      const card = await dmCard(t, task.id);
      const details = await openDirect(task, ANN);
      const confirm = (await clickIn(details, ANN, ACTION.detailsDelete)) as FakeView;
      expect(confirm.callback_id).toBe(VIEW.detailsDeleteTask);
      expect(t.fake.viewStack(ANN)).toHaveLength(2);
      const r = await submit(confirm, ANN, {});
      expect(r.action).toBe('clear');
      expect(r.json).toEqual({ response_action: 'clear' });
      expect(t.fake.viewStack(ANN)).toEqual([]);
      await expect(taskByNumber(t, task.number)).rejects.toThrow();
      expect(await auditOf(t, task.id)).toEqual(['created', 'deleted']);
      expect(JSON.stringify(t.fake.message(card.channel, card.ts)?.blocks)).toContain(`Deleted by <@${ANN}>`);
    });

    it('the assignee sees no Delete button; a forged click gets a notice and nothing is deleted', async () => {
      const task = await newTask('Not mine to delete');
      const details = await openFromCard(task);
      expect(viewButtons(details)).not.toContain(ACTION.detailsDelete);
      await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.detailsDelete, container: 'view', viewId: details.id, value: String(task.id), unchecked: true });
      await t.settle();
      expect(t.fake.viewStack(BOB)).toHaveLength(1);
      expect(viewText(t.fake.topView(BOB))).toContain(`Only <@${ANN}>, who created`);
      expect((await taskByNumber(t, task.number)).title).toBe('Not mine to delete');
    });
  });

  describe('the 3-view stack', () => {
    it('walks the deepest flows without ever hitting push_limit_reached', async () => {
      const task = await newTask('Deep');
      // 1: details from the card; 2: Comment pushed on it; 3: details again, on top of the Comment form.
      const root = await openDirect(task, ANN);
      const comment = (await clickIn(root, ANN, ACTION.detailsComment)) as FakeView;
      const third = await openDirect(task, ANN, comment);
      expect(third.callback_id).toBe(VIEW.taskDetails);
      expect(meta(third)).toEqual({ taskId: task.id, depth: 3 });
      expect(t.fake.viewStack(ANN)).toHaveLength(3);

      // Edit from the 3rd view: it takes the details' place (views.update), not a 4th view.
      const pushes = t.fake.callsTo('views.push').length;
      const edit = (await clickIn(third, ANN, ACTION.detailsEdit)) as FakeView;
      expect(edit.callback_id).toBe(VIEW.editTask);
      expect(edit.id).toBe(third.id);
      expect(meta(edit)).toEqual({ taskId: task.id, depth: 3 });
      expect(t.fake.callsTo('views.push')).toHaveLength(pushes);
      expect(t.fake.viewStack(ANN)).toHaveLength(3);
      // Its submit answers response_action "update" with the details again, edited.
      const saved = await submit(edit, ANN, editValues(task, { title: 'Deeper' }));
      expect(saved.action).toBe('update');
      expect(t.fake.topView(ANN)?.callback_id).toBe(VIEW.taskDetails);
      expect(viewText(t.fake.topView(ANN))).toContain('Deeper');
      expect(meta(t.fake.topView(ANN))).toEqual({ taskId: task.id, depth: 3 });

      // Comment from the 3rd view, the same way.
      const c3 = (await clickIn(t.fake.topView(ANN) as FakeView, ANN, ACTION.detailsComment)) as FakeView;
      expect(c3.callback_id).toBe(VIEW.commentTask);
      const commented = await submit(c3, ANN, commentValues('From the top'));
      expect(commented.action).toBe('update');
      expect(viewText(t.fake.topView(ANN))).toContain('From the top');

      // Details opened on top of a full stack replace the top view.
      const again = await openDirect(task, ANN, t.fake.topView(ANN));
      expect(again.callback_id).toBe(VIEW.taskDetails);
      expect(t.fake.viewStack(ANN)).toHaveLength(3);

      // Complete at depth 3, in place.
      await clickIn(again, ANN, ACTION.detailsComplete);
      expect((await taskByNumber(t, task.number)).status).toBe('done');

      // Delete from the 3rd view: the confirmation replaces it; its submit clears everything.
      const confirm = (await clickIn(t.fake.topView(ANN) as FakeView, ANN, ACTION.detailsDelete)) as FakeView;
      expect(confirm.callback_id).toBe(VIEW.detailsDeleteTask);
      expect(t.fake.viewStack(ANN)).toHaveLength(3);
      const cleared = await submit(confirm, ANN, {});
      expect(cleared.action).toBe('clear');
      expect(t.fake.viewStack(ANN)).toEqual([]);

      expectNoPushLimit(t);
      expect(refusedCalls(t)).toEqual([]);
    });

    it('details pushed on details (depth 2) push their forms to depth 3 and refresh the depth-2 view', async () => {
      const task = await newTask('Two deep');
      const root = await openFromCard(task);
      const second = await openDirect(task, BOB, root);
      expect(meta(second)).toEqual({ taskId: task.id, depth: 2 });
      expect(t.fake.viewStack(BOB).map((v) => v.id)).toEqual([root.id, second.id]);

      const edit = (await clickIn(second, BOB, ACTION.detailsEdit)) as FakeView;
      expect(meta(edit)).toEqual({ taskId: task.id, depth: 3, parentId: second.id, parentHash: second.hash });
      expect(t.fake.viewStack(BOB)).toHaveLength(3);
      expect((await submit(edit, BOB, editValues(task, { title: 'Still two' }))).action).toBe('pop');
      expect(t.fake.viewStack(BOB).map((v) => v.id)).toEqual([root.id, second.id]);
      expect(viewText(t.fake.view(second.id))).toContain('Still two');
      expect(meta(t.fake.view(second.id))).toEqual({ taskId: task.id, depth: 2 });

      const comment = (await clickIn(t.fake.view(second.id) as FakeView, BOB, ACTION.detailsComment)) as FakeView;
      expect(t.fake.viewStack(BOB)).toHaveLength(3);
      expect((await submit(comment, BOB, commentValues('third level'))).action).toBe('pop');
      expect(viewText(t.fake.view(second.id))).toContain('third level');
      expectNoPushLimit(t);
      expect(refusedCalls(t)).toEqual([]);
    });

    it('a click whose trigger id expired before the push (fake clock) leaves a notice in the details view', async () => {
      const task = await newTask('Slow click');
      const details = await openFromCard(task);
      t.fake.failNext('views.push', { delayMs: 150 });
      const click = t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.detailsEdit, container: 'view', viewId: details.id });
      await new Promise((r) => setTimeout(r, 50));
      t.fake.advanceClock(4_000);
      await click;
      await t.settle();
      expect(t.fake.callsTo('views.push').map((c) => c.response['error'])).toEqual(['expired_trigger_id']);
      expect(t.fake.viewStack(BOB).map((v) => v.id)).toEqual([details.id]);
      expect(viewText(t.fake.view(details.id))).toContain('Slack took too long to open the Edit form, so it did not open.');
    });
  });

  it('stays within Block Kit limits with the longest title, description and 40 long comments full of markup', async () => {
    const tasks = new TaskService(t.services);
    const { task } = await tasks.create({ teamId: TEAM, userId: ANN }, { title: '&'.repeat(150), description: '<&>'.repeat(1000), assigneeId: BOB, origin: 'command' });
    for (let i = 0; i < 40; i++) await tasks.comment({ teamId: TEAM, userId: EVE }, { id: task.id }, `${i} ${'<@U1> & '.repeat(375)}`.slice(0, 3000));
    await t.settle();
    const details = await openDirect(task, ANN);
    expect(details.callback_id).toBe(VIEW.taskDetails);
    expect(details.blocks.length).toBeLessThanOrEqual(30);
    expect(viewText(details)).toContain('(latest 15 of 41)');
    const edit = (await clickIn(details, ANN, ACTION.detailsEdit)) as FakeView;
    expect(String(inputElement(edit, NEW_TASK_FIELD.description)['initial_value'])).toHaveLength(3000);
    expect(refusedCalls(t)).toEqual([]);
  });

  it('a task deleted while its Edit form is open: the form becomes a notice, the details below say so', async () => {
    const task = await newTask('Vanishing');
    const details = await openFromCard(task);
    const edit = (await clickIn(details, BOB, ACTION.detailsEdit)) as FakeView;
    await new TaskService(t.services).remove({ teamId: TEAM, userId: ANN }, { id: task.id });
    await t.settle();
    const r = await submit(edit, BOB, editValues(task, { title: 'Too late' }));
    expect(r.action).toBe('update');
    expect(viewText(t.fake.topView(BOB))).toContain('That task no longer exists');
    expect(viewText(t.fake.view(details.id))).toContain('That task no longer exists');
  });
});
