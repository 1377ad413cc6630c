import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskService } from '../../src/features/tasks/service.js';
import { ACTION, FUNCTION } from '../../src/slack/ids.js';
import type { TaskRow } from '../../src/store/schema.js';
import { OTHER_TEAM, startTestApp, TEAM, type TestApp } from '../support/harness.js';
import { storeRows } from '../support/storeRows.js';
import { addPeople, allTasks, ANN, auditOf, BEA, BOB, BOT, CAT, CHANNEL, dmCard, EVE, slash, taskByNumber } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  addPeople(t);
});
afterAll(async () => t?.dispose());

async function createStep(inputs: Record<string, unknown>, opts: { executionId?: string; eventId?: string; retryNum?: number; teamId?: string } = {}) {
  const exec = await t.slack.functionExecuted({ teamId: opts.teamId ?? TEAM, callbackId: FUNCTION.createTask, inputs, ...opts });
  expect(exec.response.status).toBe(200);
  await t.settle();
  return exec;
}

async function completeStep(inputs: Record<string, unknown>, teamId = TEAM) {
  const exec = await t.slack.functionExecuted({ teamId, callbackId: FUNCTION.completeTask, inputs });
  expect(exec.response.status).toBe(200);
  await t.settle();
  return { ...exec, state: t.fake.execution(exec.executionId)! };
}

async function taskOf(executionId: string): Promise<TaskRow> {
  const row = await t.stores.tasks.findByExecutionId(TEAM, executionId);
  if (!row) throw new Error(`no task for ${executionId}`);
  return row;
}

const completions = (executionId: string) =>
  t.fake.calls.filter((c) => c.method.startsWith('functions.complete') && c.args['function_execution_id'] === executionId);

