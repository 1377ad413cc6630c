import { HOME_SPACING_MS, homeEffects } from '../../src/features/home/effects.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskService } from '../../src/features/tasks/service.js';
import { ACTION, FUNCTION, VIEW } from '../../src/slack/ids.js';
import { OTHER_TEAM, TEAM, startTestApp, type TestApp } from '../support/harness.js';
import type { FakeView } from '../../src/sandbox/fakeSlack.js';
import { homeTaskIds, isoDaysFromNow, seedApprovals, seedTasks, viewText } from './seed.js';

const ALICE = 'UALICE';
const BOB = 'UBOB';
const CAROL = 'UCAROL';
const DAVE = 'UDAVE';

type Obj = Record<string, unknown>;

describe('App Home', () => {
  let t: TestApp;

  beforeEach(async () => {
    t = await startTestApp();
    for (const id of [ALICE, BOB, CAROL, DAVE]) t.fake.addUser({ id, teamId: TEAM });
  });
  afterEach(async () => {
    await t.dispose();
  });

  async function openHome(userId: string, teamId = TEAM): Promise<FakeView> {
    const res = await t.slack.appHomeOpened({ teamId, userId });
    expect(res.status).toBe(200);
    await t.settle();
    const home = t.fake.homeView(userId);
    if (!home) throw new Error(`no Home published for ${userId}`);
    return home;
  }
  const home = (userId: string) => t.fake.homeView(userId) as FakeView;
  const blockText = (view: FakeView, blockId: string): string => {
    const b = view.blocks.find((x) => (x as Obj)['block_id'] === blockId) as Obj | undefined;
    return b ? viewText([b]) : '';
  };
  const publishesTo = (userId: string) => t.fake.callsTo('views.publish').filter((c) => c.args['user_id'] === userId);
  const homeRow = (userId: string, teamId = TEAM) =>
    t.store.sqlite.prepare('SELECT filter, page FROM home_state WHERE team_id = ? AND user_id = ?').get(teamId, userId) as { filter: string; page: number } | undefined;
  const click = async (userId: string, actionId: string, extra: { value?: string; blockId?: string; selectedOption?: { value: string } } = {}) => {
    const res = await t.slack.blockAction({ teamId: TEAM, userId, actionId, container: 'view', viewId: home(userId).id, ...extra });
    expect(res.response.status).toBe(200);
    await t.settle();
  };
  const errors = () => t.logger.lines.filter((l) => l.level === 'error');

  it('greets a user with nothing yet with friendly empty states, and remembers they opened it', async () => {
    const view = await openHome(ALICE);
    expect(view.type).toBe('home');
    const text = viewText(view.blocks);
    expect(text).toContain('Nothing is waiting on you');
    expect(text).toContain('You have no open tasks');
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    // Header buttons and the search are there.
    const header = view.blocks.find((b) => (b as Obj)['block_id'] === 'home_header') as Obj;
    const ids = (header['elements'] as Obj[]).map((e) => e['action_id']);
    expect(ids).toEqual([ACTION.homeNewTask, ACTION.homeRequestApproval, ACTION.homeSearch, ACTION.homeSettings]);
    const search = (header['elements'] as Obj[])[2] as Obj;
    expect(search).toMatchObject({ type: 'external_select', min_query_length: 1 });
    expect(publishesTo(ALICE).every((c) => c.response['ok'] === true)).toBe(true);
    expect(homeRow(ALICE)).toEqual({ filter: 'assigned', page: 0 });
    expect(errors()).toEqual([]);
  });

  it('ignores the Messages tab', async () => {
    await t.slack.appHomeOpened({ teamId: TEAM, userId: ALICE, tab: 'messages' });
    await t.settle();
    expect(t.fake.callsTo('views.publish')).toHaveLength(0);
    expect(homeRow(ALICE)).toBeUndefined();
  });

  it('pages through 500 tasks 20 at a time, and keeps filter and page across republishing', async () => {
    seedTasks(t.store, TEAM, Array.from({ length: 500 }, (_, i) => ({ assigneeId: ALICE, creatorId: BOB, dueDate: i % 3 === 0 ? null : isoDaysFromNow(1 + (i % 40)) })));
    let view = await openHome(ALICE);
    expect(blockText(view, 'home_range')).toBe('1–20 of 500');
    expect(blockText(view, 'home_summary')).toContain('500 tasks');
    expect(homeTaskIds(view.blocks)).toHaveLength(20);
    const firstPage = homeTaskIds(view.blocks);

    await click(ALICE, ACTION.homeNext);
    view = home(ALICE);
    expect(blockText(view, 'home_range')).toBe('21–40 of 500');
    expect(homeTaskIds(view.blocks)).toHaveLength(20);
    expect(homeTaskIds(view.blocks).some((id) => firstPage.includes(id))).toBe(false);
    expect(homeRow(ALICE)).toEqual({ filter: 'assigned', page: 1 });

    await click(ALICE, ACTION.homePrev);
    expect(blockText(home(ALICE), 'home_range')).toBe('1–20 of 500');
    await click(ALICE, ACTION.homeNext);

    // A change elsewhere republishes: still page 2.
    await t.services.outbox.add(homeEffects(TEAM, [ALICE], t.services.now()));
    await t.settle();
    expect(blockText(home(ALICE), 'home_range')).toBe('21–40 of 500');

    await click(ALICE, ACTION.homeFilter, { selectedOption: { value: 'created' } });
    expect(homeRow(ALICE)).toEqual({ filter: 'created', page: 0 });
    view = home(ALICE);
    expect(viewText(view.blocks)).toContain('Tasks you created');
    expect(viewText(view.blocks)).toContain('You have no open tasks that you created');

    // Republished after a change, and again on the next visit: the filter stays.
    await t.services.outbox.add(homeEffects(TEAM, [ALICE], t.services.now()));
    await t.settle();
    await openHome(ALICE);
    const filter = home(ALICE).blocks.find((b) => (b as Obj)['block_id'] === 'home_filter') as Obj;
    expect(((filter['elements'] as Obj[])[0] as Obj)['initial_option']).toMatchObject({ value: 'created' });

    // Bob created them all: his "Created by me" has 500, the last page holds the last 20.
    await openHome(BOB);
    await click(BOB, ACTION.homeFilter, { selectedOption: { value: 'created' } });
    expect(blockText(home(BOB), 'home_range')).toBe('1–20 of 500');
    t.store.sqlite.prepare("UPDATE home_state SET page = 24 WHERE user_id = 'UBOB'").run();
    await t.services.outbox.add(homeEffects(TEAM, [BOB], t.services.now()));
    await t.settle();
    expect(blockText(home(BOB), 'home_range')).toBe('481–500 of 500');
    expect(viewText(home(BOB).blocks)).not.toContain('Next ▶');
    expect(errors()).toEqual([]);
  });

  it('lists overdue tasks first, then by due date, undated last', async () => {
    const [in5, none, late3, in1, late10, today] = seedTasks(t.store, TEAM, [
      { assigneeId: ALICE, title: 'in five days', dueDate: isoDaysFromNow(5) },
      { assigneeId: ALICE, title: 'no date', dueDate: null },
      { assigneeId: ALICE, title: 'three days late', dueDate: isoDaysFromNow(-3) },
      { assigneeId: ALICE, title: 'tomorrow', dueDate: isoDaysFromNow(1) },
      { assigneeId: ALICE, title: 'ten days late', dueDate: isoDaysFromNow(-10) },
      { assigneeId: ALICE, title: 'today', dueDate: isoDaysFromNow(0) },
    ]);
    seedTasks(t.store, TEAM, [{ assigneeId: BOB, title: 'bob task' }, { assigneeId: ALICE, title: 'done already', status: 'done' }]);
    const view = await openHome(ALICE);
    expect(homeTaskIds(view.blocks)).toEqual([late10, late3, today, in1, in5, none]);
    expect(blockText(view, `home_task_${late10}`)).toContain('Overdue');
    expect(blockText(view, `home_task_${today}`)).toContain('Due today');
    expect(blockText(view, `home_task_${none}`)).toContain('No due date');
    expect(blockText(view, 'home_summary')).toContain('2 of yours overdue');
    expect(viewText(view.blocks)).not.toContain('bob task');
  });

  it('approves a workflow request from the Home: the step completes and the Home updates', async () => {
    const { executionId } = await t.slack.functionExecuted({
      teamId: TEAM,
      callbackId: FUNCTION.requestApproval,
      inputs: { approver: ALICE, title: 'Buy <b>laptops</b> & docks', requester: BOB },
    });
    await t.settle();
    let view = await openHome(ALICE);
    expect(blockText(view, 'home_approvals_empty')).toBe('');
    expect(viewText(view.blocks)).toContain('Buy &lt;b&gt;laptops&lt;/b&gt; &amp; docks');
    const approvalId = (t.store.sqlite.prepare('SELECT id FROM approvals').get() as { id: number }).id;

    await click(ALICE, ACTION.approve, { blockId: `home_approval_actions_${approvalId}` });
    await t.settle();

    const exec = t.fake.execution(executionId);
    expect(exec?.state).toBe('completed');
    expect(exec?.outputs).toMatchObject({ approved: true, decided_by: ALICE });
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
    expect(t.store.sqlite.prepare('SELECT status, decided_by AS decidedBy FROM approvals WHERE id = ?').get(approvalId)).toEqual({ status: 'approved', decidedBy: ALICE });
    view = home(ALICE);
    expect(viewText(view.blocks)).toContain('Nothing is waiting on you');
  });

  it('rejects from the Home through the reason modal', async () => {
    const [approvalId] = seedApprovals(t.store, TEAM, 1, { approvers: [ALICE], requesterId: BOB, title: () => 'New hire' });
    await openHome(ALICE);
    await click(ALICE, ACTION.reject, { blockId: `home_approval_actions_${approvalId}` });
    const modal = t.fake.topView(ALICE);
    expect(modal?.callback_id).toBe(VIEW.rejectReason);
    await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal?.id as string, values: { approval_reason: { reason: { type: 'plain_text_input', value: 'No budget' } } } });
    await t.settle();
    expect(t.store.sqlite.prepare('SELECT status, comment FROM approvals WHERE id = ?').get(approvalId)).toEqual({ status: 'rejected', comment: 'No budget' });
    expect(viewText(home(ALICE).blocks)).toContain('Nothing is waiting on you');
  });

  it('an approval request and its decision republish the approvers\' Homes, not the requester\'s (it shows nothing of them)', async () => {
    await openHome(ALICE);
    await openHome(BOB);
    const before = t.fake.callsTo('views.publish').length;
    await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs: { approver: ALICE, title: 'Offsite budget', requester: BOB } });
    await t.settle();
    const approvalId = (t.store.sqlite.prepare(`SELECT id FROM approvals WHERE title = 'Offsite budget'`).get() as { id: number }).id;
    expect(viewText(home(ALICE).blocks)).toContain('Offsite budget');
    await click(ALICE, ACTION.approve, { blockId: `home_approval_actions_${approvalId}` });
    await t.settle();
    const published = t.fake.callsTo('views.publish').slice(before).map((c) => c.args['user_id']);
    expect(published.length).toBeGreaterThanOrEqual(2); // requested, then decided
    expect(new Set(published)).toEqual(new Set([ALICE]));
    expect(viewText(home(ALICE).blocks)).not.toContain('Offsite budget');
    expect(t.store.sqlite.prepare('SELECT status FROM approvals WHERE id = ?').get(approvalId)).toEqual({ status: 'approved' });
  });

  it('completes a task from the Home and republishes only the Homes of the people it affects', async () => {
    const [taskId, otherId] = seedTasks(t.store, TEAM, [
      { assigneeId: ALICE, creatorId: BOB, title: 'Ship it' },
      { assigneeId: CAROL, creatorId: CAROL, title: 'Unrelated' },
    ]);
    await openHome(ALICE);
    await openHome(BOB);
    await openHome(CAROL);
    const before = t.fake.callsTo('views.publish').length;

    await click(ALICE, ACTION.homeTaskComplete, { blockId: `home_task_actions_${taskId}` });

    const after = t.fake.callsTo('views.publish').slice(before);
    expect(new Set(after.map((c) => c.args['user_id']))).toEqual(new Set([ALICE, BOB]));
    expect(after.length).toBeLessThanOrEqual(3);
    expect(t.store.sqlite.prepare('SELECT status, completed_by AS completedBy FROM tasks WHERE id = ?').get(taskId)).toEqual({ status: 'done', completedBy: ALICE });
    expect(homeTaskIds(home(ALICE).blocks)).not.toContain(taskId);
    expect(t.store.sqlite.prepare('SELECT status FROM tasks WHERE id = ?').get(otherId)).toEqual({ status: 'open' });
    expect(errors()).toEqual([]);
  });

  it('does not publish to people who never opened the Home', async () => {
    const [taskId] = seedTasks(t.store, TEAM, [{ assigneeId: ALICE, creatorId: DAVE, title: 'For Dave' }]);
    await openHome(ALICE);
    await click(ALICE, ACTION.homeTaskComplete, { blockId: `home_task_actions_${taskId}` });
    expect(publishesTo(DAVE)).toHaveLength(0);
    expect(homeRow(DAVE)).toBeUndefined();
    // Dave's first visit draws it fresh.
    expect(viewText((await openHome(DAVE)).blocks)).toContain('You have no open tasks');
  });

  it('searches titles of this workspace only, and opens the chosen task', async () => {
    const [quarterly, , lunch] = seedTasks(t.store, TEAM, [
      { assigneeId: BOB, title: 'Quarterly report' },
      { assigneeId: BOB, title: 'Report card' },
      { assigneeId: BOB, title: 'Lunch 100% _fun_' },
      { assigneeId: BOB, title: `Report ${'x'.repeat(300)}` },
    ]);
    const [secret] = seedTasks(t.store, OTHER_TEAM, [{ assigneeId: ALICE, title: 'Secret report' }]);
    const view = await openHome(ALICE);

    const { json } = await t.slack.blockSuggestion({ teamId: TEAM, userId: ALICE, actionId: ACTION.homeSearch, value: 'REPORT', viewId: view.id });
    const options = (json as { options: { text: { type: string; text: string }; value: string }[] }).options;
    expect(options.map((o) => o.text.text.slice(0, 20))).toEqual([`#4 Report ${'x'.repeat(10)}`, '#2 Report card', '#1 Quarterly report']);
    expect(options.every((o) => o.text.type === 'plain_text' && o.text.text.length <= 75 && o.value.length <= 150)).toBe(true);
    expect(options.map((o) => o.value)).not.toContain(String(secret));

    const percent = await t.slack.blockSuggestion({ teamId: TEAM, userId: ALICE, actionId: ACTION.homeSearch, value: '100%', viewId: view.id });
    expect((percent.json as { options: { value: string }[] }).options.map((o) => o.value)).toEqual([String(lunch)]);
    // `_` is a LIKE wildcard: it must match only itself ("Report card" has "rt c").
    const none = await t.slack.blockSuggestion({ teamId: TEAM, userId: ALICE, actionId: ACTION.homeSearch, value: 'rt_c', viewId: view.id });
    expect((none.json as { options: unknown[] }).options).toEqual([]);

    await click(ALICE, ACTION.homeSearch, { selectedOption: { value: String(quarterly) } });
    const details = t.fake.topView(ALICE);
    expect(details?.callback_id).toBe(VIEW.taskDetails);
    expect(viewText(details?.blocks)).toContain('Quarterly report');

    // Another workspace's task id, forged into the payload: not found, nothing shown.
    t.fake.clearViews(ALICE);
    await click(ALICE, ACTION.homeSearch, { selectedOption: { value: String(secret) } });
    expect(viewText(t.fake.topView(ALICE)?.blocks)).toContain('no longer exists');
    expect(viewText(t.fake.topView(ALICE)?.blocks)).not.toContain('Secret');
  });

  it('search ignores case and accents: a task made with /task add is found without its accents', async () => {
    const add = await t.slack.command({ teamId: TEAM, userId: ALICE, text: 'add Überweisung an Müller prüfen' });
    expect(add.response.status).toBe(200);
    await t.settle();
    seedTasks(t.store, TEAM, [{ assigneeId: BOB, title: 'Straßenfest planen' }, { assigneeId: BOB, title: 'ΣΟΦΟΣ' }]);
    const view = await openHome(ALICE);
    const titles = async (value: string) => {
      const { json } = await t.slack.blockSuggestion({ teamId: TEAM, userId: ALICE, actionId: ACTION.homeSearch, value, viewId: view.id });
      return (json as { options: { text: { text: string } }[] }).options.map((o) => o.text.text.replace(/^#\d+ /, ''));
    };
    expect(await titles('uberweisung')).toEqual(['Überweisung an Müller prüfen']);
    expect(await titles('MULLER PRUF')).toEqual(['Überweisung an Müller prüfen']);
    expect(await titles('strasse')).toEqual(['Straßenfest planen']);
    expect(await titles('σοφος')).toEqual(['ΣΟΦΟΣ']);
    expect(await titles('ü')).toEqual(['Überweisung an Müller prüfen']); // under 3 letters: no index, same answer
    expect(await titles('"*:^()')).toEqual([]);
  });

  it('coalesces a burst of 100 changes in a second into a handful of publishes', async () => {
    await openHome(ALICE);
    const before = publishesTo(ALICE).length;
    const started = Date.now();
    for (let i = 0; i < 100; i++) {
      await t.services.outbox.add(homeEffects(TEAM, [ALICE, null, undefined, ALICE], t.services.now()));
      await new Promise((r) => setTimeout(r, 10));
    }
    const took = Date.now() - started; // about a second, longer on a busy machine
    await t.settle();
    const n = publishesTo(ALICE).length - before;
    expect(n).toBeGreaterThanOrEqual(1);
    // At most one publish per 250 ms (HOME_SPACING_MS) while the changes came, and one after.
    expect(n).toBeLessThanOrEqual(Math.ceil(took / HOME_SPACING_MS) + 1);
    expect(n).toBeLessThan(100);
  });

  it('coalesces 100 task completions in a burst, and the last publish shows the end state', async () => {
    const ids = seedTasks(t.store, TEAM, Array.from({ length: 100 }, (_, i) => ({ assigneeId: ALICE, title: `Chore ${i}` })));
    await openHome(ALICE);
    const before = publishesTo(ALICE).length;
    const tasks = new TaskService(t.services);
    const started = Date.now();
    for (const id of ids) {
      await tasks.complete({ teamId: TEAM, userId: ALICE }, { id });
      await new Promise((r) => setTimeout(r, 5));
    }
    const burstMs = Date.now() - started;
    await t.settle();
    // At most one publish per HOME_SPACING_MS of the burst, and the one after it (a busy machine
    // makes the burst longer, not the publishes more frequent).
    const n = publishesTo(ALICE).length - before;
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n, `${n} publishes for a burst of ${burstMs} ms`).toBeLessThanOrEqual(Math.ceil(burstMs / HOME_SPACING_MS) + 1);
    expect(homeTaskIds(home(ALICE).blocks)).toEqual([]);
    expect(viewText(home(ALICE).blocks)).toContain('You have no open tasks');
  });

  it('never shows or changes another workspace’s data', async () => {
    const [own] = seedTasks(t.store, TEAM, [{ assigneeId: ALICE, title: 'Mine here' }]);
    const [foreign] = seedTasks(t.store, OTHER_TEAM, [
      { assigneeId: ALICE, creatorId: ALICE, title: 'Other workspace task' },
      { assigneeId: ALICE, creatorId: BOB, title: 'Other workspace task 2' },
    ]);
    seedApprovals(t.store, OTHER_TEAM, 3, { approvers: [ALICE], title: () => 'Other workspace approval' });
    const view = await openHome(ALICE);
    const text = viewText(view.blocks);
    expect(text).toContain('Mine here');
    expect(text).not.toContain('Other workspace');
    expect(blockText(view, 'home_range')).toBe('1–1 of 1');

    await click(ALICE, ACTION.homeFilter, { selectedOption: { value: 'all_open' } });
    expect(viewText(home(ALICE).blocks)).not.toContain('Other workspace');

    // A forged Complete for the other workspace's task changes nothing there.
    await click(ALICE, ACTION.homeFilter, { selectedOption: { value: 'assigned' } });
    await click(ALICE, ACTION.homeTaskComplete, { blockId: `home_task_actions_${own}`, value: String(foreign) });
    expect(t.store.sqlite.prepare('SELECT status FROM tasks WHERE id = ?').get(foreign)).toEqual({ status: 'open' });
    expect(viewText(t.fake.topView(ALICE)?.blocks)).toContain('no longer exists');
  });

  it('reassigns from the overflow menu through a small modal', async () => {
    t.fake.addUser({ id: 'UROBOT', teamId: TEAM, isBot: true });
    const [taskId] = seedTasks(t.store, TEAM, [{ assigneeId: ALICE, creatorId: ALICE, title: 'Hand over' }]);
    await openHome(ALICE);
    await openHome(BOB);
    await click(ALICE, ACTION.homeTaskOverflow, { blockId: `home_task_${taskId}`, selectedOption: { value: `reassign:${taskId}` } });
    let modal = t.fake.topView(ALICE) as FakeView;
    expect(modal.callback_id).toBe(VIEW.reassignTask);

    // A bot: the service refuses after the ack, and the modal says why.
    const refused = await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal.id, values: { reassign_assignee: { assignee: { type: 'users_select', selected_user: 'UROBOT' } } } });
    expect(refused.action).toBe('update');
    await t.settle();
    expect(viewText(t.fake.topView(ALICE)?.blocks)).toContain('bot');
    expect(t.store.sqlite.prepare('SELECT assignee_id AS a FROM tasks WHERE id = ?').get(taskId)).toEqual({ a: ALICE });

    t.fake.clearViews(ALICE);
    await click(ALICE, ACTION.homeTaskOverflow, { blockId: `home_task_${taskId}`, selectedOption: { value: `reassign:${taskId}` } });
    modal = t.fake.topView(ALICE) as FakeView;
    const same = await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal.id, values: { reassign_assignee: { assignee: { type: 'users_select', selected_user: ALICE } } } });
    expect(same.action).toBe('errors');
    const done = await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal.id, values: { reassign_assignee: { assignee: { type: 'users_select', selected_user: BOB } } } });
    expect(done.action).toBe('update');
    await t.settle();
    expect(viewText(t.fake.topView(ALICE)?.blocks)).toContain(`now assigned to <@${BOB}>`);
    expect(t.store.sqlite.prepare('SELECT assignee_id AS a FROM tasks WHERE id = ?').get(taskId)).toEqual({ a: BOB });
    expect(homeTaskIds(home(ALICE).blocks)).toEqual([]);
    expect(homeTaskIds(home(BOB).blocks)).toEqual([taskId]);
  });

  it('deletes only through the confirmation, and only for the creator', async () => {
    const [bobs, alices] = seedTasks(t.store, TEAM, [
      { assigneeId: ALICE, creatorId: BOB, title: 'Made by Bob' },
      { assigneeId: ALICE, creatorId: ALICE, title: 'Made by Alice' },
    ]);
    const view = await openHome(ALICE);
    const menu = (id: number) => (((view.blocks.find((b) => (b as Obj)['block_id'] === `home_task_${id}`) as Obj)['accessory'] as Obj)['options'] as Obj[]).map((o) => o['value']);
    expect(menu(bobs as number)).not.toContain(`delete:${bobs}`);
    expect(menu(alices as number)).toContain(`delete:${alices}`);

    // A forged delete of Bob's task: the confirmation opens, the service refuses on submit.
    await t.slack.blockAction({ teamId: TEAM, userId: ALICE, actionId: ACTION.homeTaskOverflow, container: 'view', viewId: view.id, blockId: `home_task_${bobs}`, selectedOption: { value: `delete:${bobs}` }, unchecked: true });
    await t.settle();
    let modal = t.fake.topView(ALICE) as FakeView;
    expect(modal.callback_id).toBe(VIEW.detailsDeleteTask);
    const refused = await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal.id, values: {} });
    expect(refused.action).toBe('update');
    expect(viewText(t.fake.topView(ALICE)?.blocks)).toContain(`Only <@${BOB}>`);
    expect(t.store.sqlite.prepare('SELECT count(*) AS n FROM tasks WHERE id = ?').get(bobs)).toEqual({ n: 1 });

    t.fake.clearViews(ALICE);
    await click(ALICE, ACTION.homeTaskOverflow, { blockId: `home_task_${alices}`, selectedOption: { value: `delete:${alices}` } });
    modal = t.fake.topView(ALICE) as FakeView;
    const ok = await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal.id, values: {} });
    expect(ok.action).toBe('clear');
    await t.settle();
    expect(t.store.sqlite.prepare('SELECT count(*) AS n FROM tasks WHERE id = ?').get(alices)).toEqual({ n: 0 });
    expect(homeTaskIds(home(ALICE).blocks)).toEqual([bobs]);
  });

  it('opens a task, reopens a recently done one, and answers the header buttons', async () => {
    const [open, done] = seedTasks(t.store, TEAM, [
      { assigneeId: ALICE, creatorId: BOB, title: 'Still open' },
      { assigneeId: ALICE, creatorId: BOB, title: 'Finished', status: 'done' },
    ]);
    await openHome(ALICE);
    await click(ALICE, ACTION.homeTaskOverflow, { blockId: `home_task_${open}`, selectedOption: { value: `open:${open}` } });
    const details = t.fake.topView(ALICE) as FakeView;
    expect(details.callback_id).toBe(VIEW.taskDetails);
    // The full details modal: the assignee may edit, comment and complete (not delete: Bob made it).
    const buttons = JSON.stringify(details.blocks);
    for (const id of [ACTION.detailsEdit, ACTION.detailsComment, ACTION.detailsComplete]) expect(buttons).toContain(id);
    expect(buttons).not.toContain(ACTION.detailsDelete);
    t.fake.clearViews(ALICE);

    // Edit opens the edit form at once; saving it changes the task.
    await click(ALICE, ACTION.homeTaskOverflow, { blockId: `home_task_${open}`, selectedOption: { value: `edit:${open}` } });
    expect(t.fake.topView(ALICE)?.callback_id).toBe(VIEW.editTask);
    t.fake.clearViews(ALICE);

    await click(ALICE, ACTION.homeFilter, { selectedOption: { value: 'recently_done' } });
    expect(homeTaskIds(home(ALICE).blocks)).toEqual([done]);
    await click(ALICE, ACTION.homeTaskOverflow, { blockId: `home_task_${done}`, selectedOption: { value: `reopen:${done}` } });
    expect(t.store.sqlite.prepare('SELECT status FROM tasks WHERE id = ?').get(done)).toEqual({ status: 'open' });
    expect(homeTaskIds(home(ALICE).blocks)).toEqual([]);

    // New task: the tasks feature's modal; what it creates shows up on the Home.
    t.fake.clearViews(ALICE);
    await click(ALICE, ACTION.homeNewTask);
    const modal = t.fake.topView(ALICE) as FakeView;
    expect(modal.callback_id).toBe(VIEW.newTask);
    const created = await t.slack.viewSubmission({
      teamId: TEAM,
      userId: ALICE,
      viewId: modal.id,
      values: { task_title: { task_title: { type: 'plain_text_input', value: 'Made on the Home' } }, task_assignee: { task_assignee: { type: 'users_select', selected_user: ALICE } } },
    });
    expect(created.action).toBe('pop');
    await t.settle();
    expect(t.store.sqlite.prepare("SELECT origin FROM tasks WHERE title = 'Made on the Home'").get()).toEqual({ origin: 'home' });
    await click(ALICE, ACTION.homeFilter, { selectedOption: { value: 'assigned' } });
    expect(viewText(home(ALICE).blocks)).toContain('Made on the Home');

    t.fake.clearViews(ALICE);
    await click(ALICE, ACTION.homeRequestApproval);
    expect(t.fake.topView(ALICE)?.callback_id).toBe(VIEW.requestApproval);
    expect(errors()).toEqual([]);
  });

  it('refuses Edit from the Home to someone who is neither assignee nor creator', async () => {
    const [theirs] = seedTasks(t.store, TEAM, [{ assigneeId: BOB, creatorId: CAROL, title: 'Not yours' }]);
    await openHome(ALICE);
    await click(ALICE, ACTION.homeFilter, { selectedOption: { value: 'all_open' } });
    // The menu offers Edit only to those who may; a stale or forged click is refused all the same.
    expect(JSON.stringify(home(ALICE).blocks)).not.toContain(`edit:${theirs}`);
    await t.slack.blockAction({ teamId: TEAM, userId: ALICE, actionId: ACTION.homeTaskOverflow, container: 'view', viewId: home(ALICE).id, blockId: `home_task_${theirs}`, selectedOption: { value: `edit:${theirs}` }, unchecked: true });
    await t.settle();
    const notice = t.fake.topView(ALICE) as FakeView;
    expect(notice.callback_id).not.toBe(VIEW.editTask);
    expect(viewText(notice.blocks)).toMatch(/assignee|creator/i);
  });

  it('stays within Block Kit limits with 10,000 tasks, 3,000-character titles and 200 approvals', async () => {
    const nasty = `<!channel> & <@U999|boss> <https://evil.example|click> ${'long '.repeat(600)}`.slice(0, 3000);
    seedTasks(t.store, TEAM, Array.from({ length: 10_000 }, (_, i) => ({ assigneeId: ALICE, creatorId: BOB, title: nasty, dueDate: i % 2 ? isoDaysFromNow((i % 90) - 30) : null, priority: 'urgent' as const })));
    seedApprovals(t.store, TEAM, 200, { approvers: [ALICE, BOB], requesterId: CAROL, title: () => nasty, details: nasty });
    const view = await openHome(ALICE);
    const call = publishesTo(ALICE).at(-1);
    expect(call?.response['ok']).toBe(true);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const bytes = Buffer.byteLength(JSON.stringify(call?.args['view']));
    expect(bytes).toBeLessThanOrEqual(250 * 1024);
    const text = viewText(view.blocks);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil');
    expect(text).toContain('&lt;!channel&gt; &amp;');
    expect(text).toContain('and 190 more waiting on you');
    expect(blockText(view, 'home_range')).toBe('1–20 of 10000');

    // Every filter's page fits too.
    for (const filter of ['created', 'all_open', 'recently_done'] as const) {
      await click(ALICE, ACTION.homeFilter, { selectedOption: { value: filter } });
      const last = publishesTo(ALICE).at(-1);
      expect(last?.response['ok']).toBe(true);
    }
    expect(errors()).toEqual([]);
  });
});