describe('create_task', () => {
  it('without wait_for_completion: creates, DMs the assignee, posts in the channel and completes at once', async () => {
    const exec = await createStep({ title: 'Prepare the offsite', assignee: BOB, description: 'Venue & food', due_date: '2099-05-01', channel: CHANNEL });
    const task = await taskOf(exec.executionId);
    expect(task).toMatchObject({ title: 'Prepare the offsite', assigneeId: BOB, creatorId: t.fake.botUserId, description: 'Venue & food', dueDate: '2099-05-01', origin: 'workflow', channelId: CHANNEL, stepState: 'completed' });
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { task_id: `task-${task.id}`, task_number: task.number } });
    expect((await dmCard(t, task.id)).text).toContain('Prepare the offsite');
    expect(t.fake.messages(CHANNEL).some((m) => m.text === `New task: #${task.number} Prepare the offsite`)).toBe(true);
    // Completing the task later does not touch the finished step again.
    await slash(t, BOB, `done #${task.number}`);
    expect(completions(exec.executionId)).toHaveLength(1);
  });

  it('with wait_for_completion: waits, then completes once when the card’s Complete button is clicked, with the bot token', async () => {
    const exec = await createStep({ title: 'Sign the NDA', assignee: BOB, wait_for_completion: true });
    const task = await taskOf(exec.executionId);
    expect(task.stepState).toBe('waiting');
    expect(t.fake.execution(exec.executionId)?.state).toBe('running');
    expect(completions(exec.executionId)).toHaveLength(0);

    t.fake.expireWorkflowToken(exec.workflowToken);
    const card = await dmCard(t, task.id);
    await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.taskComplete, container: 'message', channelId: card.channel, messageTs: card.ts });
    await t.settle();
    const done = await taskOf(exec.executionId);
    expect(done).toMatchObject({ status: 'done', stepState: 'completed' });
    const outputs = t.fake.execution(exec.executionId)?.outputs;
    expect(outputs).toEqual({ task_id: `task-${task.id}`, task_number: task.number, completed_by: BOB, completed_at: Math.floor(done.completedAt! / 1000) });
    expect(Number.isInteger(outputs?.['completed_at'])).toBe(true);
    expect(completions(exec.executionId).map((c) => c.token)).toEqual([t.fake.botToken]);

    // Reopen and complete again: the step stays completed, Slack is not asked again.
    expect((await slash(t, BOB, `reopen #${task.number}`)).text).toContain('Reopened');
    await slash(t, BOB, `done #${task.number}`);
    expect(completions(exec.executionId)).toHaveLength(1);
    // The step's completion is one outbox row, keyed by the execution, sent once.
    expect((await t.outboxRows()).filter((r) => r.kind === 'step' && r.target === exec.executionId)).toMatchObject([
      { key: `step:${exec.executionId}`, state: 'done', attempts: 1, result: 'completed' },
    ]);
    expect((await taskOf(exec.executionId)).stepState).toBe('completed');
    expect(await auditOf(t, task.id)).toEqual(['created', 'completed', 'step_completed', 'reopened', 'completed']);
  });

  it('with wait_for_completion: completes from /task done', async () => {
    const exec = await createStep({ title: 'Via command', assignee: BOB, wait_for_completion: true });
    await slash(t, BOB, `done #${(await taskOf(exec.executionId)).number}`);
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { completed_by: BOB } });
  });

  it('with wait_for_completion: completes from a ✅ reaction on the card', async () => {
    const exec = await createStep({ title: 'Via reaction', assignee: BOB, wait_for_completion: true });
    const card = await dmCard(t, (await taskOf(exec.executionId)).id);
    await t.slack.event(TEAM, { type: 'reaction_added', user: BOB, reaction: 'white_check_mark', item_user: 'UBOT', item: { type: 'message', channel: card.channel, ts: card.ts }, event_ts: '1.1' });
    await t.settle();
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { completed_by: BOB } });
  });

  it('with wait_for_completion: completes from the complete_task step of any workflow, for anyone (the app made the task)', async () => {
    const exec = await createStep({ title: 'Via another step', assignee: BOB, wait_for_completion: 'true' });
    const task = await taskOf(exec.executionId);
    // EVE is neither its assignee nor its creator (the app is): a step may still complete it.
    const other = await completeStep({ task: `task-${task.id}`, completed_by_user: EVE });
    expect(other.state).toMatchObject({ state: 'completed', outputs: { completed_by: EVE } });
    expect(await taskOf(exec.executionId)).toMatchObject({ status: 'done', completedBy: EVE });
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { completed_by: EVE } });
  });

  it('a retried delivery (same event id, retry headers) or a new event for the same execution has no second effect', async () => {
    const inputs = { title: 'Only once', assignee: BOB, wait_for_completion: true };
    const first = await createStep(inputs, { eventId: 'EvSTEP00001' });
    const before = { tasks: (await allTasks(t)).length, posts: t.fake.callsTo('chat.postMessage').length };
    await createStep(inputs, { eventId: 'EvSTEP00001', executionId: first.executionId, retryNum: 1, });
    await createStep(inputs, { eventId: 'EvSTEP00002', executionId: first.executionId });
    expect(await allTasks(t)).toHaveLength(before.tasks);
    expect(t.fake.callsTo('chat.postMessage')).toHaveLength(before.posts);
    expect((await taskOf(first.executionId)).stepState).toBe('waiting');
    expect(t.fake.execution(first.executionId)?.state).toBe('running');
    expect(completions(first.executionId)).toHaveLength(0);

    // Without waiting: the repeat finds the task and only re-confirms the (already finished) step.
    const quick = await createStep({ title: 'Quick once', assignee: BOB });
    const n = (await allTasks(t)).length;
    await createStep({ title: 'Quick once', assignee: BOB }, { executionId: quick.executionId });
    expect(await allTasks(t)).toHaveLength(n);
    expect(t.fake.execution(quick.executionId)?.state).toBe('completed');
  });

  it.each([
    [{ title: '  ', assignee: BOB }, 'The "Title" input is empty: the task needs a title.'],
    [{ title: ' \u200B\u200D\u2060\u202E ', assignee: BOB }, 'Could not create the task: The task needs a title.'],
    [{ title: 'x', assignee: 'not-a-user' }, 'The "Assignee" input must be a person (a Slack user).'],
    [{ title: 'x', assignee: BOT }, `Could not create the task: ${BOT} is an app or bot; tasks need a person.`],
    [{ title: 'x', assignee: BOB, due_date: '2020-01-01' }, 'Could not create the task: The due date can’t be in the past.'],
    [{ title: 'x', assignee: BOB, due_date: 'soon' }, 'The "Due date" input "soon" is not a date like 2025-03-14.'],
    [{ title: 'x'.repeat(151), assignee: BOB }, 'Could not create the task: The title is 151 characters long; keep it to 150.'],
  ])('fails clearly on invalid inputs %#', async (inputs, error) => {
    const before = (await allTasks(t)).length;
    const exec = await createStep(inputs);
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'failed', error });
    expect(await allTasks(t)).toHaveLength(before);
  });

  it('a step whose task is deleted fails instead of waiting forever; only the creator may delete', async () => {
    // No surface deletes yet (the details modal will): drive the service the modal will call.
    const service = new TaskService(t.services);
    const n = Number(/#(\d+)/.exec((await slash(t, ANN, `add Doomed <@${BOB}|bob>`)).text)![1]);
    const card = await dmCard(t, (await taskByNumber(t, n)).id);
    await expect(service.remove({ teamId: TEAM, userId: BOB }, { number: n })).rejects.toThrow(/may not delete/);
    await service.remove({ teamId: TEAM, userId: ANN }, { number: n });
    await t.settle();
    const deleted = t.fake.message(card.channel, card.ts)!;
    expect(deleted.text).toBe(`Deleted: #${n} Doomed`);
    expect(JSON.stringify(deleted.blocks)).toContain(`Deleted by <@${ANN}>`);
    expect(JSON.stringify(deleted.blocks)).not.toContain(ACTION.taskComplete);

    const exec = await createStep({ title: 'Waiting then deleted', assignee: BOB, wait_for_completion: true });
    await service.remove({ teamId: TEAM, userId: t.fake.botUserId, system: true }, { id: (await taskOf(exec.executionId)).id });
    await t.settle();
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'failed', error: expect.stringContaining('was deleted before it was completed') });
  });
});

describe('complete_task', () => {
  const add = async (by: string, text: string) => Number(/#(\d+)/.exec((await slash(t, by, `add ${text}`)).text)![1]);

  it('completes by #n, n or task id for the assignee or the creator, records them as completer, and finishes', async () => {
    const a = await add(ANN, `Step one <@${BOB}|bob>`);
    const b = await add(ANN, `Step two <@${BOB}|bob>`);
    const c = await add(ANN, `Step three <@${BOB}|bob>`);

    expect((await completeStep({ task: `#${a}`, completed_by_user: BOB })).state).toMatchObject({ state: 'completed', outputs: { completed_by: BOB } });
    expect(await taskByNumber(t, a)).toMatchObject({ status: 'done', completedBy: BOB });
    expect((await completeStep({ task: String(b), completed_by_user: ANN })).state).toMatchObject({ state: 'completed', outputs: { completed_by: ANN } });
    expect((await taskByNumber(t, b)).completedBy).toBe(ANN);
    expect((await completeStep({ task: `task-${(await taskByNumber(t, c)).id}`, completed_by_user: BOB })).state.state).toBe('completed');
    expect((await taskByNumber(t, c)).status).toBe('done');
    // The card was updated and the creator told.
    expect((await dmCard(t, (await taskByNumber(t, a)).id)).updates).toBe(1);
  });

  it('fails for a person who is neither assignee nor creator, and changes nothing (nor a step waiting on it)', async () => {
    const n = await add(ANN, `Not yours <@${BOB}|bob>`);
    const r = await completeStep({ task: `#${n}`, completed_by_user: EVE });
    expect(r.state).toMatchObject({ state: 'failed', error: `Only the assignee (${BOB}) or the creator (${ANN}) can complete #${n} Not yours.` });
    expect(await taskByNumber(t, n)).toMatchObject({ status: 'open', completedBy: null });
    expect(await auditOf(t, (await taskByNumber(t, n)).id)).toEqual(['created']);

    // Another workflow's task, made for a person by /task: not the app's, so the same rule holds.
    const waiting = await createStep({ title: 'Waiting on its own', assignee: BOB, wait_for_completion: true });
    const made = await add(ANN, `Plain task <@${BOB}|bob>`);
    expect((await completeStep({ task: `#${made}`, completed_by_user: CAT })).state.state).toBe('failed');
    expect(t.fake.execution(waiting.executionId)?.state).toBe('running');
  });

  it('a private task (made from a DM) is "not found" for a person outside it, with the wording of a missing one', async () => {
    const { task } = await new TaskService(t.services).create(
      { teamId: TEAM, userId: ANN },
      { title: 'From a DM', assigneeId: BOB, origin: 'message', sourceMessage: { channelId: 'D0ANNBOB1', ts: '1700000000.000100' } },
    );
    await t.settle();
    expect((await taskByNumber(t, task.number)).private).toBe(true);
    const r = await completeStep({ task: `#${task.number}`, completed_by_user: EVE });
    expect(r.state).toMatchObject({ state: 'failed', error: `There is no task #${task.number} in this workspace.` });
    expect((await completeStep({ task: `task-${task.id}`, completed_by_user: CAT })).state).toMatchObject({ state: 'failed', error: 'That task no longer exists.' });
    expect((await taskByNumber(t, task.number)).status).toBe('open');
    expect((await completeStep({ task: `#${task.number}`, completed_by_user: BOB })).state).toMatchObject({ state: 'completed', outputs: { completed_by: BOB } });
  });

  it.each([
    ['missing', {}],
    ['empty', { completed_by_user: '' }],
    ['not a user id', { completed_by_user: 'C0CHANNEL1' }],
  ])('fails clearly when the "Completed by" input is %s', async (_what, extra) => {
    const n = await add(ANN, `Needs a person <@${BOB}|bob>`);
    const r = await completeStep({ task: `#${n}`, ...extra });
    expect(r.state).toMatchObject({ state: 'failed', error: expect.stringContaining('"Completed by" input must be a person') });
    expect((await taskByNumber(t, n)).status).toBe('open');
  });

  it('a task already done completes the step with whoever completed it', async () => {
    const n = await add(ANN, `Done before <@${BOB}|bob>`);
    await slash(t, BOB, `done #${n}`);
    expect((await completeStep({ task: n, completed_by_user: ANN })).state).toMatchObject({ state: 'completed', outputs: { completed_by: BOB } });
    expect(await auditOf(t, (await taskByNumber(t, n)).id)).toEqual(['created', 'completed']);
  });

  it('fails clearly for a task that does not exist in that workspace', async () => {
    expect((await completeStep({ task: '#99999', completed_by_user: ANN })).state).toMatchObject({ state: 'failed', error: 'There is no task #99999 in this workspace.' });
    expect((await completeStep({ task: 'banana', completed_by_user: ANN })).state).toMatchObject({ state: 'failed', error: expect.stringContaining('"banana" is not a task') });
    await slash(t, BEA, 'add Only in B', OTHER_TEAM);
    const bTask = await taskByNumber(t, 1, OTHER_TEAM);
    const r = await completeStep({ task: `task-${bTask.id}`, completed_by_user: BEA });
    expect(r.state).toMatchObject({ state: 'failed', error: 'That task no longer exists.' });
    expect((await taskByNumber(t, 1, OTHER_TEAM)).status).toBe('open');
  });
});

describe('after a restart', () => {
  it('a task done while its step could not be completed gets its step completed on start-up, exactly once', async () => {
    const stepRow = (executionId: string) => t.services.outbox.repo.byKey(`step:${executionId}`);
    const exec = await createStep({ title: 'Survive a crash', assignee: BOB, wait_for_completion: true });
    const task = await taskOf(exec.executionId);

    // A second one, whose sender died mid-call: Slack completed the step, but the answer never
    // came back, so its row is still pending under a lease that has run out.
    const exec2 = await createStep({ title: 'Died mid-call', assignee: BOB, wait_for_completion: true });
    await slash(t, BOB, `done #${(await taskOf(exec2.executionId)).number}`);
    expect(t.fake.execution(exec2.executionId)?.state).toBe('completed');

    // The process goes down before it could complete the first one's step: its sender stops,
    // then the task is done (the change and its step effect are stored together).
    await t.services.outbox.stop();
    await slash(t, BOB, `done #${task.number}`);
    expect(await taskOf(exec.executionId)).toMatchObject({ status: 'done', stepState: 'completing' });
    expect(await stepRow(exec.executionId)).toMatchObject({ state: 'pending', attempts: 0 });
    expect(t.fake.execution(exec.executionId)?.state).toBe('running');
    expect(completions(exec.executionId)).toHaveLength(0);
    await storeRows(t, "UPDATE outbox SET state = 'pending', result = NULL, lease_owner = 'sender-dead', lease_until = ? WHERE key = ?", [Date.now() - 1, `step:${exec2.executionId}`]);
    await storeRows(t, "UPDATE tasks SET step_state = 'completing' WHERE id = ?", [(await taskOf(exec2.executionId)).id]);

    // Slack is still unreachable at start-up for a while (two 500s): the outbox retries.
    t.fake.failWhen('functions.completeSuccess', (args) => args['function_execution_id'] === exec.executionId, { status: 500 }, 2);
    t = await t.restart();
    await t.settle();
    expect((await taskOf(exec.executionId)).stepState).toBe('completed');
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { completed_by: BOB, task_number: task.number } });
    expect(completions(exec.executionId).filter((c) => c.response['ok'] === true)).toHaveLength(1);
    expect(completions(exec.executionId)).toHaveLength(3);
    expect(await stepRow(exec.executionId)).toMatchObject({ state: 'done', result: 'completed' });
    // Already completed in Slack: execution_not_in_running_state counts as done, nothing completed twice.
    expect((await taskOf(exec2.executionId)).stepState).toBe('completed');
    // Its expired lease made it due again after the restart: sent once more, Slack already had it.
    expect(await stepRow(exec2.executionId)).toMatchObject({ state: 'done', result: 'completed' });
    expect(completions(exec2.executionId).map((c) => c.response['error'] ?? 'ok')).toEqual(['ok', 'execution_not_in_running_state']);

    // Another restart does nothing more.
    const calls = completions(exec.executionId).length + completions(exec2.executionId).length;
    t = await t.restart();
    await t.settle();
    expect(completions(exec.executionId).length + completions(exec2.executionId).length).toBe(calls);
  });

  it('a task completed after a restart still completes its waiting step (the store, not memory, holds it)', async () => {
    const exec = await createStep({ title: 'Long wait', assignee: BOB, wait_for_completion: true });
    t = await t.restart();
    await t.settle();
    expect(t.fake.execution(exec.executionId)?.state).toBe('running');
    await slash(t, BOB, `done #${(await taskOf(exec.executionId)).number}`);
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { completed_by: BOB } });
  });
});
